// Geneve header and options. RFC 8926 §3.4 (header), §3.5 (options); protocols.md §3.3.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
// |        Virtual Network Identifier (VNI)       |    Reserved   |
// |                    Variable-Length Options                    |
// Option:
// |          Option Class         |      Type     |R|R|R| Length  |
// |                 Variable-Length Option Data                   |
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

/// Geneve header view. parse() checks the 8 fixed octets and that Opt Len·4 option octets follow;
/// version and flags are policy. Options are walked by for_each_option / has_critical_option.
class GeneveView {
 public:
  static constexpr std::size_t kSize = 8;
  static constexpr std::uint8_t kVerMask = 0xC0;
  static constexpr std::uint8_t kOptLenMask = 0x3F;
  static constexpr std::uint8_t kOBit = 0x80;  // octet 1: control packet
  static constexpr std::uint8_t kCBit = 0x40;  // octet 1: critical options present
  static constexpr std::uint8_t kRsvdMask = 0x3F;
  static constexpr std::uint8_t kOptionCritical = 0x80;  // MSB of option Type
  static constexpr std::uint8_t kOptionLengthMask = 0x1F;

  static Expected<GeneveView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    if (bytes.size() < kSize + std::size_t{static_cast<std::uint8_t>(bytes[0] & kOptLenMask)} * 4)
      return unexpected(ParseError::kTruncated);
    return GeneveView(bytes);
  }
  std::uint8_t ver() const noexcept { return static_cast<std::uint8_t>(bytes_[0] >> 6); }
  std::size_t options_length() const noexcept {
    return static_cast<std::size_t>(bytes_[0] & kOptLenMask) * 4;
  }
  bool control() const noexcept { return (bytes_[1] & kOBit) != 0; }
  bool critical() const noexcept { return (bytes_[1] & kCBit) != 0; }
  bool reserved_bits_set() const noexcept { return (bytes_[1] & kRsvdMask) != 0 || bytes_[7] != 0; }
  std::uint16_t protocol_type() const noexcept { return load_be16(bytes_, 2); }
  std::uint32_t vni() const noexcept { return load_be24(bytes_, 4); }
  ByteSpan options() const noexcept { return bytes_.subspan(kSize, options_length()); }
  std::size_t header_length() const noexcept { return kSize + options_length(); }
  ByteSpan payload() const noexcept { return bytes_.subspan(header_length()); }

  /// Walks the options: kMalformed if an option runs past Opt Len. Sets `any_critical` if an option
  /// has the critical bit (RFC 8926 §3.5.1).
  Expected<int, ParseError> count_options(bool& any_critical) const noexcept {
    const ByteSpan opts = options();
    std::size_t off = 0;
    int n = 0;
    any_critical = false;
    while (off < opts.size()) {
      if (opts.size() - off < 4) return unexpected(ParseError::kMalformed);
      const std::size_t len =
          4 + std::size_t{static_cast<std::uint8_t>(opts[off + 3] & kOptionLengthMask)} * 4;
      if (opts.size() - off < len) return unexpected(ParseError::kMalformed);
      if ((opts[off + 2] & kOptionCritical) != 0) any_critical = true;
      off += len;
      ++n;
    }
    return n;
  }

 private:
  explicit GeneveView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

/// Geneve emitter; `options` (already TLV-encoded, a multiple of 4 octets, at most 252) is copied.
struct GeneveHeader {
  bool control = false;
  bool critical = false;
  std::uint16_t protocol_type = 0x6558;
  std::uint32_t vni = 0;
  ByteSpan options{};
  constexpr std::size_t size() const noexcept { return GeneveView::kSize + options.size(); }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    PM_DCHECK(options.size() % 4 == 0 && options.size() <= 252);
    out[0] = static_cast<std::uint8_t>(options.size() / 4);
    out[1] = static_cast<std::uint8_t>((control ? GeneveView::kOBit : 0u) |
                                       (critical ? GeneveView::kCBit : 0u));
    store_be16(out, 2, protocol_type);
    store_be32(out, 4, (vni & 0xFFFFFFu) << 8);
    for (std::size_t i = 0; i < options.size(); ++i) out[GeneveView::kSize + i] = options[i];
  }
};

/// One option TLV for building `GeneveHeader::options`: 4 + data.size() octets (data multiple of
/// 4).
struct GeneveOption {
  std::uint16_t option_class = 0;
  std::uint8_t type = 0;  // MSB = critical
  ByteSpan data{};
  constexpr std::size_t size() const noexcept { return 4 + data.size(); }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size() && data.size() % 4 == 0 && data.size() <= 124);
    store_be16(out, 0, option_class);
    out[2] = type;
    out[3] = static_cast<std::uint8_t>(data.size() / 4);
    for (std::size_t i = 0; i < data.size(); ++i) out[4 + i] = data[i];
  }
};

}  // namespace portmirror::wire
