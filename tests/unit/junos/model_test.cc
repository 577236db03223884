// Model: values, names and ranges (protocols.md §4.2, §4.3, §4.5), with locations.
#include <gtest/gtest.h>

#include "test_support.h"

namespace portmirror::junos::test {
namespace {

struct Loaded {
  std::unique_ptr<LoadedConfig> cfg;
  std::vector<Diagnostic> diags;
};

Loaded load(const std::string& text) {
  Loaded l;
  l.cfg = load_text("m.conf", text, ParseOptions{}, l.diags);
  return l;
}

std::string pm_input(const std::string& body) {
  return "forwarding-options {\n    port-mirroring {\n        input {\n            " + body +
         "\n        }\n    }\n}\n";
}

TEST(Model, OutOfRangeSamplingValuesAreErrorsAtTheValue) {
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"rate 0;", "rate 0 is out of range: must be 1-65535"},
      {"rate 65536;", "rate 65536 is out of range: must be 1-65535"},
      {"run-length 21;", "run-length 21 is out of range: must be 0-20"},
      {"maximum-packet-length 9217;", "maximum-packet-length 9217 is out of range: must be 0-9216"},
      {"rate many;", "'rate' needs a number, got 'many'"},
  };
  for (const auto& c : cases) {
    auto l = load(pm_input(c.body));
    auto d = find_diags(l.diags, Severity::kError, c.message);
    ASSERT_EQ(d.size(), 1u) << c.body;
    EXPECT_EQ(d[0]->location.line, 4);
    EXPECT_GT(d[0]->location.column, 13) << "points at the value";
  }
  for (const char* ok : {"rate 1;", "rate 65535;", "run-length 0;", "run-length 20;",
                         "maximum-packet-length 9216;"}) {
    auto l = load(pm_input(ok));
    EXPECT_EQ(count(l.diags, Severity::kError), 0u) << ok;
  }
}

TEST(Model, TunnelTtlZeroAndBadAddressesAreErrors) {
  auto l = load(
      "interfaces { gr-0/0/0 { unit 0 { tunnel { source 1.2.3; destination "
      "198.51.100.2; ttl 0; key 4294967296; } } } }");
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "ttl 0 is out of range: must be 1-255").size(),
            1u);
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "'1.2.3' is not an IP address").size(), 1u);
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "key 4294967296 is out of range").size(), 1u);
  auto ok = load(
      "interfaces { gr-0/0/0 { unit 0 { tunnel { source 198.51.100.1; destination "
      "198.51.100.2; ttl 255; key 4294967295; } } } }");
  EXPECT_EQ(count(ok.diags, Severity::kError), 0u);
  const UnitModel* u = ok.cfg->model.find_unit("gr-0/0/0.0");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(*u->tunnel->ttl, 255);
  EXPECT_EQ(*u->tunnel->key, 4294967295u);
}

TEST(Model, NamedPortsProtocolsIcmpAndDscp) {
  EXPECT_EQ(parse_port("ssh"), (config::Range{22, 22}));
  EXPECT_EQ(parse_port("domain"), (config::Range{53, 53}));
  EXPECT_EQ(parse_port("http"), (config::Range{80, 80}));
  EXPECT_EQ(parse_port("1024-65535"), (config::Range{1024, 65535}));
  EXPECT_EQ(parse_port("ftp-data"), (config::Range{20, 20}));
  EXPECT_EQ(parse_port("ftp-data-ssh"), (config::Range{20, 22}));
  EXPECT_FALSE(parse_port("65536"));
  EXPECT_FALSE(parse_port("90-80"));
  EXPECT_FALSE(parse_port("gopherish"));
  EXPECT_EQ(parse_protocol("tcp"), (config::Range{6, 6}));
  EXPECT_EQ(parse_protocol("gre"), (config::Range{47, 47}));
  EXPECT_FALSE(parse_protocol("256"));
  EXPECT_EQ(parse_icmp_type("echo-request"), (config::Range{8, 8}));
  EXPECT_EQ(parse_icmp_type("time-exceeded"), (config::Range{11, 11}));
  EXPECT_EQ(parse_dscp("ef"), (config::Range{46, 46}));
  EXPECT_EQ(parse_dscp("af41"), (config::Range{34, 34}));
  EXPECT_EQ(parse_dscp("af11"), (config::Range{10, 10}));
  EXPECT_EQ(parse_dscp("cs6"), (config::Range{48, 48}));
  EXPECT_EQ(parse_dscp("be"), (config::Range{0, 0}));
  EXPECT_FALSE(parse_dscp("64"));
}

