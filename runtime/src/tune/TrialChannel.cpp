#include "src/tune/TrialChannel.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <sys/socket.h>
#include <unistd.h>

namespace mlcrt::tune {

std::string formatMessage(const Message &m) {
  if (m.kind == Message::Complete) return fmt::format("complete {}\n", m.budget);
  return fmt::format("report {} {}\n", m.budget, m.value);
}

std::optional<Message> parseMessage(const std::string &line) {
  Message m;
  char *end = nullptr;
  auto number = [&](const char *from) {
    errno = 0;
    long long v = std::strtoll(from, &end, 10);
    return errno == 0 && end != from ? std::optional<int64_t>(v) : std::nullopt;
  };
  if (line.rfind("complete ", 0) == 0) {
    auto budget = number(line.c_str() + 9);
    if (!budget || *end) return std::nullopt;
    m.kind = Message::Complete;
    m.budget = *budget;
    return m;
  }
  if (line.rfind("report ", 0) != 0) return std::nullopt;
  auto budget = number(line.c_str() + 7);
  if (!budget || *end != ' ') return std::nullopt;
  const char *valueText = end + 1;
  m.value = std::strtod(valueText, &end);  // reads nan and inf too
  if (end == valueText || *end) return std::nullopt;
  m.budget = *budget;
  return m;
}

void TrialChannel::send(const std::string &line) {
  for (size_t done = 0; done < line.size();) {
    ssize_t n = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(75);  // the tuner is gone
    done += size_t(n);
  }
}

bool TrialChannel::report(int64_t budget, double value) {
  send(formatMessage({Message::Report, budget, value}));
  std::string answer;
  char c = 0;
  for (;;) {
    ssize_t n = ::read(fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(75);
    if (c == '\n') break;
    answer.push_back(c);
  }
  return answer != "prune";
}

void TrialChannel::complete(int64_t budget) { send(formatMessage({Message::Complete, budget, 0})); }

}  // namespace mlcrt::tune
