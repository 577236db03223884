// BSD loopback headers: LINKTYPE_NULL (0, 4-octet address family in the WRITER's byte order) and
// LINKTYPE_LOOP (108, network byte order). tcpdump.org/linktypes/LINKTYPE_NULL.html.
//
// |                 Address family (4 octets)                     |
// |                 IPv4 / IPv6 packet ...                        |
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

namespace loop_af {
inline constexpr std::uint32_t kInet = 2;
inline constexpr std::uint32_t kInet6Linux = 10;
inline constexpr std::uint32_t kInet6Bsd = 24;  // NetBSD, OpenBSD, BSD/OS
inline constexpr std::uint32_t kInet6FreeBsd = 28;
inline constexpr std::uint32_t kInet6Darwin = 30;
constexpr bool is_inet6(std::uint32_t af) noexcept {
  return af == kInet6Linux || af == kInet6Bsd || af == kInet6FreeBsd || af == kInet6Darwin;
}
}  // namespace loop_af

/// NULL/LOOP header view. For NULL the writer's byte order is unknown; every AF value is < 65536,
/// so the non-zero half tells the order (libpcap/Wireshark do the same).
class LoopbackView {
 public:
  static constexpr std::size_t kSize = 4;
  static Expected<LoopbackView, ParseError> parse(ByteSpan bytes,
                                                  bool network_order = false) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return LoopbackView(bytes, network_order);
  }
  std::uint32_t family() const noexcept {
    const std::uint32_t be = load_be32(bytes_, 0);
    if (network_order_ || (be & 0xFFFF0000u) == 0) return be;
    return __builtin_bswap32(be);
  }
  bool is_ipv4() const noexcept { return family() == loop_af::kInet; }
  bool is_ipv6() const noexcept { return loop_af::is_inet6(family()); }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }

 private:
  LoopbackView(ByteSpan bytes, bool network_order) noexcept
      : bytes_(bytes), network_order_(network_order) {}
  ByteSpan bytes_;
  bool network_order_;
};

/// Emits a LOOP header (network order) or a little-endian NULL header.
struct LoopbackHeader {
  std::uint32_t family = loop_af::kInet;
  bool network_order = true;
  static constexpr std::size_t size() noexcept { return LoopbackView::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be32(out, 0, network_order ? family : __builtin_bswap32(family));
  }
};

}  // namespace portmirror::wire
