// Unit tests of the checkpoint file layer: atomic writes, the safetensors
// encoder and decoder, and the checkpoint store's verification and
// fallback. Each test works in a fresh temporary directory.
#include "src/CheckpointStore.h"

#include <fmt/format.h>
#include "TestDir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

namespace mlcrt {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

class Checkpoint : public test::TempDirTest {
protected:
  std::string path(const std::string &name) const { return (dir_ / name).string(); }
  void put(const std::string &name, const std::string &bytes) const {
    std::ofstream(path(name), std::ios::binary | std::ios::trunc) << bytes;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

};
using Safetensors = Checkpoint;

using test::errorOf;

// A small training state: every dtype the runtime writes and an empty tensor.
struct State {
  std::vector<float> weight = {1, 2, 3, 4, 5, 6};
  std::vector<int64_t> steps = {7, -8, 9};
  std::vector<uint8_t> mask = {1, 0, 255};
  std::vector<TensorView> views() const {
    return {{"weight", "F32", {2, 3}, weight.data(), weight.size() * 4},
            {"steps", "I64", {3}, steps.data(), steps.size() * 8},
            {"mask", "U8", {3}, mask.data(), mask.size()},
            {"empty", "F32", {0, 4}, nullptr, 0}};
  }
};

// A file of the given header text and data section, the header padded as the encoder pads it.
std::string craft(std::string header, const std::string &data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

TEST_F(Safetensors, RoundTripKeepsEveryByte) {
  State s;
  std::string bytes = encodeSafetensors(s.views(), {{"format", "pt"}, {"epoch", "3"}});
  SafetensorsFile f = decodeSafetensors(bytes, "state");
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.dataStart % 8, 0u);
  EXPECT_EQ(f.metadata, (std::vector<std::pair<std::string, std::string>>{{"format", "pt"}, {"epoch", "3"}}));
  EXPECT_EQ(f.metadataValue("epoch"), "3");
  EXPECT_EQ(f.metadataValue("absent"), "");
  std::vector<std::string> order;
  for (const auto &t : f.tensors) order.push_back(t.name);
  EXPECT_EQ(order, (std::vector<std::string>{"weight", "steps", "mask", "empty"}));
  for (const TensorView &v : s.views()) {
    const SafetensorsFile::Tensor *t = f.find(v.name);
    ASSERT_NE(t, nullptr) << v.name;
    EXPECT_EQ(t->dtype, v.dtype);
    EXPECT_EQ(t->shape, v.shape);
    ASSERT_EQ(t->end - t->begin, v.bytes);
    if (v.bytes) {
      EXPECT_EQ(std::memcmp(f.data(*t), v.data, v.bytes), 0) << v.name;
    }
  }
  EXPECT_EQ(f.find("absent"), nullptr);
  EXPECT_EQ(f.bytes, bytes);
  EXPECT_EQ(f.dataSection().size(), 6 * 4 + 3 * 8 + 3u);
}

TEST_F(Safetensors, HeaderMatchesGolden) {
  float w[] = {1.0f, -2.0f};
  std::string got = encodeSafetensors({{"w", "F32", {2}, w, sizeof w}}, {{"k", "v"}});
  std::string expected = std::string("\x50\0\0\0\0\0\0\0", 8) +
                         R"({"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} )" +
                         std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
  EXPECT_EQ(got, expected);
  // Without metadata there is no `__metadata__` at all.
  std::string bare = encodeSafetensors({{"w", "F32", {2}, w, sizeof w}}, {});
  EXPECT_EQ(bare.substr(8, bare.size() - 16), R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  )");
}

