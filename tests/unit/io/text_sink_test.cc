// The capture text printer against tcpdump 4.99.3's own output for the same packets
// (tests/data/capture/, regenerated with the commands in its README).
#include "portmirror/io/text_sink.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace portmirror::io {
namespace {

struct Packet {
  std::vector<std::uint8_t> bytes;
  std::uint32_t orig_len;
  TimestampNs ts;
};

std::vector<Packet> read_pcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  std::vector<Packet> out;
  if (!p) return out;
  pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  while (pcap_next_ex(p, &h, &d) == 1) {
    out.push_back(Packet{std::vector<std::uint8_t>(d, d + h->caplen), h->len,
                         h->ts.tv_sec * kNsPerSec + h->ts.tv_usec * 1000});
  }
  pcap_close(p);
  return out;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> v;
  for (std::string l; std::getline(f, l);) v.push_back(l);
  return v;
}

const std::string kDir = std::string(PM_SOURCE_DIR) + "/tests/data/capture/";

std::string inner_line(const Packet& p, const TextOptions& o) {
  char buf[512];
  std::size_t n =
      format_inner(p.bytes, LinkType::kEthernet, p.orig_len, p.ts, o, std::span<char>(buf));
  return std::string(buf, n);
}

TEST(TextSink, MatchesTcpdumpAbsoluteSeqNumeric) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  auto want = read_lines(kDir + "inner-mix.tcpdump-S-nn.txt");
  ASSERT_EQ(pk.size(), want.size());
  // Lines where tcpdump decodes the application layer (HTTP, DNS, OSPF), which we do not.
  std::map<std::size_t, std::string> ours = {
      {5,
       "22:13:25.123456 IP 10.1.1.1.40000 > 10.1.1.2.8080: Flags [P.], seq 1001:1019, ack 5001, "
       "win 502, length 18"},
      {8, "22:13:28.123456 IP6 2001:db8::1.5353 > 2001:db8::2.9999: UDP, length 5"},
      {14, "22:13:34.123456 IP 10.3.3.1 > 10.3.3.2: ip-proto-89 20"},
      {17, "22:13:37.123456 IP 10.4.4.1.53 > 10.4.4.2.33333: UDP, length 12"},
  };
  TextOptions o;
  o.numeric = true;
  o.utc = true;
  for (std::size_t i = 0; i < pk.size(); ++i) {
    std::string expect = ours.count(i) ? ours[i] : want[i];
    EXPECT_EQ(inner_line(pk[i], o), expect) << "packet " << i;
  }
}

TEST(TextSink, MatchesTcpdumpQuiet) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  auto want = read_lines(kDir + "inner-mix.tcpdump-q-n.txt");
  ASSERT_EQ(pk.size(), want.size());
  TextOptions o;
  o.numeric = true;
  o.quiet = true;
  o.utc = true;
  for (std::size_t i = 0; i < pk.size(); ++i) {
    std::string expect =
        i == 14 ? "22:13:34.123456 IP 10.3.3.1 > 10.3.3.2: ip-proto-89 20" : want[i];
    EXPECT_EQ(inner_line(pk[i], o), expect) << "packet " << i;
  }
}

// tcpdump -v prints a packet on several lines (IPv4: the header, then "    " and the packet);
// groups them per packet.
std::vector<std::string> read_packets(const std::string& path) {
  std::vector<std::string> v;
  for (const auto& l : read_lines(path)) {
    if (!v.empty() && !l.empty() && (l[0] == ' ' || l[0] == '\t')) {
      v.back() += "\n" + l;
    } else if (!v.empty() && l.empty()) {
      v.back() += "\n";
    } else {
      v.push_back(l);
    }
  }
  return v;
}

TEST(TextSink, VerboseMatchesTcpdumpVerbose) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  auto want = read_packets(kDir + "inner-mix.tcpdump-v-S-nn.txt");
  ASSERT_EQ(pk.size(), want.size());
  // Application-layer decodes (HTTP, DNS, OSPF), which we do not do; the IP part is tcpdump's.
  std::map<std::size_t, std::string> ours = {
      {5,
       "22:13:25.123456 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto TCP (6), length "
       "58)\n    10.1.1.1.40000 > 10.1.1.2.8080: Flags [P.], cksum 0xe5dd (correct), seq "
       "1001:1019, "
       "ack 5001, win 502, length 18"},
      {8,
       "22:13:28.123456 IP6 (hlim 64, next-header UDP (17) payload length: 13) "
       "2001:db8::1.5353 > 2001:db8::2.9999: [udp sum ok] UDP, length 5"},
      {14,
       "22:13:34.123456 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto OSPF (89), "
       "length 40)\n    10.3.3.1 > 10.3.3.2: ip-proto-89 20"},
      {17,
       "22:13:37.123456 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length "
       "40)\n    10.4.4.1.53 > 10.4.4.2.33333: UDP, length 12"},
  };
  TextOptions o;
  o.numeric = true;
  o.verbose = 1;
  o.utc = true;
  for (std::size_t i = 0; i < pk.size(); ++i) {
    std::string expect = ours.count(i) ? ours[i] : want[i];
    EXPECT_EQ(inner_line(pk[i], o), expect) << "packet " << i;
  }
}

