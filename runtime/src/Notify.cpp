// Run notifications through libcurl (webhook) or posix_spawn (command). Both
// run on the thread that ends the run, so both are bounded in time and leave
// the process as they found it: no signal disposition changed, no child left
// unreaped, nothing written to stdout.
#include "src/Notify.h"

#include "src/Manifest.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#ifndef MLCRT_VERSION
#define MLCRT_VERSION "dev"
#endif

extern char **environ;

namespace mlcrt {
namespace {

using Clock = std::chrono::steady_clock;

// Command names, URLs and curl's messages end up in the line; a control
// character in them must neither break it in two nor drive the terminal.
void warn(std::ostream &log, std::string_view why) noexcept {
  try {
    log << "warning: notification failed: " << printable(why) << '\n' << std::flush;
  } catch (...) {
    // A log stream that throws has nowhere left to report to.
  }
}

std::string resolveTarget(const NotifySpec &spec) {
  if (spec.targetEnv.empty()) {
    if (spec.target.empty()) throw Error(fmt::format("the {} notification has no target", spec.kind));
    return spec.target;
  }
  const char *value = std::getenv(spec.targetEnv.c_str());
  if (!value) throw Error(fmt::format("environment variable `{}` is not set", spec.targetEnv));
  if (!*value) throw Error(fmt::format("environment variable `{}` is empty", spec.targetEnv));
  return value;
}

// ---- webhook ----

void initCurl() {
  static std::once_flag once;
  static CURLcode status = CURLE_OK;
  std::call_once(once, [] { status = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (status != CURLE_OK) throw Error(fmt::format("libcurl failed to start: {}", curl_easy_strerror(status)));
}

// How a webhook URL may appear in a warning: webhook URLs often carry their
// token in the userinfo or the query, and warnings end up in shared logs.
struct ShownUrl {
  std::string text;                  // scheme://host[:port]/path
  std::vector<std::string> secrets;  // never to be printed, even inside curl's messages
};

ShownUrl showUrl(const std::string &url, const NotifySpec &spec) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle) throw std::bad_alloc();
  // The URL itself is not quoted: one that does not parse cannot be trimmed of its secrets.
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    throw Error(spec.targetEnv.empty() ? std::string("the webhook target is not a valid URL")
                                       : fmt::format("`{}` does not hold a valid URL", spec.targetEnv));
  auto part = [&](CURLUPart which) {
    char *text = nullptr;
    std::string value;
    if (curl_url_get(handle.get(), which, &text, 0) == CURLUE_OK && text) value = text;
    curl_free(text);
    return value;
  };
  std::string scheme = part(CURLUPART_SCHEME), host = part(CURLUPART_HOST), port = part(CURLUPART_PORT);
  std::string path = part(CURLUPART_PATH);
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  ShownUrl shown{scheme + "://" + host + (port.empty() ? "" : ":" + port) + path, {}};
  if (scheme != "http" && scheme != "https")
    throw Error(fmt::format("webhook `{}` is not an http or https URL", shown.text));
  shown.secrets = {url, part(CURLUPART_USER), part(CURLUPART_PASSWORD), part(CURLUPART_QUERY)};
  return shown;
}

std::string scrub(std::string text, const std::vector<std::string> &secrets) {
  for (const std::string &secret : secrets) {
    // Very short ones would match ordinary words; they guard little anyway.
    if (secret.size() < 3) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

size_t discardBody(char *, size_t size, size_t count, void *) { return size * count; }

template <typename T>
void setOption(CURL *handle, CURLoption option, T value) {
  CURLcode code = curl_easy_setopt(handle, option, value);
  if (code != CURLE_OK) throw Error(fmt::format("libcurl refused an option: {}", curl_easy_strerror(code)));
}

void postWebhook(const std::string &url, const NotifySpec &spec, const std::string &body) {
  ShownUrl shown = showUrl(url, spec);
  initCurl();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), curl_easy_cleanup);
  if (!handle) throw Error("libcurl could not create a handle");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  // An empty `Expect:` stops curl waiting a second for `100 Continue` on larger bodies.
  for (const char *line : {"Content-Type: application/json", "Expect:"}) {
    curl_slist *list = curl_slist_append(headers.get(), line);
    if (!list) throw std::bad_alloc();
    (void)headers.release();
    headers.reset(list);
  }
  char error[CURL_ERROR_SIZE] = {};
  CURL *h = handle.get();
  setOption(h, CURLOPT_ERRORBUFFER, error);
  setOption(h, CURLOPT_URL, url.c_str());
  setOption(h, CURLOPT_PROTOCOLS_STR, "http,https");
  // Signals would interrupt whatever else the process is doing; timeouts
  // keep a dead endpoint from holding the end of the run.
  setOption(h, CURLOPT_NOSIGNAL, 1L);
  setOption(h, CURLOPT_FOLLOWLOCATION, 0L);
  setOption(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  setOption(h, CURLOPT_TIMEOUT_MS, 10000L);
  setOption(h, CURLOPT_USERAGENT, "mlcrt/" MLCRT_VERSION);
  setOption(h, CURLOPT_HTTPHEADER, headers.get());
  setOption(h, CURLOPT_POST, 1L);
  setOption(h, CURLOPT_POSTFIELDS, body.data());
  setOption(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  // Without a write function curl prints the answer on stdout, which carries the run's metrics.
  setOption(h, CURLOPT_WRITEFUNCTION, &discardBody);
  CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK)
    throw Error(fmt::format("webhook `{}` failed: {}", shown.text,
                            scrub(*error ? error : curl_easy_strerror(code), shown.secrets)));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) throw Error(fmt::format("webhook `{}` answered HTTP {}", shown.text, status));
}

// ---- command ----

class Fd {
public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() { close(); }
  int get() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_;
};

// SIGPIPE from a write on a pipe goes to the writing thread: blocking it here
// and discarding the one our write raised leaves the process's own SIGPIPE
// handling alone, where ignoring it would change it for every thread.
class SigpipeBlocked {
public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    wasPending_ = pending();
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  SigpipeBlocked(const SigpipeBlocked &) = delete;
  SigpipeBlocked &operator=(const SigpipeBlocked &) = delete;
  ~SigpipeBlocked() {
    if (!wasPending_ && pending()) {
      timespec now{};
      while (sigtimedwait(&pipe_, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

private:
  static bool pending() {
    sigset_t set;
    sigemptyset(&set);
    return sigpending(&set) == 0 && sigismember(&set, SIGPIPE) == 1;
  }
  sigset_t pipe_, old_;
  bool wasPending_ = false;
};

int millisecondsUntil(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return int(std::clamp<decltype(left)>(left, 0, 1 << 30));
}

// Writes `data` to the command's stdin. A command that closes its stdin
// unread is fine (most notifiers never read it); false when the deadline
// passes first.
bool feed(int fd, const std::string &data, Clock::time_point deadline) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return true;
  SigpipeBlocked blocked;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n >= 0) {
      done += size_t(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return true;
    int left = millisecondsUntil(deadline);
    if (left == 0) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, left);
  }
  return true;
}

// Owns the spawned shell until it is reaped: any way out of runCommand kills
// its process group and waits, so no zombie and no stray notifier is left.
class Child {
public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;
  ~Child() {
    if (!reaped_) kill();
  }

  // True when it ended before the deadline, its wait status in `status`.
  bool waitUntil(Clock::time_point deadline) {
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      pid_t r = ::waitpid(pid_, &status_, WNOHANG);
      if (r == pid_) return reaped_ = true;
      if (r < 0 && errno == ECHILD) {
        // SIGCHLD is ignored in this process, so the kernel reaped it and its status is gone.
        status_ = 0;
        return reaped_ = true;
      }
      if (r < 0 && errno != EINTR) return false;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - Clock::now()));
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
  }