TEST_F(Safetensors, EncodeRefusesBadTensors) {
  float w[] = {1, 2};
  EXPECT_EQ(errorOf([&] { encodeSafetensors({{"w", "F33", {2}, w, 8}}, {}); }),
            "cannot save tensor `w`: unknown dtype `F33`");
  EXPECT_EQ(errorOf([&] { encodeSafetensors({{"w", "F32", {3}, w, 8}}, {}); }),
            "cannot save tensor `w`: 8 bytes do not hold shape [3] of F32");
  EXPECT_EQ(errorOf([&] { encodeSafetensors({{"w", "F32", {1}, w, 4}, {"w", "F32", {1}, w, 4}}, {}); }),
            "cannot save tensor `w`: the name is used twice");
  EXPECT_EQ(errorOf([&] { encodeSafetensors({{"__metadata__", "F32", {1}, w, 4}}, {}); }),
            "cannot save tensor `__metadata__`: the name is reserved");
}

TEST_F(Safetensors, EveryTruncationIsNamed) {
  State s;
  std::string bytes = encodeSafetensors(s.views(), {});
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::string e = errorOf([&] { decodeSafetensors(bytes.substr(0, n), "/ckpt/x.safetensors"); });
    EXPECT_TRUE(e.starts_with("`/ckpt/x.safetensors`: ")) << n << ": " << e;
  }
  EXPECT_EQ(errorOf([&] { decodeSafetensors(bytes.substr(0, 5), "f"); }),
            "`f`: truncated: 5 bytes, too short for the 8-byte header length");
  size_t n = bytes.size() - 10;
  EXPECT_EQ(errorOf([&] { decodeSafetensors(bytes.substr(0, n), "f"); }),
            fmt::format("`f`: truncated: the tensors need 51 bytes of data, but 41 follow the header"));
}

TEST_F(Safetensors, CorruptHeadersAreNamed) {
  auto error = [](const std::string &bytes) { return errorOf([&] { decodeSafetensors(bytes, "f.st"); }); };
  std::string data8(8, '\0');
  std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_EQ(error(craft(good, data8)), "(no error)");

  std::string tooLong = craft(good, data8);
  tooLong[1] = 1;
  EXPECT_EQ(error(tooLong), "`f.st`: header length 312 exceeds the 64 bytes after it (truncated?)");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", data8)),
            "`f.st`: tensor `a` has an unknown dtype `F33`");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                        data8)),
            "`f.st`: tensor `b` at bytes [4, 8] overlaps the one before it, which ends at 8");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8)),
            "`f.st`: 4 bytes before tensor `a` belong to no tensor");
  EXPECT_EQ(error(craft(good, data8 + "xx")), "`f.st`: 2 bytes after the last tensor belong to no tensor");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8)),
            "`f.st`: tensor `a` of shape [3] and dtype F32 needs 12 bytes, but its data_offsets [0, 8] span 8");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data8)),
            "`f.st`: tensor `a` of shape [4294967296, 4294967296] and dtype F32 needs more than 2^64 bytes, but its "
            "data_offsets [0, 8] span 8");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8)),
            "`f.st`: tensor `a` has a `shape` that is not a list of non-negative integers");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8)),
            "`f.st`: tensor `a` has no `data_offsets` [begin, end] with begin <= end");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[2]}})", data8)),
            "`f.st`: tensor `a` has no `data_offsets` [begin, end] with begin <= end");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data8)),
            "`f.st`: tensor `a` has an unknown key `x`");
  EXPECT_EQ(error(craft(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                        data8)),
            "`f.st`: the header names `a` twice");
  EXPECT_EQ(error(craft(R"({"__metadata__":{"k":1}})", "")), "`f.st`: `__metadata__` value of `k` is not a string");
  EXPECT_EQ(error(craft("[1]", "")), "`f.st`: not a safetensors file (the header is not a JSON object)");
  EXPECT_TRUE(error(craft(R"({"a":{"dtype":"F32",)", data8)).starts_with("`f.st`: malformed header: parse error"));
  // An empty file of tensors is valid.
  EXPECT_EQ(error(craft("{}", "")), "(no error)");
}

