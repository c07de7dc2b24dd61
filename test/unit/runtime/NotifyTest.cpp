// Unit tests of run notifications: webhooks against a real HTTP server (a
// python3 http.server child on 127.0.0.1 that records every POST) and
// commands through /bin/sh, each writing into a fresh temporary directory.
#include "src/Notify.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

extern char **environ;

namespace mlcrt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char *kPython = MLC_PYTHON;

// Records each POST as one JSON line before answering, so the record is on
// disk when notify() returns; paths under /fail answer 500.
constexpr const char *kServer = R"PY(
import http.server, json, sys
record = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        with open(record, 'a') as f:
            f.write(json.dumps({'path': self.path, 'type': self.headers.get('Content-Type'),
                                'body': body.decode('utf-8')}) + '\n')
        self.send_response(500 if self.path.startswith('/fail') else 200)
        self.send_header('Content-Length', '0')
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
)PY";

constexpr const char *kSummary =
    R"({"run":"mnist-3","project":"digits","event":"finish","status":"ok","reason":null,)"
    R"("best":{"val.accuracy":0.9731},"duration_s":12.5,"checkpoint":"/tmp/ckpt/best.bin","note":"é\n"})";

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path freshDirectory(const std::string &name) {
  fs::path dir = fs::temp_directory_path() / ("mlcrt-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// No zombie left: notify() must have reaped every child it started.
void expectNoZombie() {
  int status = 0;
  EXPECT_LE(::waitpid(-1, &status, WNOHANG), 0);
}

class NotifyWebhook : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (::access(kPython, X_OK) != 0) return;
    hasPython_ = true;
    // A proxy from the environment would take 127.0.0.1 elsewhere.
    ::setenv("no_proxy", "127.0.0.1", 1);
    ::setenv("NO_PROXY", "127.0.0.1", 1);
    dir_ = freshDirectory("notify-server");
    std::string record = (dir_ / "requests.jsonl").string();
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string python = kPython, dashC = "-c", script = kServer;
    char *argv[] = {python.data(), dashC.data(), script.data(), record.data(), nullptr};
    int rc = posix_spawn(&server_, kPython, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ASSERT_EQ(rc, 0);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    port_ = std::atoi(line.c_str());
  }

  static void TearDownTestSuite() {
    if (server_ > 0) {
      ::kill(server_, SIGTERM);
      int status;
      ::waitpid(server_, &status, 0);
      server_ = 0;
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void SetUp() override {
    if (!hasPython_) GTEST_SKIP() << "needs " << kPython;
    ASSERT_GT(port_, 0) << "the test HTTP server did not start";
    fs::remove(dir_ / "requests.jsonl");
  }

  static std::string url(const std::string &path) { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  static std::vector<nlohmann::json> requests() {
    std::vector<nlohmann::json> all;
    std::istringstream in(readFile(dir_ / "requests.jsonl"));
    for (std::string line; std::getline(in, line);) all.push_back(nlohmann::json::parse(line));
    return all;
  }

  static NotifySpec webhook(const std::string &target, std::vector<std::string> events = {"finish", "failure"}) {
    return NotifySpec{"webhook", target, "", std::move(events)};
  }

  static inline bool hasPython_ = false;
  static inline pid_t server_ = 0;
  static inline int port_ = 0;
  static inline fs::path dir_;
};

TEST_F(NotifyWebhook, PostsTheSummaryAsJson) {
  std::ostringstream log;
  EXPECT_TRUE(notify(webhook(url("/hooks/run")), "finish", kSummary, log));
  EXPECT_EQ(log.str(), "");
  auto got = requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["path"], "/hooks/run");
  EXPECT_EQ(got[0]["type"], "application/json");
  EXPECT_EQ(got[0]["body"], kSummary);
}

TEST_F(NotifyWebhook, SendsNothingForAnEventNotListed) {
  std::ostringstream log;
  EXPECT_FALSE(notify(webhook(url("/hooks/run"), {"failure", "early_stop"}), "finish", kSummary, log));
  EXPECT_TRUE(notify(webhook(url("/hooks/run"), {"failure", "early_stop"}), "early_stop", kSummary, log));
  EXPECT_EQ(log.str(), "");
  auto got = requests();
  ASSERT_EQ(got.size(), 1u);
}

TEST_F(NotifyWebhook, ErrorStatusIsAWarningWithoutTheUrlsSecrets) {
  std::ostringstream log;
  std::string target = "http://alice:s3cret-pw@127.0.0.1:" + std::to_string(port_) + "/fail/hook?token=abc123xyz";
  EXPECT_FALSE(notify(webhook(target), "failure", kSummary, log));
  EXPECT_EQ(log.str(), "warning: notification failed: webhook `http://127.0.0.1:" + std::to_string(port_) +
                           "/fail/hook` answered HTTP 500\n");
  EXPECT_EQ(requests().size(), 1u);
}

TEST_F(NotifyWebhook, RefusedConnectionIsAQuickWarning) {
  // Bound but not listening: a connection is refused at once, and the port
  // stays ours for the test.
  int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  socklen_t size = sizeof addr;
  ASSERT_EQ(::getsockname(sock, reinterpret_cast<sockaddr *>(&addr), &size), 0);
  std::string port = std::to_string(ntohs(addr.sin_port));

  std::ostringstream log;
  auto start = Clock::now();
  EXPECT_FALSE(notify(webhook("http://u:secretpass@127.0.0.1:" + port + "?key=hidden1"), "finish", kSummary, log));
  EXPECT_LT(Clock::now() - start, 4s);
  ::close(sock);
  std::string text = log.str();
  std::string prefix = "warning: notification failed: webhook `http://127.0.0.1:" + port + "/` failed: ";
  EXPECT_EQ(text.substr(0, prefix.size()), prefix) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text.find("secretpass"), std::string::npos) << text;
  EXPECT_EQ(text.find("hidden1"), std::string::npos) << text;
}

TEST_F(NotifyWebhook, ReadsTheUrlFromTheEnvironmentWhenSending) {
  NotifySpec spec{"webhook", "", "MLC_TEST_NOTIFY_WEBHOOK", {"finish"}};
  std::ostringstream log;
  ::unsetenv("MLC_TEST_NOTIFY_WEBHOOK");
  EXPECT_FALSE(notify(spec, "finish", kSummary, log));
  EXPECT_EQ(log.str(), "warning: notification failed: environment variable `MLC_TEST_NOTIFY_WEBHOOK` is not set\n");

  log.str("");
  ::setenv("MLC_TEST_NOTIFY_WEBHOOK", "", 1);
  EXPECT_FALSE(notify(spec, "finish", kSummary, log));
  EXPECT_EQ(log.str(), "warning: notification failed: environment variable `MLC_TEST_NOTIFY_WEBHOOK` is empty\n");
  EXPECT_TRUE(requests().empty());

  log.str("");
  ::setenv("MLC_TEST_NOTIFY_WEBHOOK", url("/from-env").c_str(), 1);
  EXPECT_TRUE(notify(spec, "finish", kSummary, log));
  ::unsetenv("MLC_TEST_NOTIFY_WEBHOOK");
  EXPECT_EQ(log.str(), "");
  auto got = requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["path"], "/from-env");
}

TEST_F(NotifyWebhook, RejectsWhatIsNotAnHttpUrl) {
  std::ostringstream log;
  EXPECT_FALSE(notify(webhook("not a url"), "finish", kSummary, log));
  EXPECT_FALSE(notify(webhook("ftp://user:pw@127.0.0.1/drop"), "finish", kSummary, log));
  EXPECT_EQ(log.str(),
            "warning: notification failed: the webhook target is not a valid URL\n"
            "warning: notification failed: webhook `ftp://127.0.0.1/drop` is not an http or https URL\n");
}

class NotifyCommand : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = freshDirectory(std::string(info->test_suite_name()) + "-" + info->name());
  }
  void TearDown() override { fs::remove_all(dir_); }

  static NotifySpec command(const std::string &text, std::vector<std::string> events = {"finish", "failure"}) {
    return NotifySpec{"command", text, "", std::move(events)};
  }

  fs::path dir_;
};