TEST(Model, MatchConditionsAndActions) {
  auto l = load(read_file(data("full.conf")));
  EXPECT_EQ(count(l.diags, Severity::kError), 0u) << format_diagnostics(l.diags);
  const FilterModel* f = l.cfg->model.find_filter("web-mirror");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->filter.terms.size(), 3u) << "the inactive term is skipped";
  const config::Term& web = f->filter.terms[0];
  EXPECT_EQ(web.from.destination_address.size(), 2u);
  EXPECT_TRUE(web.from.destination_address[1].except);
  EXPECT_EQ(web.from.protocol.values, (std::vector<config::Range>{{6, 6}}));
  EXPECT_EQ(web.from.destination_port.values,
            (std::vector<config::Range>{{80, 80}, {443, 443}, {8000, 8080}}));
  EXPECT_EQ(web.from.tcp_flags, "(syn & !ack)");
  EXPECT_TRUE(web.port_mirror);
  EXPECT_EQ(web.count, "web-syn");
  EXPECT_EQ(web.verdict, config::TermVerdict::kAccept);
  const config::Term& icmp = f->filter.terms[1];
  EXPECT_TRUE(icmp.from.dscp.except);
  EXPECT_EQ(icmp.from.dscp.values, (std::vector<config::Range>{{46, 46}, {34, 34}, {48, 48}}));
  EXPECT_EQ(icmp.verdict, config::TermVerdict::kNextTerm);
  const FilterModel* dns = l.cfg->model.find_filter("dns-mirror");
  ASSERT_NE(dns, nullptr);
  EXPECT_EQ(dns->filter.terms[0].mirror_instance, "DNS");
  EXPECT_EQ(dns->filter.terms[0].from.source_address.size(), 2u) << "prefix-list resolved";
  EXPECT_TRUE(dns->filter.terms[1].from.is_fragment);
  EXPECT_EQ(dns->filter.terms[1].verdict, config::TermVerdict::kDiscard);
}

TEST(Model, TcpEstablishedAndInitialAreFlagExpressions) {
  auto l = load(
      "firewall { filter f { term a { from { tcp-established; } } term b { from { "
      "tcp-initial; first-fragment; } } } }");
  const FilterModel* f = l.cfg->model.find_filter("f");
  EXPECT_EQ(f->filter.terms[0].from.tcp_flags, "(ack | rst)");
  EXPECT_EQ(f->filter.terms[1].from.tcp_flags, "(syn & !ack)");
  EXPECT_TRUE(f->filter.terms[1].from.first_fragment);
}

TEST(Model, PrefixForms) {
  auto l = load(
      "firewall { filter f { term a { from { source-address { 10; 10.1/16; "
      "172.16.0.0/255.240.0.0; 2001:db8::/32; 10.0.0.10/255.0.0.255; } } } } }");
  const FilterModel* f = l.cfg->model.find_filter("f");
  ASSERT_EQ(f->filter.terms[0].from.source_address.size(), 4u);
  EXPECT_EQ(f->filter.terms[0].from.source_address[0].prefix.to_string(), "10.0.0.0/32");
  EXPECT_EQ(f->filter.terms[0].from.source_address[1].prefix.to_string(), "10.1.0.0/16");
  EXPECT_EQ(f->filter.terms[0].from.source_address[2].prefix.to_string(), "172.16.0.0/12");
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "non-contiguous").size(), 1u);
}

TEST(Model, NextTermWithTerminatingActionIsAnError) {
  auto l = load(
      "firewall { filter f { term a { then { accept; next term; } } term b { then accept; } } }");
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "cannot be combined").size(), 1u);
}

TEST(Model, AddressWithDestinationAddressIsAnError) {
  auto l = load(
      "firewall { filter f { term a { from { address { 10.0.0.0/8; } "
      "destination-address { 10.0.0.0/8; } } } } }");
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "'address' cannot be combined").size(), 1u);
}

TEST(Model, BareFpcAndChassisFpcGiveTheSameTunnelServices) {
  auto bare = load(read_file(seed("router-4-mx-tunnel-services.conf")));
  auto full = load("chassis { fpc 0 { pic 3 { tunnel-services { bandwidth 1g; } } } }");
  ASSERT_EQ(bare.cfg->model.tunnel_services.size(), 1u);
  ASSERT_EQ(full.cfg->model.tunnel_services.size(), 1u);
  EXPECT_EQ(bare.cfg->model.tunnel_services[0].fpc, 0u);
  EXPECT_EQ(bare.cfg->model.tunnel_services[0].pic, 3u);
  EXPECT_EQ(bare.cfg->model.tunnel_services[0].bandwidth, "1g");
  EXPECT_EQ(full.cfg->model.tunnel_services[0].bandwidth, "1g");
  EXPECT_EQ(find_diags(bare.diags, Severity::kNote, "read as [edit chassis fpc 0]").size(), 1u);
  auto bad = load("chassis { fpc 0 { pic 3 { tunnel-services { bandwidth 7g; } } } }");
  EXPECT_EQ(count(bad.diags, Severity::kError), 1u);
}

