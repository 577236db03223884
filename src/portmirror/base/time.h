// Timestamps: signed 64-bit nanoseconds since the UNIX epoch (UTC). Good until 2262.
#pragma once

#include <climits>
#include <cstdint>
#include <ctime>

namespace portmirror {

using TimestampNs = std::int64_t;
inline constexpr std::int64_t kNsPerSec = 1'000'000'000;

// Seconds + nanoseconds -> TimestampNs, saturating outside 1677..2262 instead of overflowing
// (capture files can carry any 64-bit time; pcapng's if_tsresol units reach far beyond 2262).
constexpr TimestampNs timestamp_from(std::int64_t sec, std::int64_t nsec) noexcept {
  constexpr std::int64_t kMaxSec = INT64_MAX / kNsPerSec - 1;
  if (sec > kMaxSec) return INT64_MAX;
  if (sec < -kMaxSec) return INT64_MIN;
  return sec * kNsPerSec + nsec;
}

inline TimestampNs wall_clock_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}
inline TimestampNs monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

}  // namespace portmirror
