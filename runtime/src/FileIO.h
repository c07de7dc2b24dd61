// Whole-file reads and crash-safe writes, for files a later run must be able
// to trust (checkpoints): a reader sees the old file or the new one, never a
// mix, even when the machine loses power mid-write.
#pragma once

#include "src/Manifest.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mlcrt {

/// A file whose content is wrong: `file` names it, `reason` says what is
/// wrong without the name, so a caller can word its own message around both.
struct FileError : Error {
  /// The message is `message`, or "`file`: reason" when that is empty.
  FileError(std::filesystem::path file, std::string reason, const std::string &message = "");
  std::filesystem::path file;
  std::string reason;
};

/// Writes `<path>.tmp.<pid>.<counter>` in the same directory, flushes and
/// fsyncs it, renames it over `path` and fsyncs the directory so the rename
/// itself survives a crash. Missing parent directories are created. On
/// failure the temporary file is removed and `path` keeps its old content.
/// `sync = false` skips both fsyncs: still never half a file, but a power
/// loss may lose the write (tracking files, rewritten often, need no more).
void writeFileAtomically(const std::filesystem::path &path, std::string_view bytes, bool sync = true);

/// The whole file; throws FileError ("cannot read `path`: ...") when it is
/// missing, not a regular file or unreadable.
std::string readFile(const std::filesystem::path &path);

/// zlib's CRC-32; `crc` continues a running checksum over several pieces.
/// The whole file, or "" when it does not exist; other problems throw.
std::string readFileIfExists(const std::filesystem::path &path);

/// An nlohmann::json exception's message without its
/// `[json.exception.parse_error.101]` prefix, which says nothing to a user.
std::string jsonErrorText(const std::exception &e);

uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

/// The process id in a name writeFileAtomically gives its temporary files,
/// or -1 when `name` is not such a name.
int64_t tempFileOwner(std::string_view name);

}  // namespace mlcrt
