// Golden tests: each tests/golden/junos/<case>/ holds `args` (mode, flags, input files) and
// `expected.out`. Modes: check (the `portmirror check` report), tree (diagnostics + normalised
// tree), inherited (the tree with configuration groups applied), set (the `set` form), plan
// (describe_plan). Inputs: `@seed/F` (../shared/seed), `@data/F`
// (tests/data/junos), else relative to the case. PM_GOLDEN_REGEN=1 rewrites expected.out.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace portmirror::junos::test {
namespace {

namespace fs = std::filesystem;

fs::path golden_root() {
  return fs::path(PM_SOURCE_DIR) / "tests" / "golden" / "junos";
}

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  if (!fs::exists(golden_root())) return out;
  for (const auto& e : fs::directory_iterator(golden_root())) {
    if (e.is_directory() && fs::exists(e.path() / "args")) out.push_back(e.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

std::string run_case(const fs::path& dir) {
  std::istringstream args(read_file((dir / "args").string()));
  std::string mode;
  args >> mode;
  bool lenient = false;
  bool set_form = false;
  LoadOptions lo;
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> display;  // real path -> shown
  for (std::string tok; args >> tok;) {
    if (tok == "--lenient") {
      lenient = true;
    } else if (tok == "--set") {
      set_form = true;
    } else if (tok.rfind("--map=", 0) == 0) {
      auto kv = tok.substr(6);
      auto eq = kv.find('=');
      lo.interface_map.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      std::string real;
      if (tok.rfind("@seed/", 0) == 0) {
        real = seed(tok.substr(6));
      } else if (tok.rfind("@data/", 0) == 0) {
        real = data(tok.substr(6));
      } else {
        real = (dir / tok).string();
      }
      files.push_back(real);
      display.emplace_back(real, tok);
    }
  }
  SyntaxForm form = set_form ? SyntaxForm::kSet : SyntaxForm::kAuto;
  std::string out;
  if (mode == "check") {
    out = render_check(check_files(files, CheckOptions{lenient, form}));
  } else {
    std::vector<Diagnostic> diags;
    auto cfg = load_files(files, ParseOptions{lenient, form}, diags);
    if (!cfg) return "unreadable: " + cfg.error().message + "\n";
    if (mode == "tree") {
      out = format_diagnostics(diags) + "----\n" + dump_tree((*cfg)->root);
    } else if (mode == "inherited") {
      out = format_diagnostics(diags) + "----\n" + dump_tree((*cfg)->expanded);
    } else if (mode == "set") {
      out = dump_set((*cfg)->root);
    } else if (mode == "plan") {
      lo.lenient = lenient;
      auto plan = to_mirror_config(**cfg, lo, diags);
      out = format_diagnostics(diags) + "----\n" + describe_plan(plan);
    } else {
      return "unknown mode " + mode + "\n";
    }
  }
  for (const auto& [real, shown] : display) replace_all(out, real, shown);
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpectedOutput) {
  fs::path dir = golden_root() / GetParam();
  std::string got = run_case(dir);
  fs::path expected = dir / "expected.out";
  const char* regen = std::getenv("PM_GOLDEN_REGEN");
  if (regen != nullptr && std::string(regen) == "1") {
    std::ofstream(expected, std::ios::binary) << got;
    GTEST_SKIP() << "regenerated " << expected;
  }
  ASSERT_TRUE(fs::exists(expected))
      << "missing " << expected << "; run tests/golden/junos/regen.sh";
  EXPECT_EQ(read_file(expected.string()), got) << "case " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Junos, Golden, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           std::replace_if(
                               n.begin(), n.end(),
                               [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
                               '_');
                           return n;
                         });

TEST(GoldenCases, ThereAreCases) {
  EXPECT_GE(case_names().size(), 10u);
}

}  // namespace
}  // namespace portmirror::junos::test