// NumPy reads the file (scripts/bootstrap installs it); PyTorch too where
// it is installed (scripts/bench installs it), not a dependency of the tests.
TEST_F(Safetensors, PythonReadsWhatWeWrite) {
  fs::path script = fs::path(MLC_TEST_TOOLS) / "read_safetensors.py";
  bool torch = std::system(fmt::format("'{}' -c 'import torch' 2>/dev/null", MLC_PYTHON).c_str()) == 0;
  State s;
  writeFileAtomically(dir_ / "s.safetensors", encodeSafetensors(s.views(), {{"k", "v"}}));
  std::string out = path("out.txt");
  std::string command = fmt::format("'{}' '{}' '{}' {} >'{}' 2>&1", MLC_PYTHON, script.string(),
                                    path("s.safetensors"), torch ? "--require-torch" : "", out);
  int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << readFile(out);
  EXPECT_EQ(readFile(out), "weight F32 [2, 3] 21\nsteps I64 [3] 8\nmask U8 [3] 256\nempty F32 [0, 4] 0\n");
}

TEST_F(Checkpoint, AtomicWriteLeavesOnlyTheFile) {
  fs::path target = dir_ / "sub" / "dir" / "f.bin";
  std::string big(1 << 20, 'x');
  for (int i = 0; i < 3; ++i) {
    big[0] = char('a' + i);
    writeFileAtomically(target, big);
    EXPECT_EQ(readFile(target), big);
  }
  std::vector<std::string> left;
  for (const auto &e : fs::directory_iterator(target.parent_path())) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"f.bin"});

  // A rename onto a directory fails after the temporary file is written: it must not remain.
  fs::create_directories(dir_ / "taken");
  EXPECT_EQ(errorOf([&] { writeFileAtomically(dir_ / "taken", "data"); }),
            fmt::format("cannot write `{}`: Is a directory", path("taken")));
  put("plain", "x");
  EXPECT_EQ(errorOf([&] { writeFileAtomically(dir_ / "plain" / "f", "data"); }),
            fmt::format("cannot write `{}/plain/f`: Not a directory", dir_.string()));
  EXPECT_EQ(names(), (std::vector<std::string>{"plain", "sub", "taken"}));
  EXPECT_EQ(errorOf([&] { readFile(dir_ / "taken"); }),
            fmt::format("cannot read `{}`: not a regular file", path("taken")));
  EXPECT_EQ(errorOf([&] { readFile(dir_ / "absent"); }),
            fmt::format("cannot read `{}`: No such file or directory", path("absent")));
}

TEST_F(Checkpoint, Crc32InPieces) {
  EXPECT_EQ(crc32("123456789"), 0xcbf43926u);  // the standard check value
  EXPECT_EQ(crc32("6789", crc32("12345")), crc32("123456789"));
  EXPECT_EQ(crc32(std::string_view(), 0x1234u), 0x1234u);  // an empty tensor's null data leaves it be
}

TEST_F(Checkpoint, TempFileNames) {
  EXPECT_EQ(tempFileOwner("a.json.tmp.123.0"), 123);
  EXPECT_EQ(tempFileOwner("epoch=1.safetensors.tmp.9.17"), 9);
  EXPECT_EQ(tempFileOwner("a.json"), -1);
  EXPECT_EQ(tempFileOwner("a.tmp.1.2.json"), -1);
  EXPECT_EQ(tempFileOwner("a.tmp.x.1"), -1);
  EXPECT_EQ(tempFileOwner("a.tmp.1."), -1);
}

