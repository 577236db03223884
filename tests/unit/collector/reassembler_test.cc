// Outer fragment reassembly through the Decapsulator (IPv4 and IPv6), and the Reassembler's bounds:
// memory, datagram count, timeout, overlap.
#include "portmirror/collector/reassembler.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/wire/checksum.h"
#include "support/packet_builder.h"

namespace portmirror::collector {
namespace {

using testing::make_frame;
using testing::PacketBuilder;
namespace w = portmirror::wire;

std::vector<std::uint8_t> inner_frame(std::size_t payload) {
  return PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2", 17).payload(payload).build();
}

// A whole Ethernet/IPv4/GRE(TEB, key) frame whose inner frame is `payload` + 34 octets.
std::vector<std::uint8_t> gre_frame(std::size_t payload, std::uint16_t ip_id = 0x1234) {
  w::Ipv4Header h;
  h.identification = ip_id;
  h.source = {192, 0, 2, 1};
  h.destination = {192, 0, 2, 2};
  return PacketBuilder().eth().ipv4(h).gre({.key = 77}).bytes(inner_frame(payload)).build();
}

// Splits the IPv4 datagram of an Ethernet frame into fragments of at most `chunk` payload octets.
std::vector<std::vector<std::uint8_t>> fragment_v4(const std::vector<std::uint8_t>& frame,
                                                   std::size_t chunk) {
  const std::size_t l2 = 14, hl = 20;
  const std::size_t total = load_be16(frame, l2 + 2);
  const std::size_t payload = total - hl;
  std::vector<std::vector<std::uint8_t>> out;
  for (std::size_t off = 0; off < payload; off += chunk) {
    const std::size_t n = std::min(chunk, payload - off);
    std::vector<std::uint8_t> f(frame.begin(),
                                frame.begin() + static_cast<std::ptrdiff_t>(l2 + hl));
    f.insert(f.end(), frame.begin() + static_cast<std::ptrdiff_t>(l2 + hl + off),
             frame.begin() + static_cast<std::ptrdiff_t>(l2 + hl + off + n));
    store_be16(f, l2 + 2, static_cast<std::uint16_t>(hl + n));
    const bool more = off + n < payload;
    store_be16(f, l2 + 6, static_cast<std::uint16_t>((more ? 0x2000 : 0) | (off / 8)));
    store_be16(f, l2 + 10, 0);
    store_be16(f, l2 + 10, w::internet_checksum(ByteSpan(f).subspan(l2, hl)));
    out.push_back(std::move(f));
  }
  return out;
}

// IPv6: Ethernet / IPv6 / Fragment / GRE... built directly with the builder.
std::vector<std::vector<std::uint8_t>> fragment_v6(std::size_t chunk) {
  const auto gre = PacketBuilder().gre({.key = 5}).bytes(inner_frame(300)).build();
  std::vector<std::vector<std::uint8_t>> out;
  for (std::size_t off = 0; off < gre.size(); off += chunk) {
    const std::size_t n = std::min(chunk, gre.size() - off);
    std::vector<std::uint8_t> part(gre.begin() + static_cast<std::ptrdiff_t>(off),
                                   gre.begin() + static_cast<std::ptrdiff_t>(off + n));
    auto f = PacketBuilder()
                 .eth()
                 .ipv6("2001:db8::1", "2001:db8::2")
                 .ipv6_fragment(static_cast<std::uint32_t>(off), off + n < gre.size(), 0xCAFE)
                 .bytes(part)
                 .build();
    f[14 + 40] =
        w::ipproto::kGre;  // the fragment header's Next Header names the reassembled payload
    out.push_back(std::move(f));
  }
  return out;
}

TEST(Reassembly, Ipv4InOrderAndReversed) {
  const auto frame = gre_frame(1000);
  for (bool reversed : {false, true}) {
    auto frags = fragment_v4(frame, 400);
    ASSERT_EQ(frags.size(), 3u);
    if (reversed) std::reverse(frags.begin(), frags.end());
    Decapsulator d(DecapOptions{});
    Decapsulated out;
    EXPECT_EQ(d.decapsulate(make_frame(frags[0], LinkType::kEthernet, 1), out).status,
              DecapStatus::kHeld);
    EXPECT_EQ(d.decapsulate(make_frame(frags[1], LinkType::kEthernet, 2), out).status,
              DecapStatus::kHeld);
    ASSERT_EQ(d.decapsulate(make_frame(frags[2], LinkType::kEthernet, 3), out).status,
              DecapStatus::kInner);
    EXPECT_TRUE(out.tunnel.outer_reassembled);
    EXPECT_EQ(out.tunnel.id, 77u);
    EXPECT_EQ(out.tunnel.outer_src.to_string(), "192.0.2.1");
    const auto want = inner_frame(1000);
    ASSERT_EQ(out.inner.size(), want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), out.inner.begin()));
    EXPECT_EQ(d.counters().get(DecapCounter::kFragHeld), 2u);
    EXPECT_EQ(d.counters().get(DecapCounter::kFragReassembled), 1u);
  }
}

