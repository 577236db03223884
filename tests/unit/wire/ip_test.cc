#include <gtest/gtest.h>

#include <array>

#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"
#include "wire_test_util.h"

namespace portmirror::wire {
namespace {
using testing::emit;

TEST(Ipv4View, RoundTripWithChecksum) {
  Ipv4Header h;
  h.dscp = 10;
  h.ecn = 1;
  h.total_length = 20;
  h.identification = 0xBEEF;
  h.dont_fragment = true;
  h.time_to_live = 3;
  h.protocol = ipproto::kGre;
  h.source = {192, 0, 2, 1};
  h.destination = {198, 18, 0, 2};
  const auto b = emit(h);
  auto v = Ipv4View::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version(), 4);
  EXPECT_EQ(v->header_length(), 20u);
  EXPECT_EQ(v->dscp(), 10);
  EXPECT_EQ(v->ecn(), 1);
  EXPECT_EQ(v->identification(), 0xBEEF);
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_FALSE(v->more_fragments());
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->time_to_live(), 3);
  EXPECT_EQ(v->protocol(), ipproto::kGre);
  EXPECT_TRUE(v->header_checksum_valid());
  EXPECT_EQ(v->source()[0], 192);
  EXPECT_EQ(v->destination()[3], 2);
}

TEST(Ipv4View, OptionsAndFragmentFields) {
  const std::array<std::uint8_t, 8> opts{0x94, 0x04, 0, 0, 1, 1, 1, 0};  // router alert, NOPs, EOL
  Ipv4Header h;
  h.options = opts;
  h.total_length = 28 + 5;
  h.more_fragments = true;
  h.fragment_offset = 1480;
  auto b = emit(h);
  b.resize(33, 0xAA);
  auto v = Ipv4View::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->ihl(), 7);
  EXPECT_EQ(v->options().size(), 8u);
  EXPECT_EQ(v->options()[0], 0x94);
  EXPECT_TRUE(v->more_fragments());
  EXPECT_EQ(v->fragment_offset(), 1480u);
  EXPECT_TRUE(v->is_fragment());
  EXPECT_EQ(v->payload().size(), 5u);
  EXPECT_TRUE(v->header_checksum_valid());
}

TEST(Ipv4View, PayloadBoundedByTotalLengthNotPadding) {
  Ipv4Header h;
  h.total_length = 22;
  auto b = emit(h);
  b.insert(b.end(), {1, 2, 0, 0, 0, 0});  // 2 payload octets + Ethernet padding
  auto v = Ipv4View::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->payload().size(), 2u);
}

TEST(Ipv4View, TruncatedAtEveryOffset) {
  const std::array<std::uint8_t, 4> opts{1, 1, 1, 0};
  Ipv4Header h;
  h.options = opts;
  testing::expect_truncation_at_every_offset<Ipv4View>(emit(h), 24);
}

TEST(Ipv4View, MalformedCases) {
  auto b = emit(Ipv4Header{});
  b[0] = 0x44;  // IHL 4 < 5
  EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::kMalformed);
  b[0] = 0x65;  // version 6
  EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::kMalformed);
}

TEST(Ipv6View, RoundTrip) {
  Ipv6Header h;
  h.traffic_class = 0xAB;
  h.flow_label = 0x12345;
  h.payload_length = 4;
  h.next_header = ipproto::kUdp;
  h.hop_limit = 9;
  h.source[15] = 1;
  h.destination[0] = 0x20;
  auto b = emit(h);
  b.insert(b.end(), {9, 9, 9, 9, 0xFF, 0xFF});
  auto v = Ipv6View::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->traffic_class(), 0xAB);
  EXPECT_EQ(v->flow_label(), 0x12345u);
  EXPECT_EQ(v->payload_length(), 4);
  EXPECT_EQ(v->next_header(), ipproto::kUdp);
  EXPECT_EQ(v->hop_limit(), 9);
  EXPECT_EQ(v->source()[15], 1);
  EXPECT_EQ(v->destination()[0], 0x20);
  EXPECT_EQ(v->payload().size(), 4u);
}

TEST(Ipv6View, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<Ipv6View>(emit(Ipv6Header{}), 40);
}

TEST(Ipv6View, WrongVersionIsMalformed) {
  auto b = emit(Ipv6Header{});
  b[0] = 0x45;
  EXPECT_EQ(Ipv6View::parse(b).error(), ParseError::kMalformed);
}

std::vector<std::uint8_t> ext_chain(bool atomic_frag, bool non_first) {
  std::vector<std::uint8_t> b;
  auto add = [&b](const auto& h) {
    const auto e = emit(h);
    b.insert(b.end(), e.begin(), e.end());
  };
  add(Ipv6OptionsHeader{ipproto::kRouting, 0});
  add(Ipv6OptionsHeader{ipproto::kFragment, 1});
  add(Ipv6FragmentHeader{ipproto::kAh, non_first ? 1480u : 0u, !atomic_frag, 77});
  // AH: next header, payload len (4-octet units minus 2) = 4 -> 24 octets.
  std::vector<std::uint8_t> ah(24, 0);
  ah[0] = ipproto::kDestOpts;
  ah[1] = 4;
  b.insert(b.end(), ah.begin(), ah.end());
  add(Ipv6OptionsHeader{ipproto::kGre, 0});
  b.insert(b.end(), {0, 0, 0x08, 0x00});
  return b;
}

TEST(Ipv6Extensions, SkipsEveryKindIncludingAtomicFragment) {
  const auto b = ext_chain(true, false);
  auto r = skip_ipv6_extensions(b, ipproto::kHopByHop);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->protocol, ipproto::kGre);
  EXPECT_EQ(r->offset, 8u + 16u + 8u + 24u + 8u);
  EXPECT_TRUE(r->has_fragment);
  EXPECT_EQ(r->fragment_header_offset, 24u);
}

TEST(Ipv6Extensions, StopsAfterFragmentHeaderOfRealFragment) {
  const auto b = ext_chain(false, true);
  auto r = skip_ipv6_extensions(b, ipproto::kHopByHop);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->protocol, ipproto::kAh);
  EXPECT_EQ(r->offset, 32u);
  auto f = Ipv6FragmentView::parse(ByteSpan(b).subspan(r->fragment_header_offset));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->fragment_offset(), 1480u);
  EXPECT_TRUE(f->more_fragments());
  EXPECT_EQ(f->identification(), 77u);
}

TEST(Ipv6Extensions, TruncatedAtEveryOffset) {
  const auto b = ext_chain(true, false);
  for (std::size_t n = 0; n < 64; ++n) {
    std::vector<std::uint8_t> p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = skip_ipv6_extensions(p, ipproto::kHopByHop);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), ParseError::kTruncated);
  }
}

TEST(Ipv6Extensions, TooManyHeaders) {
  std::vector<std::uint8_t> b(8 * 20, 0);  // 20 Hop-by-Hop headers chained (next header 0)
  auto r = skip_ipv6_extensions(b, ipproto::kHopByHop, 16);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ParseError::kTooDeep);
}

TEST(Ipv6FragmentView, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<Ipv6FragmentView>(emit(Ipv6FragmentHeader{}), 8);
}

}  // namespace
}  // namespace portmirror::wire
