// TermMatcher: every match condition, except, longest-prefix match, first match / next term,
// family, and the command-line term syntax that feeds it.
#include "portmirror/source/term_matcher.h"

#include <gtest/gtest.h>

#include "portmirror/source/term_syntax.h"
#include "source_test_util.h"

namespace portmirror::source {
namespace {

using testing::icmp_frame;
using testing::info_of;
using testing::tcp_frame;
using testing::udp_frame;

config::Filter filter_of(std::initializer_list<const char*> terms) {
  config::Filter f;
  f.name = "f";
  f.family = config::Family::kAny;
  int i = 0;
  for (const char* t : terms) {
    auto term = parse_cli_term(t, "t" + std::to_string(++i));
    EXPECT_TRUE(term.has_value()) << t << ": " << (term ? "" : term.error().message);
    if (term) f.terms.push_back(*term);
  }
  return f;
}

TermMatcher compile(std::initializer_list<const char*> terms,
                    std::vector<std::string> instances = {""}) {
  auto m = TermMatcher::compile(filter_of(terms), instances);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  return std::move(m).value();
}

bool mirrors(const TermMatcher& m, const std::vector<std::uint8_t>& frame) {
  return m.match(info_of(frame)).instances != 0;
}

TEST(TermMatcher, SeedTermFromSourcePortRange) {
  auto m =
      compile({"from source-address 192.168.70.0/24 protocol udp destination-port 18252-18260 then "
               "port-mirror"});
  EXPECT_TRUE(mirrors(m, udp_frame("192.168.70.5", "10.0.0.1", 1000, 18252)));
  EXPECT_TRUE(mirrors(m, udp_frame("192.168.70.5", "10.0.0.1", 1000, 18260)));
  EXPECT_FALSE(mirrors(m, udp_frame("192.168.70.5", "10.0.0.1", 1000, 18261)));
  EXPECT_FALSE(mirrors(m, udp_frame("192.168.71.5", "10.0.0.1", 1000, 18255)));
  EXPECT_FALSE(mirrors(m, tcp_frame("192.168.70.5", "10.0.0.1", 1000, 18255, 0x02)));
}

TEST(TermMatcher, ExceptIsLongestPrefixMatch) {
  auto m =
      compile({"from source-address 10.0.0.0/8 10.1.0.0/16 except 10.1.2.0/24 then port-mirror"});
  EXPECT_TRUE(mirrors(m, udp_frame("10.9.0.1", "1.1.1.1", 1, 2)));
  EXPECT_FALSE(mirrors(m, udp_frame("10.1.9.1", "1.1.1.1", 1, 2)));  // /16 except wins over /8
  EXPECT_TRUE(mirrors(m, udp_frame("10.1.2.1", "1.1.1.1", 1, 2)));   // /24 wins over /16 except
  EXPECT_FALSE(mirrors(m, udp_frame("11.0.0.1", "1.1.1.1", 1, 2)));  // implicit 0/0 except
}

TEST(TermMatcher, DestinationAndEitherAddress) {
  auto d = compile({"from destination-address 198.18.2.0/24"});
  EXPECT_TRUE(mirrors(d, udp_frame("1.1.1.1", "198.18.2.9", 1, 2)));
  EXPECT_FALSE(mirrors(d, udp_frame("198.18.2.9", "1.1.1.1", 1, 2)));
  auto a = compile({"from address 198.18.2.0/24"});
  EXPECT_TRUE(mirrors(a, udp_frame("1.1.1.1", "198.18.2.9", 1, 2)));
  EXPECT_TRUE(mirrors(a, udp_frame("198.18.2.9", "1.1.1.1", 1, 2)));
  EXPECT_FALSE(mirrors(a, udp_frame("1.1.1.1", "1.1.1.2", 1, 2)));
}

TEST(TermMatcher, ProtocolListsAndExcept) {
  auto m = compile({"from protocol [ tcp udp ]"});
  EXPECT_TRUE(mirrors(m, udp_frame("1.1.1.1", "2.2.2.2", 1, 2)));
  EXPECT_TRUE(mirrors(m, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x10)));
  EXPECT_FALSE(mirrors(m, icmp_frame("1.1.1.1", "2.2.2.2", 8, 0)));
  auto x = compile({"from protocol-except 17"});
  EXPECT_FALSE(mirrors(x, udp_frame("1.1.1.1", "2.2.2.2", 1, 2)));
  EXPECT_TRUE(mirrors(x, icmp_frame("1.1.1.1", "2.2.2.2", 8, 0)));
}

TEST(TermMatcher, PortsNamedRangesEitherAndExcept) {
  auto s = compile({"from source-port ssh,http"});
  EXPECT_TRUE(mirrors(s, tcp_frame("1.1.1.1", "2.2.2.2", 22, 5000, 0x10)));
  EXPECT_TRUE(mirrors(s, tcp_frame("1.1.1.1", "2.2.2.2", 80, 5000, 0x10)));
  EXPECT_FALSE(mirrors(s, tcp_frame("1.1.1.1", "2.2.2.2", 5000, 22, 0x10)));
  auto p = compile({"from port 53"});
  EXPECT_TRUE(mirrors(p, udp_frame("1.1.1.1", "2.2.2.2", 53, 4000)));
  EXPECT_TRUE(mirrors(p, udp_frame("1.1.1.1", "2.2.2.2", 4000, 53)));
  EXPECT_FALSE(mirrors(p, udp_frame("1.1.1.1", "2.2.2.2", 4000, 4001)));
  auto dx = compile({"from destination-port-except 1000-2000"});
  EXPECT_TRUE(mirrors(dx, udp_frame("1.1.1.1", "2.2.2.2", 1, 2001)));
  EXPECT_FALSE(mirrors(dx, udp_frame("1.1.1.1", "2.2.2.2", 1, 1500)));
  EXPECT_FALSE(mirrors(dx, icmp_frame("1.1.1.1", "2.2.2.2", 8, 0)));  // no ports: never matches
  auto px = compile({"from port-except 53"});
  EXPECT_FALSE(mirrors(px, udp_frame("1.1.1.1", "2.2.2.2", 53, 4000)));
  EXPECT_TRUE(mirrors(px, udp_frame("1.1.1.1", "2.2.2.2", 54, 4000)));
}

TEST(TermMatcher, IcmpTypeAndCode) {
  auto m = compile({"from icmp-type echo-request"});
  EXPECT_TRUE(mirrors(m, icmp_frame("1.1.1.1", "2.2.2.2", 8, 0)));
  EXPECT_FALSE(mirrors(m, icmp_frame("1.1.1.1", "2.2.2.2", 0, 0)));
  EXPECT_FALSE(mirrors(m, udp_frame("1.1.1.1", "2.2.2.2", 8, 8)));
  auto c = compile({"from icmp-type unreachable icmp-code 3"});
  EXPECT_TRUE(mirrors(c, icmp_frame("1.1.1.1", "2.2.2.2", 3, 3)));
  EXPECT_FALSE(mirrors(c, icmp_frame("1.1.1.1", "2.2.2.2", 3, 1)));
  auto x = compile({"from icmp-type-except echo-reply"});
  EXPECT_TRUE(mirrors(x, icmp_frame("1.1.1.1", "2.2.2.2", 8, 0)));
  EXPECT_FALSE(mirrors(x, icmp_frame("1.1.1.1", "2.2.2.2", 0, 0)));
}

TEST(TermMatcher, Dscp) {
  auto m = compile({"from dscp ef,af41"});
  wire::Ipv4Header h;
  h.dscp = 46;
  h.protocol = 17;
  auto ef = portmirror::testing::PacketBuilder().eth().ipv4(h).udp(1, 2).payload(4).build();
  h.dscp = 34;
  auto af41 = portmirror::testing::PacketBuilder().eth().ipv4(h).udp(1, 2).payload(4).build();
  h.dscp = 0;
  auto be = portmirror::testing::PacketBuilder().eth().ipv4(h).udp(1, 2).payload(4).build();
  EXPECT_TRUE(mirrors(m, ef));
  EXPECT_TRUE(mirrors(m, af41));
  EXPECT_FALSE(mirrors(m, be));
}

TEST(TermMatcher, TcpFlagsEstablishedInitial) {
  auto syn = compile({"from tcp-flags \"syn & !ack\""});
  EXPECT_TRUE(mirrors(syn, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x02)));
  EXPECT_FALSE(mirrors(syn, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x12)));
  EXPECT_FALSE(mirrors(syn, udp_frame("1.1.1.1", "2.2.2.2", 1, 2)));
  auto est = compile({"from tcp-established"});
  EXPECT_TRUE(mirrors(est, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x10)));
  EXPECT_TRUE(mirrors(est, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x04)));
  EXPECT_FALSE(mirrors(est, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x02)));
  auto ini = compile({"from tcp-initial"});
  EXPECT_TRUE(mirrors(ini, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x02)));
  EXPECT_FALSE(mirrors(ini, tcp_frame("1.1.1.1", "2.2.2.2", 1, 2, 0x12)));
}

