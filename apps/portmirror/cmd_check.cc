// `portmirror check FILE... [--lenient] [--set] [--plan] [--map J=L]`: lint a Junos port-mirroring
// configuration given as one or more files (merged), then print the matching collector command.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "apps/portmirror/commands.h"
#include "portmirror/base/exit_codes.h"
#include "portmirror/junos/check.h"
#include "portmirror/junos/config_loader.h"

namespace portmirror::app {

namespace {

struct CheckArgs {
  std::vector<std::string> files;
  bool lenient = false;
  bool set_form = false;
  bool plan = false;
  bool tree = false;
  bool set_dump = false;
  bool inherited = false;
  std::vector<std::string> maps;
};

}  // namespace

Runner add_check_command(CLI::App& app) {
  auto args = std::make_shared<CheckArgs>();
  auto* sub = app.add_subcommand(
      "check",
      "lint a Junos port-mirroring configuration (one or more files, read as one configuration)\n"
      "exit status: 0 clean, 1 warnings, 2 errors, 3 unreadable file");
  sub->add_option("files", args->files, "Junos configuration files (hierarchical or set form)")
      ->required();
  sub->add_flag("--lenient", args->lenient,
                "recover from missing/extra braces by indentation (warnings, not errors)");
  sub->add_flag("--set", args->set_form, "the files are in `set` form (default: detected)");
  sub->add_flag("--plan", args->plan, "also print the mirror plan (as `mirror --dry-run`)");
  sub->add_option("--map", args->maps, "JUNOS=LINUX interface mapping for --plan");
  sub->add_flag("--dump-tree", args->tree, "print the normalised configuration tree");
  sub->add_flag("--dump-set", args->set_dump, "print the configuration as `set` lines");
  sub->add_flag("--dump-inheritance", args->inherited,
                "print the normalised tree with configuration groups applied (as Junos "
                "`show | display inheritance`)");
  return [args]() -> int {
    junos::CheckOptions opt;
    opt.lenient = args->lenient;
    opt.form = args->set_form ? junos::SyntaxForm::kSet : junos::SyntaxForm::kAuto;
    junos::CheckResult r = junos::check_files(args->files, opt);
    fmt::print("{}", junos::render_check(r));
    if (!r.fatal.empty()) return to_int(ExitCode::kInputUnreadable);
    if (args->plan || args->tree || args->set_dump || args->inherited) {
      std::vector<junos::Diagnostic> diags;
      auto cfg = junos::load_files(args->files, junos::ParseOptions{opt.lenient, opt.form}, diags);
      if (cfg) {
        if (args->tree) fmt::print("\n{}", junos::dump_tree((*cfg)->root));
        if (args->set_dump) fmt::print("\n{}", junos::dump_set((*cfg)->root));
        if (args->inherited) fmt::print("\n{}", junos::dump_tree((*cfg)->expanded));
        if (args->plan) {
          junos::LoadOptions lo;
          lo.lenient = opt.lenient;
          for (const auto& m : args->maps) {
            auto eq = m.find('=');
            if (eq == std::string::npos) {
              fmt::print(stderr, "portmirror check: --map wants JUNOS=LINUX, got '{}'\n", m);
              return to_int(ExitCode::kUsage);
            }
            lo.interface_map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
          }
          std::vector<junos::Diagnostic> plan_diags;
          config::MirrorConfig plan = junos::to_mirror_config(**cfg, lo, plan_diags);
          fmt::print("\nPlan:\n{}{}", junos::format_diagnostics(plan_diags),
                     junos::describe_plan(plan));
        }
      }
    }
    return r.exit_code;
  };
}

}  // namespace portmirror::app
