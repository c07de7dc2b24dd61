#include "lsp/Transport.h"

#include <istream>
#include <ostream>

namespace mlc::lsp {

namespace {

// A server that trusted any length could be made to allocate without bound.
constexpr size_t kMaxMessage = 64u << 20;

}  // namespace

std::optional<std::string> readMessage(std::istream &in, std::string &error) {
  error.clear();
  size_t length = 0;
  bool haveLength = false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (haveLength) break;
      continue;  // stray blank lines between messages
    }
    std::string lower;
    for (char c : line) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("content-length:", 0) == 0) {
      try {
        length = std::stoul(line.substr(15));
        haveLength = true;
      } catch (const std::exception &) {
        error = "bad Content-Length header `" + line + "`";
      }
    }
  }
  if (!haveLength) return std::nullopt;
  if (length > kMaxMessage) {
    error = "message of " + std::to_string(length) + " bytes is larger than the limit";
    in.ignore(std::streamsize(length));
    return std::string();
  }
  std::string body(length, '\0');
  in.read(body.data(), std::streamsize(length));
  if (size_t(in.gcount()) != length) return std::nullopt;
  return body;
}

void writeMessage(std::ostream &out, const nlohmann::json &message) {
  std::string body = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out << "Content-Length: " << body.size() << "\r\n\r\n" << body;
  out.flush();
}

}  // namespace mlc::lsp
