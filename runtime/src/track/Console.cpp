// Progress on the console: a live bar on a terminal, and the epoch lines
// scripts read (`epoch 1/20 train.loss=0.5123 (1.23 s)`) everywhere.
#include "src/track/Sink.h"

#include "src/Metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace mlcrt::track {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBarWidth = 20;
// Redrawing more often than the eye can follow only costs terminal time.
// Redraws at most ten times a second of training time (the time the
// progress reports, so the bar is a function of what it is told).
constexpr double kRedrawSeconds = 0.1;

std::string rate(double perSecond) {
  if (perSecond >= 1e6) return fmt::format("{:.1f}M", perSecond / 1e6);
  if (perSecond >= 1e3) return fmt::format("{:.1f}k", perSecond / 1e3);
  return fmt::format("{:.1f}", perSecond);
}

std::string clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-:--";
  int64_t s = std::llround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

class Console : public Sink {
public:
  Console(std::ostream &out, bool terminal, int every) : out_(out), terminal_(terminal), every_(std::max(every, 1)) {}

  void start(const RunInfo &info) override {
    epochs_ = info.epochs;
    resumeStep_ = info.resumeStep;
    epochStart_ = Clock::now();
  }

  void progress(const Progress &p) override {
    if (!terminal_) return;
    // The epoch's last batch is always drawn, so the bar never stops short.
    if (lastDraw_ && p.elapsedSeconds - *lastDraw_ < kRedrawSeconds && p.batch != p.batches) return;
    lastDraw_ = p.elapsedSeconds;
    int filled = p.batches > 0 ? int(std::clamp<int64_t>(p.batch * kBarWidth / p.batches, 0, kBarWidth)) : 0;
    int64_t done = p.step - resumeStep_;
    double eta = done > 0 ? p.elapsedSeconds / double(done) * double(p.totalSteps - p.step) : -1;
    // `\r` back to the start, then the text, then erase what a longer
    // previous line left to the right.
    out_ << fmt::format("\repoch {}/{} [{}{}] {}/{} loss {:.4f} {} samples/s ETA {}\033[K", p.epoch, p.epochs,
                        std::string(size_t(filled), '#'), std::string(size_t(kBarWidth - filled), '.'), p.batch,
                        p.batches, p.loss, rate(p.samplesPerSecond), clock(eta))
         << std::flush;
    barShown_ = true;
  }

  void metrics(int64_t, int64_t epoch, const Metrics &m, int64_t) override {
    if (epoch <= 0) return;  // test results: the caller prints the final line
    auto now = Clock::now();
    double seconds = std::chrono::duration<double>(now - epochStart_).count();
    epochStart_ = now;
    if (epoch % every_ != 0 && epoch != epochs_) return;
    clearBar();
    std::string text = formatMetrics(m);
    out_ << fmt::format("epoch {}/{} {}{}({:.2f} s)\n", epoch, epochs_, text, text.empty() ? "" : " ", seconds)
         << std::flush;
  }

  void finish(const Outcome &o) override {
    clearBar();
    if (o.status == "early_stop") out_ << "stopped early: " << o.reason << '\n' << std::flush;
  }

private:
  void clearBar() {
    if (!barShown_) return;
    out_ << "\r\033[K";
    barShown_ = false;
    lastDraw_.reset();  // the bar comes back with the next step
  }

  std::ostream &out_;
  bool terminal_;
  int every_;
  int64_t epochs_ = 0, resumeStep_ = 0;
  Clock::time_point epochStart_ = Clock::now();
  std::optional<double> lastDraw_;  // elapsedSeconds of the last draw
  bool barShown_ = false;
};

}  // namespace

std::unique_ptr<Sink> makeConsoleSink(std::ostream &out, bool terminal, int every) {
  return std::make_unique<Console>(out, terminal, every);
}

}  // namespace mlcrt::track
