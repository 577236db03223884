// Allocation guard (style.md §8): no heap allocation per packet in the decapsulation path, for
// every encapsulation, drops and outer reassembly, after warm-up.
#include "support/alloc_counter.h"  // replaces global operator new in this test binary

#include <gtest/gtest.h>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/wire/checksum.h"
#include "support/packet_builder.h"

namespace portmirror::collector {
namespace {

using testing::make_frame;
using testing::PacketBuilder;

std::vector<std::vector<std::uint8_t>> sample_frames() {
  const auto inner =
      PacketBuilder().eth().vlan(5).ipv4("10.0.0.1", "10.0.0.2", 6).payload(200).build();
  std::vector<std::vector<std::uint8_t>> v;
  const auto outer = [] { return PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2"); };
  v.push_back(
      outer().gre({.checksum_present = true, .key = 1, .sequence = 2}).bytes(inner).build());
  v.push_back(outer().gre({.protocol_type = 0x88BE}).bytes(inner).build());
  v.push_back(outer().gre({.sequence = 3}).erspan2({.session_id = 9}).bytes(inner).build());
  v.push_back(outer()
                  .gre({.sequence = 3})
                  .erspan3({.session_id = 9, .has_platform = true})
                  .bytes(inner)
                  .build());
  v.push_back(outer().udp(1, 4789).vxlan(7).bytes(inner).trailer(4).build());
  v.push_back(outer().udp(1, 6081).geneve({.vni = 7}).bytes(inner).build());
  v.push_back(outer().udp(1, 37008).tzsp().bytes(inner).build());
  v.push_back(
      PacketBuilder().eth().ipv6("fd00::1", "fd00::2").ipv6_ext(0).gre().bytes(inner).build());
  v.push_back(outer().gre().gre().bytes(inner).build());
  v.push_back(outer().gre_keepalive().build());
  v.push_back(outer().udp(1, 53).payload(20).build());                     // untunnelled
  v.push_back(outer().gre({.protocol_type = 0x1234}).payload(4).build());  // dropped
  return v;
}

TEST(DecapsulatorAllocations, NoneAfterWarmUpForEveryEncapsulation) {
  const auto frames = sample_frames();
  DecapOptions opts;
  opts.depth = kMaxEncapDepth;
  Decapsulator d(opts);
  Decapsulated out;
  for (const auto& f : frames) (void)d.decapsulate(make_frame(f), out);  // warm-up
  std::size_t inner = 0;
  std::size_t allocations;
  {
    testing::AllocCounter counter;
    for (int i = 0; i < 1000; ++i) {
      for (const auto& f : frames) {
        inner += d.decapsulate(make_frame(f), out).status == DecapStatus::kInner ? 1u : 0u;
      }
    }
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(inner, 1000u * 9u);
}

TEST(DecapsulatorAllocations, NoneForOuterReassembly) {
  const auto inner = PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2", 17).payload(1200).build();
  const auto frame =
      PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(inner).build();
  // Two fragments: 800 + rest.
  std::vector<std::vector<std::uint8_t>> frags;
  for (std::size_t off : {std::size_t{0}, std::size_t{800}}) {
    const std::size_t payload = frame.size() - 34;
    const std::size_t n = off == 0 ? 800 : payload - 800;
    std::vector<std::uint8_t> f(frame.begin(), frame.begin() + 34);
    f.insert(f.end(), frame.begin() + static_cast<std::ptrdiff_t>(34 + off),
             frame.begin() + static_cast<std::ptrdiff_t>(34 + off + n));
    store_be16(f, 16, static_cast<std::uint16_t>(20 + n));
    store_be16(f, 20, static_cast<std::uint16_t>((off == 0 ? 0x2000 : 0) | (off / 8)));
    store_be16(f, 24, 0);
    store_be16(f, 24, wire::internet_checksum(ByteSpan(f).subspan(14, 20)));
    frags.push_back(std::move(f));
  }
  Decapsulator d(DecapOptions{});
  Decapsulated out;
  (void)d.decapsulate(make_frame(frags[0]), out);
  (void)d.decapsulate(make_frame(frags[1]), out);
  std::size_t inner_count = 0;
  std::size_t allocations;
  {
    testing::AllocCounter counter;
    for (int i = 0; i < 500; ++i) {
      (void)d.decapsulate(make_frame(frags[0]), out);
      inner_count +=
          d.decapsulate(make_frame(frags[1]), out).status == DecapStatus::kInner ? 1u : 0u;
    }
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(inner_count, 500u);
}

TEST(DecapsulatorAllocations, CounterSeesAllocations) {
  // The guard itself must be able to fail.
  std::size_t allocations;
  {
    testing::AllocCounter counter;
    auto* p = new int(3);
    delete p;
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 1u);
}

}  // namespace
}  // namespace portmirror::collector
