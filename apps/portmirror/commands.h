// Subcommand registration: each cmd_*.cc adds its subcommand to the CLI11 app and returns the
// function main() calls when that subcommand was chosen. Commands stay thin: flags -> modules ->
// exit.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace portmirror::app {

using Runner = std::function<int()>;

Runner add_decap_command(CLI::App& app);
Runner add_capture_command(CLI::App& app);
Runner add_mirror_command(CLI::App& app);
Runner add_check_command(CLI::App& app);
Runner add_lab_command(CLI::App& app);

}  // namespace portmirror::app
