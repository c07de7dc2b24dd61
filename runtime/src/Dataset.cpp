// Loading and splitting. The split permutation depends only on the data
// seed (not the trainer seed), so every trial of a sweep sees the same
// train/val/test rows; normalisation statistics come from the train rows
// alone so that nothing about val or test leaks into training.
#include "src/Dataset.h"

#include "src/Batcher.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace mlcrt {

namespace {

// The permutation's stream, apart from the epoch shuffles (1, 2, ...) and
// parameter initialisation (0).
constexpr uint64_t kSplitStream = 0xDA7A;

std::string readGzip(const std::string &path) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw Error(fmt::format("{}: error: cannot open: {}", path, errno ? std::strerror(errno) : "out of memory"));
  gzbuffer(f, 1 << 17);
  std::string out;
  constexpr size_t kChunk = 1 << 20;
  while (true) {
    size_t at = out.size();
    out.resize(at + kChunk);
    int n = gzread(f, out.data() + at, unsigned(kChunk));
    if (n < 0) break;
    out.resize(at + size_t(n));
    if (n == 0) break;
  }
  int code = Z_OK;
  std::string message = gzerror(f, &code);
  gzclose(f);
  if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);  // zlib names the file itself
  if (code != Z_OK && code != Z_STREAM_END)
    throw Error(fmt::format("{}: error: cannot read: {}", path, message));
  out.shrink_to_fit();
  return out;
}

std::string readPlain(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(fmt::format("{}: error: cannot open: {}", path, std::strerror(errno)));
  std::string out;
  if (std::fseek(f, 0, SEEK_END) == 0) {
    long size = std::ftell(f);
    if (size > 0) out.reserve(size_t(size));
    std::rewind(f);
  }
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  bool failed = std::ferror(f);
  int e = errno;
  std::fclose(f);
  if (failed) throw Error(fmt::format("{}: error: cannot read: {}", path, std::strerror(e)));
  return out;
}

const std::string &sourceFile(const DataSpec &spec) {
  if (spec.kind == "idx") return spec.images;
  if (spec.kind == "npy") return spec.featuresPath;
  if (spec.kind == "tokens") return spec.tokensPath;
  return spec.path;
}

void checkWidth(const Table &t, const DataSpec &spec, const std::string &file) {
  if (spec.featureShape.empty()) return;
  int64_t want = 1;
  std::string text;
  for (int64_t d : spec.featureShape) {
    want *= d;
    text += (text.empty() ? "" : ", ") + std::to_string(d);
  }
  if (t.featureWidth != want)
    throw Error(fmt::format("{}: error: samples have {} feature values, but the experiment was compiled for [{}] "
                            "({} values)", file, t.featureWidth, text, want));
}

// The splits in the order listed, checked: known names, train before val
// before test, fractions in [0, 1] adding up to at most 1.
std::vector<std::pair<std::string, double>> fractions(const DataSpec &spec, bool ownTestFile) {
  auto rank = [](const std::string &name) { return name == "train" ? 0 : name == "val" ? 1 : name == "test" ? 2 : -1; };
  std::vector<std::pair<std::string, double>> out;
  int last = -1;
  double sum = 0;
  for (const auto &[name, frac] : spec.splits) {
    int r = rank(name);
    if (r < 0) throw Error(fmt::format("unknown split `{}` (train, val or test)", name));
    if (r <= last) throw Error("splits must be listed in the order train, val, test, each at most once");
    last = r;
    if (!(frac >= 0 && frac <= 1)) throw Error(fmt::format("split `{}` has fraction {}, outside [0, 1]", name, frac));
    if (ownTestFile && name == "test") continue;  // the test files are the test split
    out.emplace_back(name, frac);
    sum += frac;
  }
  if (out.empty()) return {{"train", 1.0}};
  if (sum > 1 + 1e-9) throw Error(fmt::format("split fractions add up to {}, more than 1", sum));
  if (ownTestFile) {
    if (sum <= 0) throw Error("the train and val fractions are both 0");
    for (auto &entry : out) entry.second /= sum;
  }
  return out;
}

