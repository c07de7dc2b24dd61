#include "src/CheckpointStore.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <unistd.h>

namespace mlcrt {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::ordered_json;

// Temporary files older than this process, of a writer that no longer runs,
// are leftovers of a crash; a newer one may belong to a writer on another
// machine sharing the directory, whose pid means nothing here.
const fs::file_time_type kProcessStart = fs::file_time_type::clock::now();

std::string hex32(uint32_t v) { return fmt::format("{:08x}", v); }

void checkStem(const std::string &stem) {
  if (stem.empty() || stem == "." || stem == ".." || stem.find_first_of(std::string("/\0", 2)) != std::string::npos)
    throw Error(fmt::format("`{}` is not a valid checkpoint name", stem));
}

// The number at `key` (a path through nested objects), if there is one.
std::optional<double> numberAt(const Json &j, const std::vector<std::string> &key) {
  const Json *v = &j;
  for (const std::string &k : key) {
    if (!v->is_object() || !v->contains(k)) return std::nullopt;
    v = &(*v)[k];
  }
  if (!v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::string readPart(const fs::path &path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileError(path, "missing");
  return readFile(path);
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path dir, std::string prefix) : dir_(std::move(dir)), prefix_(std::move(prefix)) {
  std::vector<fs::path> stale;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    int64_t pid = tempFileOwner(name);
    std::error_code timeError;
    fs::file_time_type mtime = it->last_write_time(timeError);
    // Tensors without their JSON: a write a crash cut between its two
    // renames. Never a checkpoint (the JSON marks one), so only litter.
    std::error_code missing;
    if (pid < 0 && name.starts_with(prefix_) && it->path().extension() == ".safetensors" && !timeError &&
        mtime < kProcessStart && !fs::exists(fs::path(it->path()).replace_extension(".json"), missing)) {
      stale.push_back(it->path());
      continue;
    }
    if (pid < 0 || pid > INT_MAX || timeError || mtime >= kProcessStart) continue;
    if (pid == ::getpid() || (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)) stale.push_back(it->path());
  }
  // Best effort: a directory this process may not write to still loads.
  for (const fs::path &p : stale) fs::remove(p, ec);
}

void CheckpointStore::write(const std::string &stem, const std::vector<TensorView> &tensors,
                            const std::string &metaJson,
                            const std::vector<std::pair<std::string, std::string>> &metadata) {
  checkStem(stem);
  Json meta;
  try {
    meta = Json::parse(metaJson);
  } catch (const Json::exception &e) {
    throw Error(fmt::format("checkpoint `{}`: the metadata is not JSON: {}", stem, jsonErrorText(e)));
  }
  if (!meta.is_object()) throw Error(fmt::format("checkpoint `{}`: the metadata is not a JSON object", stem));
  for (const char *key : {"tensors", "checksum"})
    if (meta.contains(key))
      throw Error(fmt::format("checkpoint `{}`: the metadata may not have a `{}` key; the store writes it", stem, key));

  uint32_t dataCrc = 0;
  for (const TensorView &t : tensors)
    dataCrc = crc32(std::string_view(static_cast<const char *>(t.data), t.bytes), dataCrc);
  std::vector<std::pair<std::string, std::string>> all = {{"mlc.crc32", hex32(dataCrc)}};
  for (const auto &entry : metadata) {
    if (entry.first == "mlc.crc32")
      throw Error(fmt::format("checkpoint `{}`: the metadata key `mlc.crc32` is the store's", stem));
    all.push_back(entry);
  }
  std::string bytes = encodeSafetensors(tensors, all);
  // The old pair stays whole if this write fails; a crash between the two
  // renames leaves an old .json over new tensors, which load refuses by
  // their size and checksum.
  writeFileAtomically(tensorsPath(stem), bytes);

  std::string text;
  try {
    Json files = Json::object();
    files["file"] = tensorsPath(stem).filename().string();
    files["bytes"] = bytes.size();
    files["crc32"] = hex32(crc32(bytes));  // the whole file: a flipped bit in the header counts too
    meta["tensors"] = std::move(files);
    meta["checksum"] = hex32(crc32(meta.dump(2)));
    text = meta.dump(2) + "\n";
  } catch (const Json::exception &e) {
    throw Error(fmt::format("checkpoint `{}`: {}", stem, jsonErrorText(e)));
  }
  writeFileAtomically(jsonPath(stem), text);
}

CheckpointStore::Loaded CheckpointStore::load(const std::string &stem) const {
  checkStem(stem);
  const fs::path jsonFile = jsonPath(stem), tensorsFile = tensorsPath(stem);
  Json meta;
  try {
    meta = Json::parse(readPart(jsonFile));
  } catch (const Json::exception &e) {
    throw FileError(jsonFile, fmt::format("malformed JSON: {}", jsonErrorText(e)));
  }
  if (!meta.is_object()) throw FileError(jsonFile, "not a JSON object");
  if (!meta.contains("checksum") || !meta["checksum"].is_string()) throw FileError(jsonFile, "no `checksum`");
  std::string checksum = meta["checksum"].get<std::string>();
  meta.erase("checksum");
  // The checksum covers the serialisation, not the file's bytes, so a file
  // re-indented by hand still verifies.
  if (hex32(crc32(meta.dump(2))) != checksum) throw FileError(jsonFile, "checksum mismatch");
  const Json *files = meta.contains("tensors") ? &meta["tensors"] : nullptr;
  if (!files || !files->is_object() || !files->contains("bytes") || !(*files)["bytes"].is_number_unsigned() ||
      !files->contains("crc32") || !(*files)["crc32"].is_string())
    throw FileError(jsonFile, "no `tensors` entry with `bytes` and `crc32`");
  const uint64_t expected = (*files)["bytes"].get<uint64_t>();
  const std::string crc = (*files)["crc32"].get<std::string>();
  meta.erase("tensors");

  // The pair is found by stem, not by the recorded file name, so a pair
  // renamed together still loads.
  std::string bytes = readPart(tensorsFile);
  if (bytes.size() < expected)
    throw FileError(tensorsFile, fmt::format("truncated: {} of {} bytes", bytes.size(), expected));
  if (bytes.size() > expected)
    throw FileError(tensorsFile, fmt::format("{} bytes, but {} were written", bytes.size(), expected));
  if (hex32(crc32(bytes)) != crc) throw FileError(tensorsFile, "checksum mismatch");
  Loaded loaded{stem, meta.dump(2), decodeSafetensors(std::move(bytes), tensorsFile.string())};
  if (loaded.tensors.metadataValue("mlc.crc32") != hex32(crc32(loaded.tensors.dataSection())))
    throw FileError(tensorsFile, "checksum mismatch (data section)");
  return loaded;
}

CheckpointStore::Loaded CheckpointStore::loadPath(const fs::path &path) {
  fs::path p = path;
  if (p.extension() == ".json" || p.extension() == ".safetensors") p.replace_extension();
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  return CheckpointStore(dir).load(p.filename().string());
}

std::vector<std::string> CheckpointStore::list(const std::vector<std::string> &orderKey) const {
  struct Entry {
    std::string stem;
    std::optional<double> order;
    fs::file_time_type mtime;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return {};
  fs::directory_iterator it(dir_, ec), end;
  if (ec) throw Error(fmt::format("cannot list `{}`: {}", dir_.string(), ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) throw Error(fmt::format("cannot list `{}`: {}", dir_.string(), ec.message()));
    std::string name = it->path().filename().string();
    // Temporary files end in `.tmp.<pid>.<n>`, so never in `.json`.
    if (!name.ends_with(".json") || name.size() == 5 || !name.starts_with(prefix_) || !it->is_regular_file(ec)) continue;
    Entry e{name.substr(0, name.size() - 5), std::nullopt, it->last_write_time(ec)};
    try {
      e.order = numberAt(Json::parse(readFile(it->path())), orderKey);
    } catch (const std::exception &) {
      // Unreadable: its order stays unknown, and load will say what is wrong.
    }
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    if (a.order.has_value() != b.order.has_value()) return !a.order.has_value();
    if (a.order && *a.order != *b.order) return *a.order > *b.order;
    if (a.mtime != b.mtime) return a.mtime > b.mtime;
    return a.stem > b.stem;
  });
  std::vector<std::string> stems;
  for (Entry &e : entries) stems.push_back(std::move(e.stem));
  return stems;
}

std::optional<CheckpointStore::Loaded> CheckpointStore::newestValid(
    const std::vector<std::string> &orderKey, const std::function<void(const std::string &)> &warn) const {
  std::vector<std::string> stems = list(orderKey);
  for (size_t i = 0; i < stems.size(); ++i) {
    try {
      return load(stems[i]);
    } catch (const FileError &e) {
      std::string then = i + 1 < stems.size() ? fmt::format("falling back to `{}`", stems[i + 1])
                                              : std::string("no older checkpoint to fall back to");
      warn(fmt::format("checkpoint `{}` is corrupt ({}); {}", e.file.string(), e.reason, then));
    }
  }
  return std::nullopt;
}

void CheckpointStore::remove(const std::string &stem) const {
  checkStem(stem);
  for (const fs::path &p : {jsonPath(stem), tensorsPath(stem)}) {
    std::error_code ec;
    fs::remove(p, ec);
    if (ec) throw Error(fmt::format("cannot remove `{}`: {}", p.string(), ec.message()));
  }
}

}  // namespace mlcrt
