// `portmirror lab` (placeholder until its issue lands).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "apps/portmirror/commands.h"
#include "portmirror/base/exit_codes.h"

namespace portmirror::app {

Runner add_lab_command(CLI::App& app) {
  app.add_subcommand("lab", "(not implemented yet)");
  return [] {
    fmt::print(stderr, "portmirror lab: not implemented yet\n");
    return to_int(ExitCode::kFailure);
  };
}

}  // namespace portmirror::app