TEST_F(Checkpoint, WriteAndLoad) {
  State s;
  CheckpointStore store(dir_);
  store.write("epoch=1", s.views(), R"({"progress": {"epoch": 1, "step": 10}, "lr": 0.1})", {{"format", "pt"}});
  EXPECT_EQ(names(), (std::vector<std::string>{"epoch=1.json", "epoch=1.safetensors"}));

  std::string tensors = readFile(dir_ / "epoch=1.safetensors");
  Json meta = Json::parse(readFile(dir_ / "epoch=1.json"));
  std::vector<std::string> keys;
  for (const auto &[k, _] : meta.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"progress", "lr", "tensors", "checksum"}));
  EXPECT_EQ(meta["tensors"]["file"], "epoch=1.safetensors");
  EXPECT_EQ(meta["tensors"]["bytes"], tensors.size());
  EXPECT_EQ(meta["tensors"]["crc32"], fmt::format("{:08x}", crc32(tensors)));
  std::string checksum = meta["checksum"];
  meta.erase("checksum");
  EXPECT_EQ(checksum, fmt::format("{:08x}", crc32(meta.dump(2))));

  CheckpointStore::Loaded l = store.load("epoch=1");
  EXPECT_EQ(l.stem, "epoch=1");
  EXPECT_EQ(l.metaJson, "{\n  \"progress\": {\n    \"epoch\": 1,\n    \"step\": 10\n  },\n  \"lr\": 0.1\n}");
  EXPECT_EQ(l.tensors.metadata.size(), 2u);
  EXPECT_EQ(l.tensors.metadata[0].first, "mlc.crc32");
  EXPECT_EQ(l.tensors.metadataValue("mlc.crc32"), fmt::format("{:08x}", crc32(l.tensors.dataSection())));
  EXPECT_EQ(l.tensors.metadataValue("format"), "pt");
  const auto *w = l.tensors.find("weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(std::memcmp(l.tensors.data(*w), s.weight.data(), 24), 0);

  for (const char *p : {"epoch=1", "epoch=1.json", "epoch=1.safetensors"})
    EXPECT_EQ(CheckpointStore::loadPath(dir_ / p).metaJson, l.metaJson) << p;
  EXPECT_EQ(errorOf([&] { CheckpointStore::loadPath(dir_ / "epoch=2.json"); }),
            fmt::format("`{}`: missing", path("epoch=2.json")));

  // Writing again replaces the pair.
  s.weight[0] = 100;
  store.write("epoch=1", s.views(), R"({"progress": {"step": 11}})");
  EXPECT_EQ(store.load("epoch=1").metaJson, "{\n  \"progress\": {\n    \"step\": 11\n  }\n}");
  EXPECT_EQ(names(), (std::vector<std::string>{"epoch=1.json", "epoch=1.safetensors"}));
}

TEST_F(Checkpoint, WriteRefusesBadArguments) {
  State s;
  CheckpointStore store(dir_);
  EXPECT_EQ(errorOf([&] { store.write("a/b", s.views(), "{}"); }), "`a/b` is not a valid checkpoint name");
  EXPECT_EQ(errorOf([&] { store.write("a", s.views(), "[1]"); }), "checkpoint `a`: the metadata is not a JSON object");
  EXPECT_EQ(errorOf([&] { store.write("a", s.views(), R"({"checksum": 1})"); }),
            "checkpoint `a`: the metadata may not have a `checksum` key; the store writes it");
  EXPECT_EQ(errorOf([&] { store.write("a", s.views(), "{}", {{"mlc.crc32", "0"}}); }),
            "checkpoint `a`: the metadata key `mlc.crc32` is the store's");
  EXPECT_TRUE(errorOf([&] { store.write("a", s.views(), "{"); })
                  .starts_with("checkpoint `a`: the metadata is not JSON"));
  EXPECT_TRUE(names().empty());
}