TEST(TextSink, VerboseReportsWrongChecksumsAsTcpdumpDoes) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  TextOptions o;
  o.numeric = true;
  o.verbose = 1;
  o.utc = true;
  // Packet 3: TCP SYN (checksum 0xdf34); packet 1: ICMP echo; packet 10: TCP over IPv6.
  Packet tcp = pk[3];
  tcp.bytes[14 + 20 + 16] ^= 0x01;  // TCP checksum 0xdf34 -> 0xde34
  tcp.bytes[14 + 10] ^= 0x01;       // and the IPv4 header checksum
  const std::string l = inner_line(tcp, o);
  EXPECT_NE(l.find(", cksum 0xde34 (incorrect -> 0xdf34)"), std::string::npos) << l;
  EXPECT_NE(l.find(", bad cksum "), std::string::npos) << l;
  Packet icmp = pk[1];
  icmp.bytes[14 + 20 + 2] ^= 0x01;
  EXPECT_NE(inner_line(icmp, o).find("length 64 (wrong icmp cksum "), std::string::npos);
  Packet udp6 = pk[8];
  udp6.bytes[14 + 40 + 6] ^= 0x01;
  EXPECT_NE(inner_line(udp6, o).find("[bad udp cksum 0x"), std::string::npos);
}

TEST(TextSink, VerboseTunnelPrefixShowsEveryTunnelField) {
  char buf[512];
  TextOptions o;
  o.verbose = 1;
  TunnelInfo t;
  t.encap = Encap::kGre;
  t.outer_src = *IpAddress::parse("198.18.1.1");
  t.outer_dst = *IpAddress::parse("198.18.1.2");
  t.has_outer_ttl = true;
  t.outer_ttl = 63;
  t.gre_flags = 0xB000;  // C K S
  t.gre_proto = 0x6558;
  t.has_id = true;
  t.id = 0x1234;
  t.has_seq = true;
  t.seq = 7;
  t.gre_checksum_bad = true;
  std::size_t n = format_tunnel(t, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n),
            "gre 198.18.1.1 > 198.18.1.2 key 0x1234 seq 7 ttl 63 flags [CKS] proto 0x6558 "
            "bad-csum");
  t = TunnelInfo{};
  t.encap = Encap::kErspan2;
  t.outer_src = *IpAddress::parse("2001:db8::1");
  t.outer_dst = *IpAddress::parse("2001:db8::2");
  t.has_outer_ttl = true;
  t.outer_ttl = 255;
  t.gre_flags = 0x1000;
  t.has_id = true;
  t.id = 101;
  t.has_seq = true;
  t.seq = 3;
  t.erspan.index = 9;
  t.erspan.vlan = 100;
  t.erspan.cos = 5;
  t.erspan.en_or_bso = 3;
  t.erspan.truncated = true;
  n = format_tunnel(t, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n),
            "erspan2 2001:db8::1 > 2001:db8::2 session 101 seq 3 hlim 255 flags [S] index 9 vlan "
            "100 cos 5 en 3 truncated");
  t = TunnelInfo{};
  t.encap = Encap::kVxlan;
  t.outer_src = *IpAddress::parse("198.18.1.1");
  t.outer_dst = *IpAddress::parse("198.18.1.2");
  t.has_id = true;
  t.id = 5000;
  t.outer_udp_src = 49153;
  t.outer_udp_dst = 4789;
  t.vxlan_flags = 0x08;
  n = format_tunnel(t, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n),
            "vxlan 198.18.1.1 > 198.18.1.2 vni 5000 seq - udp 49153 > 4789 flags 0x08");
  t.encap = Encap::kGeneve;
  t.id = 6000;
  t.outer_udp_dst = 6081;
  t.gre_proto = 0x6558;
  t.geneve_options = 2;
  t.geneve_options_words = 3;
  t.geneve_critical = true;
  n = format_tunnel(t, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n),
            "geneve 198.18.1.1 > 198.18.1.2 vni 6000 seq - udp 49153 > 6081 options 2 (12 bytes) "
            "proto 0x6558 critical");
}

