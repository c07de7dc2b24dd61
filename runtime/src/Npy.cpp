// NumPy .npy loader: "\x93NUMPY", a version, the length of a header that is
// a Python dict literal ({'descr': '<f4', 'fortran_order': False, 'shape':
// (n, 64), }), then the array in C order. Only little-endian numeric dtypes
// are read; anything else is refused with the dtype named.
#include "src/Dataset.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

namespace mlcrt {

namespace {

enum class DType { F4, F8, U1, I1, I4, I8 };

struct NpyArray {
  std::string bytes;
  size_t dataOffset = 0;
  DType dtype = DType::F4;
  size_t itemSize = 4;
  std::vector<int64_t> shape;

  int64_t rows() const { return shape[0]; }
  int64_t perRow() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return n;
  }
  bool integral() const { return dtype != DType::F4 && dtype != DType::F8; }
  // Element i as a double; memcpy because the data need not be aligned.
  double at(int64_t i) const {
    const char *p = bytes.data() + dataOffset + size_t(i) * itemSize;
    switch (dtype) {
    case DType::F4: { float v; std::memcpy(&v, p, 4); return v; }
    case DType::F8: { double v; std::memcpy(&v, p, 8); return v; }
    case DType::U1: return double(static_cast<unsigned char>(*p));
    case DType::I1: return double(static_cast<signed char>(*p));
    case DType::I4: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case DType::I8: { int64_t v; std::memcpy(&v, p, 8); return double(v); }
    }
    return 0;
  }
  int64_t intAt(int64_t i) const {
    const char *p = bytes.data() + dataOffset + size_t(i) * itemSize;
    if (dtype == DType::I8) {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    return int64_t(at(i));
  }
};

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// The text after `'key':` in the header dict, or an error naming the key.
std::string_view valueOf(std::string_view header, std::string_view key, const std::string &path) {
  for (char quote : {'\'', '"'}) {
    std::string quoted = std::string(1, quote) + std::string(key) + quote;
    size_t at = header.find(quoted);
    if (at == std::string_view::npos) continue;
    std::string_view rest = header.substr(at + quoted.size());
    size_t colon = rest.find_first_not_of(" ");
    if (colon == std::string_view::npos || rest[colon] != ':') break;
    rest.remove_prefix(colon + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return rest;
  }
  throw Error(fmt::format("{}: error: the .npy header has no `{}`", path, key));
}

NpyArray readNpyFile(const std::string &path) {
  NpyArray a;
  a.bytes = readFileBytes(path);
  const std::string &b = a.bytes;
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0)
    throw Error(fmt::format("{}: error: not a .npy file (no \\x93NUMPY magic)", path));
  unsigned major = static_cast<unsigned char>(b[6]);
  size_t headerLen = 0, headerStart = 0;
  if (major == 1) {
    headerLen = size_t(static_cast<unsigned char>(b[8])) | size_t(static_cast<unsigned char>(b[9])) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw Error(fmt::format("{}: error: truncated .npy header", path));
    for (int i = 3; i >= 0; --i) headerLen = headerLen << 8 | static_cast<unsigned char>(b[size_t(8 + i)]);
    headerStart = 12;
  } else {
    throw Error(fmt::format("{}: error: .npy format version {} is not supported (1, 2 or 3)", path, major));
  }
  if (b.size() < headerStart + headerLen) throw Error(fmt::format("{}: error: truncated .npy header", path));
  std::string_view header(b.data() + headerStart, headerLen);
  a.dataOffset = headerStart + headerLen;

  std::string_view descr = valueOf(header, "descr", path);
  char quote = descr.empty() ? 0 : descr.front();
  size_t close = quote == '\'' || quote == '"' ? descr.find(quote, 1) : std::string_view::npos;
  if (close == std::string_view::npos)
    throw Error(fmt::format("{}: error: unsupported dtype (a structured array?); expected one of <f4, <f8, |u1, |i1, "
                            "<i4, <i8", path));
  descr = descr.substr(1, close - 1);
  static const struct { const char *name; DType type; size_t size; } kTypes[] = {
      {"<f4", DType::F4, 4}, {"<f8", DType::F8, 8}, {"|u1", DType::U1, 1}, {"<u1", DType::U1, 1},
      {"|i1", DType::I1, 1}, {"<i1", DType::I1, 1}, {"<i4", DType::I4, 4}, {"<i8", DType::I8, 8}};
  bool known = false;
  for (const auto &t : kTypes)
    if (descr == t.name) {
      a.dtype = t.type;
      a.itemSize = t.size;
      known = true;
    }
  if (!known)
    throw Error(fmt::format("{}: error: unsupported dtype `{}`; expected one of <f4, <f8, |u1, |i1, <i4, <i8", path,
                            descr));

  std::string_view fortran = valueOf(header, "fortran_order", path);
  if (fortran.starts_with("True"))
    throw Error(fmt::format("{}: error: fortran_order arrays are not supported; save a C-ordered array "
                            "(numpy.ascontiguousarray)", path));
  if (!fortran.starts_with("False")) throw Error(fmt::format("{}: error: bad `fortran_order` in the .npy header", path));

  std::string_view shape = valueOf(header, "shape", path);
  size_t end = shape.find(')');
  if (shape.empty() || shape.front() != '(' || end == std::string_view::npos)
    throw Error(fmt::format("{}: error: bad `shape` in the .npy header", path));
  shape = shape.substr(1, end - 1);
  while (!shape.empty()) {
    while (!shape.empty() && (shape.front() == ' ' || shape.front() == ',')) shape.remove_prefix(1);
    if (shape.empty()) break;
    int64_t d = 0;
    auto [p, ec] = std::from_chars(shape.data(), shape.data() + shape.size(), d);
    if (ec != std::errc() || d < 0) throw Error(fmt::format("{}: error: bad `shape` in the .npy header", path));
    a.shape.push_back(d);
    shape.remove_prefix(size_t(p - shape.data()));
    if (!shape.empty() && shape.front() == 'L') shape.remove_prefix(1);  // Python 2 longs
  }
  if (a.shape.empty())
    throw Error(fmt::format("{}: error: a 0-dimensional array has no samples; expected shape (samples, ...)", path));

  int64_t values = 1;
  bool overflow = false;
  for (int64_t d : a.shape) overflow |= __builtin_mul_overflow(values, d, &values);
  size_t have = b.size() - a.dataOffset;
  if (overflow || uint64_t(values) > have / a.itemSize)
    throw Error(fmt::format("{}: error: truncated: shape {} of {} needs {} bytes, but only {} follow the header",
                            path, shapeText(a.shape), descr, overflow ? "more" : std::to_string(values * int64_t(a.itemSize)),
                            have));
  return a;
}

}  // namespace

Table readNpy(const DataSpec &spec) {
  Table t;
  {
    NpyArray f = readNpyFile(spec.featuresPath);
    t.samples = f.rows();
    t.featureWidth = f.perRow();
    if (!spec.featureShape.empty()) {
      // As for idx: the element count per sample decides, so (n, 28, 28) feeds [1, 28, 28].
      int64_t want = 1;
      for (int64_t d : spec.featureShape) want *= d;
      std::vector<int64_t> sample(f.shape.begin() + 1, f.shape.end());
      if (want != t.featureWidth)
        throw Error(fmt::format("{}: error: samples have shape {} ({} values), but the experiment was compiled for "
                                "{} ({} values)", spec.featuresPath, shapeText(sample), t.featureWidth,
                                shapeText(spec.featureShape), want));
    }
    t.features.resize(size_t(t.samples * t.featureWidth));
    if (f.dtype == DType::F4)
      std::memcpy(t.features.data(), f.bytes.data() + f.dataOffset, t.features.size() * sizeof(float));
    else
      for (size_t i = 0; i < t.features.size(); ++i) t.features[i] = float(f.at(int64_t(i)));
  }

  NpyArray l = readNpyFile(spec.labelsPath);
  if (l.rows() != t.samples)
    throw Error(fmt::format("{}: error: {} labels, but `{}` has {} samples", spec.labelsPath, l.rows(),
                            spec.featuresPath, t.samples));
  if (spec.classLabels) {
    if (l.perRow() != 1)
      throw Error(fmt::format("{}: error: class labels must have shape (samples,), not {}", spec.labelsPath,
                              shapeText(l.shape)));
    t.classes.resize(size_t(t.samples));
    for (int64_t i = 0; i < t.samples; ++i) {
      int64_t id = -1;
      std::string text;
      if (l.integral()) {
        id = l.intAt(i);
        text = std::to_string(id);
      } else {
        double v = l.at(i);
        text = fmt::format("{}", v);
        if (v != std::floor(v))  // NaN too
          throw Error(fmt::format("{}: error: label `{}` of sample {} is not an integer", spec.labelsPath, text, i));
        if (v >= 0 && v < 9.2e18) id = int64_t(v);
      }
      if (id < 0 || (spec.classes > 0 && id >= spec.classes))
        throw Error(fmt::format("{}: error: label `{}` of sample {} is outside [0, {})", spec.labelsPath, text, i,
                                spec.classes));
      t.classes[size_t(i)] = id;
    }
  } else {
    int64_t want = 1;
    for (int64_t d : spec.labelShape) want *= d;
    if (l.perRow() != want) {
      std::vector<int64_t> sample(l.shape.begin() + 1, l.shape.end());
      throw Error(fmt::format("{}: error: targets have shape {} per sample, but the experiment was compiled for {}",
                              spec.labelsPath, shapeText(sample), shapeText(spec.labelShape)));
    }
    t.labelWidth = want;
    t.targets.resize(size_t(t.samples * want));
    for (size_t i = 0; i < t.targets.size(); ++i) t.targets[i] = float(l.at(int64_t(i)));
  }
  return t;
}

}  // namespace mlcrt
