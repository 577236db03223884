// Internet checksum. RFC 1071 (computation), RFC 1624 (incremental update), used by IPv4, GRE, UDP.
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"

namespace portmirror::wire {

/// Adds the 16-bit big-endian words of `bytes` to `sum` (RFC 1071 §4.1); an odd trailing byte is
/// padded with zero. The result is unfolded: pass it on, then finish with checksum_fold().
std::uint32_t checksum_add(ByteSpan bytes, std::uint32_t sum = 0) noexcept;

/// Folds carries and returns the one's complement: the value to store in a checksum field.
constexpr std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFFu);
}

/// Checksum of `bytes` with the checksum field counted as whatever it holds (store 0 first to
/// emit).
inline std::uint16_t internet_checksum(ByteSpan bytes) noexcept {
  return checksum_fold(checksum_add(bytes));
}

/// True when `bytes`, including its stored checksum field, sums to 0xFFFF (RFC 1071 §1
/// verification).
inline bool checksum_valid(ByteSpan bytes) noexcept {
  return internet_checksum(bytes) == 0;
}

/// RFC 1624 eqn. 3: the new checksum after a 16-bit field changed from `old_field` to `new_field`,
/// HC' = ~(~HC + ~m + m'). For template patching (IPv4 total length, identification).
constexpr std::uint16_t checksum_update16(std::uint16_t old_checksum, std::uint16_t old_field,
                                          std::uint16_t new_field) noexcept {
  std::uint32_t sum = static_cast<std::uint16_t>(~old_checksum);
  sum += static_cast<std::uint16_t>(~old_field);
  sum += new_field;
  return checksum_fold(sum);
}

/// Same for a 32-bit field (two 16-bit words), e.g. a GRE sequence number under a GRE checksum.
constexpr std::uint16_t checksum_update32(std::uint16_t old_checksum, std::uint32_t old_field,
                                          std::uint32_t new_field) noexcept {
  std::uint32_t sum = static_cast<std::uint16_t>(~old_checksum);
  sum += static_cast<std::uint16_t>(~(old_field >> 16));
  sum += static_cast<std::uint16_t>(~old_field);
  sum += new_field >> 16;
  sum += new_field & 0xFFFFu;
  return checksum_fold(sum);
}

}  // namespace portmirror::wire
