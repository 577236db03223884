// VXLAN header. RFC 7348 §5; protocols.md §3.1.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |R|R|R|R|I|R|R|R|            Reserved                           |
// |                VXLAN Network Identifier (VNI) |   Reserved    |
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

/// VXLAN header view. parse() checks the 8 octets; the I flag and reserved bits are policy.
class VxlanView {
 public:
  static constexpr std::size_t kSize = 8;
  static constexpr std::uint8_t kFlagI = 0x08;
  static Expected<VxlanView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return VxlanView(bytes);
  }
  std::uint8_t flags() const noexcept { return bytes_[0]; }
  /// RFC 7348 §5: the I flag MUST be set for a valid VNI.
  bool vni_valid() const noexcept { return (flags() & kFlagI) != 0; }
  std::uint32_t vni() const noexcept { return load_be24(bytes_, 4); }
  /// Any bit other than I set in the flags or the two reserved fields (sent as 0, ignored on
  /// receipt).
  bool reserved_bits_set() const noexcept {
    return (flags() & ~kFlagI) != 0 || load_be24(bytes_, 1) != 0 || bytes_[7] != 0;
  }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }

 private:
  explicit VxlanView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

struct VxlanHeader {
  std::uint32_t vni = 0;
  static constexpr std::size_t size() noexcept { return VxlanView::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be32(out, 0, std::uint32_t{VxlanView::kFlagI} << 24);
    store_be32(out, 4, (vni & 0xFFFFFFu) << 8);
  }
};

}  // namespace portmirror::wire
