// Byte spans and big-endian loads/stores: every multi-byte wire read in portmirror goes through
// here.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "portmirror/base/check.h"

namespace portmirror {

// uint8_t rather than std::byte: libpcap, sockets and the kernel all hand us u_char buffers, and
// arithmetic on flag bytes stays readable. The view discipline (no reinterpret_cast, bounds checked
// by the parser) is what matters. See docs/adr/0001-bytes.md.
using ByteSpan = std::span<const std::uint8_t>;
using MutableByteSpan = std::span<std::uint8_t>;

namespace detail {
template <typename T>
inline T byteswap_if_little(T v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(v));
    if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(v));
    if constexpr (sizeof(T) == 8) return static_cast<T>(__builtin_bswap64(v));
  }
  return v;
}
template <typename T>
inline T load_raw(const std::uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace detail

// Preconditions (checked in debug builds): offset + width <= bytes.size().
inline std::uint8_t load_u8(ByteSpan b, std::size_t off) noexcept {
  PM_DCHECK(off < b.size());
  return b[off];
}
inline std::uint16_t load_be16(ByteSpan b, std::size_t off) noexcept {
  PM_DCHECK(off + 2 <= b.size());
  return detail::byteswap_if_little(detail::load_raw<std::uint16_t>(b.data() + off));
}
inline std::uint32_t load_be24(ByteSpan b, std::size_t off) noexcept {
  PM_DCHECK(off + 3 <= b.size());
  return (std::uint32_t{b[off]} << 16) | (std::uint32_t{b[off + 1]} << 8) | b[off + 2];
}
inline std::uint32_t load_be32(ByteSpan b, std::size_t off) noexcept {
  PM_DCHECK(off + 4 <= b.size());
  return detail::byteswap_if_little(detail::load_raw<std::uint32_t>(b.data() + off));
}
inline std::uint64_t load_be64(ByteSpan b, std::size_t off) noexcept {
  PM_DCHECK(off + 8 <= b.size());
  return detail::byteswap_if_little(detail::load_raw<std::uint64_t>(b.data() + off));
}
// Host-order loads for file formats written in the writer's native order (pcap).
template <typename T>
inline T load_host(ByteSpan b, std::size_t off) noexcept {
  PM_DCHECK(off + sizeof(T) <= b.size());
  return detail::load_raw<T>(b.data() + off);
}

inline void store_u8(MutableByteSpan b, std::size_t off, std::uint8_t v) noexcept {
  PM_DCHECK(off < b.size());
  b[off] = v;
}
inline void store_be16(MutableByteSpan b, std::size_t off, std::uint16_t v) noexcept {
  PM_DCHECK(off + 2 <= b.size());
  v = detail::byteswap_if_little(v);
  std::memcpy(b.data() + off, &v, 2);
}
inline void store_be24(MutableByteSpan b, std::size_t off, std::uint32_t v) noexcept {
  PM_DCHECK(off + 3 <= b.size());
  b[off] = static_cast<std::uint8_t>(v >> 16);
  b[off + 1] = static_cast<std::uint8_t>(v >> 8);
  b[off + 2] = static_cast<std::uint8_t>(v);
}
inline void store_be32(MutableByteSpan b, std::size_t off, std::uint32_t v) noexcept {
  PM_DCHECK(off + 4 <= b.size());
  v = detail::byteswap_if_little(v);
  std::memcpy(b.data() + off, &v, 4);
}
inline void store_be64(MutableByteSpan b, std::size_t off, std::uint64_t v) noexcept {
  PM_DCHECK(off + 8 <= b.size());
  v = detail::byteswap_if_little(v);
  std::memcpy(b.data() + off, &v, 8);
}
template <typename T>
inline void store_host(MutableByteSpan b, std::size_t off, T v) noexcept {
  PM_DCHECK(off + sizeof(T) <= b.size());
  std::memcpy(b.data() + off, &v, sizeof(T));
}

}  // namespace portmirror
