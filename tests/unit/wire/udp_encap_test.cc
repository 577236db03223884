#include <gtest/gtest.h>

#include <array>

#include "portmirror/wire/geneve.h"
#include "portmirror/wire/tzsp.h"
#include "portmirror/wire/udp.h"
#include "portmirror/wire/vxlan.h"
#include "wire_test_util.h"

namespace portmirror::wire {
namespace {
using testing::emit;

TEST(UdpView, RoundTripAndPayloadBounds) {
  const UdpHeader h{49152, udp_port::kVxlan, 12, 0};
  auto b = emit(h);
  b.insert(b.end(), {1, 2, 3, 4, 0, 0});
  auto v = UdpView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->source_port(), 49152);
  EXPECT_EQ(v->destination_port(), 4789);
  EXPECT_EQ(v->length(), 12);
  EXPECT_EQ(v->checksum(), 0);
  EXPECT_EQ(v->payload().size(), 4u);
  store_be16(b, 4, 0);  // jumbo / BIG TCP: length from below
  EXPECT_EQ(UdpView::parse(b)->payload().size(), 6u);
  store_be16(b, 4, 500);  // longer than the bytes: bounded by them
  EXPECT_EQ(UdpView::parse(b)->payload().size(), 6u);
}

TEST(UdpView, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<UdpView>(emit(UdpHeader{}), 8);
}

TEST(VxlanView, RoundTrip) {
  const auto b = emit(VxlanHeader{0xABCDEF});
  auto v = VxlanView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->vni_valid());
  EXPECT_EQ(v->vni(), 0xABCDEFu);
  EXPECT_FALSE(v->reserved_bits_set());
}

TEST(VxlanView, FlagAndReservedCases) {
  auto b = emit(VxlanHeader{1});
  b[0] = 0;
  EXPECT_FALSE(VxlanView::parse(b)->vni_valid());
  for (std::size_t i : {0u, 1u, 2u, 3u, 7u}) {
    auto c = emit(VxlanHeader{1});
    c[i] |= 0x80;
    EXPECT_TRUE(VxlanView::parse(c)->reserved_bits_set()) << i;
  }
}

TEST(VxlanView, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<VxlanView>(emit(VxlanHeader{}), 8);
}

TEST(GeneveView, RoundTripWithOptions) {
  const std::array<std::uint8_t, 8> data{1, 2, 3, 4, 5, 6, 7, 8};
  std::array<std::uint8_t, 16> opts{};
  GeneveOption{0x0100, 0x01, data}.write_to(opts);
  GeneveOption{0x0108, 0x80, {}}.write_to(MutableByteSpan(opts).subspan(12));
  for (bool o : {false, true}) {
    for (bool c : {false, true}) {
      const GeneveHeader h{o, c, 0x86DD, 0x123456, opts};
      const auto b = emit(h);
      ASSERT_EQ(b.size(), 24u);
      auto v = GeneveView::parse(b);
      ASSERT_TRUE(v);
      EXPECT_EQ(v->ver(), 0);
      EXPECT_EQ(v->control(), o);
      EXPECT_EQ(v->critical(), c);
      EXPECT_EQ(v->protocol_type(), 0x86DD);
      EXPECT_EQ(v->vni(), 0x123456u);
      EXPECT_EQ(v->header_length(), 24u);
      bool crit = false;
      auto n = v->count_options(crit);
      ASSERT_TRUE(n);
      EXPECT_EQ(*n, 2);
      EXPECT_TRUE(crit);
      testing::expect_truncation_at_every_offset<GeneveView>(b, 24);
    }
  }
}

TEST(GeneveView, OptionOverrunsOptLenIsMalformed) {
  std::array<std::uint8_t, 4> opts{};
  GeneveOption{0x0100, 0x01, {}}.write_to(opts);
  opts[3] = 2;  // claims 8 data octets that Opt Len does not cover
  const auto b = emit(GeneveHeader{false, false, 0x6558, 1, opts});
  auto v = GeneveView::parse(b);
  ASSERT_TRUE(v);
  bool crit = false;
  EXPECT_EQ(v->count_options(crit).error(), ParseError::kMalformed);
}

TEST(TzspView, RoundTripAndTags) {
  const auto b = emit(TzspHeader{});
  auto v = TzspView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version(), 1);
  EXPECT_EQ(v->type(), tzsp::kTypeReceived);
  EXPECT_EQ(v->encapsulation(), tzsp::kEncapEthernet);
  EXPECT_EQ(v->header_length(), 5u);

  // padding, original-length tag (41, 2 octets), sensor MAC tag (60, 6 octets), END, payload.
  const std::vector<std::uint8_t> t{1, 0, 0, 1, 0, 41, 2, 0x05, 0xDC, 60,
                                    6, 1, 2, 3, 4, 5,  6, 1,    0xEE};
  auto w = TzspView::parse(t);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->header_length(), 18u);
  EXPECT_TRUE(w->has_original_length());
  EXPECT_EQ(w->original_length(), 1500u);
  EXPECT_EQ(w->payload().size(), 1u);
  testing::expect_truncation_at_every_offset<TzspView>(t, 18);
}

}  // namespace
}  // namespace portmirror::wire