TEST(TermMatcher, Fragments) {
  wire::Ipv4Header h;
  h.protocol = 17;
  h.more_fragments = true;
  auto first = portmirror::testing::PacketBuilder().eth().ipv4(h).udp(1, 53).payload(16).build();
  h.more_fragments = false;
  h.fragment_offset = 64;
  auto later = portmirror::testing::PacketBuilder().eth().ipv4(h).payload(16).build();
  auto ff = compile({"from first-fragment"});
  EXPECT_TRUE(mirrors(ff, first));
  EXPECT_FALSE(mirrors(ff, later));
  EXPECT_FALSE(mirrors(ff, udp_frame("1.1.1.1", "2.2.2.2", 1, 53)));
  auto isf = compile({"from is-fragment"});
  EXPECT_FALSE(mirrors(isf, first));
  EXPECT_TRUE(mirrors(isf, later));
  auto port = compile({"from destination-port 53"});
  EXPECT_TRUE(mirrors(port, first));
  EXPECT_FALSE(mirrors(port, later));  // no L4 header in a later fragment
}

TEST(TermMatcher, FirstMatchDecidesAndNextTerm) {
  auto m = compile({"from destination-port 22 then discard", "from protocol tcp then port-mirror"});
  EXPECT_FALSE(mirrors(m, tcp_frame("1.1.1.1", "2.2.2.2", 1, 22, 0x10)));
  EXPECT_TRUE(mirrors(m, tcp_frame("1.1.1.1", "2.2.2.2", 1, 23, 0x10)));
  EXPECT_EQ(m.match(info_of(tcp_frame("1.1.1.1", "2.2.2.2", 1, 23, 0x10))).term, 1);
  EXPECT_FALSE(mirrors(m, udp_frame("1.1.1.1", "2.2.2.2", 1, 23)));  // implicit discard

  auto n = compile(
      {"from protocol udp then port-mirror-instance A next term",
       "from destination-port 53 then port-mirror-instance B", "then port-mirror-instance C"},
      {"A", "B", "C"});
  EXPECT_EQ(n.match(info_of(udp_frame("1.1.1.1", "2.2.2.2", 1, 53))).instances, 0b011u);
  EXPECT_EQ(n.match(info_of(udp_frame("1.1.1.1", "2.2.2.2", 1, 54))).instances, 0b101u);
  EXPECT_EQ(n.match(info_of(tcp_frame("1.1.1.1", "2.2.2.2", 1, 54, 2))).instances, 0b100u);
}

