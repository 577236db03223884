// Decapsulator behaviour per encapsulation, flag and failure, on packets built with
// support/packet_builder.h. Every non-inner outcome must bump exactly one counter.
#include "portmirror/collector/decapsulator.h"

#include <gtest/gtest.h>

#include <array>

#include "support/packet_builder.h"

namespace portmirror::collector {
namespace {

using testing::make_frame;
using testing::PacketBuilder;
namespace w = portmirror::wire;

struct DecapRun {
  std::vector<std::uint8_t> bytes;  // owns what `out.inner` borrows (moves keep the buffer)
  DecapResult result;
  Decapsulated out;
  CounterSet<DecapCounter> counters;
};

DecapRun run(const std::vector<std::uint8_t>& bytes, DecapOptions opts = {},
             LinkType link = LinkType::kEthernet, std::uint32_t orig_len = 0) {
  // These tests exercise no reassembly: keep the reserved memory small (ASan poisons it on
  // allocation).
  if (opts.reassembly_max_bytes == DecapOptions{}.reassembly_max_bytes)
    opts.reassembly_max_bytes = 0;
  Decapsulator d(std::move(opts));
  DecapRun r;
  r.bytes = bytes;
  r.result = d.decapsulate(make_frame(r.bytes, link, 0, orig_len), r.out);
  r.counters = d.counters();
  // The contract: exactly one counter per dropped/held/keepalive frame, none for untunnelled.
  std::uint64_t drops = r.counters.total();
  for (auto info : {DecapCounter::kGreBadChecksum, DecapCounter::kIpLengthFromFrame,
                    DecapCounter::kErspanVersionMismatch, DecapCounter::kGeneveCritical,
                    DecapCounter::kFragReassembled}) {
    if (r.result.status == DecapStatus::kInner) drops -= r.counters.get(info);
  }
  if (r.result.status == DecapStatus::kInner || r.result.status == DecapStatus::kUntunnelled) {
    EXPECT_EQ(drops, 0u);
  } else {
    EXPECT_EQ(drops, 1u);
    EXPECT_EQ(r.counters.get(r.result.reason), 1u);
  }
  return r;
}

void expect_dropped(const DecapRun& r, DecapCounter why) {
  EXPECT_EQ(r.result.status, DecapStatus::kDropped);
  EXPECT_EQ(counter_name(r.result.reason), counter_name(why));
}

std::vector<std::uint8_t> inner_eth_frame() {
  return PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2", 6).payload(40).build();
}

// ---------------------------------------------------------------------------------------------
// GRE

TEST(DecapGre, Ipv4PayloadIsRawInnerAndTunnelInfoFilled) {
  const auto b = PacketBuilder()
                     .eth()
                     .ipv4("192.0.2.1", "192.0.2.2")
                     .gre({.key = 0xABCD, .sequence = 77})
                     .ipv4("10.0.0.1", "10.0.0.2", 1)
                     .payload(30)
                     .build();
  const DecapRun r = run(b);
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.inner_link, LinkType::kRaw);
  EXPECT_EQ(r.out.inner.size(), 50u);
  EXPECT_EQ(r.out.inner_orig_len, 50u);
  EXPECT_EQ(r.out.inner[0], 0x45);
  const TunnelInfo& t = r.out.tunnel;
  EXPECT_EQ(t.encap, Encap::kGre);
  EXPECT_EQ(t.outer_src.to_string(), "192.0.2.1");
  EXPECT_EQ(t.outer_dst.to_string(), "192.0.2.2");
  EXPECT_TRUE(t.has_id);
  EXPECT_EQ(t.id, 0xABCDu);
  EXPECT_TRUE(t.has_seq);
  EXPECT_EQ(t.seq, 77u);
  EXPECT_EQ(t.gre_proto, 0x0800);
  EXPECT_EQ(r.out.layers_removed, 1);
}

TEST(DecapGre, TebCarriesEthernetAndIpv6PayloadIsRaw) {
  const auto inner = inner_eth_frame();
  const DecapRun teb =
      run(PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(inner).build());
  ASSERT_EQ(teb.result.status, DecapStatus::kInner);
  EXPECT_EQ(teb.out.inner_link, LinkType::kEthernet);
  EXPECT_TRUE(std::equal(inner.begin(), inner.end(), teb.out.inner.begin(), teb.out.inner.end()));
  EXPECT_FALSE(teb.out.tunnel.has_id);

  const DecapRun v6 = run(PacketBuilder()
                              .eth()
                              .ipv4("192.0.2.1", "192.0.2.2")
                              .gre()
                              .ipv6("2001:db8::1", "2001:db8::2", 59)
                              .build());
  ASSERT_EQ(v6.result.status, DecapStatus::kInner);
  EXPECT_EQ(v6.out.inner_link, LinkType::kRaw);
  EXPECT_EQ(v6.out.inner.size(), 40u);
}

TEST(DecapGre, InnerEndsAtOuterIpLengthNotAtPaddingOrFcs) {
  const auto b = PacketBuilder()
                     .eth()
                     .ipv4("192.0.2.1", "192.0.2.2")
                     .gre()
                     .bytes(inner_eth_frame())
                     .trailer(4)  // outer FCS captured
                     .build();
  const DecapRun r = run(b);
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.inner.size(), inner_eth_frame().size());
  EXPECT_EQ(r.out.inner.back(), inner_eth_frame().back());
}

