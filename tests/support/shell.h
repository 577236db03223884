// Running external tools (tshark, tcpdump) from tests: one helper for every test directory.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace portmirror::testing {

// Runs a shell command (stderr discarded); returns its exit status and, if asked, its stdout.
inline int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return -1;
  std::string s;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) s.append(buf, n);
  int st = ::pclose(p);
  if (out != nullptr) *out = s;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Stdout of a shell command ("" if it cannot run).
inline std::string output_of(const std::string& cmd) {
  std::string out;
  (void)run(cmd, &out);
  return out;
}

inline bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace portmirror::testing
