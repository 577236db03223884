// erspan_timestamp_ns: every granularity of draft-foschiano-erspan-03 (protocols.md §2.6), wraps,
// platform sub-headers, sanity bound; and the corpus's ERSPAN III captures.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/collector/session.h"
#include "session_test_pcap.h"

namespace portmirror::collector {
namespace {

constexpr TimestampNs kUs100 = 100'000;
constexpr TimestampNs kNs100 = 100;
// 2019-01-11 12:00:14.232092 UTC (the capture time of zeek_erspanIII.pcap's first frame).
constexpr TimestampNs kCapture = 1547208014'232092000;

ErspanInfo type3(std::uint8_t gra, std::uint32_t ts) {
  ErspanInfo e;
  e.version = 2;
  e.gra = gra;
  e.timestamp = ts;
  return e;
}
ErspanInfo with_platform(ErspanInfo e, std::uint8_t id, std::uint32_t w4) {
  e.has_platform = true;
  e.platform_id = id;
  e.platform_w4 = w4;
  return e;
}
std::uint32_t units32(TimestampNs t, TimestampNs unit) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(t / unit));
}

TEST(ErspanTime, TypeIIHasNoTimestamp) {
  ErspanInfo e;
  e.version = 1;
  bool reliable = true;
  EXPECT_EQ(erspan_timestamp_ns(e, kCapture, reliable), kCapture);
  EXPECT_FALSE(reliable);
}