TEST(DecapGre, CaptureCutShortKeepsOriginalInnerLength) {
  auto b =
      PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(inner_eth_frame()).build();
  const auto full = static_cast<std::uint32_t>(b.size());
  b.resize(14 + 20 + 4 + 30);  // snaplen
  const DecapRun r = run(b, {}, LinkType::kEthernet, full);
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.inner.size(), 30u);
  EXPECT_EQ(r.out.inner_orig_len, inner_eth_frame().size());
}

// A mirror that cut its copies (Junos maximum-packet-length, ERSPAN T, MTU clip) sends whole
// tunnel packets whose inner IP header still gives the original length: the record keeps it.
TEST(DecapGre, CopyCutByTheMirrorKeepsTheInnerIpLength) {
  auto cut = [](std::vector<std::uint8_t> v, std::size_t n) {
    v.resize(n);
    return v;
  };
  const auto eth_v4 =
      PacketBuilder().eth().vlan(7).ipv4("10.0.0.1", "10.0.0.2", 17).payload(1000).build();
  const DecapRun teb = run(
      PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(cut(eth_v4, 64)).build());
  ASSERT_EQ(teb.result.status, DecapStatus::kInner);
  EXPECT_EQ(teb.out.inner.size(), 64u);
  EXPECT_EQ(teb.out.inner_orig_len, eth_v4.size());  // 14 + 4 + 20 + 1000

  const auto v6 = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2", 17).payload(500).build();
  const DecapRun raw = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .gre({.protocol_type = 0x86DD})
                               .bytes(cut(v6, 48))
                               .build());
  ASSERT_EQ(raw.result.status, DecapStatus::kInner);
  EXPECT_EQ(raw.out.inner.size(), 48u);
  EXPECT_EQ(raw.out.inner_orig_len, 540u);

  const DecapRun erspan = run(PacketBuilder()
                                  .eth()
                                  .ipv4("192.0.2.1", "192.0.2.2")
                                  .gre({.sequence = 1})
                                  .erspan2({.truncated = true, .session_id = 5})
                                  .bytes(cut(eth_v4, 100))
                                  .build());
  ASSERT_EQ(erspan.result.status, DecapStatus::kInner);
  EXPECT_EQ(erspan.out.inner.size(), 100u);
  EXPECT_EQ(erspan.out.inner_orig_len, eth_v4.size());

  // Ethernet padding: the IP header claims less than the frame holds; the frame length stands.
  auto padded = PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2", 17).payload(8).build();
  padded.resize(60, 0);
  const DecapRun pad =
      run(PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(padded).build());
  ASSERT_EQ(pad.result.status, DecapStatus::kInner);
  EXPECT_EQ(pad.out.inner_orig_len, 60u);
}

TEST(DecapGre, EveryOptionalFieldCombinationDecapsulates) {
  for (int mask = 0; mask < 8; ++mask) {
    w::GreHeader h;
    h.checksum_present = (mask & 1) != 0;
    if (mask & 2) h.key = 9;
    if (mask & 4) h.sequence = 1;
    const DecapRun r = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .gre(h)
                               .bytes(inner_eth_frame())
                               .build());
    ASSERT_EQ(r.result.status, DecapStatus::kInner) << mask;
    EXPECT_EQ(r.out.inner.size(), inner_eth_frame().size()) << mask;
    EXPECT_EQ(r.out.tunnel.has_id, (mask & 2) != 0);
    EXPECT_EQ(r.out.tunnel.has_seq, (mask & 4) != 0);
    EXPECT_FALSE(r.out.tunnel.gre_checksum_bad);
  }
}

TEST(DecapGre, BadChecksumIsCountedAndDeliveredUnlessStrict) {
  auto b = PacketBuilder()
               .eth()
               .ipv4("192.0.2.1", "192.0.2.2")
               .gre({.checksum_present = true, .sequence = 5})
               .bytes(inner_eth_frame())
               .build();
  b[14 + 20 + 4] ^= 0xFF;  // corrupt the GRE checksum field
  const DecapRun lax = run(b);
  ASSERT_EQ(lax.result.status, DecapStatus::kInner);
  EXPECT_TRUE(lax.out.tunnel.gre_checksum_bad);
  EXPECT_EQ(lax.counters.get(DecapCounter::kGreBadChecksum), 1u);
  DecapOptions strict;
  strict.strict = true;
  expect_dropped(run(b, strict), DecapCounter::kGreBadChecksum);
}

