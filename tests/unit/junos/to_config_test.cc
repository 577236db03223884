// to_config: the mirror plan exactly as the configuration says (issue 6 "Running from it").
#include <gtest/gtest.h>

#include "portmirror/source/term_matcher.h"
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

std::string clean() {
  return read_file(data("clean/router.conf"));
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << "test bug: '" << from << "' not in the text";
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

struct Planned {
  config::MirrorConfig plan;
  std::vector<Diagnostic> diags;
};

Planned plan_of(const std::string& text, std::vector<std::pair<std::string, std::string>> map) {
  Planned p;
  auto cfg = load_text("p.conf", text, ParseOptions{}, p.diags);
  LoadOptions lo;
  lo.interface_map = std::move(map);
  p.plan = to_mirror_config(*cfg, lo, p.diags);
  return p;
}

std::string with_policer(const std::string& policer_body, const std::string& iface = "") {
  std::string s = clean();
  if (!iface.empty()) {
    for (auto p = s.find("t1-1/0/3:3"); p != std::string::npos; p = s.find("t1-1/0/3:3", p)) {
      s.replace(p, 10, iface);
    }
  }
  s = replaced(s, "port-mirror;", "port-mirror;\n                    policer p;");
  return replaced(s, "firewall {\n", "firewall {\n    policer p {\n" + policer_body + "    }\n");
}

TEST(ToConfig, TermPolicerBecomesTheInstancePolicer) {
  Planned p = plan_of(with_policer("        if-exceeding {\n"
                                   "            bandwidth-limit 10m;\n"
                                   "            burst-size-limit 100k;\n"
                                   "        }\n"
                                   "        then discard;\n"),
                      {{"t1-1/0/3:3", "eth1"}});
  EXPECT_FALSE(has_errors(p.diags)) << format_diagnostics(p.diags);
  ASSERT_EQ(p.plan.instances.size(), 1u);
  EXPECT_EQ(p.plan.instances[0].policer, (config::PolicerConfig{0, 10'000'000, 0, 100'000}));
  EXPECT_NE(describe_plan(p.plan).find("policer: copies limited to 10 Mbit/s (10000000 bit/s), "
                                       "burst 100000 bytes"),
            std::string::npos)
      << describe_plan(p.plan);
  // Without a policer the plan says so (portmirror mirror then applies its default).
  Planned none = plan_of(clean(), {{"t1-1/0/3:3", "eth1"}});
  EXPECT_EQ(none.plan.instances[0].policer, config::PolicerConfig{});
  EXPECT_NE(describe_plan(none.plan).find("policer: none"), std::string::npos);
}

TEST(ToConfig, PacketsPerSecondPolicer) {
  Planned p = plan_of(with_policer("        if-exceeding-pps {\n"
                                   "            pps-limit 20k;\n"
                                   "            packet-burst 500;\n"
                                   "        }\n"
                                   "        then discard;\n"),
                      {{"t1-1/0/3:3", "eth1"}});
  EXPECT_FALSE(has_errors(p.diags)) << format_diagnostics(p.diags);
  EXPECT_EQ(p.plan.instances[0].policer, (config::PolicerConfig{20'000, 0, 500, 0}));
}

TEST(ToConfig, BandwidthPercentIsOfTheBoundInterfacesSpeed) {
  const std::string body =
      "        if-exceeding {\n"
      "            bandwidth-percent 10;\n"
      "            burst-size-limit 1m;\n"
      "        }\n"
      "        then discard;\n";
  // ge- by name: 1 Gb/s.
  Planned ge = plan_of(with_policer(body, "ge-1/0/3"), {{"ge-1/0/3", "eth1"}});
  EXPECT_EQ(ge.plan.instances[0].policer.bits_per_second, 100'000'000u)
      << format_diagnostics(ge.diags);
  EXPECT_EQ(ge.plan.instances[0].policer.burst_bytes, 1'000'000u);
  // The speed statement wins over the name.
  std::string slow = replaced(with_policer(body, "ge-1/0/3"), "        description Customer-A;\n",
                              "        description Customer-A;\n        speed 100m;\n");
  Planned s = plan_of(slow, {{"ge-1/0/3", "eth1"}});
  EXPECT_EQ(s.plan.instances[0].policer.bits_per_second, 10'000'000u);
  // Unknown speed (an aggregate): not enforced, and said so at the term's policer.
  Planned ae = plan_of(with_policer(body, "ae0"), {{"ae0", "eth1"}});
  EXPECT_EQ(ae.plan.instances[0].policer, config::PolicerConfig{});
  auto w = find_diags(ae.diags, Severity::kWarning,
                      "policer p is 'bandwidth-percent 10', but the speed of ae0.0 is not known");
  ASSERT_EQ(w.size(), 1u) << format_diagnostics(ae.diags);
  EXPECT_EQ(w[0]->location.line, 77);
}

TEST(ToConfig, PolicerThatOnlyRemarksIsNotEnforced) {
  Planned p = plan_of(with_policer("        if-exceeding {\n"
                                   "            bandwidth-limit 10m;\n"
                                   "            burst-size-limit 100k;\n"
                                   "        }\n"
                                   "        then loss-priority high;\n"),
                      {{"t1-1/0/3:3", "eth1"}});
  EXPECT_EQ(p.plan.instances[0].policer, config::PolicerConfig{});
  EXPECT_EQ(find_diags(p.diags, Severity::kWarning, "policer p has no 'then discard'").size(), 1u);
}

TEST(ToConfig, PolicedAndUnpolicedTermsShareTheInstancePolicer) {
  std::string s = with_policer(
      "        if-exceeding {\n"
      "            bandwidth-limit 10m;\n"
      "            burst-size-limit 100k;\n"
      "        }\n"
      "        then discard;\n");
  s = replaced(s, "            term 5-accept_all {\n                then accept;",
               "            term 5-accept_all {\n                then port-mirror;");
  Planned p = plan_of(s, {{"t1-1/0/3:3", "eth1"}});
  EXPECT_EQ(p.plan.instances[0].policer.bits_per_second, 10'000'000u);
  EXPECT_EQ(find_diags(p.diags, Severity::kWarning,
                       "term 5-accept_all mirrors to the global instance without a policer, but "
                       "term 0-capture polices its copies to 10 Mbit/s")
                .size(),
            1u)
      << format_diagnostics(p.diags);
}

TEST(ToConfig, Inet6FiltersAreBoundAndMirrorToTheInet6Instance) {
  const std::string text =
      "interfaces {\n"
      "    gr-0/0/10 { unit 0 { tunnel { source 198.51.100.1; destination 203.0.113.7; }\n"
      "                         family inet { address 10.255.0.1/30; } } }\n"
      "    xe-0/0/0 { unit 0 { family inet { filter { input edge; } }\n"
      "                        family inet6 { filter { input edge; output only6; } } } }\n"
      "}\n"
      "forwarding-options { port-mirroring {\n"
      "    family inet { output { interface gr-0/0/10.0; } }\n"
      "    family inet6 { input { rate 5; } output { interface gr-0/0/10.0; } }\n"
      "} }\n"
      "firewall {\n"
      "    family inet { filter edge { term a { then port-mirror; } } }\n"
      "    family inet6 { filter edge { term b { then port-mirror; } }\n"
      "                   filter only6 { term c { from { source-address { 2001:db8::/32; } }\n"
      "                                           then port-mirror; } } }\n"
      "}\n";
  Planned p = plan_of(text, {{"xe-0/0/0", "eth0"}});
  EXPECT_FALSE(has_errors(p.diags)) << format_diagnostics(p.diags);
  ASSERT_EQ(p.plan.interfaces.size(), 3u);
  EXPECT_EQ(p.plan.interfaces[0],
            (config::InterfaceBinding{"eth0", "xe-0/0/0.0", config::Direction::kInput, "edge"}));
  EXPECT_EQ(
      p.plan.interfaces[1],
      (config::InterfaceBinding{"eth0", "xe-0/0/0.0", config::Direction::kInput, "edge inet6"}));
  EXPECT_EQ(p.plan.interfaces[2],
            (config::InterfaceBinding{"eth0", "xe-0/0/0.0", config::Direction::kOutput, "only6"}));
  ASSERT_EQ(p.plan.filters.size(), 3u);
  EXPECT_EQ(p.plan.filters[0].name, "edge");
  EXPECT_EQ(p.plan.filters[0].terms[0].mirror_instance, "");
  EXPECT_EQ(p.plan.filters[1].name, "edge inet6");
  EXPECT_EQ(p.plan.filters[1].family, config::Family::kInet6);
  EXPECT_EQ(p.plan.filters[1].terms[0].mirror_instance, "(global) inet6");
  EXPECT_EQ(p.plan.filters[2].name, "only6") << "no inet twin, no suffix";
  EXPECT_EQ(p.plan.filters[2].terms[0].mirror_instance, "(global) inet6");
  ASSERT_EQ(p.plan.instances.size(), 2u);
  EXPECT_EQ(p.plan.instances[0].name, "");
  EXPECT_EQ(p.plan.instances[1].name, "(global) inet6");
  EXPECT_EQ(p.plan.instances[1].family, config::Family::kInet6);
  EXPECT_EQ(p.plan.instances[1].rate, 5u);
  // The mirror source resolves every term's instance by name.
  std::vector<std::string> names;
  for (const auto& i : p.plan.instances) names.push_back(i.name);
  for (const auto& f : p.plan.filters) {
    auto m = source::TermMatcher::compile(f, names);
    EXPECT_TRUE(m) << f.name << ": " << m.error().message;
  }
  // A unit whose only filter is inet6 can be mapped.
  const std::string v6only = replaced(text, "family inet { filter { input edge; } }", "");
  Planned q = plan_of(v6only, {{"xe-0/0/0", "eth0"}});
  EXPECT_FALSE(has_errors(q.diags)) << format_diagnostics(q.diags);
  EXPECT_EQ(q.plan.interfaces.size(), 2u);
}

TEST(ToConfig, TermOfAFamilyTheInstanceLacksIsNotMirrored) {
  const std::string text =
      "interfaces {\n"
      "    gr-0/0/10 { unit 0 { tunnel { source 198.51.100.1; destination 203.0.113.7; }\n"
      "                         family inet { address 10.255.0.1/30; } } }\n"
      "    xe-0/0/0 { unit 0 { family inet6 { filter { input f6; } } } }\n"
      "}\n"
      "forwarding-options { port-mirroring { family inet { output { interface gr-0/0/10.0; } } "
      "} }\n"
      "firewall { family inet6 { filter f6 { term t { then port-mirror; } } } }\n";
  Planned p = plan_of(text, {{"xe-0/0/0", "eth0"}});
  ASSERT_EQ(p.plan.filters.size(), 1u);
  EXPECT_FALSE(p.plan.filters[0].terms[0].port_mirror);
  EXPECT_EQ(find_diags(p.diags, Severity::kWarning,
                       "has no 'family inet6', so the plan does not "
                       "mirror this term's packets")
                .size(),
            1u);
}

// Precedence PIC > FPC > global (protocols.md §4.1): `then port-mirror` on an interface whose FPC
// or PIC has a bound instance mirrors to that instance; elsewhere to the global one.
TEST(ToConfig, InstanceBoundToTheFpcTakesOverThenPortMirrorThere) {
  const std::string text =
      "chassis {\n"
      "    fpc 1 { port-mirror-instance M; pic 2 { port-mirror-instance P; } }\n"
      "}\n"
      "interfaces {\n"
      "    gr-0/0/10 { unit 0 { tunnel { source 198.51.100.1; destination 203.0.113.7; }\n"
      "                         family inet { address 10.255.0.1/30; } } }\n"
      "    gr-0/0/10 { unit 1 { tunnel { source 198.51.100.1; destination 203.0.113.8; }\n"
      "                         family inet { address 10.255.0.5/30; } } }\n"
      "    gr-0/0/10 { unit 2 { tunnel { source 198.51.100.1; destination 203.0.113.9; }\n"
      "                         family inet { address 10.255.0.9/30; } } }\n"
      "    ge-0/0/1 { unit 0 { family inet { filter { input edge; } } } }\n"
      "    ge-1/0/1 { unit 0 { family inet { filter { input edge; } } } }\n"
      "    ge-1/0/2 { unit 0 { family inet { filter { input edge; } } } }\n"
      "    ge-1/2/0 { unit 0 { family inet { filter { input edge; } } } }\n"
      "}\n"
      "forwarding-options { port-mirroring {\n"
      "    family inet { output { interface gr-0/0/10.0; } }\n"
      "    instance M { family inet { input { rate 10; } output { interface gr-0/0/10.1; } } }\n"
      "    instance P { family inet { output { interface gr-0/0/10.2; } } }\n"
      "} }\n"
      "firewall { family inet { filter edge {\n"
      "    term a { from { protocol udp; } then port-mirror; }\n"
      "    term b { from { protocol tcp; } then port-mirror-instance P; }\n"
      "    term c { then accept; }\n"
      "} } }\n";
  Planned p = plan_of(
      text,
      {{"ge-0/0/1", "eth0"}, {"ge-1/0/1", "eth1"}, {"ge-1/0/2", "eth2"}, {"ge-1/2/0", "eth3"}});
  EXPECT_FALSE(has_errors(p.diags)) << format_diagnostics(p.diags);
  ASSERT_EQ(p.plan.interfaces.size(), 4u);
  EXPECT_EQ(p.plan.interfaces[0].filter, "edge") << "FPC 0: nothing bound, global";
  EXPECT_EQ(p.plan.interfaces[1].filter, "edge (fpc 1)");
  EXPECT_EQ(p.plan.interfaces[2].filter, "edge (fpc 1)") << "one copy per FPC";
  EXPECT_EQ(p.plan.interfaces[3].filter, "edge (fpc 1 pic 2)") << "the PIC binding wins";
  ASSERT_EQ(p.plan.filters.size(), 3u);
  auto filter = [&](const std::string& name) -> const config::Filter& {
    for (const auto& f : p.plan.filters) {
      if (f.name == name) return f;
    }
    ADD_FAILURE() << "no filter " << name;
    return p.plan.filters[0];
  };
  EXPECT_EQ(filter("edge").terms[0].mirror_instance, "");
  EXPECT_EQ(filter("edge (fpc 1)").terms[0].mirror_instance, "M");
  EXPECT_EQ(filter("edge (fpc 1 pic 2)").terms[0].mirror_instance, "P");
  // A term that names its instance keeps it; terms without port-mirror stay as they were.
  for (const char* n : {"edge", "edge (fpc 1)", "edge (fpc 1 pic 2)"}) {
    EXPECT_EQ(filter(n).terms[1].mirror_instance, "P") << n;
    EXPECT_FALSE(filter(n).terms[2].port_mirror) << n;
  }
  auto notes = find_diags(p.diags, Severity::kNote,
                          "'then port-mirror' of filter edge on ge-1/0/1.0 mirrors to instance M, "
                          "bound to fpc 1 (precedence PIC > FPC > global)");
  ASSERT_EQ(notes.size(), 1u) << format_diagnostics(p.diags);
  EXPECT_EQ(notes[0]->location.line, 2);
  // The mirror source resolves every copy's instances by name.
  std::vector<std::string> names;
  for (const auto& i : p.plan.instances) names.push_back(i.name);
  for (const auto& f : p.plan.filters) {
    auto m = source::TermMatcher::compile(f, names);
    EXPECT_TRUE(m) << f.name << ": " << m.error().message;
  }
  // A policer on the redirected term limits the bound instance's copies, not the global one's.
  std::string policed = replaced(text, "then port-mirror; }", "then { port-mirror; policer p; } }");
  policed = replaced(policed, "firewall {",
                     "firewall { policer p { if-exceeding { bandwidth-limit 10m; "
                     "burst-size-limit 100k; } then discard; }");
  Planned r = plan_of(policed, {{"ge-1/0/1", "eth1"}});
  EXPECT_FALSE(has_errors(r.diags)) << format_diagnostics(r.diags);
  // Term a runs on FPC 0 (global), FPC 1 (M) and FPC 1 PIC 2 (P): each instance polices its copies.
  for (const auto& mi : r.plan.instances) {
    EXPECT_EQ(mi.policer.bits_per_second, 10'000'000u) << "instance '" << mi.name << "'";
  }
  const std::string only_fpc1 =
      replaced(policed, "    ge-0/0/1 { unit 0 { family inet { filter { input edge; } } } }\n", "");
  Planned o = plan_of(only_fpc1, {{"ge-1/0/1", "eth1"}});
  for (const auto& mi : o.plan.instances) {
    EXPECT_EQ(mi.policer.bits_per_second, mi.name.empty() ? 0u : 10'000'000u)
        << "instance '" << mi.name
        << "': without ge-0/0/1 no copy of term a goes to the global one";
  }
  // Two instances bound to one FPC: not modelled, the plan keeps the global instance and says so.
  const std::string two = replaced(text, "fpc 1 { port-mirror-instance M;",
                                   "fpc 1 { port-mirror-instance M; port-mirror-instance P;");
  Planned q = plan_of(two, {{"ge-1/0/1", "eth1"}});
  ASSERT_EQ(q.plan.interfaces.size(), 1u);
  EXPECT_EQ(q.plan.interfaces[0].filter, "edge");
  EXPECT_EQ(find_diags(q.diags, Severity::kWarning, "two instances are bound to fpc 1").size(), 1u)
      << format_diagnostics(q.diags);
}

TEST(ToConfig, GroupsGiveTheSamePlanInBothSyntaxes) {
  const std::string hier =
      "groups { G { interfaces { <ge-*> { unit <*> { family inet { filter { input f; } } } } }\n"
      "             forwarding-options { port-mirroring { family inet { output { interface "
      "gr-0/0/10.0; } } } } } }\n"
      "apply-groups G;\n"
      "interfaces { gr-0/0/10 { unit 0 { tunnel { source 198.51.100.1; destination 203.0.113.7; "
      "} family inet { address 10.255.0.1/30; } } }\n"
      "             ge-0/0/1 { unit 0 { family inet; } } }\n"
      "firewall { family inet { filter f { term t { then port-mirror; } } } }\n";
  const std::string set =
      "set groups G interfaces <ge-*> unit <*> family inet filter input f\n"
      "set groups G forwarding-options port-mirroring family inet output interface gr-0/0/10.0\n"
      "set apply-groups G\n"
      "set interfaces gr-0/0/10 unit 0 tunnel source 198.51.100.1\n"
      "set interfaces gr-0/0/10 unit 0 tunnel destination 203.0.113.7\n"
      "set interfaces gr-0/0/10 unit 0 family inet address 10.255.0.1/30\n"
      "set interfaces ge-0/0/1 unit 0 family inet\n"
      "set firewall family inet filter f term t then port-mirror\n";
  Planned h = plan_of(hier, {{"ge-0/0/1", "eth1"}});
  Planned s = plan_of(set, {{"ge-0/0/1", "eth1"}});
  EXPECT_FALSE(has_errors(h.diags)) << format_diagnostics(h.diags);
  EXPECT_FALSE(has_errors(s.diags)) << format_diagnostics(s.diags);
  expect_same_plan(h.plan, s.plan);
  ASSERT_EQ(h.plan.interfaces.size(), 1u);
  EXPECT_EQ(h.plan.interfaces[0].filter, "f");
  ASSERT_EQ(h.plan.instances.size(), 1u);
  ASSERT_EQ(h.plan.instances[0].outputs.size(), 1u);
  EXPECT_EQ(h.plan.instances[0].outputs[0].name, "gr-0/0/10.0");
}

}  // namespace
}  // namespace portmirror::junos::test
