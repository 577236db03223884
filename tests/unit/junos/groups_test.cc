// Configuration groups (`groups` / `apply-groups`): inheritance as Junos does it, in both syntaxes,
// with locations that point at the group's lines.
#include <gtest/gtest.h>

#include "portmirror/junos/groups.h"
#include "test_support.h"

namespace portmirror::junos::test {
namespace {

struct Loaded {
  std::unique_ptr<LoadedConfig> cfg;
  std::vector<Diagnostic> diags;
};

Loaded load(const std::string& text, SyntaxForm form = SyntaxForm::kAuto) {
  Loaded l;
  l.cfg = load_text("g.conf", text, ParseOptions{false, form}, l.diags);
  return l;
}

const char* kHierarchical = R"(groups {
    MIRROR {
        interfaces {
            ge-0/0/1 {
                unit 0 {
                    family inet {
                        filter {
                            input capture;
                        }
                    }
                }
            }
        }
        forwarding-options {
            port-mirroring {
                input {
                    rate 100;
                }
            }
        }
    }
}
apply-groups MIRROR;
interfaces {
    ge-0/0/1 {
        unit 0 {
            family inet {
                address 192.0.2.1/24;
            }
        }
    }
}
forwarding-options {
    port-mirroring {
        input {
            rate 10;
        }
    }
}
)";

const char* kSet = R"(set groups MIRROR interfaces ge-0/0/1 unit 0 family inet filter input capture
set groups MIRROR forwarding-options port-mirroring input rate 100
set apply-groups MIRROR
set interfaces ge-0/0/1 unit 0 family inet address 192.0.2.1/24
set forwarding-options port-mirroring input rate 10
)";

TEST(Groups, TopLevelApplyGroupsInheritsWhatIsNotSetLocally) {
  auto l = load(kHierarchical);
  EXPECT_EQ(count(l.diags, Severity::kError), 0u) << format_diagnostics(l.diags);
  EXPECT_EQ(count(l.diags, Severity::kWarning), 0u) << format_diagnostics(l.diags);
  const UnitModel* u = l.cfg->model.find_unit("ge-0/0/1", 0);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->filter_input, "capture");
  // The inherited statement keeps the group's line.
  EXPECT_EQ(u->filter_input_location.line, 8);
  EXPECT_EQ(u->inet_addresses.size(), 1u);
  // Local configuration wins: rate 10, not the group's 100.
  ASSERT_EQ(l.cfg->model.instances.size(), 1u);
  EXPECT_EQ(l.cfg->model.instances[0].rate, 10u);
  // The tree as written is kept for dumps; the model reads the expanded one.
  EXPECT_NE(dump_tree(l.cfg->root).find("apply-groups MIRROR;"), std::string::npos);
}

TEST(Groups, SetFormGivesTheSameModel) {
  auto h = load(kHierarchical);
  auto s = load(kSet);
  EXPECT_EQ(count(s.diags, Severity::kWarning), 0u) << format_diagnostics(s.diags);
  const UnitModel* u = s.cfg->model.find_unit("ge-0/0/1", 0);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->filter_input, "capture");
  EXPECT_EQ(u->filter_input_location.line, 1) << "points at the group's set line";
  ASSERT_EQ(s.cfg->model.instances.size(), 1u);
  EXPECT_EQ(s.cfg->model.instances[0].rate, 10u);
  // The same configuration, so the same expanded tree.
  EXPECT_EQ(dump_tree(h.cfg->expanded), dump_tree(s.cfg->expanded));
  EXPECT_EQ(dump_set(h.cfg->root), dump_set(s.cfg->root));
}

TEST(Groups, FirstListedGroupWinsAndListFormsAreEqual) {
  const std::string groups =
      "groups { A { forwarding-options { port-mirroring { input { rate 5; } } } }\n"
      "         B { forwarding-options { port-mirroring { input { rate 7; run-length 2; } } } } "
      "}\n";
  for (const char* apply : {"apply-groups [ A B ];", "apply-groups A; apply-groups B;"}) {
    auto l = load(groups + apply + "\n");
    ASSERT_EQ(l.cfg->model.instances.size(), 1u) << apply;
    EXPECT_EQ(l.cfg->model.instances[0].rate, 5u) << apply;
    EXPECT_EQ(l.cfg->model.instances[0].run_length, 2u) << "B still adds what A lacks";
  }
  auto b_first = load(groups + "apply-groups [ B A ];\n");
  ASSERT_EQ(b_first.cfg->model.instances.size(), 1u);
  EXPECT_EQ(b_first.cfg->model.instances[0].rate, 7u);
}

TEST(Groups, WildcardsDecorateMatchingStatementsAndNeverCreateThem) {
  auto l = load(
      "groups { G { interfaces { <ge-*> { unit <*> { family inet { filter { input f; } } } } } } "
      "}\n"
      "apply-groups G;\n"
      "interfaces { ge-0/0/1 { unit 0 { family inet; } unit 5 { family inet; } }\n"
      "             xe-0/1/0 { unit 0 { family inet; } } }\n"
      "firewall { family inet { filter f { term t { then accept; } } } }\n");
  EXPECT_EQ(l.cfg->model.find_unit("ge-0/0/1", 0)->filter_input, "f");
  EXPECT_EQ(l.cfg->model.find_unit("ge-0/0/1", 5)->filter_input, "f");
  EXPECT_EQ(l.cfg->model.find_unit("xe-0/1/0", 0)->filter_input, "") << "<ge-*> is not xe-";
  EXPECT_EQ(l.cfg->model.interfaces.size(), 2u) << "no interface named <ge-*>";
}

