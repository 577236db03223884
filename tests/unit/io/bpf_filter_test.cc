// InnerFilter: libpcap expressions on inner Ethernet and raw IP packets.
#include <gtest/gtest.h>

#include "io_test_util.h"
#include "portmirror/io/bpf_filter.h"

namespace portmirror::io {
namespace {

std::uint32_t len32(const std::vector<std::uint8_t>& v) {
  return static_cast<std::uint32_t>(v.size());
}

TEST(InnerFilter, BadExpressionCarriesLibpcapMessage) {
  auto f = InnerFilter::compile("host and and");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ExitCode::kBadFilter);
  EXPECT_NE(f.error().message.find("syntax error"), std::string::npos) << f.error().message;
  auto g = InnerFilter::compile("tcp port 99999");
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code, ExitCode::kBadFilter);
}

TEST(InnerFilter, EmptyMatchesEverything) {
  auto f = InnerFilter::compile("  ");
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE((*f)->empty());
  auto ip = test::ipv4_icmp(1);
  EXPECT_TRUE((*f)->matches(LinkType::kRaw, ip, len32(ip)));
}

TEST(InnerFilter, MatchesEthernetAndRawAlike) {
  auto ip = test::ipv4_icmp(1, 64, 0xC6120001, 0xC6120002);  // 198.18.0.1 > 198.18.0.2
  auto eth = test::ethernet(ip);
  auto tagged = test::ethernet(ip, 100);
  struct Case {
    const char* expr;
    bool raw, eth, vlan;
  } cases[] = {
      {"icmp", true, true, false},
      {"host 198.18.0.2", true, true, false},
      {"src host 198.18.0.2", false, false, false},
      {"tcp", false, false, false},
      {"vlan 100 and icmp", false, false, true},
      {"ether src 02:00:00:00:00:01", true, false, false},  // raw: the synthesized header
      {"ether host 00:11:22:33:44:55", false, true, true},
  };
  for (const auto& c : cases) {
    auto f = InnerFilter::compile(c.expr);
    ASSERT_TRUE(f.has_value()) << c.expr << ": " << f.error().message;
    EXPECT_EQ((*f)->matches(LinkType::kRaw, ip, len32(ip)), c.raw) << c.expr;
    EXPECT_EQ((*f)->matches(LinkType::kEthernet, eth, len32(eth)), c.eth) << c.expr;
    EXPECT_EQ((*f)->matches(LinkType::kEthernet, tagged, len32(tagged)), c.vlan) << c.expr;
  }
}

TEST(InnerFilter, LengthPredicatesSeeOriginalLength) {
  auto ip = test::ipv4_icmp(1, 1000);
  std::vector<std::uint8_t> cut(ip.begin(), ip.begin() + 100);
  auto f = InnerFilter::compile("greater 900");
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE((*f)->matches(LinkType::kRaw, cut, 1000));
  EXPECT_FALSE((*f)->matches(LinkType::kRaw, cut, 100));
}

}  // namespace
}  // namespace portmirror::io
