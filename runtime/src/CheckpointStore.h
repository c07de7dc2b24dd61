// A directory of checkpoints. Each is two files: `<stem>.safetensors` with
// every tensor of the training state, readable by PyTorch and NumPy, and
// `<stem>.json` with whatever the caller records (progress, options) plus
// the store's checksums. The JSON is written last, so its presence marks a
// complete checkpoint; a crash before it leaves nothing that looks like one.
#pragma once

#include "src/Safetensors.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlcrt {

class CheckpointStore {
public:
  /// Removes what a crashed writer left in `dir`: temporary files of a
  /// process no longer running, and tensors whose JSON was never written.
  /// A directory that does not exist yet is fine.
  /// Only files whose names start with `prefix` are checkpoints: the
  /// directory may hold other files of the run (run.json, the final model).
  explicit CheckpointStore(std::filesystem::path dir, std::string prefix = "");
  const std::filesystem::path &dir() const { return dir_; }

  /// Writes <stem>.safetensors, then <stem>.json, each atomically. The
  /// safetensors `__metadata__` gets "mlc.crc32" (the data section's CRC-32,
  /// 8 hex digits) then `metadata`; the JSON is `metaJson` (an object) with
  /// "tensors": {"file", "bytes", "crc32"} and, last, "checksum": the CRC-32
  /// of the object's ordered_json dump(2) without "checksum".
  void write(const std::string &stem, const std::vector<TensorView> &tensors, const std::string &metaJson,
             const std::vector<std::pair<std::string, std::string>> &metadata = {});

  struct Loaded {
    std::string stem;
    std::string metaJson;  // the caller's object as dump(2), the store's keys removed
    SafetensorsFile tensors;
  };
  /// Reads and verifies one checkpoint: both checksums, the size, the
  /// safetensors structure. Throws FileError naming the bad file and what
  /// is wrong ("checksum mismatch", "truncated: N of M bytes", ...).
  Loaded load(const std::string &stem) const;
  /// Loads from a path a user gave: either file of the pair, with or without
  /// its extension.
  static Loaded loadPath(const std::filesystem::path &path);

  /// Stems of complete checkpoints (a <stem>.json exists), newest first: by
  /// the number at `orderKey` in the caller's JSON (e.g. {"progress",
  /// "step"}) descending, ties by modification time then name, descending.
  /// A JSON whose number cannot be read sorts as newest, so that
  /// newestValid reports it instead of passing over it in silence.
  std::vector<std::string> list(const std::vector<std::string> &orderKey) const;

  /// The newest checkpoint that loads and verifies. Each newer one that does
  /// not is reported through `warn` with the reason, e.g. "checkpoint
  /// `DIR/epoch=3.json` is corrupt (checksum mismatch); falling back to
  /// `epoch=2`". Nothing when no checkpoint is valid.
  std::optional<Loaded> newestValid(const std::vector<std::string> &orderKey,
                                    const std::function<void(const std::string &)> &warn) const;

  /// Deletes the .json first, so a crash in between leaves no
  /// complete-looking half, then the tensors. Missing files are no error.
  void remove(const std::string &stem) const;

  std::filesystem::path jsonPath(const std::string &stem) const { return dir_ / (stem + ".json"); }
  std::filesystem::path tensorsPath(const std::string &stem) const { return dir_ / (stem + ".safetensors"); }

private:
  std::filesystem::path dir_;
  std::string prefix_;
};

}  // namespace mlcrt
