// UTF-8 validation shared by the lexer's byte checks and the diagnostic
// renderer (which must not echo invalid bytes to a terminal).
#pragma once

#include <cstddef>
#include <string_view>

namespace mlc {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes
/// there are not one (overlong forms, surrogates and code points past
/// U+10FFFF included).
size_t utf8Length(std::string_view s, size_t i);

}  // namespace mlc
