#include "lsp/Server.h"

#include "format/Format.h"
#include "lsp/Completion.h"
#include "lsp/Transport.h"

#include <iostream>
#include <map>
#include <memory>

namespace mlc::lsp {

namespace {

using nlohmann::json;

// JSON-RPC error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kServerNotInitialized = -32002;

struct Document {
  std::shared_ptr<Analysis> now;
  std::shared_ptr<Analysis> checked;  // the latest without errors
};

class Server {
public:
  Server(std::ostream &out, std::string stdlibDir) : out_(out), stdlib_(std::move(stdlibDir)) {}

  int run(std::istream &in) {
    std::string error;
    while (auto body = readMessage(in, error)) {
      if (!error.empty()) {
        std::cerr << "mlc lsp: " << error << "\n";
        continue;
      }
      json message = json::parse(*body, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        reply(nullptr, {{"code", kParseError}, {"message", "the message is not a JSON object"}}, true);
        continue;
      }
      handle(message);
      if (exited_) return shutdown_ ? 0 : 1;
    }
    return shutdown_ ? 0 : 1;  // the client went away without `exit`
  }

private:
  void handle(const json &m) {
    std::string method = m.value("method", "");
    bool request = m.contains("id");
    json id = request ? m["id"] : json();
    const json params = m.value("params", json::object());
    if (method.empty()) {
      if (request) reply(id, {{"code", kInvalidRequest}, {"message", "no method"}}, true);
      return;
    }
    if (!initialized_ && method != "initialize" && method != "exit") {
      if (request) reply(id, {{"code", kServerNotInitialized}, {"message", "initialize first"}}, true);
      return;
    }
    try {
      if (method == "initialize") return reply(id, initialize());
      if (method == "initialized") return;
      if (method == "shutdown") {
        shutdown_ = true;
        return reply(id, nullptr);
      }
      if (method == "exit") {
        exited_ = true;
        return;
      }
      if (method == "textDocument/didOpen") {
        const json &doc = params.at("textDocument");
        return update(doc.at("uri").get<std::string>(), doc.at("text").get<std::string>());
      }
      if (method == "textDocument/didChange") {
        // Full synchronisation: the last change holds the whole text.
        const json &changes = params.at("contentChanges");
        if (changes.empty()) return;
        return update(params.at("textDocument").at("uri").get<std::string>(),
                      changes.back().at("text").get<std::string>());
      }
      if (method == "textDocument/didClose") {
        std::string uri = params.at("textDocument").at("uri").get<std::string>();
        docs_.erase(uri);
        return notify("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}});
      }
      if (method == "textDocument/hover") return reply(id, onDocument(params, &Server::hover));
      if (method == "textDocument/definition") return reply(id, onDocument(params, &Server::definition));
      if (method == "textDocument/completion") return reply(id, onDocument(params, &Server::completion));
      if (method == "textDocument/formatting") return reply(id, onDocument(params, &Server::formatting));
      if (request) reply(id, {{"code", kMethodNotFound}, {"message", "`" + method + "` is not supported"}}, true);
    } catch (const json::exception &e) {
      if (request) reply(id, {{"code", kInvalidParams}, {"message", std::string("bad parameters: ") + e.what()}}, true);
    }
  }

  json initialize() {
    initialized_ = true;
    return {{"capabilities",
             {{"textDocumentSync", {{"openClose", true}, {"change", 1}}},
              {"hoverProvider", true},
              {"definitionProvider", true},
              {"completionProvider", {{"triggerCharacters", {".", "=", "(", "[", " "}}}},
              {"documentFormattingProvider", true}}},
            {"serverInfo", {{"name", "mlc"}}}};
  }

  void update(const std::string &uri, std::string text) {
    Document &doc = docs_[uri];
    doc.now = std::make_shared<Analysis>(pathOf(uri), std::move(text), stdlib_);
    if (doc.now->ok()) doc.checked = doc.now;
    notify("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", doc.now->diagnostics()}});
  }

  using Handler = json (Server::*)(Document &, const json &);
  json onDocument(const json &params, Handler handler) {
    auto it = docs_.find(params.at("textDocument").at("uri").get<std::string>());
    if (it == docs_.end()) return nullptr;  // not open: nothing known of it
    return (this->*handler)(it->second, params);
  }

  static Position positionOf(const json &params) {
    const json &p = params.at("position");
    return {p.at("line").get<int>(), p.at("character").get<int>()};
  }

  json hover(Document &doc, const json &params) {
    auto h = doc.now->hover(positionOf(params));
    return h ? *h : json(nullptr);
  }
  json definition(Document &doc, const json &params) {
    auto d = doc.now->definition(positionOf(params));
    return d ? *d : json(nullptr);
  }
  json completion(Document &doc, const json &params) {
    return complete(*doc.now, doc.checked.get(), positionOf(params));
  }
  json formatting(Document &doc, const json &) {
    std::string_view text = doc.now->sources().text(doc.now->file());
    SourceManager sources;
    Diagnostics diags(sources);
    auto formatted = format::formatFile(sources, sources.add("document", std::string(text)), diags);
    if (!formatted) return nullptr;  // it does not parse: the diagnostics say why
    if (*formatted == text) return json::array();
    size_t lines = size_t(std::count(text.begin(), text.end(), '\n')) + 1;
    json range{{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", lines}, {"character", 0}}}};
    return json::array({{{"range", range}, {"newText", *formatted}}});
  }

  void reply(const json &id, const json &result, bool isError = false) {
    json m{{"jsonrpc", "2.0"}, {"id", id}};
    m[isError ? "error" : "result"] = result;
    writeMessage(out_, m);
  }
  void notify(const std::string &method, const json &params) {
    writeMessage(out_, {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
  }

  std::ostream &out_;
  std::string stdlib_;
  std::map<std::string, Document> docs_;
  bool initialized_ = false, shutdown_ = false, exited_ = false;
};

}  // namespace

int serve(std::istream &in, std::ostream &out, const std::string &stdlibDir) {
  return Server(out, stdlibDir).run(in);
}

}  // namespace mlc::lsp
