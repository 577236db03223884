// SocketSource against the real kernel: each test runs in a thread that unshares a fresh network
// namespace (only that thread moves), so nothing leaves the test and nothing needs cleaning up.
// Needs root (CAP_SYS_ADMIN for unshare, CAP_NET_RAW for raw sockets); skipped otherwise.
#include "portmirror/io/socket_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace portmirror::io {
namespace {

// Runs `body` in a thread inside a new network namespace with `lo` up. Returns a skip reason or "".
std::string in_fresh_netns(const std::function<void()>& body) {
  if (geteuid() != 0) return "needs root (network namespace + CAP_NET_RAW)";
  std::string skip;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      skip = std::string("unshare(CLONE_NEWNET) failed: ") + std::strerror(errno);
      return;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) skip = "cannot bring lo up";
    close(s);
    if (skip.empty()) body();
  });
  t.join();
  return skip;
}

#define RUN_IN_NETNS(...)                            \
  do {                                               \
    std::string skip_ = in_fresh_netns(__VA_ARGS__); \
    if (!skip_.empty()) GTEST_SKIP() << skip_;       \
  } while (0)

// GRE with K and S (RFC 2890): flags 0x3000, proto 0x6558, key, seq, then a tiny payload.
std::vector<std::uint8_t> gre_packet(std::uint32_t key, std::uint32_t seq) {
  std::vector<std::uint8_t> p = {0x30, 0x00, 0x65, 0x58};
  for (int i = 3; i >= 0; --i) p.push_back(static_cast<std::uint8_t>(key >> (8 * i)));
  for (int i = 3; i >= 0; --i) p.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  for (int i = 0; i < 60; ++i) p.push_back(static_cast<std::uint8_t>(i));
  return p;
}

void send_raw_gre_v4(const std::vector<std::uint8_t>& gre, const char* dst) {
  int s = socket(AF_INET, SOCK_RAW, IPPROTO_GRE);
  ASSERT_GE(s, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  inet_pton(AF_INET, dst, &to.sin_addr);
  ASSERT_EQ(sendto(s, gre.data(), gre.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(gre.size()));
  close(s);
}

std::size_t wait_receive(SocketSource& src, std::size_t index, std::vector<Datagram>& out) {
  pollfd p{src.sockets()[index].fd, POLLIN, 0};
  if (poll(&p, 1, 1000) <= 0) return 0;
  out.resize(src.batch());
  return src.receive(index, out);
}

std::size_t index_of(const SocketSource& src, SocketKind kind) {
  for (std::size_t i = 0; i < src.sockets().size(); ++i) {
    if (src.sockets()[i].kind == kind) return i;
  }
  return src.sockets().size();
}

TEST(SocketSource, RawGreV4DeliversOuterHeaderTimestampAndAddresses) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.vxlan_ports = {};
    o.geneve_ports = {};
    o.tzsp_ports = {};
    auto src = SocketSource::open(o);
    ASSERT_TRUE(src) << src.error().message;
    std::size_t gi = index_of(*src, SocketKind::kGreV4);
    ASSERT_LT(gi, src->sockets().size());
    EXPECT_GT(src->sockets()[gi].rcvbuf, 1 << 20);  // SO_RCVBUFFORCE as root

    auto gre = gre_packet(0x1234, 7);
    TimestampNs before = wall_clock_ns();
    send_raw_gre_v4(gre, "127.0.0.1");
    std::vector<Datagram> got;
    ASSERT_EQ(wait_receive(*src, gi, got), 1u);
    const Datagram& d = got[0];
    ASSERT_EQ(d.data.size(), 20 + gre.size());
    EXPECT_EQ(d.orig_len, 20 + gre.size());
    EXPECT_EQ(d.data[0] >> 4, 4);  // IPv4 header included
    EXPECT_EQ(d.data[9], 47);      // protocol GRE
    EXPECT_EQ(0, std::memcmp(d.data.data() + 20, gre.data(), gre.size()));
    EXPECT_EQ(d.src.to_string(), "127.0.0.1");
    EXPECT_EQ(d.dst.to_string(), "127.0.0.1");
    EXPECT_EQ(d.kind, SocketKind::kGreV4);
    EXPECT_GE(d.ts, before - kNsPerSec);
    EXPECT_LE(d.ts, wall_clock_ns());
    EXPECT_EQ(src->stats(gi).datagrams, 1u);
  });
}

