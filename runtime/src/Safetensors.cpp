#include "src/Safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>
#include <set>

namespace mlcrt {

// Tensors are copied to and from the file as they lie in memory, and the
// format is little-endian: right on x86 and on every other target mlc has.
static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

using Json = nlohmann::ordered_json;

struct DtypeInfo {
  const char *name;
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8},
};

std::string shapeText(const std::vector<int64_t> &shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// The byte count of `shape` elements of `size` bytes, or false when it does
// not fit in 64 bits (a corrupt shape must not wrap around to a small size).
bool byteCount(const std::vector<int64_t> &shape, size_t size, uint64_t &bytes) {
  bytes = size;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(bytes, uint64_t(d), &bytes)) return false;
  return true;
}

SafetensorsFile::Tensor parseTensor(const std::string &name, const Json &entry, const std::string &what) {
  auto fail = [&](const std::string &reason) { return FileError(what, fmt::format("tensor `{}` {}", name, reason)); };
  if (!entry.is_object()) throw fail("is not a JSON object");
  for (const auto &[key, _] : entry.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      throw fail(fmt::format("has an unknown key `{}`", key));
  SafetensorsFile::Tensor t;
  t.name = name;
  if (!entry.contains("dtype") || !entry["dtype"].is_string()) throw fail("has no `dtype` string");
  t.dtype = entry["dtype"].get<std::string>();
  size_t size = dtypeSize(t.dtype);
  if (size == 0) throw fail(fmt::format("has an unknown dtype `{}`", t.dtype));
  if (!entry.contains("shape") || !entry["shape"].is_array()) throw fail("has no `shape` array");
  for (const Json &d : entry["shape"]) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      throw fail("has a `shape` that is not a list of non-negative integers");
    t.shape.push_back(int64_t(d.get<uint64_t>()));
  }
  const Json *offsets = entry.contains("data_offsets") ? &entry["data_offsets"] : nullptr;
  if (!offsets || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned() || (*offsets)[0].get<uint64_t>() > (*offsets)[1].get<uint64_t>())
    throw fail("has no `data_offsets` [begin, end] with begin <= end");
  t.begin = (*offsets)[0].get<uint64_t>();
  t.end = (*offsets)[1].get<uint64_t>();
  uint64_t bytes = 0;
  bool fits = byteCount(t.shape, size, bytes);
  if (!fits || bytes != t.end - t.begin)
    throw fail(fmt::format("of shape {} and dtype {} needs {} bytes, but its data_offsets [{}, {}] span {}",
                           shapeText(t.shape), t.dtype, fits ? std::to_string(bytes) : "more than 2^64", t.begin,
                           t.end, t.end - t.begin));
  return t;
}

}  // namespace

size_t dtypeSize(const std::string &dtype) {
  for (const DtypeInfo &d : kDtypes)
    if (dtype == d.name) return d.size;
  return 0;
}

std::string encodeSafetensors(const std::vector<TensorView> &tensors,
                              const std::vector<std::pair<std::string, std::string>> &metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto &[key, value] : metadata) {
      if (m.contains(key)) throw Error(fmt::format("safetensors metadata key `{}` is given twice", key));
      m[key] = value;
    }
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const TensorView &t : tensors) {
    auto fail = [&](const std::string &reason) {
      return Error(fmt::format("cannot save tensor `{}`: {}", t.name, reason));
    };
    if (t.name.empty()) throw fail("the name is empty");
    if (t.name == "__metadata__") throw fail("the name is reserved");
    if (header.contains(t.name)) throw fail("the name is used twice");
    size_t size = dtypeSize(t.dtype);
    if (size == 0) throw fail(fmt::format("unknown dtype `{}`", t.dtype));
    uint64_t bytes = 0;
    if (!byteCount(t.shape, size, bytes) || bytes != t.bytes)
      throw fail(fmt::format("{} bytes do not hold shape {} of {}", t.bytes, shapeText(t.shape), t.dtype));
    if (t.bytes > 0 && !t.data) throw fail("no data");
    Json entry = Json::object();
    entry["dtype"] = t.dtype;
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, offset + bytes};
    header[t.name] = std::move(entry);
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception &e) {
    throw Error(fmt::format("cannot save tensors: a name or metadata string is not UTF-8 ({})", jsonErrorText(e)));
  }
  // Padding to 8 keeps the data section, and so every tensor whose offset
  // is a multiple of its size, aligned for readers that map the file.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(char((uint64_t(text.size()) >> (8 * i)) & 0xff));
  out += text;
  for (const TensorView &t : tensors) out.append(static_cast<const char *>(t.data), t.bytes);
  return out;
}