TEST(DecapGre, FlagPolicy) {
  struct Case {
    const char* description;
    std::uint16_t flags;
    bool strict;
    DecapStatus status;
    DecapCounter reason;
  } cases[] = {
      {"version 1 is PPTP", 0x2001, false, DecapStatus::kDropped, DecapCounter::kGreVersion1},
      {"version 2", 0x0002, false, DecapStatus::kDropped, DecapCounter::kGreBadVersion},
      {"routing present", 0x4000, false, DecapStatus::kDropped, DecapCounter::kGreUnsupported},
      {"strict source route", 0x0800, false, DecapStatus::kDropped, DecapCounter::kGreUnsupported},
      {"recursion MSB", 0x0400, false, DecapStatus::kDropped, DecapCounter::kGreUnsupported},
      {"reserved bits 9-12 ignored", 0x0078, false, DecapStatus::kInner, DecapCounter::kCount},
      {"reserved bits 9-12 strict", 0x0078, true, DecapStatus::kDropped,
       DecapCounter::kGreMalformed},
      {"recursion low bits ignored", 0x0300, false, DecapStatus::kInner, DecapCounter::kCount},
      {"recursion low bits strict", 0x0100, true, DecapStatus::kDropped,
       DecapCounter::kGreMalformed},
  };
  for (const auto& c : cases) {
    auto b =
        PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(inner_eth_frame()).build();
    // PPTP needs its key word: add 4 octets so the length matches K.
    if (c.flags & 0x2000) b.insert(b.begin() + 14 + 20 + 4, {0, 0, 0, 0});
    store_be16(b, 14 + 2, static_cast<std::uint16_t>(b.size() - 14));
    store_be16(b, 14 + 10, 0);
    store_be16(b, 14 + 10, w::internet_checksum(ByteSpan(b).subspan(14, 20)));
    store_be16(b, 14 + 20, c.flags);
    DecapOptions o;
    o.strict = c.strict;
    const DecapRun r = run(b, o);
    EXPECT_EQ(r.result.status, c.status) << c.description;
    if (c.status == DecapStatus::kDropped) {
      EXPECT_EQ(counter_name(r.result.reason), counter_name(c.reason)) << c.description;
    }
  }
}

TEST(DecapGre, KeepaliveAndUnknownProtocolAndNoPayload) {
  const DecapRun ka =
      run(PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre_keepalive().build());
  EXPECT_EQ(ka.result.status, DecapStatus::kKeepalive);
  EXPECT_EQ(ka.out.tunnel.outer_src.to_string(), "192.0.2.1");
  EXPECT_EQ(ka.counters.get(DecapCounter::kGreKeepalive), 1u);

  const DecapRun unknown = run(PacketBuilder()
                                   .eth()
                                   .ipv4("192.0.2.1", "192.0.2.2")
                                   .gre({.protocol_type = 0x8909})
                                   .payload(20)
                                   .build());
  expect_dropped(unknown, DecapCounter::kGreUnsupported);

  const DecapRun empty = run(
      PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre({.protocol_type = 0x6558}).build());
  expect_dropped(empty, DecapCounter::kGreNoPayload);
}

TEST(DecapGre, OverIpv6WithExtensionHeaders) {
  const auto b = PacketBuilder()
                     .eth()
                     .ipv6("2001:db8::1", "2001:db8::2")
                     .ipv6_ext(w::ipproto::kHopByHop)
                     .ipv6_ext(w::ipproto::kDestOpts, 1)
                     .gre({.key = 3})
                     .bytes(inner_eth_frame())
                     .trailer(6, 0)
                     .build();
  const DecapRun r = run(b);
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.tunnel.outer_src.to_string(), "2001:db8::1");
  EXPECT_EQ(r.out.tunnel.id, 3u);
  EXPECT_EQ(r.out.inner.size(), inner_eth_frame().size());
}

TEST(DecapGre, TruncationAtEveryOffsetNeverCrashesAndCountsOnce) {
  const auto b = PacketBuilder()
                     .eth()
                     .vlan(10)
                     .ipv4("192.0.2.1", "192.0.2.2")
                     .gre({.checksum_present = true, .key = 1, .sequence = 2})
                     .erspan2({.session_id = 5})
                     .bytes(inner_eth_frame())
                     .build();
  const std::size_t inner_at = 14 + 4 + 20 + 16 + 8;
  for (std::size_t n = 0; n < b.size(); ++n) {
    std::vector<std::uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    const DecapRun r = run(cut, {}, LinkType::kEthernet, static_cast<std::uint32_t>(b.size()));
    if (n >= inner_at + 14) {
      ASSERT_EQ(r.result.status, DecapStatus::kInner) << n;
      EXPECT_EQ(r.out.inner.size(), n - inner_at);
      EXPECT_EQ(r.out.inner_orig_len, inner_eth_frame().size());
    } else {
      EXPECT_EQ(r.result.status, DecapStatus::kDropped) << n;
      const std::string_view name = counter_name(r.result.reason);
      EXPECT_NE(name.find("truncated"), std::string_view::npos) << n << " " << name;
    }
  }
}