TEST(SocketSource, BatchReceivesManyDatagramsInOneCall) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.vxlan_ports = o.geneve_ports = o.tzsp_ports = {};
    o.ipv6 = false;
    o.batch = 16;
    auto src = SocketSource::open(o);
    ASSERT_TRUE(src) << src.error().message;
    for (std::uint32_t i = 0; i < 40; ++i) send_raw_gre_v4(gre_packet(1, i), "127.0.0.1");
    std::vector<Datagram> got(16);
    std::size_t total = 0;
    std::size_t calls = 0;
    std::uint32_t expect_seq = 0;
    while (total < 40 && calls < 100) {
      std::size_t n = wait_receive(*src, 0, got);
      ++calls;
      EXPECT_LE(n, 16u);
      for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t seq = load_be32(got[i].data, 20 + 8);
        EXPECT_EQ(seq, expect_seq++);
      }
      total += n;
    }
    EXPECT_EQ(total, 40u);
    EXPECT_LE(calls, 4u);  // 40 queued datagrams need at most 3 batches of 16
  });
}

TEST(SocketSource, RawGreV6DeliversGreWithoutIpv6HeaderAndAddressesFromAncillaryData) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.vxlan_ports = o.geneve_ports = o.tzsp_ports = {};
    auto src = SocketSource::open(o);
    ASSERT_TRUE(src) << src.error().message;
    std::size_t gi = index_of(*src, SocketKind::kGreV6);
    if (gi == src->sockets().size()) GTEST_SKIP() << "no IPv6 in this kernel";
    int s = socket(AF_INET6, SOCK_RAW, IPPROTO_GRE);
    ASSERT_GE(s, 0);
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_addr = in6addr_loopback;
    auto gre = gre_packet(9, 3);
    ASSERT_EQ(sendto(s, gre.data(), gre.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(gre.size()));
    close(s);
    std::vector<Datagram> got;
    ASSERT_EQ(wait_receive(*src, gi, got), 1u);
    ASSERT_EQ(got[0].data.size(), gre.size());
    EXPECT_EQ(0, std::memcmp(got[0].data.data(), gre.data(), gre.size()));
    EXPECT_EQ(got[0].src.to_string(), "::1");
    EXPECT_EQ(got[0].dst.to_string(), "::1");
  });
}

TEST(SocketSource, UdpSocketsDeliverPayloadWithPortsAndDestination) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.gre = false;
    o.ipv6 = false;
    o.vxlan_ports = {4789, 8472};
    o.geneve_ports = {6081};
    o.tzsp_ports = {37008};
    auto src = SocketSource::open(o);
    ASSERT_TRUE(src) << src.error().message;
    ASSERT_EQ(src->sockets().size(), 4u);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_port = htons(33001);
    inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
    sockaddr_in to = me;
    to.sin_port = htons(8472);
    const std::uint8_t vxlan[] = {0x08, 0, 0, 0, 0, 0x13, 0x88, 0, 0xaa, 0xbb};
    ASSERT_EQ(sendto(s, vxlan, sizeof vxlan, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(sizeof vxlan));
    close(s);
    std::size_t vi = 1;  // sockets open in order: 4789, 8472, 6081, 37008
    ASSERT_EQ(src->sockets()[vi].port, 8472);
    std::vector<Datagram> got;
    ASSERT_EQ(wait_receive(*src, vi, got), 1u);
    EXPECT_EQ(got[0].kind, SocketKind::kVxlan);
    EXPECT_EQ(got[0].data.size(), sizeof vxlan);
    EXPECT_EQ(got[0].src_port, 33001);
    EXPECT_EQ(got[0].dst_port, 8472);
    EXPECT_EQ(got[0].src.to_string(), "127.0.0.1");
    EXPECT_EQ(got[0].dst.to_string(), "127.0.0.1");
  });
}