TEST_F(Checkpoint, EveryCorruptionNamesTheFile) {
  State s;
  CheckpointStore store(dir_);
  store.write("e", s.views(), R"({"progress": {"step": 10}})");
  const std::string tensors = readFile(dir_ / "e.safetensors"), json = readFile(dir_ / "e.json");
  const std::string tensorsFile = path("e.safetensors"), jsonFile = path("e.json");
  auto error = [&] { return errorOf([&] { store.load("e"); }); };
  auto restore = [&] {
    put("e.safetensors", tensors);
    put("e.json", json);
  };

  for (size_t n : {size_t(0), size_t(7), size_t(8), size_t(50), tensors.size() / 2, tensors.size() - 1}) {
    put("e.safetensors", tensors.substr(0, n));
    EXPECT_EQ(error(), fmt::format("`{}`: truncated: {} of {} bytes", tensorsFile, n, tensors.size()));
  }
  put("e.safetensors", tensors + "x");
  EXPECT_EQ(error(),
            fmt::format("`{}`: {} bytes, but {} were written", tensorsFile, tensors.size() + 1, tensors.size()));
  // Every flipped bit of the tensors, header included, is caught.
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string bad = tensors;
    bad[i] ^= 0x10;
    put("e.safetensors", bad);
    EXPECT_EQ(error(), fmt::format("`{}`: checksum mismatch", tensorsFile)) << "byte " << i;
  }
  restore();
  // And of the JSON: each gives some error that names it.
  for (size_t i = 0; i < json.size(); ++i) {
    std::string bad = json;
    bad[i] ^= 0x01;
    put("e.json", bad);
    EXPECT_TRUE(error().starts_with(fmt::format("`{}`: ", jsonFile))) << "byte " << i << ": " << error();
  }
  std::string edited = json;
  edited.replace(edited.find("10"), 2, "11");
  put("e.json", edited);
  EXPECT_EQ(error(), fmt::format("`{}`: checksum mismatch", jsonFile));
  Json noChecksum = Json::parse(json);
  noChecksum.erase("checksum");
  put("e.json", noChecksum.dump(2));
  EXPECT_EQ(error(), fmt::format("`{}`: no `checksum`", jsonFile));
  put("e.json", json.substr(0, json.size() / 2));
  EXPECT_TRUE(error().starts_with(fmt::format("`{}`: malformed JSON: ", jsonFile))) << error();
  // Reformatting by hand keeps it valid: the checksum is of the serialisation.
  put("e.json", Json::parse(json).dump(8));
  EXPECT_EQ(error(), "(no error)");

  restore();
  fs::remove(dir_ / "e.safetensors");
  EXPECT_EQ(error(), fmt::format("`{}`: missing", tensorsFile));
  restore();
  fs::remove(dir_ / "e.json");
  EXPECT_EQ(error(), fmt::format("`{}`: missing", jsonFile));

  // A crash between the two renames of a rewrite: new tensors, old JSON.
  restore();
  s.weight.push_back(7);
  std::vector<TensorView> grown = s.views();
  grown[0].shape = {7};
  store.write("e", grown, "{}");
  put("e.json", json);
  EXPECT_EQ(error(), fmt::format("`{}`: {} bytes, but {} were written", tensorsFile,
                                 readFile(dir_ / "e.safetensors").size(), tensors.size()));
}

TEST_F(Checkpoint, ListOrdersByProgress) {
  State s;
  CheckpointStore store(dir_);
  store.write("step=10", s.views(), R"({"progress": {"step": 10}})");
  store.write("step=9", s.views(), R"({"progress": {"step": 9}})");
  store.write("step=100", s.views(), R"({"progress": {"step": 100}})");
  store.write("b", s.views(), R"({"progress": {"step": 5}})");
  store.write("a", s.views(), R"({"progress": {"step": 5}})");
  // Same step: the newer first, though its name sorts last.
  fs::last_write_time(dir_ / "a.json", fs::last_write_time(dir_ / "b.json") + std::chrono::seconds(10));
  // Neither a temporary file nor tensors without their JSON is a checkpoint.
  put("step=200.json.tmp.1.0", "{}");
  put("step=300.safetensors", "x");
  std::vector<std::string> order = {"progress", "step"};
  EXPECT_EQ(store.list(order), (std::vector<std::string>{"step=100", "step=10", "step=9", "a", "b"}));
  // Same step, same time: by name.
  fs::last_write_time(dir_ / "a.json", fs::last_write_time(dir_ / "b.json"));
  EXPECT_EQ(store.list(order), (std::vector<std::string>{"step=100", "step=10", "step=9", "b", "a"}));
  // A JSON whose order cannot be read comes first, so that it is reported.
  put("broken.json", "{");
  EXPECT_EQ(store.list(order).front(), "broken");
  EXPECT_TRUE(CheckpointStore(dir_ / "absent").list(order).empty());
  // With a prefix, other JSON files of the directory (a run's run.json) are no checkpoints.
  EXPECT_EQ(CheckpointStore(dir_, "step=").list(order), (std::vector<std::string>{"step=100", "step=10", "step=9"}));
}

