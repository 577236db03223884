// LayerWalker directly: configuration, fragment hand-off, informational bits, entry points.
#include "portmirror/packet/layer_walk.h"

#include <gtest/gtest.h>

#include <array>

#include "support/packet_builder.h"

namespace portmirror::packet {
namespace {

using testing::PacketBuilder;

std::vector<std::uint8_t> inner_eth() {
  return PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2", 6).payload(20).build();
}

TEST(LayerWalker, PortTableFromConfigAndDepthClamp) {
  const std::array<std::uint16_t, 2> vx{4789, 1000};
  const std::array<std::uint16_t, 1> gn{6081};
  WalkConfig cfg;
  cfg.vxlan_ports = vx;
  cfg.geneve_ports = gn;
  cfg.depth = 99;
  const LayerWalker w(cfg);
  EXPECT_EQ(w.port_kind(1000), LayerWalker::PortKind::kVxlan);
  EXPECT_EQ(w.port_kind(6081), LayerWalker::PortKind::kGeneve);
  EXPECT_EQ(w.port_kind(37008), LayerWalker::PortKind::kNone);
  EXPECT_EQ(w.config().depth, kMaxEncapDepth);
  EXPECT_TRUE(w.config().vxlan_ports.empty());  // no reference to the caller's storage is kept
  cfg.depth = 0;
  EXPECT_EQ(LayerWalker(cfg).config().depth, 1);
}

TEST(LayerWalker, OuterFragmentsAreHandedOverWithTheirDatagram) {
  const LayerWalker w(WalkConfig{});
  wire::Ipv4Header h;
  h.more_fragments = true;
  h.identification = 9;
  h.source = {192, 0, 2, 1};
  h.destination = {192, 0, 2, 2};
  const auto b = PacketBuilder().eth().ipv4(h).gre().bytes(inner_eth()).trailer(4).build();
  Decapsulated out;
  const WalkResult r =
      w.walk_frame(b, static_cast<std::uint32_t>(b.size()), LinkType::kEthernet, out);
  ASSERT_EQ(r.status, WalkStatus::kFragment);
  EXPECT_FALSE(r.fragment.ipv6);
  EXPECT_EQ(r.fragment.header_length, 20);
  EXPECT_EQ(r.fragment.ip_length, b.size() - 14 - 4);
  EXPECT_EQ(r.fragment.datagram.size(), r.fragment.ip_length);  // FCS excluded
  EXPECT_EQ(r.fragment.datagram.data(), b.data() + 14);         // borrowed, not copied

  // walk_ip (used for rebuilt datagrams) never returns a fragment.
  const WalkResult again = w.walk_ip(r.fragment.datagram, r.fragment.ip_length, out);
  EXPECT_EQ(again.status, WalkStatus::kUntunnelled);
}

TEST(LayerWalker, FragmentsThatCannotCarryATunnelAreNotReassembled) {
  const LayerWalker w(WalkConfig{});
  wire::Ipv4Header h;
  h.more_fragments = true;
  h.protocol = wire::ipproto::kTcp;
  const auto b = PacketBuilder().eth().ipv4(h).payload(64).build();
  Decapsulated out;
  const WalkResult r =
      w.walk_frame(b, static_cast<std::uint32_t>(b.size()), LinkType::kEthernet, out);
  EXPECT_EQ(r.status, WalkStatus::kUntunnelled);
  EXPECT_EQ(r.reason, DecapCounter::kIpUnsupported);
}

TEST(LayerWalker, Ipv6FragmentHeaderOffset) {
  const LayerWalker w(WalkConfig{});
  const auto b = PacketBuilder()
                     .eth()
                     .ipv6("fd00::1", "fd00::2")
                     .ipv6_ext(wire::ipproto::kHopByHop)
                     .ipv6_fragment(0, true, 5)
                     .gre()
                     .bytes(inner_eth())
                     .build();
  Decapsulated out;
  const WalkResult r =
      w.walk_frame(b, static_cast<std::uint32_t>(b.size()), LinkType::kEthernet, out);
  ASSERT_EQ(r.status, WalkStatus::kFragment);
  EXPECT_TRUE(r.fragment.ipv6);
  EXPECT_EQ(r.fragment.header_length, 48);
}

TEST(LayerWalker, AtomicIpv6FragmentIsAWholeDatagram) {
  const LayerWalker w(WalkConfig{});
  const auto b = PacketBuilder()
                     .eth()
                     .ipv6("fd00::1", "fd00::2")
                     .ipv6_fragment(0, false, 5)
                     .gre()
                     .bytes(inner_eth())
                     .build();
  Decapsulated out;
  EXPECT_EQ(w.walk_frame(b, static_cast<std::uint32_t>(b.size()), LinkType::kEthernet, out).status,
            WalkStatus::kInner);
}

TEST(LayerWalker, InfoBitsDoNotStopDelivery) {
  const LayerWalker w(WalkConfig{});
  auto b = PacketBuilder()
               .eth()
               .ipv4("192.0.2.1", "192.0.2.2")
               .gre({.checksum_present = true})
               .bytes(inner_eth())
               .build();
  b.back() ^= 1;
  Decapsulated out;
  const WalkResult r =
      w.walk_frame(b, static_cast<std::uint32_t>(b.size()), LinkType::kEthernet, out);
  EXPECT_EQ(r.status, WalkStatus::kInner);
  EXPECT_EQ(r.info, kInfoBadChecksum);
  EXPECT_TRUE(out.tunnel.gre_checksum_bad);
}

TEST(LayerWalker, RecordsTheTunnelDetailsCaptureVerbosePrints) {
  const std::array<std::uint16_t, 1> vxp{4789};
  const std::array<std::uint16_t, 1> gn{6081};
  WalkConfig cfg;
  cfg.vxlan_ports = vxp;
  cfg.geneve_ports = gn;
  const LayerWalker w(cfg);
  Decapsulated out;
  wire::Ipv4Header ip;
  ip.source = {192, 0, 2, 1};
  ip.destination = {192, 0, 2, 2};
  ip.time_to_live = 63;
  auto gre = PacketBuilder()
                 .eth()
                 .ipv4(ip)
                 .gre({.checksum_present = true, .key = 0x1234, .sequence = 7})
                 .bytes(inner_eth())
                 .build();
  ASSERT_EQ(
      w.walk_frame(gre, static_cast<std::uint32_t>(gre.size()), LinkType::kEthernet, out).status,
      WalkStatus::kInner);
  EXPECT_TRUE(out.tunnel.has_outer_ttl);
  EXPECT_EQ(out.tunnel.outer_ttl, 63);
  EXPECT_EQ(out.tunnel.gre_flags, 0xB000);  // C K S, version 0

  out = Decapsulated{};
  auto vx = PacketBuilder()
                .eth()
                .ipv6("2001:db8::1", "2001:db8::2")
                .udp(49153, 4789)
                .vxlan(5000)
                .bytes(inner_eth())
                .build();
  ASSERT_EQ(
      w.walk_frame(vx, static_cast<std::uint32_t>(vx.size()), LinkType::kEthernet, out).status,
      WalkStatus::kInner);
  EXPECT_TRUE(out.tunnel.has_outer_ttl);
  EXPECT_EQ(out.tunnel.outer_ttl, 64);  // the builder's hop limit
  EXPECT_EQ(out.tunnel.vxlan_flags, 0x08);

  out = Decapsulated{};
  const std::array<std::uint8_t, 12> opts{0x01, 0x02, 0x80, 0x01, 0, 0, 0, 0,  // critical, 4 B
                                          0x01, 0x03, 0x00, 0x00};             // 0 B of data
  auto ge = PacketBuilder()
                .eth()
                .ipv4("192.0.2.1", "192.0.2.2")
                .udp(49153, 6081)
                .geneve({.vni = 6000, .options = ByteSpan(opts.data(), opts.size())})
                .bytes(inner_eth())
                .build();
  ASSERT_EQ(
      w.walk_frame(ge, static_cast<std::uint32_t>(ge.size()), LinkType::kEthernet, out).status,
      WalkStatus::kInner);
  EXPECT_EQ(out.tunnel.geneve_options, 2);
  EXPECT_EQ(out.tunnel.geneve_options_words, 3);
  EXPECT_TRUE(out.tunnel.geneve_critical);
}

TEST(LayerWalker, UntunnelledReasonNamesTheLayer) {
  const LayerWalker w(WalkConfig{});
  Decapsulated out;
  const auto arp = PacketBuilder().eth(0x0806).payload(28).build();
  EXPECT_EQ(w.walk_frame(arp, 42, LinkType::kEthernet, out).reason, DecapCounter::kLinkUnsupported);
  const auto tcp = inner_eth();
  EXPECT_EQ(
      w.walk_frame(tcp, static_cast<std::uint32_t>(tcp.size()), LinkType::kEthernet, out).reason,
      DecapCounter::kIpUnsupported);
}

TEST(LayerWalker, SllErspan3OnIpGreDevice) {
  const LayerWalker w(WalkConfig{});
  wire::LinuxSllHeader h;
  h.arphrd_type = wire::arphrd::kIpGre;
  h.protocol = wire::ethertype::kErspan3;
  const auto b = PacketBuilder().sll(h).erspan3({.session_id = 3}).bytes(inner_eth()).build();
  Decapsulated out;
  ASSERT_EQ(w.walk_frame(b, static_cast<std::uint32_t>(b.size()), LinkType::kLinuxSll, out).status,
            WalkStatus::kInner);
  EXPECT_EQ(out.tunnel.encap, Encap::kErspan3);
  EXPECT_EQ(out.tunnel.id, 3u);
  EXPECT_TRUE(out.tunnel.outer_src.empty());  // address length 0: sender unknown
}

}  // namespace
}  // namespace portmirror::packet
