// The safetensors format (huggingface/safetensors), which PyTorch, NumPy
// and most ML tools read: an 8-byte little-endian header length N, N bytes
// of JSON naming each tensor's dtype, shape and byte range, padded with
// spaces to a multiple of 8, then the tensors' bytes back to back.
#pragma once

#include "src/FileIO.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlcrt {

/// One tensor to write; `data` holds `bytes` bytes in C order, little-endian.
struct TensorView {
  std::string name;
  std::string dtype;  // F32 | F64 | F16 | BF16 | I64 | I32 | I16 | I8 | U64 | U32 | U16 | U8 | BOOL | F8_E4M3 | F8_E5M2
  std::vector<int64_t> shape;
  const void *data = nullptr;
  size_t bytes = 0;
};

/// Bytes per element of a safetensors dtype, or 0 for a name it does not have.
size_t dtypeSize(const std::string &dtype);

/// The file's bytes: tensors in the order given, `__metadata__` (when not
/// empty) first in the header. Throws Error on an unknown dtype, a size that
/// does not match the shape, or a repeated name.
std::string encodeSafetensors(const std::vector<TensorView> &tensors,
                              const std::vector<std::pair<std::string, std::string>> &metadata);

struct SafetensorsFile {
  struct Tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    size_t begin = 0, end = 0;  // offsets into the data section
  };
  std::vector<Tensor> tensors;  // in data-offset order
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string bytes;     // the whole file
  size_t dataStart = 0;  // 8 + the header length

  const Tensor *find(const std::string &name) const;
  /// The tensor's first byte. Only the data section is 8-aligned; a tensor
  /// after one of an odd size is not, so copy out rather than cast.
  const char *data(const Tensor &t) const { return bytes.data() + dataStart + t.begin; }
  std::string_view dataSection() const { return std::string_view(bytes).substr(dataStart); }
  std::string metadataValue(const std::string &key) const;  // "" when absent
};

/// Parses and validates everything: the header length within the file, the
/// JSON, every dtype and shape, each size against its shape, and offsets
/// that tile the data section exactly. Throws FileError with `what` as the
/// file, so a corrupt or truncated file is named.
SafetensorsFile decodeSafetensors(std::string bytes, const std::string &what);

}  // namespace mlcrt
