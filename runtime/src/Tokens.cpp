// Token-stream loader: a raw file of little-endian uint16 token ids (or of
// bytes, for `text` data) cut into
// non-overlapping windows of `context` tokens. The file is memory-mapped
// only while the table is built: the table holds every id of the windows
// anyway, so keeping the mapping would only pin the page cache.
#include "src/Dataset.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mlcrt {

namespace {

class Mapping {
public:
  explicit Mapping(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("{}: error: cannot open: {}", path, std::strerror(errno)));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      ::close(fd);
      throw Error(fmt::format("{}: error: cannot read: {}", path, std::strerror(e)));
    }
    size_ = size_t(st.st_size);
    if (size_ > 0) {  // mmap refuses a zero length
      void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      int e = errno;
      ::close(fd);  // the mapping keeps the file alive
      if (p == MAP_FAILED) throw Error(fmt::format("{}: error: cannot map: {}", path, std::strerror(e)));
      data_ = static_cast<const unsigned char *>(p);
      ::madvise(p, size_, MADV_SEQUENTIAL);
    } else {
      ::close(fd);
    }
  }
  ~Mapping() {
    if (data_) ::munmap(const_cast<unsigned char *>(data_), size_);
  }
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;

  const unsigned char *data() const { return data_; }
  size_t size() const { return size_; }

private:
  const unsigned char *data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

Table readTokens(const DataSpec &spec) {
  const std::string &path = spec.tokensPath;
  if (spec.context <= 0) throw Error(fmt::format("{}: error: the context must be positive, not {}", path, spec.context));
  Mapping map(path);
  // `text` data is bytes (one character a token); `tokens` data is uint16 ids.
  const int64_t width = spec.kind == "text" ? 1 : 2;
  if (map.size() % size_t(width) != 0)
    throw Error(fmt::format("{}: error: {} bytes is not a whole number of uint16 tokens", path, map.size()));
  int64_t tokens = int64_t(map.size()) / width;
  int64_t ctx = spec.context;
  // A window needs the token after it as its label.
  int64_t samples = tokens > 0 ? (tokens - 1) / ctx : 0;
  if (samples == 0)
    throw Error(fmt::format("{}: error: {} tokens are too few for one window of {} and the token after it", path,
                            tokens, ctx));
  // A label shape of [context] asks for the next token at every position;
  // otherwise the label is the one token after the window.
  bool everyPosition = spec.labelShape.size() == 1 && spec.labelShape[0] == ctx;

  const unsigned char *b = map.data();
  auto token = [&](int64_t i) -> int64_t {
    int64_t id = width == 1 ? int64_t(b[i]) : (int64_t(b[2 * i]) | int64_t(b[2 * i + 1]) << 8);
    if (spec.classes > 0 && id >= spec.classes)
      throw Error(fmt::format("{}: error: token `{}` at position {} is outside [0, {})", path, id, i, spec.classes));
    return id;
  };
  Table t;
  t.samples = samples;
  t.featureWidth = ctx;
  t.labelWidth = everyPosition ? ctx : 1;
  t.features.resize(size_t(samples * ctx));
  t.classes.resize(size_t(samples * t.labelWidth));
  for (int64_t s = 0; s < samples; ++s) {
    int64_t first = s * ctx;
    for (int64_t j = 0; j < ctx; ++j) t.features[size_t(first + j)] = float(token(first + j));
    if (everyPosition)
      for (int64_t j = 0; j < ctx; ++j) t.classes[size_t(first + j)] = token(first + j + 1);
    else
      t.classes[size_t(s)] = token(first + ctx);
  }
  return t;
}

}  // namespace mlcrt
