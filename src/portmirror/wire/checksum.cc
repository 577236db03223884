#include "portmirror/wire/checksum.h"

namespace portmirror::wire {

std::uint32_t checksum_add(ByteSpan bytes, std::uint32_t sum) noexcept {
  // Accumulate in 64 bits, 32 bits at a time: the one's-complement sum is byte-order independent
  // per 16-bit lane (RFC 1071 §2(B)), so big-endian 32-bit loads fold to the right 16-bit result.
  std::uint64_t acc = sum;
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  for (; i + 4 <= n; i += 4) acc += load_be32(bytes, i);
  if (i + 2 <= n) {
    acc += load_be16(bytes, i);
    i += 2;
  }
  if (i < n) acc += static_cast<std::uint32_t>(bytes[i]) << 8;
  while ((acc >> 32) != 0) acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  acc = (acc & 0xFFFFu) + (acc >> 16);
  acc = (acc & 0xFFFFu) + (acc >> 16);
  acc = (acc & 0xFFFFu) + (acc >> 16);
  return static_cast<std::uint32_t>(acc);
}

}  // namespace portmirror::wire
