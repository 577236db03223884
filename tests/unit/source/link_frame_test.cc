// The frames io::PacketSender puts on the wire: an Ethernet header, then the outer IP + tunnel
// header the engine's EncapTemplate wrote (TxSlot::ip_header_len bytes before TxSlot::header), then
// the mirrored bytes. Nothing in the kernel fixes these up, so every field the raw socket's kernel
// used to fill is checked here: IPv4 total length, identification (one per copy), DF, TTL, DSCP
// and header checksum; IPv6 payload length, hop limit, traffic class; the UDP checksum of VXLAN
// over IPv6 (mandatory, RFC 8200 §8.1) and 0 over IPv4 (RFC 7348 §5). Checked with our wire/
// views, our Decapsulator (inner bytes equal the original) and tshark with checksum validation on.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/source/mirror_engine.h"
#include "portmirror/wire/checksum.h"
#include "portmirror/wire/ethernet.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"
#include "portmirror/wire/udp.h"
#include "source_test_util.h"
#include "support/shell.h"

namespace portmirror::source {
namespace {

IpAddress ip(const char* s) {
  return IpAddress::parse(s).value();
}

struct Case {
  const char* description;
  config::EncapKind encap;
  bool v6;
  const char* tshark_fields;  // separated by " -e "
  const char* tshark_want;
};

// What PacketSender::send gathers from its three iovecs.
std::vector<std::uint8_t> link_frame(const TxSlot& s, bool v6) {
  wire::EthernetHeader eth;
  eth.destination = {2, 0, 0, 0, 0, 2};
  eth.source = {2, 0, 0, 0, 0, 1};
  eth.ethertype = v6 ? wire::ethertype::kIpv6 : wire::ethertype::kIpv4;
  std::vector<std::uint8_t> f(eth.size());
  eth.write_to(MutableByteSpan(f));
  f.insert(f.end(), s.header - s.ip_header_len, s.header + s.header_len);
  f.insert(f.end(), s.payload, s.payload + s.payload_len);
  return f;
}

void write_pcap(const std::string& path, const std::vector<std::vector<std::uint8_t>>& frames) {
  std::ofstream f(path, std::ios::binary);
  const std::uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
  f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  std::uint32_t n = 0;
  for (const auto& b : frames) {
    const std::uint32_t rec[4] = {1700000000, n++, static_cast<std::uint32_t>(b.size()),
                                  static_cast<std::uint32_t>(b.size())};
    f.write(reinterpret_cast<const char*>(rec), sizeof rec);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
}

class LinkFrame : public ::testing::TestWithParam<Case> {};

TEST_P(LinkFrame, HeadersCompleteAndChecksummed) {
  const Case& c = GetParam();
  config::MirrorConfig cfg;
  cfg.interfaces.push_back({"eth1", "", config::Direction::kInput, ""});
  config::MirrorInstance inst;
  config::TunnelConfig t;
  t.encap = c.encap;
  t.destination = ip(c.v6 ? "2001:db8:1::2" : "198.18.1.2");
  t.ttl = 9;
  t.dscp = 10;
  t.sequence = true;
  t.checksum = c.encap == config::EncapKind::kGre;
  t.key = 77;
  t.erspan_session = 300;
  t.vni = 4242;
  inst.outputs.push_back(t);
  cfg.instances.push_back(inst);
  const IpAddress src = ip(c.v6 ? "2001:db8:1::1" : "198.18.1.1");
  auto eng = MirrorEngine::create(cfg, {{OutputRoute{src, 1500}}}, 0).value();

  std::vector<std::vector<std::uint8_t>> originals;
  for (std::size_t i = 0; i < 4; ++i) {
    originals.push_back(testing::udp_frame("10.0.0.1", "10.0.0.2", static_cast<std::uint16_t>(i),
                                           18255, 18 + 300 * i));
  }
  Frame f;
  for (const auto& o : originals) {
    f.data = ByteSpan(o);
    f.orig_len = static_cast<std::uint32_t>(o.size());
    eng->process(f, 0, false, 0);
  }
  ASSERT_EQ(eng->slot_count(0), originals.size());

  collector::Decapsulator d({});
  std::vector<std::vector<std::uint8_t>> frames;
  std::uint16_t first_id = 0;
  for (std::size_t i = 0; i < originals.size(); ++i) {
    const TxSlot& s = eng->slots(0)[i];
    ASSERT_EQ(s.ip_header_len, c.v6 ? 40u : 20u);
    const auto frame = link_frame(s, c.v6);
    frames.push_back(frame);
    const ByteSpan l3 = ByteSpan(frame).subspan(14);
    const auto eth = wire::EthernetView::parse(ByteSpan(frame));
    ASSERT_TRUE(eth.has_value());
    EXPECT_EQ(eth->ethertype(), c.v6 ? wire::ethertype::kIpv6 : wire::ethertype::kIpv4);
    const std::uint8_t proto = c.encap == config::EncapKind::kVxlan ? 17 : 47;
    if (!c.v6) {
      const auto v = wire::Ipv4View::parse(l3);
      ASSERT_TRUE(v.has_value());
      EXPECT_TRUE(v->header_checksum_valid()) << c.description << " copy " << i;
      EXPECT_EQ(v->total_length(), l3.size());
      if (i == 0) first_id = v->identification();
      EXPECT_EQ(v->identification(), static_cast<std::uint16_t>(first_id + i));
      EXPECT_TRUE(v->dont_fragment());
      EXPECT_FALSE(v->is_fragment());
      EXPECT_EQ(v->time_to_live(), 9);
      EXPECT_EQ(v->dscp(), 10);
      EXPECT_EQ(v->protocol(), proto);
      EXPECT_EQ(IpAddress::v4(v->source()), src);
      EXPECT_EQ(IpAddress::v4(v->destination()), t.destination);
      if (proto == 17) {
        EXPECT_EQ(wire::UdpView::parse(v->payload())->checksum(), 0);
      }
    } else {
      const auto v = wire::Ipv6View::parse(l3);
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(v->payload_length(), l3.size() - 40);
      EXPECT_EQ(v->hop_limit(), 9);
      EXPECT_EQ(v->traffic_class(), 40);
      EXPECT_EQ(v->next_header(), proto);
      EXPECT_EQ(IpAddress::v6(v->source()), src);
      if (proto == 17) {
        // RFC 8200 §8.1 pseudo-header + UDP datagram sums to 0xFFFF when the checksum is right.
        const ByteSpan udp = v->payload();
        std::uint32_t sum = wire::checksum_add(l3.subspan(8, 32));
        sum += static_cast<std::uint32_t>(udp.size()) + 17;
        sum = wire::checksum_add(udp, sum);
        EXPECT_EQ(wire::checksum_fold(sum), 0) << "copy " << i;
        EXPECT_NE(wire::UdpView::parse(udp)->checksum(), 0);
      }
    }
    Frame outer;
    outer.data = ByteSpan(frame);
    outer.orig_len = static_cast<std::uint32_t>(frame.size());
    Decapsulated r;
    ASSERT_EQ(d.decapsulate(outer, r).status, collector::DecapStatus::kInner);
    const auto& orig = originals[i];
    const std::vector<std::uint8_t> want =
        c.encap == config::EncapKind::kGre
            ? std::vector<std::uint8_t>(orig.begin() + 14, orig.end())
            : orig;
    EXPECT_EQ(std::vector<std::uint8_t>(r.inner.begin(), r.inner.end()), want)
        << c.description << " copy " << i;
  }

  if (!portmirror::testing::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  const std::string pcap = std::string(PM_BINARY_DIR) + "/source_test_link_" +
                           std::to_string(static_cast<int>(c.encap)) + (c.v6 ? "_v6" : "_v4") +
                           ".pcap";
  write_pcap(pcap, frames);
  // -E occurrence=f: the first (outer) value of each field; the case lists only fields whose first
  // occurrence is the outer header. Checksum status 1 = good; no expert info at all (a bad checksum
  // would add an error).
  const std::string out = portmirror::testing::output_of(
      "tshark -r " + pcap +
      " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields"
      " -E occurrence=f -E separator=' ' -e " +
      c.tshark_fields + " -e _ws.expert.severity");
  std::string want;
  for (std::size_t i = 0; i < frames.size(); ++i) want += std::string(c.tshark_want) + " \n";
  EXPECT_EQ(out, want) << c.description;
}

INSTANTIATE_TEST_SUITE_P(
    AllEncaps, LinkFrame,
    ::testing::Values(
        Case{"gre_v4", config::EncapKind::kGre, false,
             "ip.checksum.status -e gre.checksum.status -e gre.key", "1 1 0x0000004d"},
        Case{"gre_v6", config::EncapKind::kGre, true, "ipv6.nxt -e gre.checksum.status -e gre.key",
             "47 1 0x0000004d"},
        Case{"gre_eth_v4", config::EncapKind::kGreEth, false,
             "ip.checksum.status -e gre.proto -e gre.key", "1 0x6558 0x0000004d"},
        Case{"erspan2_v4", config::EncapKind::kErspan2, false,
             "ip.checksum.status -e erspan.version -e erspan.spanid", "1 1 300"},
        Case{"erspan3_v4", config::EncapKind::kErspan3, false,
             "ip.checksum.status -e erspan.version -e erspan.spanid", "1 2 300"},
        Case{"erspan3_v6", config::EncapKind::kErspan3, true,
             "ipv6.nxt -e erspan.version -e erspan.spanid", "47 2 300"},
        // Over IPv4 the outer UDP checksum is 0 (RFC 7348 §5); over IPv6 it is verified good.
        Case{"vxlan_v4", config::EncapKind::kVxlan, false,
             "ip.checksum.status -e udp.checksum -e vxlan.vni", "1 0x0000 4242"},
        Case{"vxlan_v6", config::EncapKind::kVxlan, true,
             "ipv6.nxt -e udp.checksum.status -e vxlan.vni", "17 1 4242"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.description); });

}  // namespace
}  // namespace portmirror::source
