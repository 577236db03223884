// Sampler: exact copied sequences (protocols.md §4.2) and random mode bounds. Policer: token bucket
// on a fake clock. MirrorOnce: a forwarded packet (TTL, MACs and checksum changed) is a duplicate.
#include <gtest/gtest.h>

#include <cmath>

#include "portmirror/source/mirror_once.h"
#include "portmirror/source/policer.h"
#include "portmirror/source/sampler.h"
#include "source_test_util.h"

namespace portmirror::source {
namespace {

// Packet numbers (1-based) copied among the first `n` matched packets.
std::vector<int> copied(std::uint32_t rate, std::uint32_t run, int n) {
  Sampler s(rate, run, false);
  std::vector<int> out;
  for (int i = 1; i <= n; ++i)
    if (s.sample()) out.push_back(i);
  return out;
}

TEST(Sampler, Rate10RunLength2) {
  EXPECT_EQ(copied(10, 2, 50), (std::vector<int>{10, 11, 12, 22, 23, 24, 34, 35, 36, 46, 47, 48}));
}
TEST(Sampler, Rate1CopiesEverything) {
  EXPECT_EQ(copied(1, 0, 5), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(copied(1, 20, 5), (std::vector<int>{1, 2, 3, 4, 5}));
}
TEST(Sampler, Rate3RunLength0) {
  EXPECT_EQ(copied(3, 0, 12), (std::vector<int>{3, 6, 9, 12}));
}
TEST(Sampler, Rate5RunLength1) {
  EXPECT_EQ(copied(5, 1, 20), (std::vector<int>{5, 6, 11, 12, 17, 18}));
}
TEST(Sampler, Rate2RunLength20) {
  // trigger at 2, run 3..22, then the count restarts: trigger at 24, run 25..44
  std::vector<int> want;
  for (int i = 2; i <= 22; ++i) want.push_back(i);
  for (int i = 24; i <= 44; ++i) want.push_back(i);
  EXPECT_EQ(copied(2, 20, 44), want);
}
TEST(Sampler, Rate65535) {
  Sampler s(65535, 0, false);
  int hits = 0, first = 0;
  for (int i = 1; i <= 3 * 65535; ++i)
    if (s.sample()) {
      ++hits;
      if (first == 0) first = i;
    }
  EXPECT_EQ(hits, 3);
  EXPECT_EQ(first, 65535);
}

TEST(Sampler, RandomOneInNWithinBounds) {
  // 200000 packets at 1-in-100: mean 2000, sd sqrt(2000*0.99) ~ 44.5; allow 5 sd.
  for (std::uint64_t seed : {1ull, 42ull, 0xdeadbeefull}) {
    Sampler s(100, 0, true, seed);
    int hits = 0;
    for (int i = 0; i < 200000; ++i) hits += s.sample() ? 1 : 0;
    EXPECT_NEAR(hits, 2000, 5 * 44.5) << "seed " << seed;
  }
  // With run-length 2 each trigger copies 3: expected 200000 * 3 / (100 + 2) ~ 5882.
  Sampler r(100, 2, true, 7);
  int hits = 0;
  for (int i = 0; i < 200000; ++i) hits += r.sample() ? 1 : 0;
  EXPECT_NEAR(hits, 5882, 5 * std::sqrt(5882.0 * 3));
}

TEST(Policer, FloodHeldToPpsRate) {
  // 1 Mpps offered for 2 s against 10 kpps, burst 100: 100 + 20000 pass (tolerance 1 %).
  config::PolicerConfig c;
  c.packets_per_second = 10'000;
  c.burst_packets = 100;
  Policer p(c, 0);
  int pass = 0;
  for (TimestampNs t = 0; t < 2 * kNsPerSec; t += 1000) pass += p.allow(100, t) ? 1 : 0;
  EXPECT_NEAR(pass, 20'100, 201);
}

TEST(Policer, FloodHeldToBpsRate) {
  // 1500-byte copies at 100k/s for 1 s against 12 Mbit/s, burst 15000 bytes: 1000 + 10 pass.
  config::PolicerConfig c;
  c.bits_per_second = 12'000'000;
  c.burst_bytes = 15'000;
  Policer p(c, 0);
  int pass = 0;
  for (TimestampNs t = 0; t < kNsPerSec; t += 10'000) pass += p.allow(1500, t) ? 1 : 0;
  EXPECT_NEAR(pass, 1010, 11);
}

TEST(Policer, BothLimitsAndIdleRefillCapped) {
  config::PolicerConfig c;
  c.packets_per_second = 1000;
  c.bits_per_second = 8'000'000;  // 1 MB/s
  c.burst_packets = 10;
  c.burst_bytes = 100'000;
  Policer p(c, 0);
  int pass = 0;
  for (int i = 0; i < 100; ++i) pass += p.allow(64, 0) ? 1 : 0;
  EXPECT_EQ(pass, 10);  // packet burst limits
  // An hour idle refills only up to the burst, and the arithmetic does not overflow.
  pass = 0;
  for (int i = 0; i < 100; ++i) pass += p.allow(64, 3600 * kNsPerSec) ? 1 : 0;
  EXPECT_EQ(pass, 10);
  Policer unlimited;
  EXPECT_TRUE(unlimited.unlimited());
  EXPECT_TRUE(unlimited.allow(9000, 0));
}

TEST(Policer, DefaultBurstDerivedFromRate) {
  config::PolicerConfig c;
  c.packets_per_second = kDefaultPolicePps;
  c.bits_per_second = kDefaultPoliceBps;
  Policer p(c, 0);
  EXPECT_EQ(p.burst_packets(), 1000u);
  EXPECT_EQ(p.burst_bytes(), 1'250'000u);
}

TEST(MirrorOnce, ForwardedCopyIsDuplicateDistinctPacketsAreNot) {
  using portmirror::testing::PacketBuilder;
  wire::Ipv4Header h;
  h.protocol = 17;
  h.identification = 0;
  h.time_to_live = 64;
  std::memcpy(h.source.data(), "\x0a\x00\x00\x01", 4);
  std::memcpy(h.destination.data(), "\x0a\x00\x01\x01", 4);
  auto in = PacketBuilder().eth().ipv4(h).udp(1000, 53).bytes({'a', 'b', 'c', 'd'}).build();
  h.time_to_live = 63;  // forwarded: TTL and checksum change, and the MACs
  auto out = PacketBuilder()
                 .eth(0, {2, 0, 0, 0, 0, 9}, {2, 0, 0, 0, 0, 8})
                 .ipv4(h)
                 .udp(1000, 53)
                 .bytes({'a', 'b', 'c', 'd'})
                 .build();
  auto other = PacketBuilder().eth().ipv4(h).udp(1000, 53).bytes({'a', 'b', 'c', 'e'}).build();
  MirrorOnce once;
  EXPECT_FALSE(once.seen_before(ByteSpan(in), testing::info_of(in), 1000));
  EXPECT_TRUE(once.seen_before(ByteSpan(out), testing::info_of(out), 2000));
  EXPECT_FALSE(once.seen_before(ByteSpan(other), testing::info_of(other),
                                3000));  // same id 0, other payload
  // Outside the window the same bytes are a new packet.
  EXPECT_FALSE(
      once.seen_before(ByteSpan(in), testing::info_of(in), 1000 + 2 * MirrorOnce::kDefaultWindow));
}

}  // namespace
}  // namespace portmirror::source