TEST(DecapWalk, EveryEncapsulationTruncatedAtEveryOffset) {
  // Whatever the cut, the result is the inner packet (cut, with its original length kept) or a drop
  // counted as truncated: never malformed (the packet's own lengths are fine), never a crash.
  const auto inner = inner_eth_frame();
  std::array<std::uint8_t, 8> opt{};
  w::GeneveOption{0x0100, 0x01, std::array<std::uint8_t, 4>{1, 2, 3, 4}}.write_to(opt);
  const auto outer4 = [] { return PacketBuilder().eth().vlan(7).ipv4("192.0.2.1", "192.0.2.2"); };
  const auto outer6 = [] {
    return PacketBuilder().eth().ipv6("fd00::1", "fd00::2").ipv6_ext(w::ipproto::kDestOpts, 1);
  };
  struct Case {
    const char* description;
    std::vector<std::uint8_t> bytes;
  } cases[] = {
      {"gre teb", outer4().gre({.key = 1}).bytes(inner).build()},
      {"erspan3 platform over ipv6",
       outer6().gre({.sequence = 1}).erspan3({.has_platform = true}).bytes(inner).build()},
      {"vxlan", outer4().udp(1, 4789).vxlan(3).bytes(inner).build()},
      {"geneve options",
       outer6().udp(1, 6081).geneve({.vni = 3, .options = opt}).bytes(inner).build()},
      {"tzsp", outer4().udp(1, 37008).tzsp().bytes(inner).build()},
  };
  for (const auto& c : cases) {
    for (std::size_t n = 0; n <= c.bytes.size(); ++n) {
      std::vector<std::uint8_t> cut(c.bytes.begin(),
                                    c.bytes.begin() + static_cast<std::ptrdiff_t>(n));
      const DecapRun r =
          run(cut, {}, LinkType::kEthernet, static_cast<std::uint32_t>(c.bytes.size()));
      if (r.result.status == DecapStatus::kInner) {
        EXPECT_EQ(r.out.inner_orig_len, inner.size()) << c.description << " " << n;
        EXPECT_EQ(r.out.inner.size(), inner.size() - (c.bytes.size() - n))
            << c.description << " " << n;
      } else {
        ASSERT_EQ(r.result.status, DecapStatus::kDropped) << c.description << " " << n;
        const std::string_view name = counter_name(r.result.reason);
        EXPECT_NE(name.find("truncated"), std::string_view::npos)
            << c.description << " " << n << " " << name;
      }
    }
    EXPECT_EQ(run(c.bytes).result.status, DecapStatus::kInner) << c.description;
  }
}

// ---------------------------------------------------------------------------------------------
// ERSPAN

TEST(DecapErspan, TypeIDecidedBySBitEvenWithKey) {
  const DecapRun r = run(PacketBuilder()
                             .eth()
                             .ipv4("192.0.2.1", "192.0.2.2")
                             .gre({.key = 7, .protocol_type = 0x88BE})
                             .bytes(inner_eth_frame())
                             .build());
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.tunnel.encap, Encap::kErspan1);
  EXPECT_EQ(r.out.inner_link, LinkType::kEthernet);
  EXPECT_EQ(r.out.inner.size(), inner_eth_frame().size());
}

TEST(DecapErspan, TypeIIFields) {
  const DecapRun r = run(
      PacketBuilder()
          .eth()
          .ipv4("192.0.2.1", "192.0.2.2")
          .gre({.sequence = 9})
          .erspan2(
              {.vlan = 100, .cos = 5, .en = 2, .truncated = true, .session_id = 341, .index = 77})
          .bytes(inner_eth_frame())
          .build());
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  const TunnelInfo& t = r.out.tunnel;
  EXPECT_EQ(t.encap, Encap::kErspan2);
  EXPECT_EQ(t.id, 341u);
  EXPECT_EQ(t.seq, 9u);
  EXPECT_EQ(t.erspan.version, 1);
  EXPECT_EQ(t.erspan.vlan, 100);
  EXPECT_EQ(t.erspan.cos, 5);
  EXPECT_EQ(t.erspan.en_or_bso, 2);
  EXPECT_TRUE(t.erspan.truncated);
  EXPECT_EQ(t.erspan.index, 77u);
}

TEST(DecapErspan, TypeIIIWithPlatformAndFrameTypes) {
  for (std::uint8_t ft : std::initializer_list<std::uint8_t>{0, 2, 7}) {
    for (bool o : {false, true}) {
      PacketBuilder pb;
      pb.eth().ipv4("192.0.2.1", "192.0.2.2").gre({.sequence = 1});
      pb.erspan3({.session_id = 12,
                  .timestamp = 0x01020304,
                  .sgt = 9,
                  .ft = ft,
                  .hw_id = 3,
                  .direction_egress = true,
                  .gra = 1,
                  .has_platform = o,
                  .platform_id = 3,
                  .platform_info = 5,
                  .platform_w4 = 6});
      if (ft == 2) {
        pb.ipv4("10.0.0.1", "10.0.0.2", 1).payload(8);
      } else {
        pb.bytes(inner_eth_frame());
      }
      const DecapRun r = run(pb.build());
      if (ft == 7) {
        expect_dropped(r, DecapCounter::kErspanUnsupported);
        continue;
      }
      ASSERT_EQ(r.result.status, DecapStatus::kInner);
      EXPECT_EQ(r.out.inner_link, ft == 2 ? LinkType::kRaw : LinkType::kEthernet);
      EXPECT_EQ(r.out.inner.size(), ft == 2 ? 28u : inner_eth_frame().size());
      const ErspanInfo& e = r.out.tunnel.erspan;
      EXPECT_EQ(r.out.tunnel.encap, Encap::kErspan3);
      EXPECT_EQ(r.out.tunnel.id, 12u);
      EXPECT_EQ(e.version, 2);
      EXPECT_EQ(e.timestamp, 0x01020304u);
      EXPECT_EQ(e.sgt, 9);
      EXPECT_EQ(e.hw_id, 3);
      EXPECT_TRUE(e.direction_egress);
      EXPECT_EQ(e.gra, 1);
      EXPECT_EQ(e.has_platform, o);
      EXPECT_EQ(e.platform_id, o ? 3 : 0);
      EXPECT_EQ(e.platform_w4, o ? 6u : 0u);
    }
  }
}

