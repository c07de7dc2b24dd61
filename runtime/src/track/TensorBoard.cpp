// A TensorBoard event file: TFRecord framing around tensorflow.Event
// protobufs. The four messages involved are encoded by hand below; a
// protobuf library (and its generated code) is not worth it for that.
// A resumed run starts a new file, which logs again the steps the old one
// has after the checkpoint; TensorBoard's event accumulator purges a tag's
// points from where its step goes back, so the chart reads as one run.
#include "src/track/Files.h"
#include "src/track/Sink.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <climits>
#include <cstring>

namespace mlcrt::track {

namespace {

// Debian 12 packages no CRC-32C library for C++ (there is no libcrc32c-dev),
// and a table of 256 entries is all it takes.
constexpr std::array<uint32_t, 256> kCrcTable = [] {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected Castagnoli polynomial
    table[i] = c;
  }
  return table;
}();

// TFRecord stores CRCs masked, as a CRC of data that holds CRCs is weak.
uint32_t maskedCrc(std::string_view bytes) {
  uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void varint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out += char(uint8_t(v) | 0x80);
    v >>= 7;
  }
  out += char(uint8_t(v));
}

void key(std::string &out, int field, int wireType) { varint(out, uint64_t(field) << 3 | uint64_t(wireType)); }

template <class T> void little(std::string &out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86 and arm64 are little-endian, as protobuf's fixed fields
  out.append(bytes, sizeof(T));
}

void bytesField(std::string &out, int field, std::string_view bytes) {
  key(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}

// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
std::string event(double wallTime, int64_t step) {
  std::string e;
  key(e, 1, 1);
  little(e, wallTime);
  if (step != 0) {
    key(e, 2, 0);
    varint(e, uint64_t(step));
  }
  return e;
}

std::string record(std::string_view data) {
  std::string length, out;
  little(length, uint64_t(data.size()));
  out = length;
  little(out, maskedCrc(length));
  out += data;
  little(out, maskedCrc(data));
  return out;
}

class TensorBoard : public Sink {
public:
  void start(const RunInfo &info) override {
    makeDirectories(info.runDir);
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || !host[0]) std::strcpy(host, "localhost");
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now).count();
    file_.open(info.runDir / fmt::format("events.out.tfevents.{}.{}.{}.0", secs, host, ::getpid()), "wb");
    std::string e = event(std::chrono::duration<double>(now).count(), 0);
    bytesField(e, 3, "brain.Event:2");
    file_.write(record(e));
  }

  void metrics(int64_t step, int64_t, const Metrics &m, int64_t timeMs) override {
    std::string out;
    for (const auto &[name, value] : m) {
      // Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
      std::string v;
      bytesField(v, 1, name);
      key(v, 2, 5);
      little(v, float(value));
      std::string summary;
      bytesField(summary, 1, v);
      std::string e = event(double(timeMs) / 1000.0, step);
      bytesField(e, 5, summary);
      out += record(e);
    }
    file_.write(out);  // flushed, so a killed run keeps every point it logged
  }

private:
  AppendFile file_;
};

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::unique_ptr<Sink> makeTensorBoardSink() { return std::make_unique<TensorBoard>(); }

}  // namespace mlcrt::track
