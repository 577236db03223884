// TZSP (TaZmen Sniffer Protocol), as sent by MikroTik `sniff-tzsp`. No RFC: Wireshark
// packet-tzsp.c is the reference; protocols.md §3.4.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |    Version    |     Type      |         Encapsulation         |
// | Tag | Len | Value ... (tag 0 = PADDING, 1 = END: one octet, no length) ... | END |
// | Encapsulated packet ...
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

namespace tzsp {
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint8_t kTypeReceived = 0;
inline constexpr std::uint8_t kTypeTransmit = 1;
inline constexpr std::uint16_t kEncapEthernet = 1;
inline constexpr std::uint16_t kEncapRawIp = 7;
inline constexpr std::uint8_t kTagPadding = 0;
inline constexpr std::uint8_t kTagEnd = 1;
inline constexpr std::uint8_t kTagOriginalLength = 41;
}  // namespace tzsp

/// TZSP header view. parse() checks the 4 fixed octets and walks the tags up to END (kTruncated if
/// the bytes end first); payload() starts after END. For Type 4 (keepalive) there are no tags.
class TzspView {
 public:
  static constexpr std::size_t kFixedSize = 4;
  static Expected<TzspView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kFixedSize) return unexpected(ParseError::kTruncated);
    std::size_t off = kFixedSize;
    std::uint32_t orig_len = 0;
    bool has_orig = false;
    for (;;) {
      if (off >= bytes.size()) return unexpected(ParseError::kTruncated);
      const std::uint8_t tag = bytes[off];
      if (tag == tzsp::kTagEnd) {
        ++off;
        break;
      }
      if (tag == tzsp::kTagPadding) {
        ++off;
        continue;
      }
      if (off + 2 > bytes.size()) return unexpected(ParseError::kTruncated);
      const std::size_t len = bytes[off + 1];
      if (off + 2 + len > bytes.size()) return unexpected(ParseError::kTruncated);
      if (tag == tzsp::kTagOriginalLength && len >= 2) {
        has_orig = true;
        orig_len = len >= 4 ? load_be32(bytes, off + 2) : load_be16(bytes, off + 2);
      }
      off += 2 + len;
    }
    return TzspView(bytes, off, has_orig, orig_len);
  }
  std::uint8_t version() const noexcept { return bytes_[0]; }
  std::uint8_t type() const noexcept { return bytes_[1]; }
  std::uint16_t encapsulation() const noexcept { return load_be16(bytes_, 2); }
  std::size_t header_length() const noexcept { return header_len_; }
  bool has_original_length() const noexcept { return has_orig_; }
  std::uint32_t original_length() const noexcept { return orig_len_; }
  ByteSpan payload() const noexcept { return bytes_.subspan(header_len_); }

 private:
  TzspView(ByteSpan bytes, std::size_t hl, bool has_orig, std::uint32_t orig) noexcept
      : bytes_(bytes), header_len_(hl), orig_len_(orig), has_orig_(has_orig) {}
  ByteSpan bytes_;
  std::size_t header_len_;
  std::uint32_t orig_len_;
  bool has_orig_;
};

/// TZSP emitter: fixed header + END tag (no other tags).
struct TzspHeader {
  std::uint8_t version = tzsp::kVersion;
  std::uint8_t type = tzsp::kTypeReceived;
  std::uint16_t encapsulation = tzsp::kEncapEthernet;
  static constexpr std::size_t size() noexcept { return TzspView::kFixedSize + 1; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    out[0] = version;
    out[1] = type;
    store_be16(out, 2, encapsulation);
    out[4] = tzsp::kTagEnd;
  }
};

}  // namespace portmirror::wire
