// Token-bucket policer on the mirrored output of one instance: a packets/s bucket and a bits/s
// bucket, each with a burst; a copy passes only when both have credit (issue 5 "Sampling,
// truncation, policing"). Integer arithmetic on a caller-supplied monotonic clock (ns), so tests
// drive it with a fake clock. Credit is kept in "rate x ns" units: a packet costs 1e9 units of the
// pps bucket and bytes x 8 x 1e9 units of the bps bucket; elapsed time adds elapsed_ns x rate
// units, capped at the burst.
//
// The default (config::PolicerConfig left at zero) is NOT "unlimited": the mirror applies
// kDefaultPps / kDefaultBps unless the user gives --police (or --police none).
#pragma once

#include <cstdint>

#include "portmirror/base/time.h"
#include "portmirror/config/mirror_config.h"

namespace portmirror::source {

inline constexpr std::uint64_t kDefaultPolicePps = 10'000;
inline constexpr std::uint64_t kDefaultPoliceBps = 100'000'000;  // 100 Mbit/s
inline constexpr std::uint64_t kMaxPolicePps = 100'000'000;
inline constexpr std::uint64_t kMaxPoliceBps = 100'000'000'000;  // 100 Gbit/s

class Policer {
 public:
  Policer() = default;  // unlimited
  // Zero rates mean "no limit in that dimension". Bursts of 0 are derived: 1/10 s of rate, with at
  // least 64 packets / 64 KiB + one maximum packet.
  Policer(const config::PolicerConfig& cfg, TimestampNs now) noexcept;

  // True when a copy of `bytes` may be sent at time `now` (monotonic ns); consumes credit.
  bool allow(std::uint32_t bytes, TimestampNs now) noexcept {
    refill(now);
    if (pps_ != 0 && pkt_credit_ < kUnit) return false;
    const std::uint64_t cost = std::uint64_t{bytes} * 8 * kUnit;
    if (bps_ != 0 && byte_credit_ < cost) return false;
    if (pps_ != 0) pkt_credit_ -= kUnit;
    if (bps_ != 0) byte_credit_ -= cost;
    return true;
  }

  bool unlimited() const noexcept { return pps_ == 0 && bps_ == 0; }
  std::uint64_t pps() const noexcept { return pps_; }
  std::uint64_t bps() const noexcept { return bps_; }
  std::uint64_t burst_packets() const noexcept { return pps_ ? pkt_cap_ / kUnit : 0; }
  std::uint64_t burst_bytes() const noexcept { return bps_ ? byte_cap_ / (8 * kUnit) : 0; }

 private:
  static constexpr std::uint64_t kUnit = 1'000'000'000;

  void refill(TimestampNs now) noexcept {
    if (now <= last_) return;
    std::uint64_t dt = static_cast<std::uint64_t>(now - last_);
    last_ = now;
    if (dt > max_dt_) dt = max_dt_;
    if (pps_ != 0) {
      pkt_credit_ += dt * pps_;
      if (pkt_credit_ > pkt_cap_) pkt_credit_ = pkt_cap_;
    }
    if (bps_ != 0) {
      byte_credit_ += dt * bps_;
      if (byte_credit_ > byte_cap_) byte_credit_ = byte_cap_;
    }
  }

  std::uint64_t pps_ = 0;
  std::uint64_t bps_ = 0;
  std::uint64_t pkt_cap_ = 0;
  std::uint64_t byte_cap_ = 0;
  std::uint64_t pkt_credit_ = 0;
  std::uint64_t byte_credit_ = 0;
  std::uint64_t max_dt_ = 0;  // elapsed time beyond which both buckets are full anyway
  TimestampNs last_ = 0;
};

}  // namespace portmirror::source
