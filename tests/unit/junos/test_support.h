// Helpers shared by the Junos tests: locating data, loading text, finding diagnostics.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "portmirror/junos/check.h"
#include "portmirror/junos/config_loader.h"

namespace portmirror::junos::test {

inline std::string shared_dir() {
  const char* env = std::getenv("PM_SHARED_DIR");
  return env != nullptr && *env != '\0' ? env : PM_SHARED_DIR;
}
inline std::string seed(const std::string& name) {
  return shared_dir() + "/seed/" + name;
}
inline std::string data(const std::string& name) {
  return std::string(PM_SOURCE_DIR) + "/tests/data/junos/" + name;
}
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<const Diagnostic*> find_diags(const std::vector<Diagnostic>& diags, Severity sev,
                                                 const std::string& needle) {
  std::vector<const Diagnostic*> out;
  for (const auto& d : diags) {
    if (d.severity == sev && d.message.find(needle) != std::string::npos) out.push_back(&d);
  }
  return out;
}

inline std::size_t count(const std::vector<Diagnostic>& diags, Severity sev) {
  std::size_t n = 0;
  for (const auto& d : diags) n += d.severity == sev ? 1 : 0;
  return n;
}

}  // namespace portmirror::junos::test
