// PacketSender / TxPath against the real kernel, in a thread that unshares a fresh network
// namespace (nothing leaves the test): a veth pair pa/pb, 198.18.9.1/24 on pa, and a permanent
// neighbour entry for 198.18.9.2 (an address nobody owns, so the route is a plain unicast one
// through pa). What leaves pa is read back on pb with a plain AF_PACKET socket: frames arrive byte
// for byte, no allocation per send, a changed neighbour entry is followed by refresh(), a deleted
// one turns the packet path off, and copies larger than the MTU go through the raw socket
// (fragmented). Needs root; skipped otherwise.
#include "portmirror/io/packet_sender.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "portmirror/wire/gre.h"
#include "portmirror/wire/ipv4.h"
#include "support/alloc_counter.h"  // the one TU of e2e_test that replaces operator new

namespace portmirror::io {
namespace {

std::string in_veth_netns(const std::function<void()>& body) {
  if (geteuid() != 0) return "needs root (network namespace + CAP_NET_RAW)";
  if (std::system("command -v ip >/dev/null 2>&1") != 0) return "needs iproute2";
  std::string skip;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      skip = std::string("unshare(CLONE_NEWNET) failed: ") + std::strerror(errno);
      return;
    }
    // system() forks from this thread, so `ip` runs inside the new namespace.
    if (std::system(
            "ip link set lo up && ip link add pa type veth peer name pb && "
            "ip link set pa address 02:00:00:00:00:a1 && ip addr add 198.18.9.1/24 dev pa && "
            "ip link set pa up && ip link set pb up && "
            "ip neigh add 198.18.9.2 lladdr 02:00:00:00:00:b2 dev pa nud permanent") != 0) {
      skip = "cannot build the veth pair";
      return;
    }
    body();
  });
  t.join();
  return skip;
}

#define RUN_IN_NETNS(...)                           \
  do {                                              \
    std::string skip_ = in_veth_netns(__VA_ARGS__); \
    if (!skip_.empty()) GTEST_SKIP() << skip_;      \
  } while (0)

IpAddress ip(const char* s) {
  return IpAddress::parse(s).value();
}

int open_tap(const char* ifname) {
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll), 0);
  return fd;
}

// Next IPv4 frame seen on the tap (skips IPv6 / ARP noise); empty after a 1 s timeout.
std::vector<std::uint8_t> next_ipv4(int fd) {
  std::vector<std::uint8_t> buf(4096);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) return {};
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n >= 34 && buf[12] == 0x08 && buf[13] == 0x00) {
      buf.resize(static_cast<std::size_t>(n));
      return buf;
    }
  }
}

// An outer IPv4 + GRE (S) header as the EncapTemplate would write it, for `payload_len` bytes.
struct Copy {
  std::vector<std::uint8_t> header;  // IPv4 (20) + GRE (8)
  std::vector<std::uint8_t> payload;
  SendSlot slot() const {
    SendSlot s;
    s.ip_header_len = 20;
    s.header = header.data() + 20;
    s.header_len = 8;
    s.payload = payload.data();
    s.payload_len = static_cast<std::uint32_t>(payload.size());
    return s;
  }
};

Copy make_copy(std::uint32_t seq, std::size_t payload_len, bool df = true) {
  Copy c;
  c.header.resize(28);
  wire::Ipv4Header h;
  h.total_length = static_cast<std::uint16_t>(28 + payload_len);
  h.identification = static_cast<std::uint16_t>(seq);
  h.dont_fragment = df;
  h.protocol = 47;
  h.source = {198, 18, 9, 1};
  h.destination = {198, 18, 9, 2};
  h.write_to(MutableByteSpan(c.header));
  wire::GreHeader g;
  g.protocol_type = wire::ethertype::kTeb;
  g.sequence = seq;
  g.write_to(MutableByteSpan(c.header).subspan(20));
  for (std::size_t i = 0; i < payload_len; ++i)
    c.payload.push_back(static_cast<std::uint8_t>(seq + i));
  return c;
}

std::vector<std::uint8_t> expected_frame(const Copy& c, const wire::MacAddress& dst) {
  std::vector<std::uint8_t> f(dst.begin(), dst.end());
  const std::uint8_t rest[8] = {2, 0, 0, 0, 0, 0xa1, 0x08, 0x00};
  f.insert(f.end(), rest, rest + 8);
  f.insert(f.end(), c.header.begin(), c.header.end());
  f.insert(f.end(), c.payload.begin(), c.payload.end());
  return f;
}

PacketSenderOptions options() {
  PacketSenderOptions o;
  o.destination = ip("198.18.9.2");
  o.source = ip("198.18.9.1");
  return o;
}

