// Links a generated object with libmlcrt into an executable by running the
// system C++ compiler driver (it knows the C++ runtime, crt files and the
// default PIE mode). Spawned directly, no shell: paths need no quoting.
#include "codegen/Codegen.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

// Set by compiler/codegen/CMakeLists.txt: the runtime's archives in the build
// tree and the libraries they need, space-separated.
#ifndef MLC_RUNTIME_ENTRY_LIB
#error "MLC_RUNTIME_ENTRY_LIB is not defined"
#endif

namespace mlc::codegen {

namespace {

std::vector<std::string> linkCommand(const std::string &object, const std::string &output) {
  std::vector<std::string> args{"c++", object, MLC_RUNTIME_ENTRY_LIB, MLC_RUNTIME_LIB};
  std::istringstream flags(MLC_RUNTIME_LINK_FLAGS);
  for (std::string flag; flags >> flag;)
    args.push_back(flag);
  args.push_back("-o");
  args.push_back(output);
  return args;
}

// Runs argv[0] from PATH; its stdout and stderr go to `output`.
bool run(const std::vector<std::string> &args, int &status, std::string &output, std::string &error) {
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDERR_FILENO);
  std::vector<char *> argv;
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipeFds[1]);
  if (spawned != 0) {
    close(pipeFds[0]);
    error = "cannot run " + args[0] + ": " + std::strerror(spawned);
    return false;
  }
  char buffer[4096];
  for (;;) {
    ssize_t n = read(pipeFds[0], buffer, sizeof buffer);
    if (n > 0)
      output.append(buffer, size_t(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  close(pipeFds[0]);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      error = std::string("waitpid: ") + std::strerror(errno);
      return false;
    }
  return true;
}

}  // namespace

bool linkExecutable(const std::string &object, const std::string &output, std::string &error) {
  for (const char *library : {MLC_RUNTIME_ENTRY_LIB, MLC_RUNTIME_LIB})
    if (!std::filesystem::exists(library)) {
      error = std::string("the runtime library is not built: ") + library;
      return false;
    }
  std::vector<std::string> args = linkCommand(object, output);
  int status = 0;
  std::string log;
  if (!run(args, status, log, error))
    return false;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return true;
  std::string command;
  for (const std::string &a : args)
    command += (command.empty() ? "" : " ") + a;
  error = "linking failed (" +
          (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                             : "signal " + std::to_string(WTERMSIG(status))) +
          "): " + command + "\n" + log;
  return false;
}

}  // namespace mlc::codegen