TEST(Groups, ApplyGroupsInsideAHierarchyLevel) {
  auto l = load(
      "groups { FAST { interfaces { <*> { speed 10g; description \"from FAST\"; } } } }\n"
      "interfaces {\n"
      "    ge-0/0/1 {\n"
      "        apply-groups FAST;\n"
      "        description local;\n"
      "        unit 0;\n"
      "    }\n"
      "    ge-0/0/2 {\n"
      "        unit 0;\n"
      "    }\n"
      "}\n");
  const InterfaceModel* one = l.cfg->model.find_interface("ge-0/0/1");
  const InterfaceModel* two = l.cfg->model.find_interface("ge-0/0/2");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(one->speed, "10g");
  EXPECT_EQ(one->speed_location.line, 1);
  EXPECT_EQ(one->description, "local");
  EXPECT_EQ(two->speed, "") << "the group applies only where it is applied";
}

TEST(Groups, ApplyGroupsExceptStopsInheritanceBelowIt) {
  auto l = load(
      "groups { G { interfaces { <*> { speed 10g; } } } }\n"
      "apply-groups G;\n"
      "interfaces { ge-0/0/1 { unit 0; } ge-0/0/2 { apply-groups-except G; unit 0; } }\n");
  EXPECT_EQ(l.cfg->model.find_interface("ge-0/0/1")->speed, "10g");
  EXPECT_EQ(l.cfg->model.find_interface("ge-0/0/2")->speed, "");
}

TEST(Groups, UndefinedGroupIsAWarningUnusedGroupANote) {
  auto l = load(
      "groups { IDLE { interfaces { ge-0/0/1 { speed 1g; } } } }\n"
      "interfaces { ge-0/0/1 { apply-groups [ NOPE ]; unit 0; } }\n");
  auto w = find_diags(l.diags, Severity::kWarning, "group 'NOPE' is not defined under 'groups'");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->location.line, 2);
  EXPECT_EQ(w[0]->location.column, 40);
  auto n = find_diags(l.diags, Severity::kNote, "group IDLE is defined but no 'apply-groups IDLE'");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0]->location.line, 1);
  EXPECT_EQ(l.cfg->model.find_interface("ge-0/0/1")->speed, "");
  // No longer the old "not expanded" warning.
  EXPECT_TRUE(find_diags(l.diags, Severity::kWarning, "not expanded").empty());
}

TEST(Groups, InactiveGroupStatementsAreNotInherited) {
  auto l = load(
      "groups { G { interfaces { ge-0/0/1 { inactive: speed 1g; description d; } } } }\n"
      "apply-groups G;\n"
      "interfaces { ge-0/0/1 { unit 0; } }\n");
  EXPECT_EQ(l.cfg->model.find_interface("ge-0/0/1")->speed, "");
  EXPECT_EQ(l.cfg->model.find_interface("ge-0/0/1")->description, "d");
}

TEST(Groups, AnErrorInAGroupAppliedTwiceIsReportedOnceAtTheGroupLine) {
  auto l = load(
      "groups {\n"
      "    G {\n"
      "        interfaces { <*> { speed fast; } }\n"
      "    }\n"
      "}\n"
      "apply-groups G;\n"
      "interfaces { ge-0/0/1 { unit 0; } ge-0/0/2 { unit 0; } }\n");
  auto e = find_diags(l.diags, Severity::kError, "speed 'fast' is not a speed");
  ASSERT_EQ(e.size(), 1u) << format_diagnostics(l.diags);
  EXPECT_EQ(e[0]->location.line, 3);
}

TEST(Groups, CheckRulesSeeInheritedBindings) {
  // The filter is bound only through the group: not "bound nowhere".
  CheckResult r = check_text("g.conf",
                             "groups { G { interfaces { ge-0/0/1 { unit 0 { family inet { filter "
                             "{ input f; } } } } } } }\n"
                             "apply-groups G;\n"
                             "interfaces { ge-0/0/1 { unit 0 { family inet; } } }\n"
                             "firewall { family inet { filter f { term t { then accept; } } } }\n",
                             CheckOptions{});
  EXPECT_TRUE(find_diags(r.diags, Severity::kWarning, "is not bound").empty()) << render_check(r);
}

TEST(Groups, WildcardMatch) {
  EXPECT_TRUE(wildcard_match("*", "ge-0/0/0"));
  EXPECT_TRUE(wildcard_match("ge-*", "ge-0/0/0"));
  EXPECT_FALSE(wildcard_match("ge-*", "xe-0/0/0"));
  EXPECT_TRUE(wildcard_match("xe-1/[0-3]/*", "xe-1/2/7"));
  EXPECT_FALSE(wildcard_match("xe-1/[0-3]/*", "xe-1/4/7"));
  EXPECT_TRUE(wildcard_match("ge-?/0/0", "ge-5/0/0"));
  EXPECT_FALSE(wildcard_match("ge-?/0/0", "ge-10/0/0"));
  EXPECT_TRUE(wildcard_match("[!x]e-*", "ge-1/0/0"));
  EXPECT_FALSE(wildcard_match("[!x]e-*", "xe-1/0/0"));
  EXPECT_TRUE(wildcard_match("*-*-*", "a-b-c"));
  EXPECT_FALSE(wildcard_match("", "a"));
}

}  // namespace
}  // namespace portmirror::junos::test
