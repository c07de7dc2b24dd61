#include "src/track/Files.h"

#include "src/Manifest.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mlcrt::track {

namespace fs = std::filesystem;

void makeDirectories(const fs::path &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create `{}`: {}", dir.string(), ec.message()));
}

void AppendFile::open(const fs::path &path, const char *mode) {
  path_ = path;
  file_.reset(std::fopen(path.c_str(), mode));
  if (!file_) throw Error(fmt::format("cannot write `{}`: {}", path.string(), std::strerror(errno)));
}

void AppendFile::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size() || std::fflush(file_.get()) != 0)
    throw Error(fmt::format("cannot write `{}`: {}", path_.string(), std::strerror(errno)));
}

std::string number(double value) { return fmt::format("{}", value); }

}  // namespace mlcrt::track