TEST(PacketSender, FramesArriveBitForBitWithoutAllocation) {
  RUN_IN_NETNS([] {
    auto s = PacketSender::open(options());
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_TRUE(s->usable());
    EXPECT_EQ(s->route().ifname, "pa");
    EXPECT_EQ(s->route().next_hop, ip("198.18.9.2"));
    EXPECT_EQ(mac_to_string(s->route().next_hop_mac), "02:00:00:00:00:b2");
    EXPECT_EQ(s->mtu(), 1500u);
    const int tap = open_tap("pb");
    std::vector<Copy> copies;
    std::vector<SendSlot> slots;
    for (std::uint32_t i = 0; i < 100; ++i) copies.push_back(make_copy(i, 18 + 7 * i));
    for (const auto& c : copies) slots.push_back(c.slot());
    SendResult r;
    {
      portmirror::testing::AllocCounter counter;
      r = s->send(slots);
      EXPECT_EQ(counter.count(), 0u);
    }
    EXPECT_EQ(r.sent, 100u);
    EXPECT_EQ(r.errors, 0u);
    for (const auto& c : copies) {
      EXPECT_EQ(next_ipv4(tap), expected_frame(c, {2, 0, 0, 0, 0, 0xb2}));
    }
    close(tap);
  });
}

TEST(PacketSender, RefreshFollowsTheNeighbourAndFallsBackWithoutOne) {
  RUN_IN_NETNS([] {
    auto s = PacketSender::open(options());
    ASSERT_TRUE(s.has_value()) << s.error().message;
    const int tap = open_tap("pb");
    const Copy c = make_copy(1, 40);
    const SendSlot slot = c.slot();
    ASSERT_EQ(std::system("ip neigh replace 198.18.9.2 lladdr 02:00:00:00:00:b3 dev pa nud "
                          "permanent"),
              0);
    EXPECT_FALSE(s->refresh(kNsPerSec));  // still usable: no state change to report
    EXPECT_EQ(mac_to_string(s->route().next_hop_mac), "02:00:00:00:00:b3");
    EXPECT_EQ(s->send(std::span<const SendSlot>(&slot, 1)).sent, 1u);
    EXPECT_EQ(next_ipv4(tap), expected_frame(c, {2, 0, 0, 0, 0, 0xb3}));
    ASSERT_EQ(std::system("ip neigh del 198.18.9.2 dev pa"), 0);
    EXPECT_TRUE(s->refresh(2 * kNsPerSec));  // switched off
    EXPECT_FALSE(s->usable());
    EXPECT_NE(s->reason().find("not resolved"), std::string::npos) << s->reason();
    ASSERT_EQ(std::system("ip neigh replace 198.18.9.2 lladdr 02:00:00:00:00:b2 dev pa nud "
                          "permanent"),
              0);
    EXPECT_TRUE(s->refresh(3 * kNsPerSec));  // back on
    EXPECT_TRUE(s->usable());
    close(tap);
  });
}

TEST(TxPath, CopiesLargerThanTheMtuTakeTheSocketAndAreFragmented) {
  RUN_IN_NETNS([] {
    ASSERT_EQ(std::system("ip link set pa mtu 1000"), 0);
    SenderOptions so;
    so.destination = ip("198.18.9.2");
    so.protocol = 47;
    so.allow_fragmentation = true;
    auto sock = Sender::open(so);
    ASSERT_TRUE(sock.has_value()) << sock.error().message;
    auto pkt = PacketSender::open(options());
    ASSERT_TRUE(pkt.has_value()) << pkt.error().message;
    EXPECT_EQ(pkt->mtu(), 1000u);
    TxPath tx(std::move(*sock), std::move(*pkt));
    EXPECT_TRUE(tx.packet_active());
    const int tap = open_tap("pb");
    const Copy small = make_copy(1, 100);
    const Copy big = make_copy(2, 1400, false);
    const Copy after = make_copy(3, 100);
    const SendSlot slots[3] = {small.slot(), big.slot(), after.slot()};
    const SendResult r = tx.send(slots);
    EXPECT_EQ(r.sent, 3u);
    EXPECT_EQ(tx.packet_sent(), 2u);
    EXPECT_EQ(tx.socket_sent(), 1u);
    // Two paths, so arrival order is not guaranteed: classify four frames. The big copy comes as
    // two fragments the kernel built from the GRE header + payload.
    std::size_t frag_bytes = 0, fragments = 0, small_seen = 0, after_seen = 0;
    for (int i = 0; i < 4; ++i) {
      const auto f = next_ipv4(tap);
      ASSERT_FALSE(f.empty());
      if (f == expected_frame(small, {2, 0, 0, 0, 0, 0xb2})) {
        ++small_seen;
        continue;
      }
      if (f == expected_frame(after, {2, 0, 0, 0, 0, 0xb2})) {
        ++after_seen;
        continue;
      }
      const auto v = wire::Ipv4View::parse(ByteSpan(f).subspan(14));
      ASSERT_TRUE(v.has_value());
      EXPECT_TRUE(v->is_fragment());
      EXPECT_EQ(v->protocol(), 47);
      ++fragments;
      frag_bytes += v->total_length() - v->header_length();
    }
    EXPECT_EQ(small_seen, 1u);
    EXPECT_EQ(after_seen, 1u);
    EXPECT_EQ(fragments, 2u);
    EXPECT_EQ(frag_bytes, 8u + 1400u);
    close(tap);
  });
}

TEST(PacketSender, RefusesALocalCollector) {
  RUN_IN_NETNS([] {
    PacketSenderOptions o = options();
    o.destination = ip("198.18.9.1");
    auto s = PacketSender::open(o);
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().message.find("local"), std::string::npos) << s.error().message;
  });
}

}  // namespace
}  // namespace portmirror::io
