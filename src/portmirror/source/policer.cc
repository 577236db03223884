#include "portmirror/source/policer.h"

#include <algorithm>

namespace portmirror::source {

Policer::Policer(const config::PolicerConfig& cfg, TimestampNs now) noexcept
    : pps_(std::min(cfg.packets_per_second, kMaxPolicePps)),
      bps_(std::min(cfg.bits_per_second, kMaxPoliceBps)),
      last_(now) {
  if (pps_ != 0) {
    std::uint64_t burst =
        cfg.burst_packets != 0 ? cfg.burst_packets : std::max<std::uint64_t>(pps_ / 10, 64);
    burst = std::min<std::uint64_t>(burst, 10'000'000);
    pkt_cap_ = burst * kUnit;
    pkt_credit_ = pkt_cap_;
  }
  if (bps_ != 0) {
    std::uint64_t burst =
        cfg.burst_bytes != 0 ? cfg.burst_bytes : std::max<std::uint64_t>(bps_ / 80, 65536 + 9216);
    burst = std::min<std::uint64_t>(burst, 1'000'000'000);  // 8e18 units fits in 64 bits
    byte_cap_ = burst * 8 * kUnit;
    byte_credit_ = byte_cap_;
  }
  // Cap elapsed time so dt * rate cannot overflow: once a bucket is full more time adds nothing.
  std::uint64_t dt = ~std::uint64_t{0};
  if (pps_ != 0) dt = std::min(dt, pkt_cap_ / pps_ + 1);
  if (bps_ != 0) dt = std::min(dt, byte_cap_ / bps_ + 1);
  max_dt_ = dt;
}

}  // namespace portmirror::source
