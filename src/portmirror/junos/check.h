// `portmirror check`: lint a Junos port-mirroring configuration (issue 6) — syntax, values, and the
// mistakes that cost a maintenance window — then suggest the matching collector command.
#pragma once

#include <string>
#include <vector>

#include "portmirror/junos/config_loader.h"

namespace portmirror::junos {

struct CheckOptions {
  bool lenient = false;
  SyntaxForm form = SyntaxForm::kAuto;
};

struct CheckResult {
  std::vector<Diagnostic> diags;
  std::vector<std::string> collector_commands;  // "portmirror capture --listen ..." lines
  std::vector<std::string> collector_notes;     // one per command: where it runs and why
  int exit_code = 0;                            // 0 clean, 1 warnings, 2 errors, 3 unreadable
  std::string fatal;                            // unreadable file message
};

// Semantic rules over a loaded configuration; appends to `diags`.
void check_model(const LoadedConfig& cfg, std::vector<Diagnostic>& diags);

// The collector commands that match the configuration's tunnels.
void collector_commands(const RouterModel& m, CheckResult& result);

CheckResult check_files(const std::vector<std::string>& paths, const CheckOptions& options);
CheckResult check_text(const std::string& name, const std::string& text,
                       const CheckOptions& options);

// The report exactly as `portmirror check` prints it.
std::string render_check(const CheckResult& result);

}  // namespace portmirror::junos
