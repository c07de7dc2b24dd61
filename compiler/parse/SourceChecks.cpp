#include "parse/SourceChecks.h"

namespace mlc {

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

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
