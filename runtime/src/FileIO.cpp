#include "src/FileIO.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mlcrt {

namespace fs = std::filesystem;

FileError::FileError(fs::path file_, std::string reason_, const std::string &message)
    : Error(message.empty() ? fmt::format("`{}`: {}", file_.string(), reason_) : message), file(std::move(file_)),
      reason(std::move(reason_)) {}

namespace {

// Several threads of one process may write at once; the pid alone would
// make them share a temporary file.
std::atomic<uint64_t> tempCounter{0};

[[noreturn]] void cannotWrite(const fs::path &path, int e) {
  throw Error(fmt::format("cannot write `{}`: {}", path.string(), std::strerror(e)));
}

[[noreturn]] void cannotRead(const fs::path &path, const char *reason) {
  throw FileError(path, reason, fmt::format("cannot read `{}`: {}", path.string(), reason));
}

// Without this a crash soon after the rename may leave the directory entry
// pointing at the old file (or at none, for a new one) on some filesystems.
void syncDirectory(const fs::path &path) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) cannotWrite(path, errno);
  int rc = ::fsync(fd), e = errno;
  ::close(fd);
  // Some filesystems cannot sync a directory and say so with EINVAL; the
  // rename has happened either way.
  if (rc != 0 && e != EINVAL) cannotWrite(path, e);
}

}  // namespace

void writeFileAtomically(const fs::path &path, std::string_view bytes, bool sync) {
  if (!path.parent_path().empty()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Error(fmt::format("cannot write `{}`: {}", path.string(), ec.message()));
  }
  fs::path tmp = path;
  tmp += fmt::format(".tmp.{}.{}", ::getpid(), tempCounter++);
  // A leftover of a crashed process that had the same pid (in a container,
  // often the same every run) is truncated and reused, never a hindrance.
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f) cannotWrite(path, errno);
  int e = 0;
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fflush(f) != 0 ||
      (sync && ::fsync(::fileno(f)) != 0))
    e = errno ? errno : EIO;
  if (std::fclose(f) != 0 && e == 0) e = errno;
  if (e == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
  if (e != 0) {
    std::remove(tmp.c_str());
    cannotWrite(path, e);
  }
  if (sync) syncDirectory(path);
}

std::string readFileIfExists(const fs::path &path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "";
  return readFile(path);
}

std::string jsonErrorText(const std::exception &e) {
  std::string_view m = e.what();
  if (m.starts_with("[json.exception.") && m.find("] ") != std::string_view::npos) m.remove_prefix(m.find("] ") + 2);
  return std::string(m);
}

std::string readFile(const fs::path &path) {
  // O_NONBLOCK: a fifo given by mistake is refused below instead of
  // blocking the open; it changes nothing for a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) cannotRead(path, std::strerror(errno));
  struct stat st {};
  const char *problem = nullptr;
  if (::fstat(fd, &st) != 0)
    problem = std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    problem = "not a regular file";
  if (problem) {
    ::close(fd);
    cannotRead(path, problem);
  }
  std::string bytes(size_t(st.st_size), '\0');
  size_t done = 0;
  // Reads until end of file rather than to st_size, so a file that grew or
  // shrank since fstat is read as it is now.
  for (;;) {
    if (done == bytes.size()) bytes.resize(bytes.size() + 65536);
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      cannotRead(path, std::strerror(e));
    }
    if (n == 0) break;
    done += size_t(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

uint32_t crc32(std::string_view bytes, uint32_t crc) {
  // zlib takes a uInt length, so a file over 4 GiB goes in pieces; and it
  // answers a null buffer (an empty view's) with a fresh crc, so an empty
  // piece is skipped rather than passed.
  const auto *p = reinterpret_cast<const Bytef *>(bytes.data());
  uLong c = crc;
  for (size_t left = bytes.size(); left > 0;) {
    uInt n = uInt(std::min<size_t>(left, size_t(1) << 30));
    c = ::crc32(c, p, n);
    p += n;
    left -= n;
  }
  return uint32_t(c);
}

int64_t tempFileOwner(std::string_view name) {
  size_t at = name.rfind(".tmp.");
  if (at == std::string_view::npos) return -1;
  std::string_view rest = name.substr(at + 5);
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) return -1;
  int64_t pid = 0;
  uint64_t counter = 0;
  auto [p1, e1] = std::from_chars(rest.data(), rest.data() + dot, pid);
  auto [p2, e2] = std::from_chars(rest.data() + dot + 1, rest.data() + rest.size(), counter);
  if (e1 != std::errc() || p1 != rest.data() + dot || e2 != std::errc() || p2 != rest.data() + rest.size() || pid <= 0)
    return -1;
  return pid;
}

}  // namespace mlcrt
