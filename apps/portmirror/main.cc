// portmirror: remote port mirroring done in software, end to end. One binary, five subcommands.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <utility>
#include <vector>

#include "apps/portmirror/commands.h"
#include "portmirror/base/exit_codes.h"

int main(int argc, char** argv) {
  using portmirror::ExitCode;
  using portmirror::to_int;
  CLI::App app{
      "portmirror: remote port mirroring without kernel tunnels.\n"
      "  capture  receive mirrored traffic (GRE, ERSPAN I/II/III, VXLAN, Geneve, TZSP), write "
      "pcap\n"
      "  mirror   software port mirror: select, sample, police, encapsulate, send\n"
      "  decap    turn captures of tunnelled traffic into captures of the inner packets\n"
      "  check    lint a Junos port-mirroring configuration\n"
      "  lab      run the seed scenario end to end in network namespaces",
      "portmirror"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "portmirror 0.1.0");

  std::vector<std::pair<CLI::App*, portmirror::app::Runner>> cmds;
  auto add = [&](portmirror::app::Runner (*f)(CLI::App&)) {
    std::size_t before = app.get_subcommands({}).size();
    auto runner = f(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) cmds.emplace_back(subs.back(), std::move(runner));
  };
  add(portmirror::app::add_capture_command);
  add(portmirror::app::add_mirror_command);
  add(portmirror::app::add_decap_command);
  add(portmirror::app::add_check_command);
  add(portmirror::app::add_lab_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return to_int(ExitCode::kUsage);
  }
  try {
    for (auto& [sub, run] : cmds) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "portmirror: {}\n", e.what());
    return to_int(ExitCode::kFailure);
  }
  return to_int(ExitCode::kUsage);
}