TEST(DecapErspan, VersionMismatchDecodedByVerUnlessStrict) {
  // GRE 0x88BE + S carrying a Ver=2 (Type III) header: Wireshark decodes it as Type III.
  auto b = PacketBuilder()
               .eth()
               .ipv4("192.0.2.1", "192.0.2.2")
               .gre({.sequence = 1, .protocol_type = 0x88BE})
               .erspan3({.session_id = 4})
               .bytes(inner_eth_frame())
               .build();
  const DecapRun lax = run(b);
  ASSERT_EQ(lax.result.status, DecapStatus::kInner);
  EXPECT_EQ(lax.out.tunnel.encap, Encap::kErspan3);
  EXPECT_EQ(lax.counters.get(DecapCounter::kErspanVersionMismatch), 1u);
  DecapOptions strict;
  strict.strict = true;
  expect_dropped(run(b, strict), DecapCounter::kErspanMalformed);

  // Unknown Ver under 0x88BE+S.
  auto bad = PacketBuilder()
                 .eth()
                 .ipv4("192.0.2.1", "192.0.2.2")
                 .gre({.sequence = 1})
                 .erspan2({.session_id = 4, .ver = 5})
                 .bytes(inner_eth_frame())
                 .build();
  expect_dropped(run(bad), DecapCounter::kErspanMalformed);
}

// ---------------------------------------------------------------------------------------------
// UDP tunnels

TEST(DecapVxlan, DefaultAndLinuxPortsAndFlags) {
  for (std::uint16_t port : std::initializer_list<std::uint16_t>{4789, 8472}) {
    const DecapRun r = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .udp(50000, port)
                               .vxlan(5569041)
                               .bytes(inner_eth_frame())
                               .trailer(4)
                               .build());
    ASSERT_EQ(r.result.status, DecapStatus::kInner);
    EXPECT_EQ(r.out.tunnel.encap, Encap::kVxlan);
    EXPECT_EQ(r.out.tunnel.id, 5569041u);
    EXPECT_EQ(r.out.tunnel.outer_udp_src, 50000);
    EXPECT_EQ(r.out.tunnel.outer_udp_dst, port);
    EXPECT_EQ(r.out.inner.size(), inner_eth_frame().size());
  }
  auto b = PacketBuilder()
               .eth()
               .ipv4("192.0.2.1", "192.0.2.2")
               .udp(1, 4789)
               .vxlan(1)
               .bytes(inner_eth_frame())
               .build();
  const std::size_t vx = 14 + 20 + 8;
  b[vx] = 0x88;  // GBP bit: ignored unless strict
  EXPECT_EQ(run(b).result.status, DecapStatus::kInner);
  DecapOptions strict;
  strict.strict = true;
  expect_dropped(run(b, strict), DecapCounter::kVxlanMalformed);
  b[vx] = 0x00;  // I flag clear
  expect_dropped(run(b), DecapCounter::kVxlanMalformed);
}

TEST(DecapVxlan, OtherPortsAreUntunnelledUnlessConfigured) {
  const auto b = PacketBuilder()
                     .eth()
                     .ipv4("192.0.2.1", "192.0.2.2")
                     .udp(1, 9999)
                     .vxlan(1)
                     .bytes(inner_eth_frame())
                     .build();
  const DecapRun r = run(b);
  EXPECT_EQ(r.result.status, DecapStatus::kUntunnelled);
  DecapOptions o;
  o.vxlan_ports = {9999};
  EXPECT_EQ(run(b, o).result.status, DecapStatus::kInner);
}

TEST(DecapVxlan, UdpLengthInconsistent) {
  auto b = PacketBuilder()
               .eth()
               .ipv4("192.0.2.1", "192.0.2.2")
               .udp(1, 4789)
               .vxlan(1)
               .bytes(inner_eth_frame())
               .build();
  store_be16(b, 14 + 20 + 4, 4);  // < 8
  expect_dropped(run(b), DecapCounter::kUdpMalformed);
  store_be16(b, 14 + 20 + 4, 4000);  // beyond the IP payload
  expect_dropped(run(b), DecapCounter::kUdpMalformed);
}

