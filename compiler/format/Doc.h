// A small document algebra for the formatter, in the style of Wadler's
// "prettier printer": text, line breaks that a group takes or leaves, nesting.
// Written here rather than taken from a library because Debian packages no
// C++ pretty-printing library, and the formatter needs only these few forms.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace mlc::format {

struct Doc;
using DocPtr = std::shared_ptr<const Doc>;

struct Doc {
  enum Kind {
    Text,         // literal text (may hold newlines: a block comment)
    Line,         // a space when its group is flat, else a newline
    SoftLine,     // nothing when flat, else a newline
    HardLine,     // always a newline; breaks every enclosing group
    Concat,       // parts in order
    Group,        // parts flat if they fit on the line, else broken
    Nest,         // parts indented by `indent` after each newline
    IfBreak,      // parts[0] when the enclosing group is broken, parts[1] when flat
    LineSuffix,   // text printed just before the next newline (a trailing `//` comment)
    BreakParent,  // breaks every enclosing group, prints nothing
    OwnLine,      // text that starts a line of its own (a comment on its own line);
                  // indent = 1: with an empty line before it
  } kind;
  std::string text;
  std::vector<DocPtr> parts;
  int indent = 0;
};

DocPtr text(std::string s);
DocPtr line();
DocPtr softLine();
DocPtr hardLine();
DocPtr concat(std::vector<DocPtr> parts);
DocPtr group(std::vector<DocPtr> parts);
DocPtr nest(int indent, std::vector<DocPtr> parts);
DocPtr ifBreak(DocPtr broken, DocPtr flat);
DocPtr lineSuffix(std::string s);
DocPtr breakParent();
DocPtr ownLine(std::string s, bool blankBefore);

/// Whether laying the doc out forces a line break (a hard line or a
/// trailing line comment anywhere inside).
bool forcesBreak(const Doc &doc);
/// The doc's width on one line, ignoring trailing comments; -1 when it
/// cannot be on one line.
int flatWidth(const Doc &doc);

/// Lays the doc out in `width` columns. Trailing line comments on
/// consecutive lines of equal indentation are aligned to one column.
std::string print(const Doc &doc, int width);

}  // namespace mlc::format
