#include "driver/FormatCommand.h"

#include "format/Format.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace mlc {

namespace {

// The byte offset of the first line where `a` and `b` differ.
uint32_t firstDifferingLine(std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  size_t start = a.rfind('\n', i == 0 ? 0 : i - 1);
  return start == std::string_view::npos || i == 0 ? 0 : uint32_t(start + 1);
}

// Writes through a temporary file in the same directory and renames it over
// the original, so an interrupted `mlc fmt` never leaves half a file.
bool replaceFile(const std::string &path, const std::string &text, std::string &error) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path temp = target.parent_path() / ("." + target.filename().string() + ".fmt-" + std::to_string(getpid()));
  {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    out.flush();
    if (!out) {
      error = "cannot create a temporary file beside it";
      std::error_code ignored;
      fs::remove(temp, ignored);
      return false;
    }
  }
  std::error_code ec;
  fs::permissions(temp, fs::status(target, ec).permissions(), ec);
  fs::rename(temp, target, ec);
  if (ec) {
    error = ec.message();
    fs::remove(temp, ec);
    return false;
  }
  return true;
}

}  // namespace

int runFormat(const std::vector<std::string> &files, FormatMode mode, SourceManager &sources, Diagnostics &diags) {
  int rc = 0;
  for (const std::string &path : files) {
    std::string error;
    FileId file = path == "-" ? sources.add("<stdin>", std::string(std::istreambuf_iterator<char>(std::cin), {}))
                              : sources.load(path, error);
    if (!file) {
      diags.report(Diag::CannotRead, Loc{}, path, error);
      rc = 1;
      continue;
    }
    std::optional<std::string> formatted = format::formatFile(sources, file, diags);
    if (!formatted) {
      rc = 1;
      continue;
    }
    std::string_view original = sources.text(file);
    switch (mode) {
    case FormatMode::Stdout: std::cout << *formatted; break;
    case FormatMode::Check:
      if (*formatted != original) {
        uint32_t at = firstDifferingLine(original, *formatted);
        diags.report(Diag::NotFormatted, Loc{file, at, at}, path);
        rc = 1;
      }
      break;
    case FormatMode::Rewrite:
      if (*formatted != original && path != "-" && !replaceFile(path, *formatted, error)) {
        diags.report(Diag::CannotWrite, Loc{}, path, error);
        rc = 1;
      }
      if (path == "-") std::cout << *formatted;
      break;
    }
  }
  return rc;
}

}  // namespace mlc
