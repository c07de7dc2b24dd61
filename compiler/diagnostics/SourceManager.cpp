#include "diagnostics/SourceManager.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace mlc {

FileId SourceManager::load(const std::string &path, std::string &error) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    error = std::strerror(errno);
    return 0;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "is a directory";
    return 0;
  }
  if (static_cast<size_t>(st.st_size) > maxFileSize) {
    error = "file is larger than 4 MiB";
    return 0;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return 0;
  }
  // Read at most one byte past the limit: special files (/dev/zero, pipes)
  // report no size and may never end.
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= maxFileSize && in.read(chunk, sizeof chunk).gcount() > 0)
    text.append(chunk, static_cast<size_t>(in.gcount()));
  if (text.size() > maxFileSize) {
    error = "file is larger than 4 MiB";
    return 0;
  }
  return add(path, std::move(text));
}

FileId SourceManager::add(std::string path, std::string text) {
  files_.push_back({std::move(path), std::move(text), {}});
  return static_cast<FileId>(files_.size());
}

const std::vector<uint32_t> &SourceManager::lineStarts(FileId id) const {
  const File &f = files_[id - 1];
  if (f.lineStarts.empty()) {
    f.lineStarts.push_back(0);
    for (size_t i = 0; i < f.text.size(); ++i)
      if (f.text[i] == '\n') f.lineStarts.push_back(static_cast<uint32_t>(i + 1));
  }
  return f.lineStarts;
}

LineCol SourceManager::position(FileId id, uint32_t offset) const {
  const auto &starts = lineStarts(id);
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - starts.begin());
  return {line, offset - starts[line - 1] + 1};
}

std::string_view SourceManager::lineText(FileId id, uint32_t offset) const {
  const auto &starts = lineStarts(id);
  std::string_view all = text(id);
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  uint32_t begin = *(it - 1);
  size_t end = all.find('\n', begin);
  if (end == std::string_view::npos) end = all.size();
  if (end > begin && all[end - 1] == '\r') --end;
  return all.substr(begin, end - begin);
}

}  // namespace mlc
