// libFuzzer target: Junos parser (both syntaxes, strict and lenient), model, plan and check on
// arbitrary bytes, in memory. Any crash, sanitizer report or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "portmirror/junos/check.h"
#include "portmirror/junos/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace portmirror::junos;  // NOLINT(google-build-using-namespace)
  std::string text(reinterpret_cast<const char*>(data), size);  // NOLINT
  for (SyntaxForm form : {SyntaxForm::kAuto, SyntaxForm::kSet}) {
    for (bool lenient : {false, true}) {
      std::vector<Diagnostic> diags;
      auto cfg = load_text("fuzz.conf", text, ParseOptions{lenient, form}, diags);
      (void)dump_tree(cfg->root);
      (void)dump_set(cfg->root);
      LoadOptions lo;
      lo.lenient = lenient;
      lo.interface_map = {{"t1-1/0/3:3", "eth1"}, {"ge-0/0/0.0", "eth2"}};
      auto plan = to_mirror_config(*cfg, lo, diags);
      (void)describe_plan(plan);
      (void)format_diagnostics(diags);
      if (form == SyntaxForm::kAuto && !lenient) {
        (void)render_check(check_text("fuzz.conf", text, CheckOptions{}));
      }
    }
  }
  return 0;
}