TEST(TermMatcher, FamilyAndIpv6) {
  config::Filter f = filter_of({"from source-address 2001:db8::/32 protocol udp"});
  f.family = config::Family::kInet6;
  auto m = TermMatcher::compile(f, {""});
  ASSERT_TRUE(m.has_value());
  auto v6 = portmirror::testing::PacketBuilder()
                .eth()
                .ipv6("2001:db8::1", "2001:db9::2")
                .udp(1, 2)
                .payload(8)
                .build();
  auto other = portmirror::testing::PacketBuilder()
                   .eth()
                   .ipv6("2001:db9::1", "2001:db8::2")
                   .udp(1, 2)
                   .payload(8)
                   .build();
  EXPECT_NE(m->match(info_of(v6)).instances, 0u);
  EXPECT_EQ(m->match(info_of(other)).instances, 0u);
  EXPECT_EQ(m->match(info_of(udp_frame("1.1.1.1", "2.2.2.2", 1, 2))).instances, 0u);
  // An IPv4 prefix in an inet6 filter is an error.
  config::Filter bad = filter_of({"from source-address 10.0.0.0/8"});
  bad.family = config::Family::kInet6;
  EXPECT_FALSE(TermMatcher::compile(bad, {""}).has_value());
}

TEST(TermMatcher, UnknownInstanceIsAnError) {
  auto r = TermMatcher::compile(filter_of({"then port-mirror-instance nope"}), {""});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("nope"), std::string::npos);
}

TEST(TermSyntax, Errors) {
  EXPECT_FALSE(parse_cli_term("from protocol bogus", "t").has_value());
  EXPECT_FALSE(parse_cli_term("from destination-port 70000", "t").has_value());
  EXPECT_FALSE(parse_cli_term("from destination-port 20-10", "t").has_value());
  EXPECT_FALSE(parse_cli_term("from source-address 10.0.0.0/33", "t").has_value());
  EXPECT_FALSE(parse_cli_term("from frobnicate 1", "t").has_value());
  EXPECT_FALSE(parse_cli_term("from protocol udp then explode", "t").has_value());
  EXPECT_FALSE(parse_cli_term("from source-address except", "t").has_value());
  auto bad_flags = TermMatcher::compile(filter_of({"from tcp-flags \"syn & & ack\""}), {""});
  EXPECT_FALSE(bad_flags.has_value());
}

TEST(TermSyntax, ActionsAndNames) {
  auto t = parse_cli_term("term web from port https then count c1 port-mirror-instance i2", "x");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->name, "web");
  EXPECT_TRUE(t->port_mirror);
  EXPECT_EQ(t->mirror_instance, "i2");
  EXPECT_EQ(t->count, "c1");
  EXPECT_EQ(t->from.port.values.at(0), (config::Range{443, 443}));
  auto d = parse_cli_term("from protocol icmp then discard", "x");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->port_mirror);
  auto a = parse_cli_term("from protocol icmp then accept", "x");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->port_mirror);
  auto none = parse_cli_term("from protocol icmp", "x");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->port_mirror);
}

}  // namespace
}  // namespace portmirror::source
