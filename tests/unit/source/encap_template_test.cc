// EncapTemplate: every field we emit, checked three ways: by reading the bytes back with our own
// Decapsulator (collector/), by tshark from a pcap the test writes (the reference decoder;
// skipped when tshark is missing), and against the protocol constants in protocols.md.
#include "portmirror/source/encap_template.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/wire/checksum.h"
#include "source_test_util.h"
#include "support/shell.h"

namespace portmirror::source {
namespace {

using portmirror::testing::PacketBuilder;

IpAddress ip(const char* s) {
  return IpAddress::parse(s).value();
}

// Outer frame = Ethernet + template output + payload.
std::vector<std::uint8_t> encap(EncapTemplate& t, const std::vector<std::uint8_t>& payload,
                                const EncapMeta& m) {
  std::vector<std::uint8_t> out(14 + t.size() + payload.size());
  const std::uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, 0};
  std::memcpy(out.data(), eth, 14);
  const bool v6 = t.tunnel_offset() == 40;
  out[12] = v6 ? 0x86 : 0x08;
  out[13] = v6 ? 0xDD : 0x00;
  EXPECT_EQ(t.write(MutableByteSpan(out.data() + 14, t.size()), ByteSpan(payload), m), t.size());
  std::memcpy(out.data() + 14 + t.size(), payload.data(), payload.size());
  return out;
}

struct Pcap {
  explicit Pcap(const std::string& path) : f(path, std::ios::binary) {
    const std::uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  }
  void add(const std::vector<std::uint8_t>& b) {
    const std::uint32_t rec[4] = {1700000000, n++, static_cast<std::uint32_t>(b.size()),
                                  static_cast<std::uint32_t>(b.size())};
    f.write(reinterpret_cast<const char*>(rec), sizeof rec);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    f.flush();
  }
  std::ofstream f;
  std::uint32_t n = 0;
};

// Runs tshark over `pcap`; one line per packet with the fields tab-separated. "" if no tshark.
std::string tshark_fields(const std::string& pcap, const std::string& fields) {
  if (!portmirror::testing::have_tool("tshark")) return "";
  std::string cmd = "tshark -r " + pcap + " -T fields -E separator=' '";
  std::istringstream in(fields);
  std::string f;
  while (in >> f) cmd += " -e " + f;
  return portmirror::testing::output_of(cmd);
}

std::string tmp(const std::string& name) {
  return std::string(PM_BINARY_DIR) + "/source_test_" + name + ".pcap";
}

Decapsulated decap(collector::Decapsulator& d, const std::vector<std::uint8_t>& outer) {
  Frame f;
  f.data = ByteSpan(outer);
  f.orig_len = static_cast<std::uint32_t>(outer.size());
  Decapsulated out;
  const auto r = d.decapsulate(f, out);
  EXPECT_EQ(r.status, collector::DecapStatus::kInner);
  return out;
}

const std::vector<std::uint8_t> kInner = testing::udp_frame("10.0.0.1", "10.0.0.2", 1234, 5678, 40);

TEST(EncapTemplate, GreIpPayloadWithKeySequenceChecksum) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kGre;
  c.destination = ip("198.18.1.2");
  c.key = 0x1234;
  c.sequence = true;
  c.checksum = true;
  c.ttl = 17;
  c.dscp = 46;
  auto t = EncapTemplate::build(c, ip("198.18.1.1")).value();
  EXPECT_EQ(t.size(), 20u + 16u);
  EXPECT_TRUE(t.carries_ip());
  const std::vector<std::uint8_t> v4(kInner.begin() + 14, kInner.end());
  const auto v6f =
      PacketBuilder().eth().ipv6("2001:db8::1", "2001:db8::2").udp(1, 2).payload(8).build();
  const std::vector<std::uint8_t> v6(v6f.begin() + 14, v6f.end());
  collector::Decapsulator d({});
  Pcap pcap(tmp("gre"));
  for (int i = 0; i < 3; ++i) {
    auto o = encap(t, i == 2 ? v6 : v4, {});
    pcap.add(o);
    // Outer IPv4 header checksum valid; GRE checksum valid over header + payload.
    EXPECT_TRUE(wire::checksum_valid(ByteSpan(o.data() + 14, 20)));
    EXPECT_TRUE(wire::checksum_valid(ByteSpan(o.data() + 34, o.size() - 34)));
    EXPECT_EQ(o[14 + 8], 17);           // TTL
    EXPECT_EQ(o[14 + 1] >> 2, 46);      // DSCP
    EXPECT_EQ(o[14 + 6] & 0x40, 0x40);  // DF (MTU policy clip)
    auto r = decap(d, o);
    EXPECT_EQ(r.tunnel.encap, Encap::kGre);
    EXPECT_TRUE(r.tunnel.has_id);
    EXPECT_EQ(r.tunnel.id, 0x1234u);
    EXPECT_EQ(r.tunnel.seq, static_cast<std::uint32_t>(i));
    EXPECT_FALSE(r.tunnel.gre_checksum_bad);
    EXPECT_EQ(r.inner_link, LinkType::kRaw);
    EXPECT_EQ(r.tunnel.gre_proto, i == 2 ? 0x86DD : 0x0800);
    EXPECT_EQ(std::vector<std::uint8_t>(r.inner.begin(), r.inner.end()), i == 2 ? v6 : v4);
  }
  if (!portmirror::testing::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  EXPECT_EQ(
      tshark_fields(tmp("gre"), "gre.key gre.sequence_number gre.checksum.status gre.proto ip.ttl"),
      "0x00001234 0 1 0x0800 17,64\n0x00001234 1 1 0x0800 17,64\n0x00001234 2 1 0x86dd 17\n");
}

TEST(EncapTemplate, GreEthernetPayload) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kGreEth;
  c.destination = ip("198.18.1.2");
  auto t = EncapTemplate::build(c, ip("198.18.1.1")).value();
  EXPECT_EQ(t.size(), 24u);
  collector::Decapsulator d({});
  auto o = encap(t, kInner, {});
  auto r = decap(d, o);
  EXPECT_EQ(r.tunnel.gre_proto, 0x6558);
  EXPECT_EQ(r.inner_link, LinkType::kEthernet);
  EXPECT_EQ(std::vector<std::uint8_t>(r.inner.begin(), r.inner.end()), kInner);
  EXPECT_FALSE(r.tunnel.has_seq);
}

