#include "parse/SourceChecks.h"

#include "diagnostics/Utf8.h"

namespace mlc {

bool checkSourceBytes(const SourceManager &sources, FileId file, Diagnostics &diags) {
  std::string_view text = sources.text(file);
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      diags.report(Diag::NulByte, {file, uint32_t(i), uint32_t(i + 1)});
      return false;
    }
    size_t n = utf8Length(text, i);
    if (n == 0) {
      diags.report(Diag::InvalidUtf8, {file, uint32_t(i), uint32_t(i + 1)}, static_cast<unsigned char>(text[i]))
          .note("mlp source files must be UTF-8 text");
      return false;
    }
    i += n;
  }
  return true;
}

OffsetMap::OffsetMap(std::string_view text, uint32_t base) : base_(base), size_(text.size()) {
  for (unsigned char c : text)
    if (c >= 0x80) ascii_ = false;
  if (ascii_) return;
  starts_.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts_.push_back(static_cast<uint32_t>(i));
  starts_.push_back(static_cast<uint32_t>(text.size()));
}

}  // namespace mlc