// The ring hand-off (receive mode ring): datagrams that arrived on a named interface for a named
// address are not delivered (the ring reads them), everything else is; the UDP sockets' hand-off
// goes to a SO_REUSEPORT sink, so it never shows as a kernel drop. Here lo stands in for the ringed
// interface and 127.0.0.1 for its address; 127.0.0.2 (also local on lo) is not handed off.
TEST(SocketSource, RingHandOffDropsOnlyNamedInterfaceAndAddressWithoutCountingDrops) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.ipv6 = false;
    o.vxlan_ports = {4789};
    o.geneve_ports = {};
    o.tzsp_ports = {};
    // Another interface's entry first, so that the program's skip over a block is exercised.
    o.handoff = {HandoffLink{999, {*IpAddress::parse("127.0.0.2")}},
                 HandoffLink{static_cast<int>(if_nametoindex("lo")),
                             {*IpAddress::parse("127.0.0.1"), *IpAddress::parse("2001:db8::1")}}};
    auto src = SocketSource::open(o);
    ASSERT_TRUE(src) << src.error().message;
    std::size_t gi = index_of(*src, SocketKind::kGreV4);
    std::size_t vi = index_of(*src, SocketKind::kVxlan);
    ASSERT_LT(gi, src->sockets().size());
    ASSERT_LT(vi, src->sockets().size());
    EXPECT_GE(src->sockets()[vi].sink_fd, 0);

    auto send_udp = [](const char* dst, std::uint8_t tag) {
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(4789);
      inet_pton(AF_INET, dst, &to.sin_addr);
      const std::uint8_t vxlan[] = {0x08, 0, 0, 0, 0, 0x13, 0x88, 0, tag};
      EXPECT_EQ(sendto(s, vxlan, sizeof vxlan, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                static_cast<ssize_t>(sizeof vxlan));
      close(s);
    };
    for (int i = 0; i < 5; ++i) {
      send_raw_gre_v4(gre_packet(1, static_cast<std::uint32_t>(i)), "127.0.0.1");  // handed off
      send_udp("127.0.0.1", 1);                                                    // handed off
    }
    send_raw_gre_v4(gre_packet(2, 99), "127.0.0.2");
    send_udp("127.0.0.2", 2);

    std::vector<Datagram> got;
    ASSERT_EQ(wait_receive(*src, gi, got), 1u);
    EXPECT_EQ(got[0].dst.to_string(), "127.0.0.2");
    ASSERT_EQ(wait_receive(*src, vi, got), 1u);
    EXPECT_EQ(got[0].dst.to_string(), "127.0.0.2");
    EXPECT_EQ(got[0].data[8], 2);
    EXPECT_EQ(src->total().kernel_drops, 0u);  // the hand-off is not a loss
    EXPECT_EQ(src->total().datagrams, 2u);
  });
}

TEST(SocketSource, RingHandOffKeepsThePortInUseCheck) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.ipv6 = false;
    o.gre = false;
    o.vxlan_ports = {4789};
    o.geneve_ports = {};
    o.tzsp_ports = {};
    o.handoff = {
        HandoffLink{static_cast<int>(if_nametoindex("lo")), {*IpAddress::parse("127.0.0.1")}}};
    auto first = SocketSource::open(o);
    ASSERT_TRUE(first) << first.error().message;
    auto second = SocketSource::open(o);  // would join the SO_REUSEPORT group without the probe
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ExitCode::kAddressInUse);
  });
}

TEST(SocketSource, HandOffFilterRefusesListsTooLongForBpfJumps) {
  std::vector<IpAddress> many;
  for (std::uint32_t i = 0; i < 65; ++i) many.push_back(IpAddress::v4(0xc6120000u + i));
  auto p = handoff_filter({HandoffLink{1, many}});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ExitCode::kUsage);
  EXPECT_FALSE(handoff_filter(std::vector<HandoffLink>(65, HandoffLink{1, {many[0]}})));
  many.pop_back();
  auto ok = handoff_filter({HandoffLink{1, many}, HandoffLink{2, {many[0]}}});
  ASSERT_TRUE(ok);
  // ifindex load; per link: compare, address load, (compare, drop) per address, keep; final keep.
  EXPECT_EQ(ok->size(), 1u + (1 + 1 + 2 * 64 + 1) + (1 + 1 + 2 + 1) + 1);
}

