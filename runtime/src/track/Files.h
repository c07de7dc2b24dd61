// File helpers the file-writing sinks share.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "src/FileIO.h"

namespace mlcrt::track {

/// Creates `dir` and its parents; names the directory when it cannot.
void makeDirectories(const std::filesystem::path &dir);

/// A file appended to and flushed line by line, so a killed run keeps every
/// line it logged.
class AppendFile {
public:
  void open(const std::filesystem::path &path, const char *mode = "ab");
  void write(std::string_view bytes);  // and flush

private:
  struct Close {
    void operator()(FILE *f) const { std::fclose(f); }
  };
  std::filesystem::path path_;
  std::unique_ptr<FILE, Close> file_;
};

/// The shortest text that reads back as the same double (`0.5123`, `1e-05`).
std::string number(double value);

}  // namespace mlcrt::track