TEST(ErspanTime, Gra00HundredMicrosecondsUnwrappedAgainstCaptureTime) {
  // The sender stamped 3.2 ms before we captured (Linux erspan_get_timestamp style: epoch / 100 µs
  // truncated to 32 bits).
  const TimestampNs sent = kCapture - 3'200'000 - (kCapture % kUs100);
  bool reliable = false;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, units32(sent, kUs100)), kCapture, reliable), sent);
  EXPECT_TRUE(reliable);
  // Stamped after capture (clock skew): still exact.
  const TimestampNs later = sent + 5 * kUs100 + 40 * kUs100;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, units32(later, kUs100)), kCapture, reliable), later);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, Gra00AcrossThe32BitWrap) {
  // Pick a capture time whose 100 µs count is 5 past a multiple of 2^32 (the field just wrapped);
  // the sender stamped 10 units earlier, before the wrap: 0xFFFFFFFB.
  const TimestampNs wrap_point =
      (std::int64_t{1} << 32) * 3 * kUs100;  // 2^32 units * 3 ≈ 14.9 days
  const TimestampNs capture = wrap_point + 5 * kUs100 + 1234;
  bool reliable = false;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, 0xFFFFFFFBu), capture, reliable), wrap_point - 5 * kUs100);
  EXPECT_TRUE(reliable);
  // The other way: capture just before the wrap, stamp just after (value 3).
  const TimestampNs capture2 = wrap_point - 2 * kUs100;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, 3), capture2, reliable), wrap_point + 3 * kUs100);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, Gra00FarFromCaptureFallsBackUnreliable) {
  // A clock 1 hour off: unwrapping works (< 2.48 days) but the sanity bound (60 s) rejects it.
  const TimestampNs off = kCapture - 3600 * kNsPerSec;
  bool reliable = true;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, units32(off, kUs100)), kCapture, reliable), kCapture);
  EXPECT_FALSE(reliable);
  ErspanTimeOptions wide;
  wide.sanity_bound_ns = 2 * 3600 * kNsPerSec;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, units32(off, kUs100)), kCapture, wide, reliable),
            off - off % kUs100);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, Gra01HundredNanosecondsAndWrapEvery429Seconds) {
  const TimestampNs sent = kCapture - 1'234'500;
  bool reliable = false;
  EXPECT_EQ(erspan_timestamp_ns(type3(1, units32(sent, kNs100)), kCapture, reliable), sent);
  EXPECT_TRUE(reliable);
  // Wrap: 2^32 * 100 ns = 429.4967296 s.
  const TimestampNs period = (std::int64_t{1} << 32) * kNs100;
  EXPECT_EQ(period, 429'496'729'600);
  const TimestampNs wrap_point = period * 3'600'000;  // some multiple of the period in 2019
  const TimestampNs capture = wrap_point + 700;       // 7 units after the wrap
  EXPECT_EQ(erspan_timestamp_ns(type3(1, 0xFFFFFFFEu), capture, reliable), wrap_point - 200);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, Gra01WithPlatformUpperBitsUsesThe64BitValue) {
  const TimestampNs sent = kCapture - 2'000'000'000;  // 2 s before capture
  const std::uint64_t v = static_cast<std::uint64_t>(sent / kNs100);
  for (std::uint8_t id : {std::uint8_t{0x3}, std::uint8_t{0x7}}) {
    ErspanInfo e = with_platform(type3(1, static_cast<std::uint32_t>(v)), id,
                                 static_cast<std::uint32_t>(v >> 32));
    bool reliable = false;
    EXPECT_EQ(erspan_timestamp_ns(e, kCapture, reliable), sent) << int{id};
    EXPECT_TRUE(reliable);
    // Upper bits that disagree with the capture time by years: rejected, not unwrapped around.
    e.platform_w4 += 1;  // +429.5 s
    EXPECT_EQ(erspan_timestamp_ns(e, kCapture, reliable), kCapture);
    EXPECT_FALSE(reliable);
  }
  // Platform 0x1 carries a port index in w4, not time: ignored, the 32-bit value is unwrapped.
  ErspanInfo e1 = with_platform(type3(1, static_cast<std::uint32_t>(v)), 0x1, 0xDEADBEEF);
  bool reliable = false;
  EXPECT_EQ(erspan_timestamp_ns(e1, kCapture, reliable), sent);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, Gra10Ieee1588SecondsFromPlatformAreTai) {
  const std::uint32_t utc_s = 1547208014;
  ErspanInfo e = with_platform(type3(2, 232'000'123), 0x5, utc_s + 37);
  bool reliable = false;
  EXPECT_EQ(erspan_timestamp_ns(e, kCapture, reliable),
            TimestampNs{utc_s} * kNsPerSec + 232'000'123);
  EXPECT_TRUE(reliable);
  e.platform_id = 0x6;
  EXPECT_EQ(erspan_timestamp_ns(e, kCapture, reliable),
            TimestampNs{utc_s} * kNsPerSec + 232'000'123);
  // A sender that already sends UTC: offset 0.
  ErspanTimeOptions utc;
  utc.tai_utc_offset_s = 0;
  e.platform_w4 = utc_s;
  EXPECT_EQ(erspan_timestamp_ns(e, kCapture, utc, reliable),
            TimestampNs{utc_s} * kNsPerSec + 232'000'123);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, Gra10WithoutSecondsTakesTheNearestSecond) {
  const TimestampNs capture = TimestampNs{1547208014} * kNsPerSec + 999'000'000;
  bool reliable = false;
  // Stamped 2 ms before capture, and 2 ms after capture (across the second boundary).
  EXPECT_EQ(erspan_timestamp_ns(type3(2, 997'000'000), capture, reliable), capture - 2'000'000);
  EXPECT_TRUE(reliable);
  EXPECT_EQ(erspan_timestamp_ns(type3(2, 1'000'000), capture, reliable), capture + 2'000'000);
  EXPECT_TRUE(reliable);
  // Not a nanosecond-of-second value.
  EXPECT_EQ(erspan_timestamp_ns(type3(2, 1'000'000'000), capture, reliable), capture);
  EXPECT_FALSE(reliable);
}

TEST(ErspanTime, Gra11UserDefinedKeepsCaptureTimeUnlessUnitGiven) {
  bool reliable = true;
  EXPECT_EQ(erspan_timestamp_ns(type3(3, 12345), kCapture, reliable), kCapture);
  EXPECT_FALSE(reliable);
  ErspanTimeOptions us;
  us.user_unit_ns = 1000;  // microseconds
  const TimestampNs sent = kCapture - 5'000'000 - kCapture % 1000;
  EXPECT_EQ(erspan_timestamp_ns(type3(3, units32(sent, 1000)), kCapture, us, reliable), sent);
  EXPECT_TRUE(reliable);
}

TEST(ErspanTime, SanityBoundIsConfigurable) {
  ErspanTimeOptions tight;
  tight.sanity_bound_ns = 1'000'000;  // 1 ms
  const TimestampNs sent = kCapture - 2'000'000;
  bool reliable = true;
  EXPECT_EQ(erspan_timestamp_ns(type3(1, units32(sent, kNs100)), kCapture, tight, reliable),
            kCapture);
  EXPECT_FALSE(reliable);
}

TEST(ErspanTime, ExtremeCaptureTimesDoNotOverflow) {
  bool reliable = true;
  const TimestampNs huge = std::numeric_limits<TimestampNs>::max() - 5;
  EXPECT_EQ(erspan_timestamp_ns(type3(0, 0xFFFFFFFFu), huge, reliable), huge);
  EXPECT_FALSE(reliable);
  EXPECT_EQ(erspan_timestamp_ns(type3(1, 5), -1, reliable), -1);
  EXPECT_FALSE(reliable);
  EXPECT_EQ(
      erspan_timestamp_ns(with_platform(type3(0, 0xFFFFFFFFu), 0x3, 0xFFFFFFFFu), 0, reliable), 0);
  EXPECT_FALSE(reliable);
}

// --- The corpus's ERSPAN III captures -------------------------------------------------------

// Ethernet (+802.1Q) / IPv4 / GRE / ERSPAN III -> ErspanInfo (protocols.md §2.3, §2.4).
bool parse_erspan3(ByteSpan p, ErspanInfo& e) {
  std::size_t off = 12;
  if (p.size() < off + 2) return false;
  std::uint16_t type = load_be16(p, off);
  while (type == 0x8100 || type == 0x88A8) {
    off += 4;
    if (p.size() < off + 2) return false;
    type = load_be16(p, off);
  }
  off += 2;
  if (type != 0x0800 || p.size() < off + 20 || p[off + 9] != 47) return false;
  off += std::size_t{4} * (p[off] & 0x0Fu);
  if (p.size() < off + 4) return false;
  const std::uint16_t flags = load_be16(p, off);
  if (load_be16(p, off + 2) != 0x22EB) return false;
  off += 4u + ((flags & 0x8000) ? 4u : 0u) + ((flags & 0x2000) ? 4u : 0u) +
         ((flags & 0x1000) ? 4u : 0u);
  if (p.size() < off + 12) return false;
  e.version = static_cast<std::uint8_t>(load_be32(p, off) >> 28);
  e.timestamp = load_be32(p, off + 4);
  const std::uint32_t w2 = load_be32(p, off + 8);
  e.gra = static_cast<std::uint8_t>((w2 & 0x6u) >> 1);
  e.has_platform = (w2 & 0x1u) != 0;
  if (e.has_platform) {
    if (p.size() < off + 20) return false;
    e.platform_id = static_cast<std::uint8_t>(load_be32(p, off + 12) >> 26);
    e.platform_w4 = load_be32(p, off + 16);
  }
  return true;
}

std::vector<std::pair<test::PcapRecord, ErspanInfo>> load(const std::string& name) {
  std::vector<std::pair<test::PcapRecord, ErspanInfo>> out;
  for (auto& r : test::read_pcap(test::shared_dir() + "/corpus/" + name).records) {
    ErspanInfo e;
    if (parse_erspan3(r.data, e)) out.emplace_back(std::move(r), e);
  }
  return out;
}

TEST(ErspanTimeCorpus, ZeekErspanIIIClockIsNotWallClock) {
  // zeek_erspanIII.pcap: Gra 00 (100 µs), values 5208 and 5251: the switch's clock counts from its
  // boot (0.52 s), not from the epoch. The conversion must refuse it and keep capture time; the
  // inter-packet delta must still agree with the capture's (4.3 ms vs 4.305 ms).
  const auto pkts = load("zeek_erspanIII.pcap");
  ASSERT_EQ(pkts.size(), 2u) << "corpus file missing or unparsed";
  for (const auto& [r, e] : pkts) {
    EXPECT_EQ(e.gra, 0);
    EXPECT_FALSE(e.has_platform);
    bool reliable = true;
    EXPECT_EQ(erspan_timestamp_ns(e, r.ts, reliable), r.ts);
    EXPECT_FALSE(reliable);
  }
  EXPECT_EQ(pkts[0].second.timestamp, 5208u);
  EXPECT_EQ(pkts[1].second.timestamp, 5251u);
  // With the sanity bound opened to the full unwrap range, both convert and the delta is exact.
  ErspanTimeOptions open;
  open.sanity_bound_ns = TimestampNs{1} << 62;
  bool r0 = false, r1 = false;
  const TimestampNs t0 = erspan_timestamp_ns(pkts[0].second, pkts[0].first.ts, open, r0);
  const TimestampNs t1 = erspan_timestamp_ns(pkts[1].second, pkts[1].first.ts, open, r1);
  EXPECT_TRUE(r0 && r1);
  EXPECT_EQ(t1 - t0, 43 * kUs100);
  const TimestampNs capture_delta = pkts[1].first.ts - pkts[0].first.ts;
  EXPECT_LT(std::llabs((t1 - t0) - capture_delta), kUs100);
}

TEST(ErspanTimeCorpus, PensandoGra11With64BitNanoseconds) {
  // zeek_gre-erspan3-dot1q.pcap: Gra 11 (user-configured) with platform sub-header 0x3 whose
  // 64-bit value is nanoseconds since the epoch (AMD Pensando DSC).
  const auto pkts = load("zeek_gre-erspan3-dot1q.pcap");
  ASSERT_EQ(pkts.size(), 2u) << "corpus file missing or unparsed";
  ErspanTimeOptions ns;
  ns.user_unit_ns = 1;
  TimestampNs prev = 0;
  for (const auto& [r, e] : pkts) {
    EXPECT_EQ(e.gra, 3);
    EXPECT_EQ(e.platform_id, 3);
    bool reliable = true;
    EXPECT_EQ(erspan_timestamp_ns(e, r.ts, reliable), r.ts);  // default: unit unknown
    EXPECT_FALSE(reliable);
    const TimestampNs t = erspan_timestamp_ns(e, r.ts, ns, reliable);
    EXPECT_TRUE(reliable);
    // Stamped 14.4 ms before the collector's capture: transit plus capture latency.
    EXPECT_LT(t, r.ts);
    EXPECT_GT(t, r.ts - 20'000'000);
    EXPECT_GT(t, prev);
    prev = t;
  }
  bool reliable = false;
  EXPECT_EQ(erspan_timestamp_ns(pkts[0].second, pkts[0].first.ts, ns, reliable),
            1582807360'128187989);
}

}  // namespace
}  // namespace portmirror::collector
