// IDX loader (the MNIST family's format): a big-endian header of two zero
// bytes, a type byte (0x08: unsigned bytes), a dimension count and each
// dimension as a 32-bit integer, then the values in row-major order.
#include "src/Dataset.h"

#include <fmt/format.h>

namespace mlcrt {

namespace {

struct IdxFile {
  std::string bytes;
  std::vector<int64_t> dims;
  size_t dataOffset = 0;
};

std::string shapeText(const std::vector<int64_t> &dims, size_t from) {
  std::string s;
  for (size_t i = from; i < dims.size(); ++i) s += (i > from ? " x " : "") + std::to_string(dims[i]);
  return s;
}

IdxFile readIdxFile(const std::string &path, bool images) {
  IdxFile f;
  f.bytes = readFileBytes(path);
  const auto *b = reinterpret_cast<const unsigned char *>(f.bytes.data());
  if (f.bytes.size() < 4 || b[0] != 0 || b[1] != 0)
    throw Error(fmt::format("{}: error: not an IDX file (it does not start with two zero bytes)", path));
  if (b[2] != 0x08)
    throw Error(fmt::format("{}: error: IDX values of type 0x{:02x} are not supported (only unsigned bytes, 0x08)",
                            path, b[2]));
  size_t rank = b[3];
  if (images ? rank < 2 : rank != 1)
    throw Error(fmt::format("{}: error: expected an IDX {} file, but it has {} dimension{}", path,
                            images ? "image" : "label", rank, rank == 1 ? "" : "s"));
  f.dataOffset = 4 + 4 * rank;
  if (f.bytes.size() < f.dataOffset) throw Error(fmt::format("{}: error: the IDX header is cut short", path));
  int64_t values = 1;
  bool overflow = false;
  for (size_t i = 0; i < rank; ++i) {
    const unsigned char *d = b + 4 + 4 * i;
    f.dims.push_back(int64_t(d[0]) << 24 | int64_t(d[1]) << 16 | int64_t(d[2]) << 8 | int64_t(d[3]));
    overflow |= __builtin_mul_overflow(values, f.dims.back(), &values);
  }
  int64_t have = int64_t(f.bytes.size() - f.dataOffset);
  if (overflow || values > have)
    throw Error(fmt::format("{}: error: truncated: its header says {} values, but only {} bytes follow", path,
                            shapeText(f.dims, 0), have));
  return f;
}

}  // namespace

Table readIdx(const std::string &images, const std::string &labels, const DataSpec &spec) {
  IdxFile img = readIdxFile(images, true);
  IdxFile lab = readIdxFile(labels, false);
  int64_t n = img.dims[0];
  if (lab.dims[0] != n)
    throw Error(fmt::format("{}: error: {} images, but `{}` has {} labels", images, n, labels, lab.dims[0]));
  int64_t width = 1;
  for (size_t i = 1; i < img.dims.size(); ++i) width *= img.dims[i];
  if (!spec.featureShape.empty()) {
    // Only the element count must agree: [1, 28, 28] and 28 x 28 lay out the same bytes.
    int64_t want = 1;
    std::string wantText;
    for (int64_t d : spec.featureShape) {
      want *= d;
      wantText += (wantText.empty() ? "" : ", ") + std::to_string(d);
    }
    if (want != width)
      throw Error(fmt::format("{}: error: samples are {} ({} values), but the experiment was compiled for [{}] ({} values)",
                              images, shapeText(img.dims, 1), width, wantText, want));
  }

  Table t;
  t.samples = n;
  t.featureWidth = width;
  t.features.resize(size_t(n * width));
  const auto *px = reinterpret_cast<const unsigned char *>(img.bytes.data()) + img.dataOffset;
  for (size_t i = 0; i < t.features.size(); ++i) t.features[i] = float(px[i]);
  img = {};  // the bytes are no longer needed; free them before the labels grow

  const auto *lb = reinterpret_cast<const unsigned char *>(lab.bytes.data()) + lab.dataOffset;
  t.classes.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    if (spec.classes > 0 && lb[i] >= spec.classes)
      throw Error(fmt::format("{}: error: label `{}` of sample {} is outside [0, {})", labels, int(lb[i]), i,
                              spec.classes));
    t.classes[size_t(i)] = lb[i];
  }
  return t;
}

}  // namespace mlcrt