TEST(TextSink, RawIpInnerAndTunnelPrefix) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  ASSERT_FALSE(pk.empty());
  Decapsulated d;
  d.tunnel.encap = Encap::kGre;
  d.tunnel.outer_src = *IpAddress::parse("192.168.50.10");
  d.tunnel.outer_dst = *IpAddress::parse("192.168.51.20");
  d.tunnel.has_seq = true;
  d.tunnel.seq = 12;
  // L3 GRE carries the bare IPv4 packet (LINKTYPE_RAW).
  d.inner = ByteSpan(pk[0].bytes).subspan(14);
  d.inner_link = LinkType::kRaw;
  d.inner_orig_len = static_cast<std::uint32_t>(d.inner.size());
  TextOptions o;
  o.numeric = true;
  o.utc = true;
  char buf[512];
  std::size_t n = format_packet_line(d, pk[0].ts, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n),
            "gre 192.168.50.10 key - seq 12 | 22:13:20.123456 IP 192.168.70.5.49378 > "
            "10.0.45.8.18252: UDP, length 18");

  d.tunnel.encap = Encap::kErspan3;
  d.tunnel.has_id = true;
  d.tunnel.id = 102;
  d.tunnel.erspan.hw_id = 4;
  d.tunnel.erspan.direction_egress = true;
  d.tunnel.erspan.gra = 3;
  o.verbose = 1;
  n = format_tunnel(d.tunnel, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n),
            "erspan3 192.168.50.10 > 192.168.51.20 session 102 seq 12 flags [none] vlan 0 cos 0 "
            "bso 0 sgt 0 ft 0 hw 4 dir egress gra 3 ts 0");
  d.tunnel = TunnelInfo{};
  d.tunnel.encap = Encap::kVxlan;
  d.tunnel.outer_src = *IpAddress::parse("2001:db8::5");
  d.tunnel.has_id = true;
  d.tunnel.id = 5000;
  o.verbose = 0;
  n = format_tunnel(d.tunnel, o, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n), "vxlan 2001:db8::5 vni 5000 seq -");
}

TEST(TextSink, PortNamesWithoutNumericFlag) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  ASSERT_EQ(pk.size(), 18u);
  TextOptions o;
  o.utc = true;
  EXPECT_EQ(inner_line(pk[17], o),
            "22:13:37.123456 IP 10.4.4.1.domain > 10.4.4.2.33333: UDP, length 12");
}

TEST(TextSink, NeverReadsOutOfBoundsOnTruncatedInnerPackets) {
  // Every prefix of every packet, both link types: must not crash (ASan checks reads) and must
  // produce a bounded line.
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  TextOptions o;
  o.verbose = 1;
  char buf[128];
  for (const auto& p : pk) {
    for (std::size_t cut = 0; cut <= p.bytes.size(); ++cut) {
      std::vector<std::uint8_t> b(p.bytes.begin(),
                                  p.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      for (LinkType l : {LinkType::kEthernet, LinkType::kRaw}) {
        ByteSpan s = b;
        if (l == LinkType::kRaw) s = cut > 14 ? s.subspan(14) : ByteSpan{};
        std::size_t n = format_inner(s, l, p.orig_len, p.ts, o, std::span<char>(buf));
        EXPECT_LE(n, sizeof buf);
        EXPECT_GT(n, 16u);
      }
    }
  }
}

TEST(TextSink, WritesOneLinePerPacket) {
  auto pk = read_pcap(kDir + "inner-mix.pcap");
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  TextSink sink(TextOptions{true, false, 0, true}, f);
  collector::Session s;
  for (const auto& p : pk) {
    Decapsulated d;
    d.inner = p.bytes;
    d.inner_orig_len = p.orig_len;
    ASSERT_TRUE(sink.write(s, d, p.ts));
  }
  ASSERT_TRUE(sink.flush());
  EXPECT_EQ(sink.lines(), pk.size());
  std::rewind(f);
  int newlines = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) newlines += c == '\n';
  EXPECT_EQ(newlines, static_cast<int>(pk.size()));
  std::fclose(f);
}

}  // namespace
}  // namespace portmirror::io
