#include "src/track/Sink.h"

#include <chrono>

namespace mlcrt::track {

void Tracker::add(std::string name, std::unique_ptr<Sink> sink) {
  sinks_.push_back(Entry{std::move(name), std::move(sink)});
}

template <class F> void Tracker::each(F &&f) {
  for (Entry &e : sinks_) {
    if (e.failed) continue;
    // A sink that failed once (a full disk, a deleted directory) would most
    // likely fail on every later call: one warning, then silence.
    std::string why;
    try {
      f(*e.sink);
      continue;
    } catch (const std::exception &error) {
      why = error.what();
    } catch (...) {
      why = "unknown error";
    }
    e.failed = true;
    warnings_ << "warning: tracking sink `" << e.name << "` failed: " << why << '\n' << std::flush;
  }
}

void Tracker::start(const RunInfo &info) {
  each([&](Sink &s) { s.start(info); });
}

void Tracker::progress(const Progress &p) {
  each([&](Sink &s) { s.progress(p); });
}

int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Tracker::metrics(int64_t step, int64_t epoch, const Metrics &m) {
  // One timestamp for every sink, so the stores agree on when it was logged.
  int64_t timeMs = unixMillis();
  each([&](Sink &s) { s.metrics(step, epoch, m, timeMs); });
}

void Tracker::finish(const Outcome &outcome) {
  each([&](Sink &s) { s.finish(outcome); });
}

}  // namespace mlcrt::track
