// The socket between the tuner and one trial process: the trial reports its
// objective at each budget and hears whether to go on; at its end it says
// it is complete. One line a message, so a log of either side reads it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mlcrt::tune {

struct Message {
  enum Kind { Report, Complete } kind = Report;
  int64_t budget = 0;
  double value = 0;  // Report
};

std::string formatMessage(const Message &m);
/// nullopt on a line that is not a message.
std::optional<Message> parseMessage(const std::string &line);

/// The trial's side.
class TrialChannel {
public:
  explicit TrialChannel(int fd) : fd_(fd) {}
  /// Reports the objective at `budget` and waits for the answer: false when
  /// the tuner prunes the trial. A tuner that is gone ends the process: a
  /// trial without its study has no one to report to.
  bool report(int64_t budget, double value);
  /// Training ended (finished or stopped early) at `budget`.
  void complete(int64_t budget);

private:
  void send(const std::string &line);
  int fd_;
};

}  // namespace mlcrt::tune
