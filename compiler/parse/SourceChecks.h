// Byte-level checks that run before lexing: the lexer assumes valid UTF-8
// without NUL bytes, and the parser recurses once per bracket level.
#pragma once

#include "diagnostics/Diagnostics.h"

namespace mlc {

/// Reports the first invalid UTF-8 sequence or NUL byte; false if any.
bool checkSourceBytes(const SourceManager &sources, FileId file, Diagnostics &diags);

/// Maps ANTLR's code point indices back to byte offsets.
class OffsetMap {
public:
  /// `text` starts `base` bytes into the file.
  OffsetMap(std::string_view text, uint32_t base = 0);
  uint32_t byteOffset(size_t codePoint) const {
    if (ascii_) return base_ + static_cast<uint32_t>(codePoint < size_ ? codePoint : size_);
    return base_ + (codePoint < starts_.size() ? starts_[codePoint] : static_cast<uint32_t>(size_));
  }

private:
  uint32_t base_ = 0;
  bool ascii_ = true;
  size_t size_ = 0;
  std::vector<uint32_t> starts_;  // byte offset of each code point, when not ASCII
};

}  // namespace mlc
