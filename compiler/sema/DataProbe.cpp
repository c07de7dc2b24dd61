#include "sema/DataProbe.h"

#include <zlib.h>

#include <algorithm>

namespace mlc::sema {

namespace {

// zlib's gz* functions read gzip and plain files alike.
struct GzFile {
  gzFile f;
  explicit GzFile(const std::string &path) : f(gzopen(path.c_str(), "rb")) {}
  ~GzFile() {
    if (f) gzclose(f);
  }
};

// A CSV's first line is read up to this many bytes; a header is never longer.
constexpr size_t kMaxLine = 1 << 20;

// Splits one CSV line on `delimiter`, honouring double quotes (RFC 4180).
std::vector<std::string> splitCsv(const std::string &line, char delimiter) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') out.back().push_back(line[++i]);
      else quoted = !quoted;
    } else if (c == delimiter && !quoted) {
      out.emplace_back();
    } else if (c != '\r' && c != '\n') {
      out.back().push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<CsvProbe> probeCsv(const std::string &path, bool header, char delimiter, std::string &error) {
  GzFile in(path);
  if (!in.f) {
    error = "cannot open it";
    return std::nullopt;
  }
  std::string line;
  char buffer[4096];
  while (line.size() < kMaxLine && gzgets(in.f, buffer, sizeof buffer)) {
    line += buffer;
    if (!line.empty() && line.back() == '\n') break;
  }
  int code = 0;
  const char *message = gzerror(in.f, &code);
  if (code < 0) {
    error = message;
    return std::nullopt;
  }
  if (line.empty()) {
    error = "it is empty";
    return std::nullopt;
  }
  CsvProbe probe;
  std::vector<std::string> fields = splitCsv(line, delimiter);
  probe.columns = fields.size();
  if (header) probe.names = std::move(fields);
  return probe;
}

std::optional<IdxProbe> probeIdx(const std::string &path, std::string &error) {
  GzFile in(path);
  if (!in.f) {
    error = "cannot open it";
    return std::nullopt;
  }
  // IDX: two zero bytes, a type byte (0x08: unsigned bytes), the number of
  // dimensions, then each dimension as a big-endian 32-bit integer.
  unsigned char magic[4];
  if (gzread(in.f, magic, 4) != 4 || magic[0] != 0 || magic[1] != 0 || magic[3] == 0 || magic[3] > 8) {
    error = "it is not an IDX file";
    return std::nullopt;
  }
  if (magic[2] != 0x08) {
    error = "its values are not unsigned bytes (IDX type 0x08)";
    return std::nullopt;
  }
  IdxProbe probe;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char b[4];
    if (gzread(in.f, b, 4) != 4) {
      error = "its header is cut short";
      return std::nullopt;
    }
    probe.dims.push_back(int64_t(b[0]) << 24 | int64_t(b[1]) << 16 | int64_t(b[2]) << 8 | int64_t(b[3]));
  }
  if (probe.dims.size() == 1) {  // a label file: one byte per sample, read in chunks
    unsigned char chunk[1 << 16];
    int64_t seen = 0;
    int n;
    while (seen < probe.dims[0] && (n = gzread(in.f, chunk, unsigned(std::min<int64_t>(sizeof chunk, probe.dims[0] - seen)))) > 0) {
      for (int i = 0; i < n; ++i) probe.maxLabel = std::max<int64_t>(probe.maxLabel, chunk[i]);
      seen += n;
    }
    if (seen != probe.dims[0]) {
      error = "it holds fewer labels than its header says";
      return std::nullopt;
    }
  }
  return probe;
}

}  // namespace mlc::sema
