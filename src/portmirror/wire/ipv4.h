// IPv4 header, with options. RFC 791 §3.1; fragmentation fields RFC 791 §2.3, RFC 6864.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |Version|  IHL  |    DSCP   |ECN|          Total Length         |
// |         Identification        |Flags|      Fragment Offset    |
// |  Time to Live |    Protocol   |         Header Checksum       |
// |                       Source Address                          |
// |                    Destination Address                        |
// |                    Options (IHL > 5)                          |
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/checksum.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

namespace ipproto {
inline constexpr std::uint8_t kHopByHop = 0;
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kIpip = 4;
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::uint8_t kIpv6 = 41;
inline constexpr std::uint8_t kRouting = 43;
inline constexpr std::uint8_t kFragment = 44;
inline constexpr std::uint8_t kGre = 47;
inline constexpr std::uint8_t kEsp = 50;
inline constexpr std::uint8_t kAh = 51;
inline constexpr std::uint8_t kIcmpv6 = 58;
inline constexpr std::uint8_t kNoNext = 59;
inline constexpr std::uint8_t kDestOpts = 60;
inline constexpr std::uint8_t kMobility = 135;
inline constexpr std::uint8_t kHip = 139;
inline constexpr std::uint8_t kShim6 = 140;
inline constexpr std::uint8_t kExperiment1 = 253;
inline constexpr std::uint8_t kExperiment2 = 254;
}  // namespace ipproto

/// IPv4 header view. parse() checks version 4, IHL >= 5 and that the IHL·4 header bytes (options
/// included) are present; after that no accessor reads out of bounds. Total Length is NOT checked
/// against the bytes (a capture may be cut short): payload() is bounded by both.
class Ipv4View {
 public:
  static constexpr std::size_t kMinSize = 20;
  static constexpr std::uint16_t kFlagReserved = 0x8000;
  static constexpr std::uint16_t kFlagDf = 0x4000;
  static constexpr std::uint16_t kFlagMf = 0x2000;
  static constexpr std::uint16_t kOffsetMask = 0x1FFF;

  static Expected<Ipv4View, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.empty()) return unexpected(ParseError::kTruncated);
    if ((bytes[0] >> 4) != 4) return unexpected(ParseError::kMalformed);
    const std::size_t hl = static_cast<std::size_t>(bytes[0] & 0x0F) * 4;
    if (hl < kMinSize) return unexpected(ParseError::kMalformed);
    if (bytes.size() < hl) return unexpected(ParseError::kTruncated);
    return Ipv4View(bytes);
  }

  std::uint8_t version() const noexcept { return static_cast<std::uint8_t>(bytes_[0] >> 4); }
  std::uint8_t ihl() const noexcept { return bytes_[0] & 0x0F; }
  std::size_t header_length() const noexcept { return std::size_t{ihl()} * 4; }
  std::uint8_t dscp() const noexcept { return static_cast<std::uint8_t>(bytes_[1] >> 2); }
  std::uint8_t ecn() const noexcept { return bytes_[1] & 0x03; }
  std::uint16_t total_length() const noexcept { return load_be16(bytes_, 2); }
  std::uint16_t identification() const noexcept { return load_be16(bytes_, 4); }
  bool dont_fragment() const noexcept { return (load_be16(bytes_, 6) & kFlagDf) != 0; }
  bool more_fragments() const noexcept { return (load_be16(bytes_, 6) & kFlagMf) != 0; }
  /// Fragment offset in octets (the field counts 8-octet units).
  std::uint32_t fragment_offset() const noexcept {
    return std::uint32_t{static_cast<std::uint16_t>(load_be16(bytes_, 6) & kOffsetMask)} * 8;
  }
  bool is_fragment() const noexcept {
    return (load_be16(bytes_, 6) & (kFlagMf | kOffsetMask)) != 0;
  }
  std::uint8_t time_to_live() const noexcept { return bytes_[8]; }
  std::uint8_t protocol() const noexcept { return bytes_[9]; }
  std::uint16_t header_checksum() const noexcept { return load_be16(bytes_, 10); }
  ByteSpan source() const noexcept { return bytes_.subspan(12, 4); }
  ByteSpan destination() const noexcept { return bytes_.subspan(16, 4); }
  ByteSpan options() const noexcept { return bytes_.subspan(kMinSize, header_length() - kMinSize); }
  ByteSpan header() const noexcept { return bytes_.first(header_length()); }
  bool header_checksum_valid() const noexcept { return checksum_valid(header()); }
  /// Bytes after the header, up to Total Length or the end of the bytes, whichever comes first.
  ByteSpan payload() const noexcept {
    const std::size_t end = total_length() < bytes_.size() ? total_length() : bytes_.size();
    return end <= header_length() ? ByteSpan{}
                                  : bytes_.subspan(header_length(), end - header_length());
  }
  ByteSpan bytes() const noexcept { return bytes_; }

 private:
  explicit Ipv4View(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

/// IPv4 header emitter; write_to() computes the header checksum. Options (a multiple of 4 octets,
/// at most 40) are copied from `options`, which must outlive the call.
struct Ipv4Header {
  std::uint8_t dscp = 0;
  std::uint8_t ecn = 0;
  std::uint16_t total_length = 0;  // header + payload
  std::uint16_t identification = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint32_t fragment_offset = 0;  // octets, multiple of 8
  std::uint8_t time_to_live = 64;
  std::uint8_t protocol = 0;
  std::array<std::uint8_t, 4> source{};
  std::array<std::uint8_t, 4> destination{};
  ByteSpan options{};

  constexpr std::size_t size() const noexcept { return Ipv4View::kMinSize + options.size(); }
  /// Offsets of the fields a template patches per packet.
  static constexpr std::size_t kTotalLengthOffset = 2;
  static constexpr std::size_t kIdentificationOffset = 4;
  static constexpr std::size_t kChecksumOffset = 10;

  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    PM_DCHECK(options.size() % 4 == 0 && options.size() <= 40);
    const std::size_t hl = size();
    out[0] = static_cast<std::uint8_t>(0x40 | (hl / 4));
    out[1] = static_cast<std::uint8_t>((dscp << 2) | (ecn & 0x03));
    store_be16(out, 2, total_length);
    store_be16(out, 4, identification);
    const auto frag = static_cast<std::uint16_t>((dont_fragment ? Ipv4View::kFlagDf : 0u) |
                                                 (more_fragments ? Ipv4View::kFlagMf : 0u) |
                                                 ((fragment_offset / 8) & Ipv4View::kOffsetMask));
    store_be16(out, 6, frag);
    out[8] = time_to_live;
    out[9] = protocol;
    store_be16(out, 10, 0);
    std::memcpy(out.data() + 12, source.data(), 4);
    std::memcpy(out.data() + 16, destination.data(), 4);
    if (!options.empty()) std::memcpy(out.data() + 20, options.data(), options.size());
    store_be16(out, 10, internet_checksum(ByteSpan(out.data(), hl)));
  }
};

}  // namespace portmirror::wire