TEST(Reassembly, DuplicateFragmentIsIgnoredAndOverlapDropsTheDatagram) {
  const auto frags = fragment_v4(gre_frame(1000), 400);
  Decapsulator d(DecapOptions{});
  Decapsulated out;
  EXPECT_EQ(d.decapsulate(make_frame(frags[0]), out).status, DecapStatus::kHeld);
  EXPECT_EQ(d.decapsulate(make_frame(frags[0]), out).status, DecapStatus::kHeld);
  EXPECT_EQ(d.decapsulate(make_frame(frags[1]), out).status, DecapStatus::kHeld);
  EXPECT_EQ(d.decapsulate(make_frame(frags[2]), out).status, DecapStatus::kInner);

  // Overlap: a second copy of fragment 1 shifted by 8 octets.
  auto shifted = frags[1];
  store_be16(shifted, 14 + 6, static_cast<std::uint16_t>(0x2000 | (400 / 8 + 1)));
  store_be16(shifted, 14 + 10, 0);
  store_be16(shifted, 14 + 10, w::internet_checksum(ByteSpan(shifted).subspan(14, 20)));
  Decapsulator d2(DecapOptions{});
  EXPECT_EQ(d2.decapsulate(make_frame(frags[1]), out).status, DecapStatus::kHeld);
  const DecapResult r = d2.decapsulate(make_frame(shifted), out);
  EXPECT_EQ(r.status, DecapStatus::kDropped);
  EXPECT_EQ(counter_name(r.reason), "ip.frag_malformed");
  // The datagram is gone: the remaining fragments start over and never complete.
  EXPECT_EQ(d2.decapsulate(make_frame(frags[0]), out).status, DecapStatus::kHeld);
  EXPECT_EQ(d2.decapsulate(make_frame(frags[2]), out).status, DecapStatus::kHeld);
}

TEST(Reassembly, Ipv6Fragments) {
  auto frags = fragment_v6(104);
  ASSERT_GE(frags.size(), 3u);
  std::swap(frags[0], frags[1]);
  Decapsulator d(DecapOptions{});
  Decapsulated out;
  for (std::size_t i = 0; i + 1 < frags.size(); ++i)
    EXPECT_EQ(d.decapsulate(make_frame(frags[i]), out).status, DecapStatus::kHeld) << i;
  ASSERT_EQ(d.decapsulate(make_frame(frags.back()), out).status, DecapStatus::kInner);
  EXPECT_EQ(out.tunnel.outer_src.to_string(), "2001:db8::1");
  EXPECT_EQ(out.tunnel.id, 5u);
  EXPECT_TRUE(out.tunnel.outer_reassembled);
  const auto want = inner_frame(300);
  ASSERT_EQ(out.inner.size(), want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), out.inner.begin()));
}

TEST(Reassembly, TimeoutAgainstFrameTimestamps) {
  DecapOptions o;
  o.reassembly_timeout = 5 * kNsPerSec;
  Decapsulator d(o);
  const auto a = fragment_v4(gre_frame(1000, 1), 400);
  const auto b = fragment_v4(gre_frame(1000, 2), 400);
  Decapsulated out;
  EXPECT_EQ(d.decapsulate(make_frame(a[0], LinkType::kEthernet, 0), out).status,
            DecapStatus::kHeld);
  EXPECT_EQ(d.decapsulate(make_frame(a[1], LinkType::kEthernet, 1 * kNsPerSec), out).status,
            DecapStatus::kHeld);
  // 10 s later: datagram `a` expired before this fragment of `b` is stored.
  EXPECT_EQ(d.decapsulate(make_frame(b[0], LinkType::kEthernet, 10 * kNsPerSec), out).status,
            DecapStatus::kHeld);
  EXPECT_EQ(d.counters().get(DecapCounter::kFragTimeout), 1u);
  EXPECT_EQ(d.decapsulate(make_frame(a[2], LinkType::kEthernet, 10 * kNsPerSec), out).status,
            DecapStatus::kHeld);
}