TEST(Model, NextHopGroupsExpandIntoOutputsAndFamiliesSplitInstances) {
  auto l = load(
      "forwarding-options {\n"
      "    next-hop-group collectors {\n"
      "        group-type inet;\n"
      "        interface gr-0/0/0.1;\n"
      "        interface gr-0/0/0.2;\n"
      "    }\n"
      "    port-mirroring {\n"
      "        instance M {\n"
      "            input { rate 4; }\n"
      "            family inet { output { next-hop-group collectors; } }\n"
      "            family inet6 { input { rate 8; } output { interface gr-0/0/0.3; } }\n"
      "        }\n"
      "        instance N { family inet { output { next-hop-group nobody; } } }\n"
      "    }\n"
      "}\n");
  const auto& inst = l.cfg->model.instances;
  ASSERT_EQ(inst.size(), 3u);
  EXPECT_EQ(inst[0].name, "M");
  EXPECT_EQ(inst[0].family, config::Family::kInet);
  EXPECT_EQ(inst[0].rate, 4u) << "instance-level input is the default";
  ASSERT_EQ(inst[0].outputs.size(), 2u);
  EXPECT_EQ(inst[0].outputs[1].interface, "gr-0/0/0.2");
  EXPECT_EQ(inst[1].family, config::Family::kInet6);
  EXPECT_EQ(inst[1].rate, 8u) << "family input overrides";
  auto d = find_diags(l.diags, Severity::kError, "next-hop-group 'nobody' is not defined");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->location.line, 13);
}

TEST(Model, SplitUnit) {
  EXPECT_EQ(split_unit("t1-1/0/3:3"), (std::pair<std::string, std::uint32_t>{"t1-1/0/3:3", 0}));
  EXPECT_EQ(split_unit("t1-1/0/3:3.0"), (std::pair<std::string, std::uint32_t>{"t1-1/0/3:3", 0}));
  EXPECT_EQ(split_unit("gr-0/2/0.100"), (std::pair<std::string, std::uint32_t>{"gr-0/2/0", 100}));
  EXPECT_EQ(split_unit("ae0.5"), (std::pair<std::string, std::uint32_t>{"ae0", 5}));
}

TEST(Model, Inet6FiltersAndAddressesAreReadPerFamily) {
  auto l = load(
      "interfaces {\n"
      "    xe-0/0/0 {\n"
      "        unit 0 {\n"
      "            family inet { filter { input f4; } address 192.0.2.1/24; }\n"
      "            family inet6 {\n"
      "                filter { input f6; output f6-out; }\n"
      "                address 2001:db8::1/64;\n"
      "            }\n"
      "        }\n"
      "    }\n"
      "}\n");
  EXPECT_EQ(count(l.diags, Severity::kError), 0u) << format_diagnostics(l.diags);
  const UnitModel* u = l.cfg->model.find_unit("xe-0/0/0", 0);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->filter(config::Family::kInet, false), "f4");
  EXPECT_EQ(u->filter(config::Family::kInet, true), "");
  EXPECT_EQ(u->filter(config::Family::kInet6, false), "f6");
  EXPECT_EQ(u->filter(config::Family::kInet6, true), "f6-out");
  EXPECT_EQ(u->filter_location(config::Family::kInet6, true).line, 6);
  EXPECT_EQ(u->filter_location(config::Family::kInet6, true).column, 43);
  EXPECT_TRUE(u->has_family_inet6);
  ASSERT_EQ(u->inet6_addresses.size(), 1u);
  EXPECT_EQ(u->inet6_addresses[0].to_string(), "2001:db8::1/64");
  EXPECT_EQ(u->inet_addresses.size(), 1u);
  auto wrong =
      load("interfaces { xe-0/0/0 { unit 0 { family inet6 { address 192.0.2.1/24; } } } }");
  EXPECT_EQ(
      find_diags(wrong.diags, Severity::kError, "is an IPv4 address under 'family inet6'").size(),
      1u);
}

