// The Language Server Protocol's framing: JSON-RPC messages behind
// `Content-Length` headers on a byte stream.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>

namespace mlc::lsp {

/// The next message's body, or nothing at the end of the stream. A message
/// whose header is malformed sets `error` and is skipped.
std::optional<std::string> readMessage(std::istream &in, std::string &error);

void writeMessage(std::ostream &out, const nlohmann::json &message);

}  // namespace mlc::lsp