TEST_F(NotifyCommand, GetsTheSummaryOnStdinAndTheRunInItsEnvironment) {
  // A stale value in this process's environment must not reach the command.
  ::setenv("MLC_RUN", "stale", 1);
  std::string text = "cat > " + (dir_ / "stdin.json").string() + " && printf '%s|%s|%s\\n' \"$MLC_EVENT\" " +
                     "\"$MLC_RUN\" \"$MLC_STATUS\" > " + (dir_ / "env.txt").string();
  std::ostringstream log;
  EXPECT_TRUE(notify(command(text), "failure", kSummary, log));
  ::unsetenv("MLC_RUN");
  EXPECT_EQ(log.str(), "");
  EXPECT_EQ(readFile(dir_ / "stdin.json"), kSummary);
  EXPECT_EQ(readFile(dir_ / "env.txt"), "failure|mnist-3|ok\n");
  expectNoZombie();
}

TEST_F(NotifyCommand, RunsNothingForAnEventNotListed) {
  std::ostringstream log;
  EXPECT_FALSE(notify(command("touch " + (dir_ / "ran").string(), {"finish"}), "early_stop", kSummary, log));
  EXPECT_EQ(log.str(), "");
  EXPECT_FALSE(fs::exists(dir_ / "ran"));
}

TEST_F(NotifyCommand, NonZeroExitIsAWarningNamingTheStatus) {
  std::ostringstream log;
  EXPECT_FALSE(notify(command("exit 3"), "finish", kSummary, log));
  EXPECT_EQ(log.str(), "warning: notification failed: command `exit 3` exited with status 3\n");
  expectNoZombie();
}