TEST(SocketSource, PortInUseIsAClearError) {
  RUN_IN_NETNS([] {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_port = htons(4789);
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
    SocketSourceOptions o;
    o.ipv6 = false;
    auto src = SocketSource::open(o);
    close(s);
    ASSERT_FALSE(src);
    EXPECT_EQ(src.error().code, ExitCode::kAddressInUse);
    EXPECT_NE(src.error().message.find("4789"), std::string::npos) << src.error().message;
  });
}

TEST(SocketSource, ListenOnForeignAddressIsAConfigError) {
  RUN_IN_NETNS([] {
    SocketSourceOptions o;
    o.listen = IpAddress::parse("198.18.200.1");
    auto src = SocketSource::open(o);
    ASSERT_FALSE(src);
    EXPECT_EQ(src.error().code, ExitCode::kConfig) << src.error().message;
  });
}

// Counts ICMP "destination unreachable" (type 3) with the given code arriving on 127.0.0.1 within
// 300 ms.
int count_unreachable(int icmp_fd, int code) {
  int n = 0;
  pollfd p{icmp_fd, POLLIN, 0};
  while (poll(&p, 1, 300) > 0) {
    std::array<std::uint8_t, 2048> buf{};
    ssize_t r = recv(icmp_fd, buf.data(), buf.size(), 0);
    if (r < 28) continue;
    std::size_t ihl = (buf[0] & 0x0fu) * 4u;
    if (buf[ihl] == 3 && buf[ihl + 1] == code) ++n;
  }
  return n;
}

TEST(SocketSource, OpenSocketsSuppressIcmpUnreachable) {
  RUN_IN_NETNS([] {
    int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    ASSERT_GE(icmp, 0);
    auto send_udp = [] {
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(4789);
      inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
      const std::uint8_t b[16] = {0x08};
      sendto(s, b, sizeof b, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      close(s);
    };
    // Baseline: nobody listens -> the kernel answers (this kernel has no GRE handler, §0 of
    // peers/README.md). Loopback is exempt from ICMP rate limiting.
    send_udp();
    EXPECT_EQ(count_unreachable(icmp, 3), 1);  // port unreachable for 4789

    SocketSourceOptions o;
    o.ipv6 = false;
    o.guard_only = true;  // even a reject-all socket keeps the kernel quiet
    auto src = SocketSource::open(o);
    ASSERT_TRUE(src) << src.error().message;
    send_udp();
    EXPECT_EQ(count_unreachable(icmp, 3), 0);
    std::vector<Datagram> got(8);
    EXPECT_EQ(src->receive(index_of(*src, SocketKind::kVxlan), got), 0u);  // filtered out
    close(icmp);
  });
}

TEST(SocketSource, WithoutRawSocketGreGetsProtocolUnreachableAndWithItNone) {
  RUN_IN_NETNS([] {
    int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    ASSERT_GE(icmp, 0);
    // Send GRE with a UDP-free path that opens no raw GRE socket in this namespace: a packet
    // socket on lo would need Ethernet framing, so use IP_HDRINCL on a raw IPPROTO_RAW socket.
    auto send_gre_hdrincl = [] {
      int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
      std::vector<std::uint8_t> pkt(20, 0);
      auto gre = gre_packet(5, 5);
      pkt.insert(pkt.end(), gre.begin(), gre.end());
      pkt[0] = 0x45;
      pkt[8] = 64;
      pkt[9] = 47;
      store_be16(pkt, 2, static_cast<std::uint16_t>(pkt.size()));
      inet_pton(AF_INET, "127.0.0.1", pkt.data() + 12);
      inet_pton(AF_INET, "127.0.0.1", pkt.data() + 16);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sendto(s, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      close(s);
    };
    send_gre_hdrincl();
    EXPECT_EQ(count_unreachable(icmp, 2), 1);  // protocol 47 unreachable
    {
      SocketSourceOptions o;
      o.ipv6 = false;
      o.vxlan_ports = o.geneve_ports = o.tzsp_ports = {};
      auto src = SocketSource::open(o);
      ASSERT_TRUE(src) << src.error().message;
      send_gre_hdrincl();
      EXPECT_EQ(count_unreachable(icmp, 2), 0);
      std::vector<Datagram> got;
      EXPECT_EQ(wait_receive(*src, 0, got), 1u);
    }
    close(icmp);
  });
}

}  // namespace
}  // namespace portmirror::io
