#include <gtest/gtest.h>

#include "portmirror/wire/linux_sll.h"
#include "portmirror/wire/null_loop.h"
#include "wire_test_util.h"

namespace portmirror::wire {
namespace {
using testing::emit;

TEST(LinuxSllView, RoundTripIpGre) {
  LinuxSllHeader h;
  h.packet_type = 0;
  h.arphrd_type = arphrd::kIpGre;
  h.address_length = 4;
  h.address[0] = 10;
  h.address[3] = 9;
  h.protocol = 0x88BE;
  const auto b = emit(h);
  auto v = LinuxSllView::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->arphrd_type(), arphrd::kIpGre);
  EXPECT_EQ(v->address().size(), 4u);
  EXPECT_EQ(v->address()[3], 9);
  EXPECT_EQ(v->protocol(), 0x88BE);
  testing::expect_truncation_at_every_offset<LinuxSllView>(b, 16);
}

TEST(LinuxSll2View, RoundTrip) {
  LinuxSll2Header h;
  h.protocol = 0x0800;
  h.interface_index = 7;
  h.arphrd_type = arphrd::kEther;
  h.packet_type = 4;
  h.address_length = 6;
  h.address[5] = 0xEE;
  const auto b = emit(h);
  auto v = LinuxSll2View::parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->protocol(), 0x0800);
  EXPECT_EQ(v->interface_index(), 7);
  EXPECT_EQ(v->packet_type(), 4);
  EXPECT_EQ(v->address().size(), 6u);
  EXPECT_EQ(v->address()[5], 0xEE);
  EXPECT_EQ(v->fields().protocol, 0x0800);
  testing::expect_truncation_at_every_offset<LinuxSll2View>(b, 20);
}

TEST(LinuxSllView, AddressLengthAboveEightIsCapped) {
  auto b = emit(LinuxSllHeader{});
  store_be16(b, 4, 16);
  EXPECT_EQ(LinuxSllView::parse(b)->address().size(), 8u);
}

TEST(LoopbackView, BothByteOrdersAndFamilies) {
  for (bool net : {false, true}) {
    for (std::uint32_t af : {2u, 10u, 24u, 28u, 30u}) {
      const auto b = emit(LoopbackHeader{af, net});
      auto v = LoopbackView::parse(b, /*network_order=*/false);  // NULL: either order
      ASSERT_TRUE(v);
      EXPECT_EQ(v->family(), af);
      EXPECT_EQ(v->is_ipv4(), af == 2);
      EXPECT_EQ(v->is_ipv6(), af != 2);
    }
  }
  const auto b = emit(LoopbackHeader{});
  testing::expect_truncation_at_every_offset<LoopbackView>(b, 4);
}

}  // namespace
}  // namespace portmirror::wire
