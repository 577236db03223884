// MirrorEngine without I/O: the whole per-packet path (match, loop prevention, mirror-once,
// sampling, policer, truncation, MTU clip, encapsulation into batches) and the no-allocation
// guarantee.
#include "portmirror/source/mirror_engine.h"

#include <gtest/gtest.h>

#include "portmirror/collector/decapsulator.h"
#include "source_test_util.h"
#include "support/alloc_counter.h"  // the one TU of source_test that replaces operator new

namespace portmirror::source {
namespace {

IpAddress ip(const char* s) {
  return IpAddress::parse(s).value();
}

config::MirrorConfig base_config(config::EncapKind encap = config::EncapKind::kGre) {
  config::MirrorConfig c;
  c.interfaces.push_back({"eth1", "", config::Direction::kInput, ""});
  config::MirrorInstance inst;
  config::TunnelConfig t;
  t.encap = encap;
  t.destination = ip("198.18.1.2");
  t.sequence = true;
  inst.outputs.push_back(t);
  c.instances.push_back(inst);
  return c;
}

std::unique_ptr<MirrorEngine> make(const config::MirrorConfig& c, std::uint32_t mtu = 1500) {
  std::vector<std::vector<OutputRoute>> routes;
  for (const auto& i : c.instances) {
    routes.emplace_back();
    for (std::size_t j = 0; j < i.outputs.size(); ++j)
      routes.back().push_back({ip("198.18.1.1"), mtu});
  }
  auto e = MirrorEngine::create(c, routes, 0);
  EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
  return std::move(e).value();
}

Frame frame_of(const std::vector<std::uint8_t>& b, TimestampNs ts = 0) {
  Frame f;
  f.data = ByteSpan(b);
  f.orig_len = static_cast<std::uint32_t>(b.size());
  f.ts = ts;
  return f;
}

TEST(MirrorEngine, EncapsulatesIntoBatchAndCounts) {
  auto e = make(base_config());
  auto pkt = testing::udp_frame("10.0.0.1", "10.0.0.2", 1, 2, 100);
  for (int i = 0; i < 3; ++i) e->process(frame_of(pkt), 0, false, 0);
  ASSERT_EQ(e->slot_count(0), 3u);
  const TxSlot& s = e->slots(0)[2];
  EXPECT_EQ(s.header_len, 8u);  // GRE with S
  EXPECT_EQ(load_be32(ByteSpan(s.header, 8), 4), 2u);
  EXPECT_EQ(s.payload, pkt.data() + 14);  // the IP packet, borrowed, not copied
  EXPECT_EQ(s.payload_len, pkt.size() - 14);
  e->sent(0, 3, 0);
  EXPECT_EQ(e->slot_count(0), 0u);
  EXPECT_EQ(e->instance_counters(0).get(InstanceCounter::kSent), 3u);
  EXPECT_EQ(e->iface_counters(0).get(IfaceCounter::kSeen), 3u);
}

TEST(MirrorEngine, LoopPreventionExcludesOurTunnelTraffic) {
  auto e = make(base_config());
  auto gre_to_collector = portmirror::testing::PacketBuilder()
                              .eth()
                              .ipv4("198.18.1.1", "198.18.1.2")
                              .gre({})
                              .payload(20)
                              .build();
  auto gre_elsewhere = portmirror::testing::PacketBuilder()
                           .eth()
                           .ipv4("198.18.1.1", "198.18.9.9")
                           .gre({})
                           .payload(20)
                           .build();
  e->process(frame_of(gre_to_collector), 0, true, 0);
  e->process(frame_of(gre_elsewhere), 0, true, 0);
  EXPECT_EQ(e->iface_counters(0).get(IfaceCounter::kLoopExcluded), 1u);
  EXPECT_EQ(e->slot_count(0), 1u);
  auto c = base_config();
  c.loop_prevention = false;
  auto off = make(c);
  off->process(frame_of(gre_to_collector), 0, true, 0);
  EXPECT_EQ(off->slot_count(0), 1u);
}

TEST(MirrorEngine, MirrorOnceAcrossTwoInterfaces) {
  auto c = base_config();
  c.interfaces.push_back({"eth2", "", config::Direction::kOutput, ""});
  auto e = make(c);
  auto pkt = testing::udp_frame("10.0.0.1", "10.0.0.2", 1, 2, 100);
  e->process(frame_of(pkt, 1000), 0, false, 0);
  e->process(frame_of(pkt, 2000), 1, true, 0);
  EXPECT_EQ(e->slot_count(0), 1u);
  EXPECT_EQ(e->iface_counters(1).get(IfaceCounter::kDuplicate), 1u);
}

TEST(MirrorEngine, SamplingTruncationPolicerAndMtuClip) {
  auto c = base_config(config::EncapKind::kErspan2);
  c.instances[0].rate = 10;
  c.instances[0].run_length = 2;
  c.instances[0].maximum_packet_length = 128;
  auto e = make(c);
  auto big = testing::udp_frame("10.0.0.1", "10.0.0.2", 1, 2, 400);
  for (int i = 0; i < 30; ++i) {
    if (!e->room()) e->sent(0, static_cast<std::uint32_t>(e->slot_count(0)), 0);
    e->process(frame_of(big), 0, false, 0);
  }
  const auto& k = e->instance_counters(0);
  EXPECT_EQ(k.get(InstanceCounter::kMatched), 30u);
  EXPECT_EQ(k.get(InstanceCounter::kSampled), 6u);  // packets 10,11,12,22,23,24
  EXPECT_EQ(k.get(InstanceCounter::kTruncated), 6u);
  EXPECT_EQ(e->slots(0)[0].payload_len, 128u);
  // T bit set in the ERSPAN header (after the 8-octet GRE header with S).
  EXPECT_NE(load_be32(ByteSpan(e->slots(0)[0].header, 16), 8) & 0x400u, 0u);

  auto p = base_config();
  p.instances[0].policer.packets_per_second = 100;
  p.instances[0].policer.burst_packets = 5;
  auto pe = make(p);
  for (int i = 0; i < 50; ++i) pe->process(frame_of(big), 0, false, 0);
  EXPECT_EQ(pe->instance_counters(0).get(InstanceCounter::kPoliced), 45u);
  EXPECT_EQ(pe->slot_count(0), 5u);

  auto m = make(base_config(), 300);  // path MTU 300: 20 IP + 8 GRE + 272 payload
  m->process(frame_of(big), 0, false, 0);
  EXPECT_EQ(m->instance_counters(0).get(InstanceCounter::kMtuClipped), 1u);
  EXPECT_EQ(m->slots(0)[0].payload_len, 300u - 28u);
}

TEST(MirrorEngine, GreIpOutputSkipsNonIp) {
  auto e = make(base_config());
  auto arp = portmirror::testing::PacketBuilder().eth(0x0806).payload(28).build();
  e->process(frame_of(arp), 0, false, 0);
  EXPECT_EQ(e->instance_counters(0).get(InstanceCounter::kNotIp), 1u);
  EXPECT_EQ(e->slot_count(0), 0u);
}

TEST(MirrorEngine, NextHopGroupSendsEachCopyToEveryOutput) {
  auto c = base_config();
  config::TunnelConfig t2 = c.instances[0].outputs[0];
  t2.destination = ip("198.18.1.3");
  t2.encap = config::EncapKind::kVxlan;
  c.instances[0].outputs.push_back(t2);
  auto e = make(c);
  auto pkt = testing::udp_frame("10.0.0.1", "10.0.0.2", 1, 2, 100);
  e->process(frame_of(pkt), 0, false, 0);
  EXPECT_EQ(e->slot_count(0), 1u);
  EXPECT_EQ(e->slot_count(1), 1u);
  EXPECT_EQ(e->slots(1)[0].payload, pkt.data());  // VXLAN carries the Ethernet frame
}

TEST(MirrorEngine, TermsChooseInstances) {
  auto c = base_config();
  config::MirrorInstance second = c.instances[0];
  second.name = "web";
  second.outputs[0].destination = ip("198.18.1.3");
  c.instances.push_back(second);
  config::Filter f;
  f.name = "f";
  config::Term t1;
  t1.name = "web";
  t1.from.destination_port.values.push_back({80, 80});
  t1.port_mirror = true;
  t1.mirror_instance = "web";
  config::Term t2;
  t2.name = "rest";
  t2.port_mirror = true;
  f.terms = {t1, t2};
  c.filters.push_back(f);
  c.interfaces[0].filter = "f";
  auto e = make(c);
  e->process(frame_of(testing::tcp_frame("10.0.0.1", "10.0.0.2", 1, 80, 0x10)), 0, false, 0);
  e->process(frame_of(testing::tcp_frame("10.0.0.1", "10.0.0.2", 1, 81, 0x10)), 0, false, 0);
  EXPECT_EQ(e->slot_count(0), 1u);  // global
  EXPECT_EQ(e->slot_count(1), 1u);  // web
  c.interfaces[0].filter = "missing";
  std::vector<std::vector<OutputRoute>> routes(2, {{ip("198.18.1.1"), 1500}});
  EXPECT_FALSE(MirrorEngine::create(c, routes, 0).has_value());
}

TEST(MirrorEngine, NoAllocationPerPacket) {
  auto c = base_config(config::EncapKind::kErspan3);
  c.interfaces.push_back({"eth2", "", config::Direction::kOutput, ""});
  c.instances[0].rate = 3;
  c.instances[0].run_length = 1;
  c.instances[0].maximum_packet_length = 200;
  c.instances[0].policer.packets_per_second = 1000;
  config::TunnelConfig vx = c.instances[0].outputs[0];
  vx.encap = config::EncapKind::kVxlan;
  c.instances[0].outputs.push_back(vx);
  c.keepalive_seconds = 1;
  auto e = make(c);
  std::vector<std::vector<std::uint8_t>> frames;
  for (int i = 0; i < 64; ++i)
    frames.push_back(
        testing::udp_frame("10.0.0.1", "10.0.0.2", static_cast<std::uint16_t>(i), 2, 300));
  portmirror::testing::AllocCounter counter;
  for (int n = 0; n < 5000; ++n) {
    if (!e->room()) {
      for (std::size_t o = 0; o < e->output_count(); ++o)
        e->sent(o, static_cast<std::uint32_t>(e->slot_count(o)), 0);
    }
    e->process(frame_of(frames[static_cast<std::size_t>(n) % frames.size()], n * 1000),
               static_cast<std::size_t>(n & 1), (n & 1) != 0, n * 100'000);
    if (n % 1000 == 0) e->tick(n * 100'000 + 5 * kNsPerSec);
  }
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_GT(e->instance_counters(0).get(InstanceCounter::kSampled), 0u);
}

}  // namespace
}  // namespace portmirror::source
