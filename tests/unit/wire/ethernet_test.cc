#include "portmirror/wire/ethernet.h"

#include <gtest/gtest.h>

#include "wire_test_util.h"

namespace portmirror::wire {
namespace {
using testing::emit;

TEST(EthernetView, RoundTrip) {
  const EthernetHeader h{{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}, ethertype::kIpv6};
  const auto b = emit(h);
  ASSERT_EQ(b.size(), 14u);
  auto v = EthernetView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->destination(), h.destination);
  EXPECT_EQ(v->source(), h.source);
  EXPECT_EQ(v->ethertype(), ethertype::kIpv6);
  EXPECT_TRUE(v->payload().empty());
}

TEST(EthernetView, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<EthernetView>(emit(EthernetHeader{}), 14);
}

TEST(VlanView, RoundTripEveryFieldCombination) {
  for (std::uint8_t pcp : std::initializer_list<std::uint8_t>{0, 5, 7}) {
    for (bool dei : {false, true}) {
      for (std::uint16_t vid : std::initializer_list<std::uint16_t>{0, 1, 100, 4095}) {
        const VlanHeader h{pcp, dei, vid, ethertype::kVlan};
        const auto b = emit(h);
        auto v = VlanView::parse(b);
        ASSERT_TRUE(v);
        EXPECT_EQ(v->pcp(), pcp);
        EXPECT_EQ(v->dei(), dei);
        EXPECT_EQ(v->vid(), vid);
        EXPECT_EQ(v->ethertype(), ethertype::kVlan);
      }
    }
  }
}

TEST(VlanView, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<VlanView>(emit(VlanHeader{}), 4);
}

TEST(EtherType, VlanTpids) {
  EXPECT_TRUE(ethertype::is_vlan_tpid(0x8100));
  EXPECT_TRUE(ethertype::is_vlan_tpid(0x88A8));
  EXPECT_TRUE(ethertype::is_vlan_tpid(0x9100));
  EXPECT_FALSE(ethertype::is_vlan_tpid(0x0800));
}

}  // namespace
}  // namespace portmirror::wire
