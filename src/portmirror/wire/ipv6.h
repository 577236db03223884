// IPv6 fixed header and extension-header skipping. RFC 8200 §3 (header), §4 (extension headers),
// §4.5 (fragment header); AH length rule RFC 4302 §2.2.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |Version| Traffic Class |           Flow Label                  |
// |         Payload Length        |  Next Header  |   Hop Limit   |
// |                Source Address (16 octets)                     |
// |             Destination Address (16 octets)                   |
//
// Fragment header (8 octets):
// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
// |                         Identification                        |
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

/// IPv6 fixed header. parse() checks version 6 and the 40 octets; Payload Length is not checked
/// against the bytes (captures may be cut, and Linux BIG TCP sends 0).
class Ipv6View {
 public:
  static constexpr std::size_t kSize = 40;
  static Expected<Ipv6View, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.empty()) return unexpected(ParseError::kTruncated);
    if ((bytes[0] >> 4) != 6) return unexpected(ParseError::kMalformed);
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return Ipv6View(bytes);
  }
  std::uint8_t version() const noexcept { return static_cast<std::uint8_t>(bytes_[0] >> 4); }
  std::uint8_t traffic_class() const noexcept {
    return static_cast<std::uint8_t>((load_be16(bytes_, 0) >> 4) & 0xFF);
  }
  std::uint32_t flow_label() const noexcept { return load_be32(bytes_, 0) & 0x000FFFFFu; }
  std::uint16_t payload_length() const noexcept { return load_be16(bytes_, 4); }
  std::uint8_t next_header() const noexcept { return bytes_[6]; }
  std::uint8_t hop_limit() const noexcept { return bytes_[7]; }
  ByteSpan source() const noexcept { return bytes_.subspan(8, 16); }
  ByteSpan destination() const noexcept { return bytes_.subspan(24, 16); }
  /// Bytes after the fixed header, up to Payload Length or the end of the bytes.
  ByteSpan payload() const noexcept {
    const std::size_t avail = bytes_.size() - kSize;
    return bytes_.subspan(kSize, payload_length() < avail ? payload_length() : avail);
  }
  ByteSpan bytes() const noexcept { return bytes_; }

 private:
  explicit Ipv6View(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

/// Fragment extension header (RFC 8200 §4.5).
class Ipv6FragmentView {
 public:
  static constexpr std::size_t kSize = 8;
  static constexpr std::uint16_t kOffsetMask = 0xFFF8;
  static constexpr std::uint16_t kMoreFragments = 0x0001;
  static Expected<Ipv6FragmentView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return Ipv6FragmentView(bytes);
  }
  std::uint8_t next_header() const noexcept { return bytes_[0]; }
  /// Offset in octets (the field counts 8-octet units, stored in the top 13 bits).
  std::uint32_t fragment_offset() const noexcept { return load_be16(bytes_, 2) & kOffsetMask; }
  bool more_fragments() const noexcept { return (load_be16(bytes_, 2) & kMoreFragments) != 0; }
  std::uint32_t identification() const noexcept { return load_be32(bytes_, 4); }
  /// RFC 6946: offset 0 and M=0 is an "atomic fragment", i.e. a whole datagram.
  bool is_atomic() const noexcept { return fragment_offset() == 0 && !more_fragments(); }

 private:
  explicit Ipv6FragmentView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

/// Where the upper-layer header starts after the extension-header chain.
struct Ipv6UpperLayer {
  std::uint8_t protocol = 0;  // first Next Header that is not an extension header we skip
  std::size_t offset = 0;     // from the start of the bytes given (after the fixed header)
  bool has_fragment = false;  // a fragment header was crossed
  std::size_t fragment_header_offset = 0;
};

constexpr bool is_ipv6_extension(std::uint8_t nh) noexcept {
  switch (nh) {
    case ipproto::kHopByHop:
    case ipproto::kRouting:
    case ipproto::kFragment:
    case ipproto::kDestOpts:
    case ipproto::kAh:
    case ipproto::kMobility:
    case ipproto::kHip:
    case ipproto::kShim6:
    case ipproto::kExperiment1:
    case ipproto::kExperiment2:
      return true;
    default:
      return false;
  }
}

/// Skips extension headers in `payload` (the bytes after the fixed header), starting with
/// `next_header`; stops at the first non-extension protocol (or ESP / No Next Header, returned as
/// the protocol). At most `max_headers` headers are crossed (kTooDeep beyond that).
/// kTruncated: an extension header runs past the end of `payload`.
inline Expected<Ipv6UpperLayer, ParseError> skip_ipv6_extensions(ByteSpan payload,
                                                                 std::uint8_t next_header,
                                                                 int max_headers = 16) noexcept {
  Ipv6UpperLayer r;
  std::size_t off = 0;
  std::uint8_t nh = next_header;
  for (int n = 0; is_ipv6_extension(nh); ++n) {
    if (n >= max_headers) return unexpected(ParseError::kTooDeep);
    if (payload.size() < off + 8) return unexpected(ParseError::kTruncated);
    std::size_t len;
    if (nh == ipproto::kFragment) {
      len = 8;
      r.has_fragment = true;
      r.fragment_header_offset = off;
    } else if (nh == ipproto::kAh) {
      len = (std::size_t{payload[off + 1]} + 2) * 4;  // RFC 4302 §2.2: 4-octet units, minus 2
    } else {
      len =
          (std::size_t{payload[off + 1]} + 1) * 8;  // RFC 8200 §4.3: 8-octet units, minus the first
    }
    if (payload.size() < off + len) return unexpected(ParseError::kTruncated);
    nh = payload[off];
    off += len;
    if (r.has_fragment && r.fragment_header_offset + 8 == off) {
      // RFC 8200 §4.5: headers after a non-first fragment's header are not in this packet; stop
      // here so the caller can hand the fragment to reassembly.
      const auto frag = Ipv6FragmentView::parse(payload.subspan(r.fragment_header_offset));
      if (frag && !frag->is_atomic()) break;
    }
  }
  r.protocol = nh;
  r.offset = off;
  return r;
}

struct Ipv6Header {
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;
  std::uint16_t payload_length = 0;
  std::uint8_t next_header = 0;
  std::uint8_t hop_limit = 64;
  std::array<std::uint8_t, 16> source{};
  std::array<std::uint8_t, 16> destination{};
  static constexpr std::size_t size() noexcept { return Ipv6View::kSize; }
  static constexpr std::size_t kPayloadLengthOffset = 4;
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be32(out, 0, (6u << 28) | (std::uint32_t{traffic_class} << 20) | (flow_label & 0xFFFFFu));
    store_be16(out, 4, payload_length);
    out[6] = next_header;
    out[7] = hop_limit;
    std::memcpy(out.data() + 8, source.data(), 16);
    std::memcpy(out.data() + 24, destination.data(), 16);
  }
};

