// to_config: the mirror plan exactly as the configuration says (issue 6 "Running from it").
#include <gtest/gtest.h>

#include "test_support.h"

namespace portmirror::junos::test {
namespace {

std::vector<std::string> corrected_seed() {
  return {data("seed-corrected/router-1-gre-tunnel.conf"),
          data("seed-corrected/router-2-port-mirroring.conf"),
          data("seed-corrected/router-3-filter.conf"),
          data("seed-corrected/router-4-mx-tunnel-services.conf")};
}

void expect_same_plan(const config::MirrorConfig& a, const config::MirrorConfig& b) {
  EXPECT_EQ(a.interfaces, b.interfaces);
  EXPECT_EQ(a.filters, b.filters);
  EXPECT_EQ(a.instances, b.instances);
  EXPECT_EQ(a.bpf, b.bpf);
  EXPECT_EQ(a.mirror_once, b.mirror_once);
  EXPECT_EQ(a.loop_prevention, b.loop_prevention);
  EXPECT_EQ(describe_plan(a), describe_plan(b));
}

// The plan the seed describes: filter capture-filter bound output on t1-1/0/3:3 unit 0, mirror
// every packet from 192.168.70.0/24 or 192.168.35.0/30 into gr-0/2/0.100, GRE from 192.168.50.10
// to 192.168.51.20 with TTL 10.
TEST(ToConfig, CorrectedSeedGivesTheSeedsPlan) {
  std::vector<Diagnostic> diags;
  LoadOptions opt;
  opt.interface_map = {{"t1-1/0/3:3", "eth1"}};
  auto plan = load_mirror_config(corrected_seed(), opt, diags);
  ASSERT_TRUE(plan) << plan.error().message << format_diagnostics(diags);
  ASSERT_EQ(plan->interfaces.size(), 1u);
  EXPECT_EQ(plan->interfaces[0],
            (config::InterfaceBinding{"eth1", "t1-1/0/3:3.0", config::Direction::kOutput,
                                      "capture-filter"}));
  ASSERT_EQ(plan->filters.size(), 1u);
  const config::Filter& f = plan->filters[0];
  EXPECT_EQ(f.name, "capture-filter");
  ASSERT_EQ(f.terms.size(), 2u);
  EXPECT_EQ(f.terms[0].name, "0-capture");
  ASSERT_EQ(f.terms[0].from.source_address.size(), 2u);
  EXPECT_EQ(f.terms[0].from.source_address[0].prefix, *IpPrefix::parse("192.168.70.0/24"));
  EXPECT_EQ(f.terms[0].from.source_address[1].prefix, *IpPrefix::parse("192.168.35.0/30"));
  EXPECT_TRUE(f.terms[0].port_mirror);
  EXPECT_EQ(f.terms[0].mirror_instance, "");
  EXPECT_EQ(f.terms[0].verdict, config::TermVerdict::kAccept);
  EXPECT_FALSE(f.terms[1].port_mirror);
  EXPECT_EQ(f.terms[1].from, config::MatchSpec{});
  ASSERT_EQ(plan->instances.size(), 1u);
  const config::MirrorInstance& mi = plan->instances[0];
  EXPECT_EQ(mi.name, "");
  EXPECT_EQ(mi.family, config::Family::kInet);
  EXPECT_EQ(mi.rate, 1u);
  EXPECT_EQ(mi.run_length, 1u);
  EXPECT_EQ(mi.maximum_packet_length, 0u);
  ASSERT_EQ(mi.outputs.size(), 1u);
  const config::TunnelConfig& t = mi.outputs[0];
  EXPECT_EQ(t.name, "gr-0/2/0.100");
  EXPECT_EQ(t.encap, config::EncapKind::kGre);
  EXPECT_EQ(t.destination, *IpAddress::parse("192.168.51.20"));
  EXPECT_EQ(t.source, IpAddress::parse("192.168.50.10"));
  EXPECT_EQ(t.ttl, 10);
  EXPECT_FALSE(t.key);
  EXPECT_FALSE(plan->mirror_once);
}

TEST(ToConfig, MapWithOrWithoutUnitIsTheSame) {
  std::vector<Diagnostic> d1;
  std::vector<Diagnostic> d2;
  LoadOptions a;
  a.interface_map = {{"t1-1/0/3:3", "eth1"}};
  LoadOptions b;
  b.interface_map = {{"t1-1/0/3:3.0", "eth1"}};
  auto p1 = load_mirror_config(corrected_seed(), a, d1);
  auto p2 = load_mirror_config(corrected_seed(), b, d2);
  ASSERT_TRUE(p1 && p2);
  expect_same_plan(*p1, *p2);
}

TEST(ToConfig, SeedAsPrintedFailsStrictAndLoadsLenient) {
  std::vector<std::string> files = {
      seed("router-1-gre-tunnel.conf"), seed("router-2-port-mirroring.conf"),
      seed("router-3-filter.conf"), seed("router-4-mx-tunnel-services.conf")};
  LoadOptions opt;
  opt.interface_map = {{"t1-1/0/3:3", "eth1"}};
  std::vector<Diagnostic> strict_diags;
  auto strict = load_mirror_config(files, opt, strict_diags);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, ExitCode::kConfig);
  EXPECT_EQ(count(strict_diags, Severity::kError), 2u);
  opt.lenient = true;
  std::vector<Diagnostic> lenient_diags;
  auto lenient = load_mirror_config(files, opt, lenient_diags);
  ASSERT_TRUE(lenient) << format_diagnostics(lenient_diags);
  std::vector<Diagnostic> d;
  LoadOptions corrected;
  corrected.interface_map = opt.interface_map;
  auto fixed = load_mirror_config(corrected_seed(), corrected, d);
  ASSERT_TRUE(fixed);
  expect_same_plan(*lenient, *fixed);
}

TEST(ToConfig, HierarchicalAndSetFormsGiveTheSameModel) {
  LoadOptions opt;
  opt.interface_map = {{"xe-1/1/0", "eth0"}, {"ge-0/0/1.0", "eth1"}};
  std::vector<Diagnostic> dh;
  std::vector<Diagnostic> ds;
  auto h = load_mirror_config(data("full.conf"), opt, dh);
  auto s = load_mirror_config(data("full.set"), opt, ds);
  ASSERT_TRUE(h) << format_diagnostics(dh);
  ASSERT_TRUE(s) << format_diagnostics(ds);
  expect_same_plan(*h, *s);
  ASSERT_EQ(h->interfaces.size(), 2u);
  EXPECT_EQ(h->interfaces[0].direction, config::Direction::kBoth);
  EXPECT_EQ(h->interfaces[1].direction, config::Direction::kInput);
  ASSERT_EQ(h->instances.size(), 2u);
  EXPECT_EQ(h->instances[0].rate, 1u) << "legacy top-level input";
  EXPECT_EQ(h->instances[1].name, "DNS");
  EXPECT_EQ(h->instances[1].rate, 10u);
  EXPECT_EQ(h->instances[1].run_length, 2u);
  EXPECT_EQ(h->instances[1].maximum_packet_length, 128u);
  EXPECT_EQ(h->instances[0].outputs[0].key, 100u);
  EXPECT_EQ(h->instances[1].outputs[0].ttl, 64) << "Junos default";
  EXPECT_TRUE(h->mirror_once);
  // The set form forced with --set reads the same.
  opt.set_form = true;
  std::vector<Diagnostic> df;
  auto forced = load_mirror_config(data("full.set"), opt, df);
  ASSERT_TRUE(forced);
  expect_same_plan(*h, *forced);
}

TEST(ToConfig, MappingProblemsAreErrors) {
  std::vector<Diagnostic> diags;
  LoadOptions opt;
  opt.interface_map = {{"ge-9/9/9", "eth9"}};
  auto p = load_mirror_config(corrected_seed(), opt, diags);
  ASSERT_FALSE(p);
  EXPECT_EQ(find_diags(diags, Severity::kError, "interface ge-9/9/9 unit 0 is not in").size(), 1u);
  diags.clear();
  opt.interface_map = {{"gr-0/2/0.100", "eth9"}};
  EXPECT_FALSE(load_mirror_config(corrected_seed(), opt, diags));
  EXPECT_EQ(find_diags(diags, Severity::kError, "no filter is bound on gr-0/2/0.100").size(), 1u);
}

TEST(ToConfig, UnreadableFileIsInputUnreadable) {
  std::vector<Diagnostic> diags;
  auto p = load_mirror_config("/nonexistent/router.conf", LoadOptions{}, diags);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ExitCode::kInputUnreadable);
}

TEST(ToConfig, DescribePlanSpeaksPlainWords) {
  std::vector<Diagnostic> diags;
  LoadOptions opt;
  opt.interface_map = {{"t1-1/0/3:3", "eth1"}};
  auto plan = load_mirror_config(corrected_seed(), opt, diags);
  ASSERT_TRUE(plan);
  std::string text = describe_plan(*plan);
  EXPECT_NE(text.find("eth1 (Junos t1-1/0/3:3.0): packets leaving it (output) go through filter "
                      "capture-filter"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("term 0-capture: source 192.168.70.0/24 or 192.168.35.0/30 -> mirror to "
                      "the global instance, accept"),
            std::string::npos);
  EXPECT_NE(text.find("-> tunnel gr-0/2/0.100: GRE carrying the IP packet, from 192.168.50.10 to "
                      "192.168.51.20, TTL 10, no key"),
            std::string::npos);
}

}  // namespace
}  // namespace portmirror::junos::test
