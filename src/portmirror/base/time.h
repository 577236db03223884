// Timestamps: signed 64-bit nanoseconds since the UNIX epoch (UTC). Good until 2262.
#pragma once

#include <cstdint>
#include <ctime>

namespace portmirror {

using TimestampNs = std::int64_t;
inline constexpr std::int64_t kNsPerSec = 1'000'000'000;

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