struct Ipv6FragmentHeader {
  std::uint8_t next_header = 0;
  std::uint32_t fragment_offset = 0;  // octets, multiple of 8
  bool more_fragments = false;
  std::uint32_t identification = 0;
  static constexpr std::size_t size() noexcept { return Ipv6FragmentView::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    out[0] = next_header;
    out[1] = 0;
    store_be16(out, 2,
               static_cast<std::uint16_t>((fragment_offset & Ipv6FragmentView::kOffsetMask) |
                                          (more_fragments ? 1u : 0u)));
    store_be32(out, 4, identification);
  }
};

/// A generic extension header (Hop-by-Hop, Destination Options, Routing) of `8 * (hdr_ext_len + 1)`
/// octets, padded with PadN; for tests and templates.
struct Ipv6OptionsHeader {
  std::uint8_t next_header = 0;
  std::uint8_t hdr_ext_len = 0;
  constexpr std::size_t size() const noexcept { return (std::size_t{hdr_ext_len} + 1) * 8; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    std::memset(out.data(), 0, size());
    out[0] = next_header;
    out[1] = hdr_ext_len;
    out[2] = 1;  // PadN option covering the rest (RFC 8200 §4.2)
    out[3] = static_cast<std::uint8_t>(size() - 4);
  }
};

}  // namespace portmirror::wire
