#include "format/Doc.h"

#include <unordered_map>

namespace mlc::format {

namespace {

DocPtr make(Doc::Kind kind, std::string s = {}, std::vector<DocPtr> parts = {}, int indent = 0) {
  auto d = std::make_shared<Doc>();
  d->kind = kind;
  d->text = std::move(s);
  d->parts = std::move(parts);
  d->indent = indent;
  return d;
}

// Columns, not bytes: a UTF-8 continuation byte takes no column.
int columns(const std::string &s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

DocPtr text(std::string s) { return make(Doc::Text, std::move(s)); }
DocPtr line() { return make(Doc::Line); }
DocPtr softLine() { return make(Doc::SoftLine); }
DocPtr hardLine() { return make(Doc::HardLine); }
DocPtr concat(std::vector<DocPtr> parts) { return make(Doc::Concat, {}, std::move(parts)); }
DocPtr group(std::vector<DocPtr> parts) { return make(Doc::Group, {}, std::move(parts)); }
DocPtr nest(int indent, std::vector<DocPtr> parts) { return make(Doc::Nest, {}, std::move(parts), indent); }
DocPtr ifBreak(DocPtr broken, DocPtr flat) { return make(Doc::IfBreak, {}, {std::move(broken), std::move(flat)}); }
DocPtr lineSuffix(std::string s) { return make(Doc::LineSuffix, std::move(s)); }
DocPtr breakParent() { return make(Doc::BreakParent); }
DocPtr ownLine(std::string s, bool blankBefore) { return make(Doc::OwnLine, std::move(s), {}, blankBefore); }

namespace {

bool forcesBreakMemo(const Doc &doc, std::unordered_map<const Doc *, bool> &memo) {
  switch (doc.kind) {
  case Doc::HardLine: case Doc::BreakParent: case Doc::OwnLine: return true;
  case Doc::Text: return doc.text.find('\n') != std::string::npos;
  case Doc::Line: case Doc::SoftLine: case Doc::LineSuffix: return false;
  case Doc::IfBreak: return forcesBreakMemo(*doc.parts[0], memo);
  default: break;
  }
  auto found = memo.find(&doc);
  if (found != memo.end()) return found->second;
  bool forced = false;
  for (const DocPtr &p : doc.parts) forced = forced || forcesBreakMemo(*p, memo);
  memo.emplace(&doc, forced);
  return forced;
}

}  // namespace

bool forcesBreak(const Doc &doc) {
  std::unordered_map<const Doc *, bool> memo;
  return forcesBreakMemo(doc, memo);
}

int flatWidth(const Doc &doc) {
  switch (doc.kind) {
  case Doc::Text: return doc.text.find('\n') != std::string::npos ? -1 : columns(doc.text);
  case Doc::Line: return 1;
  case Doc::SoftLine: case Doc::LineSuffix: case Doc::BreakParent: return 0;
  case Doc::HardLine: case Doc::OwnLine: return -1;
  case Doc::IfBreak: return flatWidth(*doc.parts[1]);
  default: break;
  }
  int width = 0;
  for (const DocPtr &p : doc.parts) {
    int w = flatWidth(*p);
    if (w < 0) return -1;
    width += w;
  }
  return width;
}

namespace {

// The printer keeps a stack of commands, as in prettier's printDocToString:
// a group is laid out flat when everything up to the next possible line
// break fits in the columns left.
struct Command {
  int indent;
  bool flat;
  const Doc *doc;
};

class Printer {
public:
  explicit Printer(int width) : width_(width) {}

  std::string run(const Doc &root) {
    stack_.push_back({0, false, &root});
    while (!stack_.empty()) {
      Command c = stack_.back();
      stack_.pop_back();
      step(c);
    }
    endLine(-1);
    return finish();
  }

private:
  struct OutLine {
    std::string code;
    std::string comment;  // a trailing `//` comment, printed after the code
    int indent = 0;
  };

  void step(const Command &c) {
    const Doc &d = *c.doc;
    switch (d.kind) {
    case Doc::Text: {
      size_t start = 0;
      for (size_t nl; (nl = d.text.find('\n', start)) != std::string::npos; start = nl + 1) {
        current_.code += d.text.substr(start, nl - start);
        rawLine();
      }
      current_.code += d.text.substr(start);
      column_ += columns(d.text.substr(start));
      break;
    }
    case Doc::Concat:
      for (auto it = d.parts.rbegin(); it != d.parts.rend(); ++it) stack_.push_back({c.indent, c.flat, it->get()});
      break;
    case Doc::Nest:
      for (auto it = d.parts.rbegin(); it != d.parts.rend(); ++it)
        stack_.push_back({c.indent + d.indent, c.flat, it->get()});
      break;
    case Doc::Group: {
      bool flat = c.flat || (!forced(d) && fits(d, width_ - column_));
      for (auto it = d.parts.rbegin(); it != d.parts.rend(); ++it) stack_.push_back({c.indent, flat, it->get()});
      break;
    }
    case Doc::IfBreak: stack_.push_back({c.indent, c.flat, d.parts[c.flat ? 1 : 0].get()}); break;
    case Doc::Line:
      if (c.flat) {
        current_.code += ' ';
        ++column_;
      } else {
        endLine(c.indent);
      }
      break;
    case Doc::SoftLine:
      if (!c.flat) endLine(c.indent);
      break;
    case Doc::HardLine: endLine(c.indent); break;
    case Doc::LineSuffix: current_.comment += current_.comment.empty() ? d.text : " " + d.text; break;
    case Doc::BreakParent: break;
    case Doc::OwnLine:
      if (current_.code.find_first_not_of(' ') != std::string::npos) endLine(c.indent);
      if (d.indent && !lines_.empty() && !lines_.back().code.empty()) lines_.push_back(OutLine{});
      stack_.push_back({c.indent, c.flat, textOf(d)});
      break;
    }
  }

  // The OwnLine's text as a Text doc, kept alive for the print.
  const Doc *textOf(const Doc &d) {
    owned_.push_back(text(d.text));
    return owned_.back().get();
  }

  bool forced(const Doc &d) { return forcesBreakMemo(d, memo_); }

  // Whether `d`, flat, and what follows it up to the next line break that the
  // enclosing layout takes, fit in `room` columns.
  bool fits(const Doc &d, int room) const {
    std::vector<std::pair<const Doc *, bool>> work{{&d, true}};
    size_t rest = stack_.size();
    while (room >= 0) {
      if (work.empty()) {
        if (rest == 0) return true;
        const Command &next = stack_[--rest];
        work.push_back({next.doc, next.flat});
      }
      auto [doc, flat] = work.back();
      work.pop_back();
      switch (doc->kind) {
      case Doc::Text:
        if (doc->text.find('\n') != std::string::npos) return false;
        room -= columns(doc->text);
        break;
      case Doc::Line:
        if (!flat) return true;
        room -= 1;
        break;
      case Doc::SoftLine:
        if (!flat) return true;
        break;
      case Doc::HardLine: return !flat;
      case Doc::OwnLine: return !flat;  // it starts a new line
      case Doc::IfBreak: work.push_back({doc->parts[flat ? 1 : 0].get(), flat}); break;
      case Doc::LineSuffix: case Doc::BreakParent: break;
      case Doc::Concat: case Doc::Nest: case Doc::Group:
        for (auto it = doc->parts.rbegin(); it != doc->parts.rend(); ++it) work.push_back({it->get(), flat});
        break;
      }
    }
    return false;
  }

  // Ends the current output line; -1 ends the document.
  void endLine(int indent) {
    while (!current_.code.empty() && current_.code.back() == ' ') current_.code.pop_back();
    lines_.push_back(std::move(current_));
    current_ = OutLine{};
    if (indent < 0) return;
    current_.indent = indent;
    current_.code.assign(size_t(indent), ' ');
    column_ = indent;
  }

  // A newline inside a block comment: the comment's own lines are kept as
  // written, so they carry no indentation of ours.
  void rawLine() {
    lines_.push_back(std::move(current_));
    current_ = OutLine{};
    current_.indent = -1;  // never aligned with its neighbours
    column_ = 0;
  }

  // Trailing comments on consecutive lines of one indentation start in one
  // column, two spaces after the longest code among them.
  std::string finish() {
    for (size_t i = 0; i < lines_.size();) {
      size_t j = i;
      size_t longest = 0;
      while (j < lines_.size() && !lines_[j].comment.empty() && lines_[j].indent == lines_[i].indent &&
             lines_[i].indent >= 0) {
        longest = std::max(longest, size_t(columns(lines_[j].code)));
        ++j;
      }
      if (j == i) {
        if (!lines_[i].comment.empty()) lines_[i].code += "  " + lines_[i].comment;
        ++i;
        continue;
      }
      for (size_t k = i; k < j; ++k) {
        size_t pad = longest - size_t(columns(lines_[k].code)) + 2;
        lines_[k].code += std::string(pad, ' ') + lines_[k].comment;
      }
      i = j;
    }
    std::string out;
    for (const OutLine &l : lines_) out += l.code + "\n";
    while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
    if (out == "\n") out.clear();
    return out;
  }

  int width_;
  int column_ = 0;
  std::vector<Command> stack_;
  std::vector<OutLine> lines_;
  OutLine current_;
  std::unordered_map<const Doc *, bool> memo_;
  std::vector<DocPtr> owned_;
};

}  // namespace

std::string print(const Doc &doc, int width) { return Printer(width).run(doc); }

}  // namespace mlc::format
