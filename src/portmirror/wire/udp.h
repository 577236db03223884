// UDP header. RFC 768; zero length for jumbograms RFC 2675 §4 (also Linux BIG TCP/GSO).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |          Source Port          |       Destination Port        |
// |            Length             |           Checksum            |
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

namespace udp_port {
inline constexpr std::uint16_t kVxlan = 4789;
inline constexpr std::uint16_t kVxlanLinux = 8472;
inline constexpr std::uint16_t kGeneve = 6081;
inline constexpr std::uint16_t kTzsp = 37008;
}  // namespace udp_port

/// UDP header view. parse() checks the 8 octets; Length is reported as is (0 = take it from IP).
class UdpView {
 public:
  static constexpr std::size_t kSize = 8;
  static Expected<UdpView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return UdpView(bytes);
  }
  std::uint16_t source_port() const noexcept { return load_be16(bytes_, 0); }
  std::uint16_t destination_port() const noexcept { return load_be16(bytes_, 2); }
  std::uint16_t length() const noexcept { return load_be16(bytes_, 4); }
  std::uint16_t checksum() const noexcept { return load_be16(bytes_, 6); }
  /// Bytes after the header up to Length (or to the end of the bytes when Length is 0 or beyond
  /// it).
  ByteSpan payload() const noexcept {
    const std::size_t avail = bytes_.size() - kSize;
    const std::size_t len = length() >= kSize ? length() - kSize : avail;
    return bytes_.subspan(kSize, len < avail ? len : avail);
  }

 private:
  explicit UdpView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

/// UDP emitter. The checksum is written as given (0 = none, allowed over IPv4 and, for tunnels,
/// over IPv6 per RFC 6935); templates patch Length per packet.
struct UdpHeader {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint16_t length = 0;  // header + payload
  std::uint16_t checksum = 0;
  static constexpr std::size_t size() noexcept { return UdpView::kSize; }
  static constexpr std::size_t kLengthOffset = 4;
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be16(out, 0, source_port);
    store_be16(out, 2, destination_port);
    store_be16(out, 4, length);
    store_be16(out, 6, checksum);
  }
};

}  // namespace portmirror::wire
