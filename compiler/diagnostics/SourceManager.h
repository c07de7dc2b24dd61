// Owns the text of every file the front end reads and maps byte offsets to
// line/column positions for diagnostics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlc {

using FileId = uint32_t;

/// A half-open byte range [begin, end) in one source file.
struct Loc {
  FileId file = 0;
  uint32_t begin = 0;
  uint32_t end = 0;

  bool valid() const { return file != 0; }
  /// The smallest range covering both (same file assumed).
  static Loc span(Loc a, Loc b) { return {a.file, a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end}; }
};

struct LineCol {
  uint32_t line = 0;    // 1-based
  uint32_t column = 0;  // 1-based, in bytes
};

class SourceManager {
public:
  /// Files larger than this are refused: mlp files are small, and the parser
  /// holds every token and the whole parse tree in memory at once.
  static constexpr size_t maxFileSize = 4u << 20;

  /// Reads a file; returns 0 and sets `error` when it cannot.
  FileId load(const std::string &path, std::string &error);
  /// Adds in-memory text (tests, the fuzzer, stdin).
  FileId add(std::string path, std::string text);

  std::string_view text(FileId id) const { return files_[id - 1].text; }
  const std::string &path(FileId id) const { return files_[id - 1].path; }
  LineCol position(FileId id, uint32_t offset) const;
  /// The text of the line containing `offset`, without its newline.
  std::string_view lineText(FileId id, uint32_t offset) const;
  std::string_view slice(Loc loc) const { return text(loc.file).substr(loc.begin, loc.end - loc.begin); }

private:
  struct File {
    std::string path;
    std::string text;
    mutable std::vector<uint32_t> lineStarts;  // computed on first use
  };
  const std::vector<uint32_t> &lineStarts(FileId id) const;
  std::vector<File> files_;
};

}  // namespace mlc