TEST_F(Checkpoint, NewestValidFallsBack) {
  State s;
  CheckpointStore store(dir_);
  for (int epoch = 1; epoch <= 3; ++epoch)
    store.write(fmt::format("epoch={}", epoch), s.views(), fmt::format(R"({{"progress": {{"epoch": {}}}}})", epoch));
  std::vector<std::string> order = {"progress", "epoch"}, warnings;
  auto warn = [&](const std::string &w) { warnings.push_back(w); };

  auto newest = store.newestValid(order, warn);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->stem, "epoch=3");
  EXPECT_TRUE(warnings.empty());

  std::string json = readFile(dir_ / "epoch=3.json");
  json.replace(json.find("\"epoch\": 3"), 10, "\"epoch\": 4");
  put("epoch=3.json", json);
  newest = store.newestValid(order, warn);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->stem, "epoch=2");
  EXPECT_EQ(warnings, std::vector<std::string>{fmt::format(
                          "checkpoint `{}/epoch=3.json` is corrupt (checksum mismatch); falling back to `epoch=2`",
                          dir_.string())});

  warnings.clear();
  std::string tensors = readFile(dir_ / "epoch=2.safetensors");
  put("epoch=2.safetensors", tensors.substr(0, 100));
  newest = store.newestValid(order, warn);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->stem, "epoch=1");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[1], fmt::format("checkpoint `{}/epoch=2.safetensors` is corrupt (truncated: 100 of {} bytes); "
                                     "falling back to `epoch=1`",
                                     dir_.string(), tensors.size()));

  warnings.clear();
  fs::remove(dir_ / "epoch=1.safetensors");
  EXPECT_FALSE(store.newestValid(order, warn));
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[2], fmt::format("checkpoint `{}/epoch=1.safetensors` is corrupt (missing); no older checkpoint "
                                     "to fall back to",
                                     dir_.string()));
  EXPECT_FALSE(CheckpointStore(dir_ / "absent").newestValid(order, warn));
}

TEST_F(Checkpoint, Remove) {
  State s;
  CheckpointStore store(dir_);
  store.write("a", s.views(), "{}");
  store.write("b", s.views(), "{}");
  store.remove("a");
  EXPECT_EQ(names(), (std::vector<std::string>{"b.json", "b.safetensors"}));
  store.remove("a");  // already gone: no error
  fs::remove(dir_ / "b.json");
  store.remove("b");  // a half left by a crash
  EXPECT_TRUE(names().empty());
  EXPECT_EQ(errorOf([&] { store.remove(".."); }), "`..` is not a valid checkpoint name");
}

TEST_F(Checkpoint, StaleTempFilesOfDeadWritersAreRemoved) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // its pid now names no process (until reused, which is unlikely this soon)
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  std::string dead = fmt::format("a.json.tmp.{}.0", child), alive = "b.json.tmp.1.0",
              fresh = fmt::format("c.json.tmp.{}.0", child);
  for (const std::string &name : {dead, alive, fresh}) put(name, "x");
  fs::last_write_time(dir_ / dead, old);
  fs::last_write_time(dir_ / alive, old);  // pid 1 runs
  fs::last_write_time(dir_ / fresh, fs::file_time_type::clock::now() + std::chrono::hours(1));
  CheckpointStore store(dir_);
  EXPECT_EQ(names(), (std::vector<std::string>{alive, fresh}));
  EXPECT_TRUE(store.list({"step"}).empty());
}

}  // namespace
}  // namespace mlcrt