SafetensorsFile decodeSafetensors(std::string bytes, const std::string &what) {
  if (bytes.size() < 8)
    throw FileError(what, fmt::format("truncated: {} bytes, too short for the 8-byte header length", bytes.size()));
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes[size_t(i)])) << (8 * i);
  if (n > bytes.size() - 8)
    throw FileError(what,
                    fmt::format("header length {} exceeds the {} bytes after it (truncated?)", n, bytes.size() - 8));
  std::string_view text = std::string_view(bytes).substr(8, n);
  if (text.empty() || text[0] != '{') throw FileError(what, "not a safetensors file (the header is not a JSON object)");
  // A parsed object keeps one of two equal keys; a file naming a tensor
  // twice is corrupt, and is refused rather than read as either.
  std::set<std::string> names;
  std::optional<std::string> twice;
  auto noteKey = [&](int depth, Json::parse_event_t event, Json &parsed) {
    if (depth == 1 && event == Json::parse_event_t::key && !names.insert(parsed.get<std::string>()).second)
      twice = parsed.get<std::string>();
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, noteKey);
  } catch (const Json::exception &e) {
    throw FileError(what, fmt::format("malformed header: {}", jsonErrorText(e)));
  }
  if (twice) throw FileError(what, fmt::format("the header names `{}` twice", *twice));
  if (!header.is_object()) throw FileError(what, "not a safetensors file (the header is not a JSON object)");

  SafetensorsFile f;
  f.dataStart = 8 + n;
  for (const auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw FileError(what, "`__metadata__` is not a JSON object");
      for (const auto &[key, value] : entry.items()) {
        if (!value.is_string()) throw FileError(what, fmt::format("`__metadata__` value of `{}` is not a string", key));
        f.metadata.emplace_back(key, value.get<std::string>());
      }
      continue;
    }
    f.tensors.push_back(parseTensor(name, entry, what));
  }
  std::stable_sort(f.tensors.begin(), f.tensors.end(), [](const auto &a, const auto &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  size_t expected = 0;
  for (const SafetensorsFile::Tensor &t : f.tensors) {
    if (t.begin < expected)
      throw FileError(what, fmt::format("tensor `{}` at bytes [{}, {}] overlaps the one before it, which ends at {}",
                                        t.name, t.begin, t.end, expected));
    if (t.begin > expected)
      throw FileError(what, fmt::format("{} bytes before tensor `{}` belong to no tensor", t.begin - expected, t.name));
    expected = t.end;
  }
  size_t data = bytes.size() - f.dataStart;
  if (expected > data)
    throw FileError(what, fmt::format("truncated: the tensors need {} bytes of data, but {} follow the header",
                                      expected, data));
  if (expected < data)
    throw FileError(what, fmt::format("{} bytes after the last tensor belong to no tensor", data - expected));
  f.bytes = std::move(bytes);
  return f;
}

const SafetensorsFile::Tensor *SafetensorsFile::find(const std::string &name) const {
  for (const Tensor &t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string SafetensorsFile::metadataValue(const std::string &key) const {
  for (const auto &[k, v] : metadata)
    if (k == key) return v;
  return "";
}

}  // namespace mlcrt