TEST(DecapGeneve, EthernetRawOptionsAndPolicy) {
  std::array<std::uint8_t, 12> opts{};
  const std::array<std::uint8_t, 4> data{1, 2, 3, 4};
  w::GeneveOption{0x0100, 0x01, data}.write_to(opts);
  w::GeneveOption{0x0108, 0x80, {}}.write_to(MutableByteSpan(opts).subspan(8));  // critical
  const DecapRun eth = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .udp(1, 6081)
                               .geneve({.vni = 0x0c012e, .options = opts})
                               .bytes(inner_eth_frame())
                               .build());
  ASSERT_EQ(eth.result.status, DecapStatus::kInner);
  EXPECT_EQ(eth.out.tunnel.encap, Encap::kGeneve);
  EXPECT_EQ(eth.out.tunnel.id, 0x0c012eu);
  EXPECT_EQ(eth.out.inner_link, LinkType::kEthernet);
  EXPECT_EQ(eth.counters.get(DecapCounter::kGeneveCritical), 1u);

  const DecapRun raw = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .udp(1, 6081)
                               .geneve({.vni = 1})
                               .ipv6("fd00::1", "fd00::2", 59)
                               .build());
  ASSERT_EQ(raw.result.status, DecapStatus::kInner);
  EXPECT_EQ(raw.out.inner_link, LinkType::kRaw);
  EXPECT_EQ(raw.out.tunnel.gre_proto, 0x86DD);

  DecapOptions strict;
  strict.strict = true;
  expect_dropped(run(PacketBuilder()
                         .eth()
                         .ipv4("192.0.2.1", "192.0.2.2")
                         .udp(1, 6081)
                         .geneve({.critical = true, .vni = 1})
                         .bytes(inner_eth_frame())
                         .build(),
                     strict),
                 DecapCounter::kGeneveUnsupported);
  expect_dropped(run(PacketBuilder()
                         .eth()
                         .ipv4("192.0.2.1", "192.0.2.2")
                         .udp(1, 6081)
                         .geneve({.control = true, .vni = 1})
                         .bytes(inner_eth_frame())
                         .build()),
                 DecapCounter::kGeneveUnsupported);
  auto v1 = PacketBuilder()
                .eth()
                .ipv4("192.0.2.1", "192.0.2.2")
                .udp(1, 6081)
                .geneve({.vni = 1})
                .bytes(inner_eth_frame())
                .build();
  v1[14 + 20 + 8] |= 0x40;  // Ver 1
  expect_dropped(run(v1), DecapCounter::kGeneveMalformed);
  auto proto = PacketBuilder()
                   .eth()
                   .ipv4("192.0.2.1", "192.0.2.2")
                   .udp(1, 6081)
                   .geneve_raw_protocol({.protocol_type = 0x8847, .vni = 1})
                   .payload(20)
                   .build();
  expect_dropped(run(proto), DecapCounter::kGeneveUnsupported);
}

TEST(DecapTzsp, EthernetRawAndPolicy) {
  DecapOptions o;
  o.tzsp_ports = {37008, 31337};
  const DecapRun eth = run(PacketBuilder()
                               .eth()
                               .ipv4("192.168.88.1", "192.168.88.123")
                               .udp(55310, 31337)
                               .tzsp()
                               .bytes(inner_eth_frame())
                               .build(),
                           o);
  ASSERT_EQ(eth.result.status, DecapStatus::kInner);
  EXPECT_EQ(eth.out.tunnel.encap, Encap::kTzsp);
  EXPECT_EQ(eth.out.inner_link, LinkType::kEthernet);
  const DecapRun raw = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .udp(1, 37008)
                               .tzsp()
                               .ipv4("10.0.0.1", "10.0.0.2", 1)
                               .payload(8)
                               .build());
  ASSERT_EQ(raw.result.status, DecapStatus::kInner);
  EXPECT_EQ(raw.out.inner_link, LinkType::kRaw);
  // Tag 41 (original frame length 1500) in front of a cut 20-byte Ethernet frame.
  const DecapRun cut = run(PacketBuilder()
                               .eth()
                               .ipv4("192.0.2.1", "192.0.2.2")
                               .udp(1, 37008)
                               .bytes({1, 0, 0, 1, 41, 2, 0x05, 0xDC, 1})
                               .payload(20)
                               .build());
  ASSERT_EQ(cut.result.status, DecapStatus::kInner);
  EXPECT_EQ(cut.out.inner.size(), 20u);
  EXPECT_EQ(cut.out.inner_orig_len, 1500u);
  expect_dropped(run(PacketBuilder()
                         .eth()
                         .ipv4("192.0.2.1", "192.0.2.2")
                         .udp(1, 37008)
                         .tzsp({.type = 4})
                         .build()),
                 DecapCounter::kTzspUnsupported);
  expect_dropped(run(PacketBuilder()
                         .eth()
                         .ipv4("192.0.2.1", "192.0.2.2")
                         .udp(1, 37008)
                         .bytes({1, 0, 0, 18, 1})
                         .payload(30)
                         .build()),
                 DecapCounter::kTzspUnsupported);
  expect_dropped(run(PacketBuilder()
                         .eth()
                         .ipv4("192.0.2.1", "192.0.2.2")
                         .udp(1, 37008)
                         .bytes({1, 0, 0, 1, 60, 6, 1})
                         .build()),
                 DecapCounter::kTzspTruncated);
}

// ---------------------------------------------------------------------------------------------
// Link layers, VLANs, untunnelled frames

TEST(DecapLink, VlanTagsUpToTheCap) {
  PacketBuilder pb;
  pb.eth().vlan(1, w::ethertype::kQinQ).vlan(2);
  const auto two =
      PacketBuilder(pb).ipv4("192.0.2.1", "192.0.2.2").gre().bytes(inner_eth_frame()).build();
  EXPECT_EQ(run(two).result.status, DecapStatus::kInner);
  DecapOptions cap1;
  cap1.max_vlan_tags = 1;
  expect_dropped(run(two, cap1), DecapCounter::kVlanTooDeep);
}