// Per-feature statistics (or one set over every value: images, whose
// pixels share a scale) from the train rows, applied to every row.
void normalise(const std::string &how, bool global, const std::vector<int64_t> &trainRows,
               const std::vector<Table *> &tables) {
  if (how == "none") return;
  if (how != "minmax" && how != "standard")
    throw Error(fmt::format("unknown normalisation `{}` (none, minmax or standard)", how));
  if (trainRows.empty()) throw Error("cannot normalise: the train split is empty");
  const Table &t = *tables[0];
  const size_t w = size_t(t.featureWidth), groups = global ? 1 : w;
  // The loops below run over every value of the data set (47 million for
  // Fashion-MNIST): each is a plain loop over one row, so that it vectorises,
  // with the global-or-per-feature choice made outside it.
  std::vector<double> a(groups), b(groups);  // minmax: min, max; standard: mean, std
  auto row = [&](int64_t r) { return t.features.data() + size_t(r) * w; };
  if (how == "minmax") {
    std::vector<float> lo(groups, std::numeric_limits<float>::infinity()), hi(groups, -std::numeric_limits<float>::infinity());
    for (int64_t r : trainRows) {
      const float *x = row(r);
      if (global) {
        float l = lo[0], h = hi[0];
        for (size_t j = 0; j < w; ++j) l = std::min(l, x[j]), h = std::max(h, x[j]);
        lo[0] = l, hi[0] = h;
      } else {
        for (size_t j = 0; j < w; ++j) lo[j] = std::min(lo[j], x[j]), hi[j] = std::max(hi[j], x[j]);
      }
    }
    for (size_t g = 0; g < groups; ++g) a[g] = lo[g], b[g] = hi[g];
  } else {
    std::vector<double> sum(groups), sq(groups);
    double count = double(trainRows.size()) * (global ? double(w) : 1);
    for (int64_t r : trainRows) {
      const float *x = row(r);
      for (size_t j = 0; j < w; ++j) sum[global ? 0 : j] += x[j];
    }
    for (size_t g = 0; g < groups; ++g) a[g] = sum[g] / count;
    // Two passes: the one-pass formula loses digits when the mean is large.
    for (int64_t r : trainRows) {
      const float *x = row(r);
      for (size_t j = 0; j < w; ++j) {
        double d = x[j] - a[global ? 0 : j];
        sq[global ? 0 : j] += d * d;
      }
    }
    for (size_t g = 0; g < groups; ++g) b[g] = std::sqrt(sq[g] / count);
  }
  // x -> (x - shift) / scale per feature; a constant feature (minmax) maps to 0.
  std::vector<double> shift(w), scale(w), keep(w, 1.0);
  for (size_t j = 0; j < w; ++j) {
    size_t g = global ? 0 : j;
    shift[j] = a[g];
    if (how == "minmax") {
      scale[j] = b[g] > a[g] ? b[g] - a[g] : 1.0;
      keep[j] = b[g] > a[g] ? 1.0 : 0.0;
    } else {
      scale[j] = b[g] > 0 ? b[g] : 1.0;
    }
  }
  for (Table *table : tables) {
    size_t rows = w ? table->features.size() / w : 0;
    for (size_t r = 0; r < rows; ++r) {
      float *x = table->features.data() + r * w;
      for (size_t j = 0; j < w; ++j) x[j] = float((double(x[j]) - shift[j]) / scale[j] * keep[j]);
    }
  }
}

}  // namespace

// gzip is recognised by its magic bytes, not the name, as the compiler's
// data checks do: a `.csv` that is compressed still reads.
std::string readFileBytes(const std::string &path) {
  bool gzip = false;
  if (FILE *f = std::fopen(path.c_str(), "rb")) {
    unsigned char magic[2] = {0, 0};
    gzip = std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    std::fclose(f);
  }
  bool named = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  return gzip || named ? readGzip(path) : readPlain(path);
}

const Split *Splits::named(const std::string &name) const {
  const Split *s = name == "train" ? &train : name == "val" ? &val : name == "test" ? &test : nullptr;
  return s && s->size() > 0 ? s : nullptr;
}

Splits loadData(const DataSpec &spec) {
  auto table = std::make_shared<Table>();
  std::shared_ptr<Table> testTable;
  if (spec.kind == "csv") {
    *table = readCsv(spec);
  } else if (spec.kind == "idx") {
    *table = readIdx(spec.images, spec.labels, spec);
    if (spec.testImages.empty() != spec.testLabels.empty())
      throw Error("idx data needs both test_images and test_labels, or neither");
    if (!spec.testImages.empty()) testTable = std::make_shared<Table>(readIdx(spec.testImages, spec.testLabels, spec));
  } else if (spec.kind == "npy") {
    *table = readNpy(spec);
  } else if (spec.kind == "tokens" || spec.kind == "text") {
    *table = readTokens(spec);
  } else {
    throw Error(fmt::format("unknown data kind `{}` (csv, idx, npy, tokens or text)", spec.kind));
  }
  checkWidth(*table, spec, sourceFile(spec));
  if (testTable) checkWidth(*testTable, spec, spec.testImages);

  Splits out;
  int64_t n = table->samples;
  std::vector<int64_t> order = permutation(n, spec.seed, kSplitStream, 0);
  auto parts = fractions(spec, testTable != nullptr);
  int64_t at = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    int64_t count = i + 1 == parts.size() ? n - at : std::min<int64_t>(n - at, int64_t(std::floor(parts[i].second * double(n) + 1e-9)));
    Split &s = parts[i].first == "train" ? out.train : parts[i].first == "val" ? out.val : out.test;
    s.rows.assign(order.begin() + at, order.begin() + at + count);
    // Row order within a split does not matter to training (epochs shuffle
    // positions) but file order keeps predictions aligned with the input.
    std::sort(s.rows.begin(), s.rows.end());
    at += count;
  }
  if (testTable) {
    out.test.rows.resize(size_t(testTable->samples));
    for (int64_t i = 0; i < testTable->samples; ++i) out.test.rows[size_t(i)] = i;
  }

  // Token ids index an embedding: scaling them would break it.
  if (spec.kind != "tokens" && spec.kind != "text") {
    std::vector<Table *> tables{table.get()};
    if (testTable) tables.push_back(testTable.get());
    normalise(spec.normalize, spec.kind == "idx", out.train.rows, tables);
  }
  out.train.table = out.val.table = table;
  out.test.table = testTable ? testTable : table;
  return out;
}

}  // namespace mlcrt
