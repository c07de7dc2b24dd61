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

void writeAtomically(const fs::path &path, std::string_view bytes) {
  fs::path tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(fmt::format("cannot write `{}`: {}", path.string(), std::strerror(errno)));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  int e = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(fmt::format("cannot write `{}`: {}", path.string(), std::strerror(e)));
  }
}

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return "";
    throw Error(fmt::format("cannot read `{}`: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

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
  if (!file_) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size() || std::fflush(file_.get()) != 0)
    throw Error(fmt::format("cannot write `{}`: {}", path_.string(), std::strerror(errno)));
}

std::string number(double value) { return fmt::format("{}", value); }

}  // namespace mlcrt::track
