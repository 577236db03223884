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
            "erspan3 192.168.50.10 > 192.168.51.20 session 102 seq 12 hw 4 dir egress gra 3 ts 0");
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
