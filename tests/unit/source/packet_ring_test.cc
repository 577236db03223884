// io::PacketRing on a real veth pair in a private network namespace (root only; skipped otherwise):
// VLAN tags offloaded to tp_vlan_tci are re-inserted, direction filtering, BPF attach,
// PACKET_STATISTICS accumulation (read-and-reset in the kernel).
#include "portmirror/io/packet_ring.h"

#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "support/packet_builder.h"

namespace portmirror::io {
namespace {

using portmirror::testing::PacketBuilder;

bool enter_private_netns() {
  if (geteuid() != 0) return false;
  if (unshare(CLONE_NEWNET) != 0) return false;
  std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << "1";
  std::ofstream("/proc/sys/net/ipv6/conf/all/disable_ipv6") << "1";
  return std::system(
             "ip link set lo up && ip link add v0 type veth peer name v1 && "
             "ip link set v0 up && ip link set v1 up") == 0;
}

void send_raw(const char* ifname, const std::vector<std::uint8_t>& frame) {
  const int fd = socket(AF_PACKET, SOCK_RAW, 0);
  ASSERT_GE(fd, 0);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname));
  sll.sll_halen = 6;
  ASSERT_EQ(
      sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll),
      static_cast<ssize_t>(frame.size()));
  close(fd);
}

std::vector<std::vector<std::uint8_t>> drain(PacketRing& r,
                                             std::vector<RingFrame>* meta = nullptr) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int i = 0; i < 30; ++i) {  // up to 300 ms: blocks retire after retire_ms
    pollfd p{r.fd(), POLLIN, 0};
    poll(&p, 1, 10);
    while (r.acquire_block()) {
      RingFrame f;
      while (r.next_frame(f)) {
        out.emplace_back(f.frame.data.begin(), f.frame.data.end());
        if (meta) meta->push_back(f);
      }
      r.release_block();
    }
  }
  return out;
}

TEST(PacketRing, VlanDirectionsFilterStats) {
  if (!enter_private_netns()) GTEST_SKIP() << "needs root, unshare(CLONE_NEWNET) and veth";
  auto filter = compile_bpf("udp or (vlan and udp)");
  ASSERT_TRUE(filter.has_value());
  RingOptions o;
  o.block_size = 1u << 16;
  o.block_count = 4;
  o.retire_ms = 5;
  o.filter = *filter;
  o.ifname = "v1";
  o.direction = CaptureDirection::kIn;
  auto in = PacketRing::open(o);
  ASSERT_TRUE(in.has_value()) << in.error().message;
  o.direction = CaptureDirection::kBoth;
  auto both = PacketRing::open(o);
  ASSERT_TRUE(both.has_value());
  o.ifname = "v0";
  o.direction = CaptureDirection::kOut;
  auto out = PacketRing::open(o);
  ASSERT_TRUE(out.has_value());

  const auto tagged = PacketBuilder()
                          .eth()
                          .vlan(100, 0x8100, 3)
                          .ipv4("10.0.0.1", "10.0.0.2")
                          .udp(7, 7)
                          .payload(30)
                          .build();
  const auto plain =
      PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").udp(7, 8).payload(30).build();
  const auto tcp = PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2", 6).payload(20).build();
  send_raw("v0", tagged);
  send_raw("v0", plain);
  send_raw("v0", tcp);    // rejected by the BPF program
  send_raw("v1", plain);  // leaves v1: seen by `both`, not by `in`

  std::vector<RingFrame> meta;
  auto got_in = drain(*in, &meta);
  ASSERT_EQ(got_in.size(), 2u);
  EXPECT_EQ(got_in[0], tagged);  // tag re-inserted byte for byte
  EXPECT_TRUE(meta[0].vlan_reinserted);
  EXPECT_EQ(meta[0].vlan_tci, (3 << 13) | 100);
  EXPECT_EQ(meta[0].frame.orig_len, tagged.size());
  EXPECT_EQ(got_in[1], plain);
  EXPECT_FALSE(meta[1].vlan_reinserted);
  EXPECT_FALSE(meta[1].outgoing);

  std::vector<RingFrame> bm;
  auto got_both = drain(*both, &bm);
  ASSERT_EQ(got_both.size(), 3u);
  EXPECT_TRUE(bm[2].outgoing);

  std::vector<RingFrame> om;
  auto got_out = drain(*out, &om);
  ASSERT_EQ(got_out.size(), 2u);
  EXPECT_TRUE(om[0].outgoing);
  EXPECT_EQ(got_out[0], tagged);

  // Statistics: the kernel resets on every read; the ring accumulates.
  const auto s1 = in->update_stats();
  EXPECT_EQ(s1.packets, 2u);
  EXPECT_EQ(s1.drops, 0u);
  send_raw("v0", plain);
  drain(*in);
  const auto s2 = in->update_stats();
  EXPECT_EQ(s2.packets, 3u);
  EXPECT_EQ(s2.delivered(), 3u);
}

TEST(PacketRing, Errors) {
  RingOptions o;
  o.ifname = "does-not-exist0";
  auto r = PacketRing::open(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ExitCode::kNoSuchInterface);
  auto bad = compile_bpf("udp and (");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ExitCode::kBadFilter);
}

TEST(Bpf, UserSpaceEvaluation) {
  auto p = compile_bpf("udp dst port 4789 and ip dst host 198.18.1.2");
  ASSERT_TRUE(p.has_value());
  auto yes = PacketBuilder().eth().ipv4("198.18.1.1", "198.18.1.2").udp(5, 4789).payload(8).build();
  auto no = PacketBuilder().eth().ipv4("198.18.1.1", "198.18.1.3").udp(5, 4789).payload(8).build();
  EXPECT_TRUE(bpf_accepts(*p, ByteSpan(yes), static_cast<std::uint32_t>(yes.size())));
  EXPECT_FALSE(bpf_accepts(*p, ByteSpan(no), static_cast<std::uint32_t>(no.size())));
  EXPECT_TRUE(bpf_accepts({}, ByteSpan(no), 1));
}

}  // namespace
}  // namespace portmirror::io
