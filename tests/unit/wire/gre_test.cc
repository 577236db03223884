#include "portmirror/wire/gre.h"

#include <gtest/gtest.h>

#include "portmirror/wire/checksum.h"
#include "portmirror/wire/ethernet.h"
#include "wire_test_util.h"

namespace portmirror::wire {
namespace {
using testing::emit;

// Every C/K/S combination: length, fields, round trip, truncation at every offset.
TEST(GreView, EveryOptionalFieldCombinationRoundTrips) {
  for (int mask = 0; mask < 8; ++mask) {
    GreHeader h;
    h.checksum_present = (mask & 1) != 0;
    if (mask & 2) h.key = 0xA1B2C3D4;
    if (mask & 4) h.sequence = 0x01020304;
    h.protocol_type = ethertype::kTeb;
    const auto b = emit(h);
    ASSERT_EQ(b.size(),
              4u + 4u * static_cast<unsigned>(__builtin_popcount(static_cast<unsigned>(mask))));
    auto v = GreView::parse(b);
    ASSERT_TRUE(v) << mask;
    EXPECT_EQ(v->header_length(), b.size());
    EXPECT_EQ(v->checksum_present(), h.checksum_present);
    EXPECT_EQ(v->key(), h.key);
    EXPECT_EQ(v->sequence(), h.sequence);
    EXPECT_EQ(v->protocol_type(), ethertype::kTeb);
    EXPECT_EQ(v->version(), 0);
    EXPECT_FALSE(v->must_discard());
    EXPECT_EQ(v->reserved_flags(), 0);
    if (h.sequence) {
      EXPECT_EQ(load_be32(b, h.sequence_offset()), *h.sequence);
    }
    testing::expect_truncation_at_every_offset<GreView>(b, b.size());
  }
}

TEST(GreView, ChecksumFillAndVerify) {
  GreHeader h;
  h.checksum_present = true;
  h.key = 5;
  h.protocol_type = ethertype::kIpv4;
  std::vector<std::uint8_t> b = emit(h);
  b.insert(b.end(), {0x45, 0, 0, 20, 1, 2, 3});  // odd-length payload
  gre_fill_checksum(b);
  EXPECT_TRUE(gre_checksum_ok(b));
  EXPECT_TRUE(checksum_valid(b));
  b.back() ^= 0x40;
  EXPECT_FALSE(gre_checksum_ok(b));
  std::vector<std::uint8_t> no_c = emit(GreHeader{});
  EXPECT_TRUE(gre_checksum_ok(no_c));
}

TEST(GreView, Rfc1701RoutingBitAddsOffsetWord) {
  // R alone: checksum/offset word present (RFC 1701), so the key follows at offset 8.
  const std::vector<std::uint8_t> b{0x60, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 7};
  auto v = GreView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->routing_present());
  EXPECT_TRUE(v->must_discard());
  EXPECT_EQ(v->header_length(), 12u);
  EXPECT_EQ(v->key(), 7u);
}

TEST(GreView, PredicatesForEachDiscardAndReservedBit) {
  struct Case {
    const char* description;
    std::uint16_t flags;
    bool discard;
    std::uint8_t reserved;
    std::uint8_t version;
  } cases[] = {
      {"strict source route", 0x0800, true, 0, 0},
      {"recursion MSB", 0x0400, true, 0, 0},
      {"recursion low bits are ignored", 0x0300, false, 0, 0},
      {"A bit in v0", 0x0080, false, 0, 0},
      {"reserved bits 9-12", 0x0078, false, 0xF, 0},
      {"version 1", 0x2001, false, 0, 1},
      {"version 7", 0x0007, false, 0, 7},
  };
  for (const auto& c : cases) {
    std::vector<std::uint8_t> b(16, 0);
    store_be16(b, 0, c.flags);
    auto v = GreView::parse(b);
    ASSERT_TRUE(v) << c.description;
    EXPECT_EQ(v->must_discard(), c.discard) << c.description;
    EXPECT_EQ(v->reserved_flags(), c.reserved) << c.description;
    EXPECT_EQ(v->version(), c.version) << c.description;
  }
}

TEST(GreView, PptpVersion1WithAck) {
  // K mandatory, S and A set: 4 + key 4 + seq 4 + ack 4.
  std::vector<std::uint8_t> b{0x30, 0x81, 0x88, 0x0b, 0, 10, 0, 1, 0, 0, 0, 9, 0, 0, 0, 8};
  auto v = GreView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version(), 1);
  EXPECT_EQ(v->header_length(), 16u);
  EXPECT_EQ(v->sequence(), 9u);
  EXPECT_EQ(v->acknowledgment(), 8u);
  testing::expect_truncation_at_every_offset<GreView>(b, 16);
}

}  // namespace
}  // namespace portmirror::wire