TEST(DecapLink, EveryLinkTypeReachesTheTunnel) {
  const auto ip = PacketBuilder()
                      .ipv4("192.0.2.1", "192.0.2.2")
                      .gre({.key = 1})
                      .bytes(inner_eth_frame())
                      .build();
  auto with_prefix = [&ip](std::vector<std::uint8_t> prefix) {
    prefix.insert(prefix.end(), ip.begin(), ip.end());
    return prefix;
  };
  EXPECT_EQ(run(ip, {}, LinkType::kRaw).result.status, DecapStatus::kInner);
  EXPECT_EQ(run(ip, {}, LinkType::kIpv4).result.status, DecapStatus::kInner);
  EXPECT_EQ(run(with_prefix({2, 0, 0, 0}), {}, LinkType::kNull).result.status, DecapStatus::kInner);
  EXPECT_EQ(run(with_prefix({0, 0, 0, 2}), {}, LinkType::kNull).result.status, DecapStatus::kInner);
  EXPECT_EQ(run(with_prefix({0, 0, 0, 2}), {}, LinkType::kLoop).result.status, DecapStatus::kInner);
  w::LinuxSllHeader sll;
  sll.protocol = 0x0800;
  std::vector<std::uint8_t> s(16);
  sll.write_to(s);
  EXPECT_EQ(run(with_prefix(s), {}, LinkType::kLinuxSll).result.status, DecapStatus::kInner);
  w::LinuxSll2Header sll2;
  sll2.protocol = 0x0800;
  std::vector<std::uint8_t> s2(20);
  sll2.write_to(s2);
  EXPECT_EQ(run(with_prefix(s2), {}, LinkType::kLinuxSll2).result.status, DecapStatus::kInner);
  // Truncated link headers.
  expect_dropped(run({1, 2, 3}, {}, LinkType::kEthernet), DecapCounter::kLinkTruncated);
  expect_dropped(run({0, 0}, {}, LinkType::kNull), DecapCounter::kLinkTruncated);
  expect_dropped(run(std::vector<std::uint8_t>(15), {}, LinkType::kLinuxSll),
                 DecapCounter::kLinkTruncated);
  expect_dropped(run({}, {}, LinkType::kRaw), DecapCounter::kLinkTruncated);
}

TEST(DecapLink, SllOnKernelGreDeviceIsAlreadyDecapsulated) {
  // protocols.md §5.4: ARPHRD_IPGRE (778), protocol = GRE protocol type, address = outer sender.
  struct Case {
    std::uint16_t proto;
    Encap encap;
    LinkType inner;
  } cases[] = {{0x88BE, Encap::kErspan1, LinkType::kEthernet},
               {0x6558, Encap::kGre, LinkType::kEthernet},
               {0x0800, Encap::kGre, LinkType::kRaw}};
  for (const auto& c : cases) {
    w::LinuxSllHeader h;
    h.arphrd_type = w::arphrd::kIpGre;
    h.address_length = 4;
    h.address[0] = 198;
    h.address[1] = 18;
    h.address[3] = 7;
    h.protocol = c.proto;
    PacketBuilder pb;
    pb.sll(h);
    if (c.inner == LinkType::kRaw) {
      pb.ipv4("10.0.0.1", "10.0.0.2", 1).payload(8);
    } else {
      pb.bytes(inner_eth_frame());
    }
    const DecapRun r = run(pb.build(), {}, LinkType::kLinuxSll);
    ASSERT_EQ(r.result.status, DecapStatus::kInner) << c.proto;
    EXPECT_EQ(r.out.tunnel.encap, c.encap);
    EXPECT_EQ(r.out.inner_link, c.inner);
    EXPECT_EQ(r.out.tunnel.outer_src.to_string(), "198.18.0.7");
    EXPECT_TRUE(r.out.tunnel.outer_dst.empty());
  }
  w::LinuxSllHeader ka;
  ka.arphrd_type = w::arphrd::kIpGre;
  ka.protocol = 0;
  std::vector<std::uint8_t> b(16);
  ka.write_to(b);
  EXPECT_EQ(run(b, {}, LinkType::kLinuxSll).result.status, DecapStatus::kKeepalive);
}

TEST(DecapLink, UntunnelledFramesBumpNoCounter) {
  EXPECT_EQ(run(PacketBuilder().eth(0x0806).payload(28).build()).result.status,
            DecapStatus::kUntunnelled);
  EXPECT_EQ(run(inner_eth_frame()).result.status, DecapStatus::kUntunnelled);
  EXPECT_EQ(
      run(PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").udp(53, 53).payload(10).build())
          .result.status,
      DecapStatus::kUntunnelled);
  EXPECT_EQ(
      run(PacketBuilder().eth().ipv6("fd00::1", "fd00::2", 50).payload(16).build()).result.status,
      DecapStatus::kUntunnelled);  // ESP: nothing to see
}

TEST(DecapIp, MalformedOuterHeaders) {
  auto b =
      PacketBuilder().eth().ipv4("192.0.2.1", "192.0.2.2").gre().bytes(inner_eth_frame()).build();
  auto bad = b;
  bad[14] = 0x44;  // IHL 4
  expect_dropped(run(bad), DecapCounter::kIpv4Malformed);
  bad = b;
  store_be16(bad, 14 + 2, 10);  // Total Length < header
  expect_dropped(run(bad), DecapCounter::kIpv4Malformed);
  bad = b;
  store_be16(bad, 14 + 2, 3000);  // more than the frame on the wire
  expect_dropped(run(bad), DecapCounter::kIpv4Malformed);
  bad = b;
  bad[14] = 0x75;  // version 7
  expect_dropped(run(bad), DecapCounter::kIpv4Malformed);
  auto v6 = PacketBuilder()
                .eth()
                .ipv6("fd00::1", "fd00::2")
                .ipv6_ext(w::ipproto::kDestOpts, 3)
                .gre()
                .bytes(inner_eth_frame())
                .build();
  store_be16(v6, 14 + 4, 20);  // payload shorter than the extension header
  expect_dropped(run(v6), DecapCounter::kIpv6Malformed);
}

TEST(DecapIp, Ipv6PayloadLengthZeroTakesLengthFromFrame) {
  auto b = PacketBuilder()
               .eth()
               .ipv6("fd00::1", "fd00::2")
               .udp(1, 4789)
               .vxlan(1)
               .bytes(inner_eth_frame())
               .build();
  store_be16(b, 14 + 4, 0);       // BIG TCP: no payload length
  store_be16(b, 14 + 40 + 4, 0);  // and no UDP length
  const DecapRun r = run(b);
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.inner.size(), inner_eth_frame().size());
  EXPECT_EQ(r.counters.get(DecapCounter::kIpLengthFromFrame), 1u);
}

