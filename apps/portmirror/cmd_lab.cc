// `portmirror lab`: the seed scenario end to end in network namespaces (issue 7, docs/lab.md).
#include <CLI/CLI.hpp>

#include <memory>

#include "apps/portmirror/commands.h"
#include "apps/portmirror/lab_run.h"

namespace portmirror::app {

Runner add_lab_command(CLI::App& app) {
  auto opts = std::make_shared<lab::LabOptions>();
  auto* cmd = app.add_subcommand(
      "lab",
      "Run the seed scenario end to end: customer host, router (portmirror mirror driven by the "
      "Junos configuration), destination and capture server (portmirror capture) in network "
      "namespaces; generate the seed's traffic; report what was mirrored and check it");
  cmd->add_option("--count", opts->count, "packets to generate from the customer")
      ->check(CLI::Range(1u, 999999u));
  cmd->add_option("--duration", opts->duration, "generate for S seconds instead of --count")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--pps", opts->pps, "packets per second to generate")
      ->check(CLI::Range(1.0, 5000.0));
  cmd->add_option("--rate", opts->rate, "override port-mirroring rate N (1-65535)")
      ->check(CLI::Range(1u, 65535u));
  cmd->add_option("--run-length", opts->run_length, "override port-mirroring run-length M (0-20)")
      ->check(CLI::Range(0u, 20u));
  cmd->add_option("--config", opts->config,
                  "your own Junos configuration (default: the seed's, corrected, embedded)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--keep", opts->keep,
                "leave the namespaces for exploration and print the command that removes them");
  cmd->add_option("--cleanup", opts->cleanup_tag,
                  "remove the namespaces a --keep run (or a killed run) left behind, then exit");
  cmd->add_option("--workdir", opts->workdir,
                  "directory for the configuration, logs, statistics and lab.pcapng");
  cmd->add_option("--report-json", opts->report_json, "write the report as JSON to FILE");
  cmd->add_flag("-q,--quiet", opts->quiet, "do not show the collector's live lines");
  return [opts] { return lab::run_lab(*opts); };
}

}  // namespace portmirror::app
