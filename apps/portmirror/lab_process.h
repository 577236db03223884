// Child processes for `portmirror lab`: run a command to completion, or start one in the
// background with its output on pipes. No shell is involved; arguments go to execv as they are.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "portmirror/base/error.h"

namespace portmirror::app::lab {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (an absolute path) to completion and collects its output.
Result<RunResult> run(const std::vector<std::string>& argv);

// Renders argv as a command a user can paste into a shell.
std::string shell_quote(const std::vector<std::string>& argv);

// A background child. It runs in its own process group (so Ctrl-C on the terminal reaches only
// the lab, which stops its children in order) and gets SIGTERM if the lab dies (PR_SET_PDEATHSIG).
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child();

  // stdout goes to a pipe (stdout_fd()); stderr is appended to `stderr_path`.
  static Result<Child> start(const std::vector<std::string>& argv, const std::string& stderr_path);

  pid_t pid() const noexcept { return pid_; }
  int stdout_fd() const noexcept { return out_fd_; }
  void close_stdout() noexcept;
  bool running() noexcept;  // reaps the child when it has exited
  int exit_code() const noexcept { return exit_code_; }

  // Sends `sig` and waits up to `grace`; then SIGKILL. Returns the exit code.
  int stop(int sig, std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_code_ = -1;
};

// Looks for an executable in PATH and the usual sbin directories; "" when absent.
std::string find_program(const std::string& name);

// The absolute path of this executable (resolved now, since /proc/self/exe means `ip` once
// `ip netns exec` runs).
std::string self_exe();

}  // namespace portmirror::app::lab