TEST(EncapTemplate, Erspan2SessionIndexVlanTruncated) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kErspan2;
  c.destination = ip("198.18.1.2");
  c.erspan_session = 1000;
  c.erspan_index = 0xABCDE;
  auto t = EncapTemplate::build(c, ip("198.18.1.1")).value();
  EXPECT_EQ(t.size(), 20u + 8u + 8u);
  auto tagged =
      PacketBuilder().eth().vlan(100).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(100).build();
  std::vector<std::uint8_t> cut(tagged.begin(), tagged.begin() + 64);
  EncapMeta m;
  m.vlan = true;
  m.vlan_tci = (5 << 13) | 100;
  m.truncated = true;
  collector::Decapsulator d({});
  Pcap pcap(tmp("erspan2"));
  for (int i = 0; i < 2; ++i) {
    auto o = encap(t, cut, m);
    pcap.add(o);
    auto r = decap(d, o);
    EXPECT_EQ(r.tunnel.encap, Encap::kErspan2);
    EXPECT_EQ(r.tunnel.id, 1000u);
    EXPECT_EQ(r.tunnel.seq, static_cast<std::uint32_t>(i));
    EXPECT_EQ(r.tunnel.erspan.version, 1);
    EXPECT_EQ(r.tunnel.erspan.index, 0xABCDEu);
    EXPECT_EQ(r.tunnel.erspan.vlan, 100);
    EXPECT_EQ(r.tunnel.erspan.cos, 5);
    EXPECT_EQ(r.tunnel.erspan.en_or_bso, 3);  // tag preserved in the frame
    EXPECT_TRUE(r.tunnel.erspan.truncated);
    EXPECT_EQ(r.inner.size(), 64u);
  }
  // GRE carries only S (protocols.md §2.9): flags word 0x1000.
  auto o = encap(t, cut, m);
  EXPECT_EQ(load_be16(ByteSpan(o), 34), 0x1000);
  EXPECT_EQ(load_be16(ByteSpan(o), 36), 0x88BE);
  if (!portmirror::testing::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  EXPECT_EQ(tshark_fields(tmp("erspan2"),
                          "erspan.version erspan.spanid erspan.index erspan.vlan erspan.cos "
                          "erspan.encap erspan.truncated gre.sequence_number"),
            "1 1000 703710 100 5 3 1 0\n1 1000 703710 100 5 3 1 1\n");
}

