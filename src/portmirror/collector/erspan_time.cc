// ERSPAN III timestamp -> wall clock (draft-foschiano-erspan-03 §4.3, protocols.md §2.4, §2.6).
// Limits and examples: docs/sessions.md.
#include <limits>

#include "portmirror/collector/session.h"

namespace portmirror::collector {
namespace {

constexpr std::uint8_t kVersionIII = 2;  // ERSPAN "Ver" field of Type III
constexpr std::uint8_t kGra100us = 0;
constexpr std::uint8_t kGra100ns = 1;
constexpr std::uint8_t kGraIeee1588 = 2;
constexpr TimestampNs kUnit100us = 100'000;
constexpr TimestampNs kUnit100ns = 100;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// Platform sub-header IDs whose w4 holds the upper 32 bits of a 64-bit timestamp (§2.4). 0x0 (a
// newer-Wireshark alias of 0x7) is not trusted: draft-03 leaves it undefined.
bool has_upper_bits(const ErspanInfo& e) noexcept {
  return e.has_platform && (e.platform_id == 0x3 || e.platform_id == 0x7);
}
// Platform sub-header IDs whose w4 holds seconds (§2.4, used with Gra 10).
bool has_seconds(const ErspanInfo& e) noexcept {
  return e.has_platform && (e.platform_id == 0x5 || e.platform_id == 0x6);
}

// The time nearest `capture` whose value in `unit`s is congruent to `ts` modulo 2^32 (§2.6 recipe:
// r = capture / U; d = (int32)(ts - (uint32)r); t = (r + d) * U).
bool unwrap32(std::uint32_t ts, TimestampNs capture, TimestampNs unit, TimestampNs& out) noexcept {
  if (capture < 0 || capture > kMax - (std::int64_t{1} << 32) * unit) return false;
  const std::int64_t r = capture / unit;
  const auto d = static_cast<std::int32_t>(ts - static_cast<std::uint32_t>(r));
  out = (r + d) * unit;
  return true;
}

bool full64(std::uint32_t upper, std::uint32_t lower, TimestampNs unit, TimestampNs& out) noexcept {
  const std::uint64_t v = (std::uint64_t{upper} << 32) | lower;
  if (v > static_cast<std::uint64_t>(kMax / unit)) return false;
  out = static_cast<TimestampNs>(v) * unit;
  return true;
}

// The time nearest `capture` whose sub-second part is `ns` (Gra 10 without a seconds sub-header).
TimestampNs nearest_second(std::uint32_t ns, TimestampNs capture) noexcept {
  std::int64_t frac = capture % kNsPerSec;
  if (frac < 0) frac += kNsPerSec;
  std::int64_t diff = frac - static_cast<std::int64_t>(ns);
  if (diff > kNsPerSec / 2) diff -= kNsPerSec;
  if (diff < -kNsPerSec / 2) diff += kNsPerSec;
  return capture - diff;
}

bool convert(const ErspanInfo& e, TimestampNs capture, const ErspanTimeOptions& o,
             TimestampNs& out) noexcept {
  if (e.version != kVersionIII) return false;  // Type I/II carry no timestamp
  switch (e.gra) {
    case kGraIeee1588: {
      if (e.timestamp >= kNsPerSec) return false;  // not a nanoseconds-of-second value
      if (!has_seconds(e)) {
        out = nearest_second(e.timestamp, capture);
        return true;
      }
      // PTP seconds are TAI; UTC = TAI - offset (37 s since 2017-01-01).
      out =
          (static_cast<std::int64_t>(e.platform_w4) - o.tai_utc_offset_s) * kNsPerSec + e.timestamp;
      return true;
    }
    case kGra100us:
    case kGra100ns:
    default: {
      TimestampNs unit = e.gra == kGra100us   ? kUnit100us
                         : e.gra == kGra100ns ? kUnit100ns
                                              : static_cast<TimestampNs>(o.user_unit_ns);
      if (unit == 0) return false;  // Gra 11 with unknown unit
      if (has_upper_bits(e)) return full64(e.platform_w4, e.timestamp, unit, out);
      return unwrap32(e.timestamp, capture, unit, out);
    }
  }
}

}  // namespace

TimestampNs erspan_timestamp_ns(const ErspanInfo& e, TimestampNs capture_ts,
                                const ErspanTimeOptions& options, bool& reliable) noexcept {
  // A capture time beyond ±2^62 ns (years 1823..2116) is not a clock to unwrap against (files can
  // carry any 64-bit time, saturated by the reader): keep it, and keep the arithmetic
  // overflow-free.
  constexpr TimestampNs kSaneCapture = TimestampNs{1} << 62;
  if (capture_ts > kSaneCapture || capture_ts < -kSaneCapture) {
    reliable = false;
    return capture_ts;
  }
  TimestampNs t = 0;
  reliable = convert(e, capture_ts, options, t);
  if (reliable) {
    // Overflow-free |t - capture| <= bound.
    const bool after = t >= capture_ts;
    const std::uint64_t dist =
        after ? static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(capture_ts)
              : static_cast<std::uint64_t>(capture_ts) - static_cast<std::uint64_t>(t);
    reliable = dist <= static_cast<std::uint64_t>(options.sanity_bound_ns);
  }
  return reliable ? t : capture_ts;
}

TimestampNs erspan_timestamp_ns(const ErspanInfo& e, TimestampNs capture_ts,
                                bool& reliable) noexcept {
  return erspan_timestamp_ns(e, capture_ts, ErspanTimeOptions{}, reliable);
}

}  // namespace portmirror::collector