TEST(Reassembly, DatagramAndMemoryBounds) {
  Reassembler one(Reassembler::kSlotSize, 1024, kNsPerSec);
  EXPECT_EQ(one.slot_count(), 1u);
  EXPECT_LE(one.reserved_bytes(), Reassembler::kSlotSize);
  Reassembler few(8u << 20, 3, kNsPerSec);
  EXPECT_EQ(few.slot_count(), 3u);
  Reassembler none(1000, 1024, kNsPerSec);
  EXPECT_EQ(none.slot_count(), 0u);

  DecapOptions o;
  o.reassembly_max_datagrams = 1;
  Decapsulator d(o);
  const auto a = fragment_v4(gre_frame(1000, 1), 400);
  const auto b = fragment_v4(gre_frame(1000, 2), 400);
  Decapsulated out;
  EXPECT_EQ(d.decapsulate(make_frame(a[0]), out).status, DecapStatus::kHeld);
  const DecapResult r = d.decapsulate(make_frame(b[0]), out);
  EXPECT_EQ(r.status, DecapStatus::kDropped);
  EXPECT_EQ(counter_name(r.reason), "ip.frag_overflow");
  EXPECT_EQ(d.decapsulate(make_frame(a[1]), out).status, DecapStatus::kHeld);
  EXPECT_EQ(d.decapsulate(make_frame(a[2]), out).status, DecapStatus::kInner);
  // The slot is free again.
  EXPECT_EQ(d.decapsulate(make_frame(b[0]), out).status, DecapStatus::kHeld);
}

TEST(Reassembly, MalformedFragments) {
  auto frags = fragment_v4(gre_frame(1000), 400);
  Decapsulated out;
  {
    // Non-final fragment whose payload is not a multiple of 8.
    auto f = frags[0];
    f.pop_back();
    store_be16(f, 14 + 2, static_cast<std::uint16_t>(load_be16(f, 14 + 2) - 1));
    store_be16(f, 14 + 10, 0);
    store_be16(f, 14 + 10, w::internet_checksum(ByteSpan(f).subspan(14, 20)));
    Decapsulator d(DecapOptions{});
    const DecapResult r = d.decapsulate(make_frame(f), out);
    EXPECT_EQ(r.status, DecapStatus::kDropped);
    EXPECT_EQ(counter_name(r.reason), "ip.frag_malformed");
  }
  {
    // A fragment cut by the snap length cannot be reassembled.
    auto f = frags[1];
    const auto full = static_cast<std::uint32_t>(f.size());
    f.resize(60);
    Decapsulator d(DecapOptions{});
    const DecapResult r = d.decapsulate(make_frame(f, LinkType::kEthernet, 0, full), out);
    EXPECT_EQ(r.status, DecapStatus::kDropped);
    EXPECT_EQ(counter_name(r.reason), "ipv4.truncated");
  }
  {
    // Two "last" fragments disagreeing on the total.
    Decapsulator d(DecapOptions{});
    EXPECT_EQ(d.decapsulate(make_frame(frags[2]), out).status, DecapStatus::kHeld);
    auto f = frags[1];
    store_be16(f, 14 + 6, static_cast<std::uint16_t>(400 / 8));  // MF cleared
    store_be16(f, 14 + 10, 0);
    store_be16(f, 14 + 10, w::internet_checksum(ByteSpan(f).subspan(14, 20)));
    const DecapResult r = d.decapsulate(make_frame(f), out);
    EXPECT_EQ(r.status, DecapStatus::kDropped);
    EXPECT_EQ(counter_name(r.reason), "ip.frag_malformed");
  }
}

}  // namespace
}  // namespace portmirror::collector