TEST(EncapTemplate, Erspan3TimestampDirectionHwGranularityBso) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kErspan3;
  c.destination = ip("198.18.1.2");
  c.erspan_session = 7;
  c.erspan_hw_id = 42;
  c.erspan_gra = 1;  // 100 ns
  auto t = EncapTemplate::build(c, ip("198.18.1.1")).value();
  EXPECT_EQ(t.size(), 20u + 8u + 12u);
  EncapMeta m;
  m.egress = true;
  m.ts = 1'700'000'000'123'456'700;
  auto small =
      PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(2).build();  // 44 bytes
  collector::Decapsulator d({});
  Pcap pcap(tmp("erspan3"));
  auto o = encap(t, small, m);
  pcap.add(o);
  auto r = decap(d, o);
  EXPECT_EQ(r.tunnel.encap, Encap::kErspan3);
  EXPECT_EQ(r.tunnel.id, 7u);
  EXPECT_EQ(r.tunnel.erspan.version, 2);
  EXPECT_EQ(r.tunnel.erspan.hw_id, 42);
  EXPECT_TRUE(r.tunnel.erspan.direction_egress);
  EXPECT_EQ(r.tunnel.erspan.gra, 1);
  EXPECT_TRUE(r.tunnel.erspan.p);
  EXPECT_EQ(r.tunnel.erspan.ft, 0);
  EXPECT_EQ(r.tunnel.erspan.en_or_bso, 1);  // short frame (< 60 octets)
  EXPECT_EQ(r.tunnel.erspan.timestamp,
            static_cast<std::uint32_t>(1'700'000'000'123'456'700ull / 100));
  m.egress = false;
  m.ts = 1'700'000'000'000'000'000;
  c.erspan_gra = 0;
  auto t0 = EncapTemplate::build(c, ip("198.18.1.1")).value();
  auto o2 = encap(t0, kInner, m);
  pcap.add(o2);
  auto r2 = decap(d, o2);
  EXPECT_FALSE(r2.tunnel.erspan.direction_egress);
  EXPECT_EQ(r2.tunnel.erspan.timestamp,
            static_cast<std::uint32_t>(1'700'000'000'000'000'000ull / 100'000));
  if (!portmirror::testing::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  EXPECT_EQ(tshark_fields(tmp("erspan3"),
                          "erspan.version erspan.spanid erspan.hw erspan.direction erspan.gra "
                          "erspan.bso erspan.timestamp"),
            "2 7 42 1 1 1 " +
                std::to_string(static_cast<std::uint32_t>(1'700'000'000'123'456'700ull / 100)) +
                "\n2 7 42 0 0 0 " +
                std::to_string(static_cast<std::uint32_t>(1'700'000'000'000'000'000ull / 100'000)) +
                "\n");
}

TEST(EncapTemplate, VxlanVniAndFlowHashedSourcePort) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kVxlan;
  c.destination = ip("198.18.1.2");
  c.vni = 0xABCDEF;
  auto t = EncapTemplate::build(c, ip("198.18.1.1")).value();
  EXPECT_EQ(t.size(), 20u + 8u + 8u);
  EncapMeta m;
  m.flow_hash = flow_hash(testing::info_of(kInner));
  collector::Decapsulator d({});
  Pcap pcap(tmp("vxlan"));
  auto o = encap(t, kInner, m);
  pcap.add(o);
  auto r = decap(d, o);
  EXPECT_EQ(r.tunnel.encap, Encap::kVxlan);
  EXPECT_EQ(r.tunnel.id, 0xABCDEFu);
  EXPECT_EQ(r.tunnel.outer_udp_dst, 4789);
  EXPECT_GT(r.tunnel.outer_udp_src, 49152);
  EXPECT_EQ(std::vector<std::uint8_t>(r.inner.begin(), r.inner.end()), kInner);
  // The reverse direction of the flow takes the same source port.
  auto rev = testing::udp_frame("10.0.0.2", "10.0.0.1", 5678, 1234, 40);
  EXPECT_EQ(flow_hash(testing::info_of(rev)), m.flow_hash);
  EXPECT_EQ(load_be16(ByteSpan(o), 34 + 6), 0);  // UDP checksum 0 over IPv4
  if (!portmirror::testing::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  EXPECT_EQ(
      tshark_fields(tmp("vxlan"), "vxlan.vni udp.dstport udp.length"),
      "11259375 4789,5678 " + std::to_string(8 + 8 + kInner.size()) + ",48\n");  // outer, inner
}

TEST(EncapTemplate, Ipv6OuterGreAndVxlanChecksum) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kErspan2;
  c.destination = ip("2001:db8::2");
  c.erspan_session = 3;
  c.ttl = 5;
  auto t = EncapTemplate::build(c, ip("2001:db8::1")).value();
  EXPECT_EQ(t.tunnel_offset(), 40u);
  collector::Decapsulator d({});
  Pcap pcap(tmp("v6"));
  auto o = encap(t, kInner, {});
  pcap.add(o);
  auto r = decap(d, o);
  EXPECT_EQ(r.tunnel.encap, Encap::kErspan2);
  EXPECT_EQ(r.tunnel.outer_dst, ip("2001:db8::2"));
  c.encap = config::EncapKind::kVxlan;
  c.vni = 9;
  auto tv = EncapTemplate::build(c, ip("2001:db8::1")).value();
  auto ov = encap(tv, kInner, {});
  pcap.add(ov);
  auto rv = decap(d, ov);
  EXPECT_EQ(rv.tunnel.id, 9u);
  EXPECT_NE(load_be16(ByteSpan(ov), 14 + 40 + 6), 0);  // UDP checksum mandatory over IPv6
  if (!portmirror::testing::have_tool("tshark")) GTEST_SKIP() << "tshark not installed";
  const std::string out = tshark_fields(tmp("v6") + " -o udp.check_checksum:TRUE",
                                        "ipv6.hlim erspan.spanid vxlan.vni udp.checksum.status");
  // Outer UDP checksum good (1); the inner test frames carry none (3).
  EXPECT_EQ(out, "5 3  3\n5  9 1,3\n");
}

TEST(EncapTemplate, Keepalive) {
  config::TunnelConfig c;
  c.encap = config::EncapKind::kGre;
  c.destination = ip("198.18.1.2");
  c.key = 5;
  c.sequence = true;
  auto t = EncapTemplate::build(c, ip("198.18.1.1")).value();
  std::array<std::uint8_t, kMaxEncapHeader + 14> buf{};
  const std::size_t n = t.write_keepalive(MutableByteSpan(buf.data() + 14, kMaxEncapHeader));
  EXPECT_EQ(n, 20u + 12u);
  buf[12] = 0x08;
  std::vector<std::uint8_t> o(buf.begin(), buf.begin() + 14 + static_cast<long>(n));
  collector::Decapsulator d({});
  Frame f;
  f.data = ByteSpan(o);
  f.orig_len = static_cast<std::uint32_t>(o.size());
  Decapsulated out;
  EXPECT_EQ(d.decapsulate(f, out).status, collector::DecapStatus::kKeepalive);
  EXPECT_EQ(t.next_sequence(), 1u);
}

TEST(EncapTemplate, RejectsBadConfig) {
  config::TunnelConfig c;
  c.destination = ip("198.18.1.2");
  EXPECT_FALSE(EncapTemplate::build(c, ip("2001:db8::1")).has_value());  // family mismatch
  c.erspan_session = 1024;
  EXPECT_FALSE(EncapTemplate::build(c, ip("198.18.1.1")).has_value());
  c.erspan_session = 0;
  c.ttl = 0;
  EXPECT_FALSE(EncapTemplate::build(c, ip("198.18.1.1")).has_value());
}

}  // namespace
}  // namespace portmirror::source