// ---------------------------------------------------------------------------------------------
// Depth

std::vector<std::uint8_t> nested_gre(int levels) {
  PacketBuilder pb;
  pb.eth();
  for (int i = 0; i < levels; ++i) {
    pb.ipv4("192.0.2." + std::to_string(i + 1), "198.18.0." + std::to_string(i + 1))
        .gre({.key = static_cast<std::uint32_t>(i)});
  }
  pb.ipv4("10.0.0.1", "10.0.0.2", 1).payload(8);
  return pb.build();
}

TEST(DecapDepth, DefaultStripsOnlyTheMirrorTunnel) {
  const DecapRun r = run(nested_gre(3));
  ASSERT_EQ(r.result.status, DecapStatus::kInner);
  EXPECT_EQ(r.out.layers_removed, 1);
  EXPECT_EQ(r.out.tunnel.id, 0u);
  EXPECT_EQ(r.out.inner[9], w::ipproto::kGre);  // still tunnel traffic: what the port saw
}

TEST(DecapDepth, DepthNAndAll) {
  DecapOptions two;
  two.depth = 2;
  const DecapRun r2 = run(nested_gre(3), two);
  ASSERT_EQ(r2.result.status, DecapStatus::kInner);
  EXPECT_EQ(r2.out.layers_removed, 2);
  EXPECT_EQ(r2.out.tunnel.outer_src.to_string(), "192.0.2.1");  // metadata of the outermost
  DecapOptions all;
  all.depth = kMaxEncapDepth;
  const DecapRun r3 = run(nested_gre(3), all);
  ASSERT_EQ(r3.result.status, DecapStatus::kInner);
  EXPECT_EQ(r3.out.layers_removed, 3);
  EXPECT_EQ(r3.out.inner[9], w::ipproto::kIcmp);
  const DecapRun r8 = run(nested_gre(kMaxEncapDepth), all);
  ASSERT_EQ(r8.result.status, DecapStatus::kInner);
  EXPECT_EQ(r8.out.layers_removed, kMaxEncapDepth);
  expect_dropped(run(nested_gre(kMaxEncapDepth + 1), all), DecapCounter::kTooDeep);
}

// ---------------------------------------------------------------------------------------------
// Socket entry points

TEST(DecapEntryPoints, RawGreSocketAndUdpSocket) {
  Decapsulator d(DecapOptions{});
  const auto gre = PacketBuilder().gre({.key = 4}).bytes(inner_eth_frame()).build();
  const auto src = *IpAddress::parse("2001:db8::1");
  const auto dst = *IpAddress::parse("2001:db8::2");
  Decapsulated out;
  ASSERT_EQ(d.decapsulate_gre(gre, src, dst, static_cast<std::uint32_t>(gre.size()), out).status,
            DecapStatus::kInner);
  EXPECT_EQ(out.tunnel.outer_src, src);
  EXPECT_EQ(out.tunnel.id, 4u);
  EXPECT_EQ(out.inner.size(), inner_eth_frame().size());

  const auto vx = PacketBuilder().vxlan(42).bytes(inner_eth_frame()).build();
  ASSERT_EQ(d.decapsulate_udp(vx, src, dst, 1234, 4789, static_cast<std::uint32_t>(vx.size()), out)
                .status,
            DecapStatus::kInner);
  EXPECT_EQ(out.tunnel.encap, Encap::kVxlan);
  EXPECT_EQ(out.tunnel.id, 42u);
  EXPECT_EQ(out.tunnel.outer_udp_src, 1234);
  EXPECT_EQ(d.decapsulate_udp(vx, src, dst, 1234, 4790, static_cast<std::uint32_t>(vx.size()), out)
                .status,
            DecapStatus::kUntunnelled);
  const std::vector<std::uint8_t> short_gre{0x20, 0x00};
  EXPECT_EQ(d.decapsulate_gre(short_gre, src, dst, 2, out).status, DecapStatus::kDropped);
  EXPECT_EQ(d.counters().get(DecapCounter::kGreMalformed), 1u);
}

}  // namespace
}  // namespace portmirror::collector