TEST(Model, SameFilterNameInBothFamiliesIsTwoFilters) {
  auto l = load(
      "firewall { family inet { filter f { term a { then port-mirror; } } }\n"
      "           family inet6 { filter f { term b { then accept; } } } }\n");
  const FilterModel* v4 = l.cfg->model.find_filter("f", config::Family::kInet);
  const FilterModel* v6 = l.cfg->model.find_filter("f", config::Family::kInet6);
  ASSERT_NE(v4, nullptr);
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v4->filter.terms[0].name, "a");
  EXPECT_EQ(v6->filter.terms[0].name, "b");
}

TEST(Model, ScaledNumbers) {
  EXPECT_EQ(parse_scaled("10m"), 10'000'000u);
  EXPECT_EQ(parse_scaled("100k"), 100'000u);
  EXPECT_EQ(parse_scaled("1g"), 1'000'000'000u);
  EXPECT_EQ(parse_scaled("10G"), 10'000'000'000u);
  EXPECT_EQ(parse_scaled("2.5g"), 2'500'000'000u);
  EXPECT_EQ(parse_scaled("32000"), 32'000u);
  EXPECT_FALSE(parse_scaled("10x"));
  EXPECT_FALSE(parse_scaled("m"));
  EXPECT_FALSE(parse_scaled("1.5"));
  EXPECT_FALSE(parse_scaled("99999999999999999999g"));
}

TEST(Model, PolicersInBitsPerSecondAndBytes) {
  auto l = load(
      "firewall {\n"
      "    policer p10 {\n"
      "        if-exceeding { bandwidth-limit 10m; burst-size-limit 100k; }\n"
      "        then discard;\n"
      "    }\n"
      "    policer pct { if-exceeding { bandwidth-percent 5; burst-size-limit 1m; } then discard; "
      "}\n"
      "    policer pps { if-exceeding-pps { pps-limit 20k; packet-burst 500; } then discard; }\n"
      "    policer mark { if-exceeding { bandwidth-limit 1g; burst-size-limit 1500; }\n"
      "                   then loss-priority high; }\n"
      "    filter f { term t { then { port-mirror; policer p10; } } }\n"
      "}\n");
  EXPECT_EQ(count(l.diags, Severity::kError), 0u) << format_diagnostics(l.diags);
  const PolicerModel* p = l.cfg->model.find_policer("p10");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->bandwidth_bps, 10'000'000u);
  EXPECT_EQ(p->burst_bytes, 100'000u);
  EXPECT_TRUE(p->discard);
  EXPECT_EQ(p->location.line, 2);
  EXPECT_EQ(l.cfg->model.find_policer("pct")->bandwidth_percent, 5u);
  EXPECT_EQ(l.cfg->model.find_policer("pct")->burst_bytes, 1'000'000u);
  EXPECT_EQ(l.cfg->model.find_policer("pps")->pps, 20'000u);
  EXPECT_EQ(l.cfg->model.find_policer("pps")->packet_burst, 500u);
  EXPECT_FALSE(l.cfg->model.find_policer("mark")->discard);
  const FilterModel* f = l.cfg->model.find_filter("f");
  EXPECT_EQ(f->terms[0].policer, "p10");
  EXPECT_TRUE(f->terms[0].has_policer);
  EXPECT_EQ(f->terms[0].policer_location.line, 10);
}

TEST(Model, PolicerValueErrorsHaveLocations) {
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"bandwidth-limit 10q; burst-size-limit 1m;", "bandwidth-limit '10q' is not a number"},
      {"bandwidth-limit 1k; burst-size-limit 1m;", "bandwidth-limit 1k is out of range"},
      {"bandwidth-limit 10m; burst-size-limit 100;", "burst-size-limit 100 is out of range"},
      {"bandwidth-limit 10m; burst-size-limit 11g;", "burst-size-limit 11g is out of range"},
      {"bandwidth-percent 0; burst-size-limit 1m;", "bandwidth-percent 0 is out of range"},
      {"bandwidth-percent 101; burst-size-limit 1m;", "bandwidth-percent 101 is out of range"},
      {"bandwidth-limit 10m;", "'if-exceeding' needs 'burst-size-limit'"},
      {"burst-size-limit 1m;", "needs 'bandwidth-limit' or 'bandwidth-percent'"},
      {"bandwidth-limit 10m; bandwidth-percent 5; burst-size-limit 1m;", "exclude each other"},
  };
  for (const auto& c : cases) {
    auto l = load(std::string("firewall {\n    policer p {\n        if-exceeding { ") + c.body +
                  " }\n        then discard;\n    }\n}\n");
    auto d = find_diags(l.diags, Severity::kError, c.message);
    ASSERT_EQ(d.size(), 1u) << c.body << "\n" << format_diagnostics(l.diags);
    EXPECT_EQ(d[0]->location.line, 3) << c.body;
  }
}

TEST(Model, TermWithAnUndefinedPolicerIsAnErrorAtTheName) {
  auto l = load(
      "firewall {\n"
      "    filter f {\n"
      "        term t {\n"
      "            then { port-mirror; policer nobody; }\n"
      "        }\n"
      "    }\n"
      "}\n");
  auto d = find_diags(l.diags, Severity::kError, "uses policer 'nobody', which is not defined");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->location.line, 4);
  EXPECT_EQ(d[0]->location.column, 41);
}

TEST(Model, ChassisPortMirrorInstanceBindings) {
  auto l = load(
      "chassis {\n"
      "    fpc 1 {\n"
      "        port-mirror-instance A;\n"
      "        port-mirror-instance B;\n"
      "        pic 2 { port-mirror-instance C; }\n"
      "    }\n"
      "}\n");
  const auto& b = l.cfg->model.instance_bindings;
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].fpc, 1u);
  EXPECT_FALSE(b[0].pic);
  EXPECT_EQ(b[0].instance, "A");
  EXPECT_EQ(b[0].location.line, 3);
  EXPECT_EQ(b[1].instance, "B");
  EXPECT_EQ(b[2].instance, "C");
  EXPECT_EQ(b[2].pic, 2u);
  auto set = load(
      "set chassis fpc 1 port-mirror-instance A\nset chassis fpc 1 port-mirror-instance B\n"
      "set chassis fpc 1 pic 2 port-mirror-instance C\n");
  ASSERT_EQ(set.cfg->model.instance_bindings.size(), 3u);
  EXPECT_EQ(set.cfg->model.instance_bindings[2].pic, 2u);
}

TEST(Model, InterfaceSpeedFromStatementOrName) {
  auto l = load(
      "interfaces {\n"
      "    ge-0/0/1 { speed 100m; unit 0; }\n"
      "    ge-0/0/2 { unit 0; }\n"
      "    et-0/0/3 { speed 2.5g; }\n"
      "    xe-0/0/4 { speed auto; }\n"
      "    ge-0/0/5 { speed fast; }\n"
      "}\n");
  const RouterModel& m = l.cfg->model;
  InterfaceSpeed one = m.speed("ge-0/0/1");
  EXPECT_EQ(one.bps, 100'000'000u);
  EXPECT_TRUE(one.configured);
  EXPECT_FALSE(one.high);
  EXPECT_EQ(one.text, "100 Mb/s");
  EXPECT_EQ(one.location.line, 2);
  InterfaceSpeed two = m.speed("ge-0/0/2");
  EXPECT_EQ(two.bps, 1'000'000'000u);
  EXPECT_FALSE(two.configured);
  EXPECT_TRUE(two.high);
  EXPECT_EQ(m.speed("et-0/0/3").text, "2.5 Gb/s");
  EXPECT_EQ(m.speed("xe-0/0/4").bps, 10'000'000'000u) << "auto: the name decides";
  EXPECT_FALSE(m.speed("xe-0/0/4").configured);
  EXPECT_EQ(find_diags(l.diags, Severity::kError, "speed 'fast' is not a speed").size(), 1u);
  EXPECT_EQ(m.speed("t1-1/0/3:3").bps, 1'544'000u);
  EXPECT_EQ(m.speed("lo0").bps, 0u);
}

TEST(Model, FpcPicPortOfInterfaceNames) {
  std::uint32_t f = 0;
  std::uint32_t p = 0;
  std::uint32_t n = 0;
  EXPECT_TRUE(parse_fpc_pic_port("ge-1/2/3", f, p, n));
  EXPECT_EQ(f, 1u);
  EXPECT_EQ(p, 2u);
  EXPECT_EQ(n, 3u);
  EXPECT_TRUE(parse_fpc_pic_port("t1-1/0/3:3", f, p, n));
  EXPECT_EQ(f, 1u);
  EXPECT_FALSE(parse_fpc_pic_port("ae0", f, p, n));
  EXPECT_FALSE(parse_fpc_pic_port("ge-1/2", f, p, n));
  EXPECT_FALSE(parse_fpc_pic_port("ge-1/2/3:", f, p, n));
}

}  // namespace
}  // namespace portmirror::junos::test