  void kill() {
    // The shell leads its own group: its children (a pipeline, a `sleep`) go with it.
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }

  int status() const { return status_; }

private:
  pid_t pid_;
  int status_ = 0;
  bool reaped_ = false;
};

struct SpawnSetup {
  SpawnSetup() {
    if (int e = posix_spawn_file_actions_init(&actions))
      throw Error(fmt::format("cannot start `/bin/sh`: {}", std::strerror(e)));
    if (int e = posix_spawnattr_init(&attr)) {
      posix_spawn_file_actions_destroy(&actions);
      throw Error(fmt::format("cannot start `/bin/sh`: {}", std::strerror(e)));
    }
  }
  SpawnSetup(const SpawnSetup &) = delete;
  SpawnSetup &operator=(const SpawnSetup &) = delete;
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

std::vector<std::string> commandEnvironment(const std::string &event, const std::string &summaryJson) {
  nlohmann::json summary = nlohmann::json::parse(summaryJson, nullptr, false);
  auto field = [&](const char *key) -> std::string {
    if (!summary.is_object()) return "";
    auto it = summary.find(key);
    if (it == summary.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  std::vector<std::string> env;
  for (char **e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("MLC_EVENT=") || entry.starts_with("MLC_RUN=") || entry.starts_with("MLC_STATUS="))
      continue;
    env.emplace_back(entry);
  }
  env.push_back("MLC_EVENT=" + event);
  env.push_back("MLC_RUN=" + field("run"));
  env.push_back("MLC_STATUS=" + field("status"));
  return env;
}

std::string seconds(std::chrono::milliseconds d) { return fmt::format("{:g} s", double(d.count()) / 1000); }

void runCommand(const std::string &command, const NotifySpec &spec, const std::string &event,
                const std::string &summaryJson, std::chrono::milliseconds timeout) {
  // A command taken from the environment may hold a token; name the variable instead.
  std::string shown = spec.targetEnv.empty() ? fmt::format("command `{}`", command)
                                             : fmt::format("the command in `{}`", spec.targetEnv);
  std::vector<std::string> env = commandEnvironment(event, summaryJson);
  std::vector<char *> envp;
  for (std::string &entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dashC = "-c", script = command;
  char *argv[] = {sh.data(), dashC.data(), script.data(), nullptr};

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  Fd readEnd(fds[0]), writeEnd(fds[1]);

  SpawnSetup setup;
  posix_spawn_file_actions_t &actions = setup.actions;
  posix_spawnattr_t &attr = setup.attr;

  posix_spawn_file_actions_adddup2(&actions, readEnd.get(), 0);
  // The run's stdout is its metrics line, which scripts parse.
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // The run's own descriptors (data files, checkpoints) are none of the notifier's business.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  // Its own process group, so a timeout can kill all it started; a clean
  // signal state, whatever this thread blocks or the process ignores.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2}) sigaddset(&defaults, s);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  pid_t pid = 0;
  if (int e = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data()))
    throw Error(fmt::format("cannot start `/bin/sh`: {}", std::strerror(e)));
  Child child(pid);
  readEnd.close();

  Clock::time_point deadline = Clock::now() + timeout;
  bool fed = feed(writeEnd.get(), summaryJson, deadline);
  writeEnd.close();
  if (!fed || !child.waitUntil(deadline)) {
    child.kill();
    throw Error(fmt::format("{} did not finish within {} and was killed", shown, seconds(timeout)));
  }
  int status = child.status();
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    throw Error(fmt::format("{} exited with status {}", shown, WEXITSTATUS(status)));
  if (WIFSIGNALED(status)) throw Error(fmt::format("{} was killed by signal {}", shown, WTERMSIG(status)));
}

}  // namespace

bool notify(const NotifySpec &spec, const std::string &event, const std::string &summaryJson, std::ostream &log,
            std::chrono::milliseconds commandTimeout) {
  try {
    if (std::find(spec.events.begin(), spec.events.end(), event) == spec.events.end()) return false;
    if (spec.kind == "webhook") postWebhook(resolveTarget(spec), spec, summaryJson);
    else if (spec.kind == "command") runCommand(resolveTarget(spec), spec, event, summaryJson, commandTimeout);
    else throw Error(fmt::format("unknown notification kind `{}`", spec.kind));
    return true;
  } catch (const std::bad_alloc &) {
    warn(log, "out of memory");
  } catch (const std::exception &e) {
    warn(log, e.what());
  } catch (...) {
    warn(log, "unexpected failure");
  }
  return false;
}

}  // namespace mlcrt