TEST_F(NotifyCommand, ACommandFromTheEnvironmentIsNamedByItsVariable) {
  NotifySpec spec{"command", "", "MLC_TEST_NOTIFY_COMMAND", {"finish"}};
  std::ostringstream log;
  ::unsetenv("MLC_TEST_NOTIFY_COMMAND");
  EXPECT_FALSE(notify(spec, "finish", kSummary, log));
  ::setenv("MLC_TEST_NOTIFY_COMMAND", "exit 4", 1);
  EXPECT_FALSE(notify(spec, "finish", kSummary, log));
  ::unsetenv("MLC_TEST_NOTIFY_COMMAND");
  EXPECT_EQ(log.str(),
            "warning: notification failed: environment variable `MLC_TEST_NOTIFY_COMMAND` is not set\n"
            "warning: notification failed: the command in `MLC_TEST_NOTIFY_COMMAND` exited with status 4\n");
}

TEST_F(NotifyCommand, ASlowCommandIsKilledWithWhatItStarted) {
  // The shell waits on a background sleep: killing only the shell would leave the sleep running.
  std::string text = "sleep 30 & echo $! > " + (dir_ / "pid").string() + "; wait";
  std::ostringstream log;
  auto start = Clock::now();
  EXPECT_FALSE(notify(command(text), "finish", kSummary, log, 300ms));
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(log.str(),
            "warning: notification failed: command `" + text + "` did not finish within 0.3 s and was killed\n");
  expectNoZombie();

  std::string pid = readFile(dir_ / "pid");
  ASSERT_FALSE(pid.empty());
  pid.erase(pid.find_last_not_of('\n') + 1);
  // Gone, or a zombie waiting for whoever adopted it.
  auto dead = [&] {
    std::string stat = readFile(fs::path("/proc") / pid / "stat");
    size_t paren = stat.rfind(')');
    return stat.empty() || (paren != std::string::npos && stat.substr(paren + 2, 1) == "Z");
  };
  for (auto until = Clock::now() + 2s; !dead() && Clock::now() < until;) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(dead()) << "the background sleep " << pid << " outlived the timeout";
}

TEST_F(NotifyCommand, ACommandThatIgnoresStdinRaisesNoSigpipe) {
  // SIGPIPE at its default would end this test process.
  struct sigaction previous {};
  struct sigaction byDefault {};
  byDefault.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &byDefault, &previous);
  // Larger than a pipe's buffer, and the command closes its stdin unread.
  std::string summary = R"({"run":"big","status":"ok","pad":")" + std::string(1 << 20, 'x') + "\"}";
  std::ostringstream log;
  EXPECT_TRUE(notify(command("exec 0<&-; sleep 0.1"), "finish", summary, log));
  EXPECT_TRUE(notify(command("true"), "finish", summary, log));
  EXPECT_EQ(log.str(), "");
  sigset_t blocked, pending;
  ::pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
  ::sigpending(&pending);
  EXPECT_EQ(sigismember(&blocked, SIGPIPE), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  ::sigaction(SIGPIPE, &previous, nullptr);
  expectNoZombie();
}

TEST_F(NotifyCommand, AnUnknownKindIsAWarning) {
  std::ostringstream log;
  EXPECT_FALSE(notify(NotifySpec{"email", "me@example.com", "", {"finish"}}, "finish", kSummary, log));
  EXPECT_EQ(log.str(), "warning: notification failed: unknown notification kind `email`\n");
}

}  // namespace
}  // namespace mlcrt
