// GRE header. RFC 2784 §2 (base, checksum), RFC 2890 §2 (key, sequence number), RFC 1701 (the
// routing/strict-route/recursion bits that RFC 2784 receivers must reject), RFC 2637 §4.1 (PPTP,
// version 1, acknowledgment number). protocols.md §1.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
// |      Checksum (optional)      |       Reserved1 (Optional)    |
// |                         Key (optional)                        |
// |                 Sequence Number (Optional)                    |
// |        Acknowledgment Number (PPTP, version 1, if A)          |
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

/// GRE header view. parse() computes the header length from the C/R/K/S bits (and A for version 1)
/// with a lookup table and checks those octets are present; after that no accessor reads out of
/// bounds. Policy (version, R/s/Recur, reserved bits) is the walk's business: see the predicates.
class GreView {
 public:
  static constexpr std::size_t kMinSize = 4;
  static constexpr std::uint16_t kChecksumPresent = 0x8000;    // C
  static constexpr std::uint16_t kRoutingPresent = 0x4000;     // R (RFC 1701)
  static constexpr std::uint16_t kKeyPresent = 0x2000;         // K
  static constexpr std::uint16_t kSequencePresent = 0x1000;    // S
  static constexpr std::uint16_t kStrictSourceRoute = 0x0800;  // s (RFC 1701)
  static constexpr std::uint16_t kRecursionMask = 0x0700;      // Recur (RFC 1701)
  static constexpr std::uint16_t kRecursionMsb = 0x0400;       // RFC 2784 §2.3: bit 5 must be 0
  static constexpr std::uint16_t kAckPresent = 0x0080;         // A (PPTP only)
  static constexpr std::uint16_t kFlagsReserved = 0x0078;      // bits 9-12
  static constexpr std::uint16_t kVersionMask = 0x0007;
  /// RFC 2784 §2.3: a receiver MUST discard if any of bits 1-5 are set (R, s, Recur MSB); K and S
  /// were re-purposed by RFC 2890.
  static constexpr std::uint16_t kMustDiscard =
      kRoutingPresent | kStrictSourceRoute | kRecursionMsb;

  static Expected<GreView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kMinSize) return unexpected(ParseError::kTruncated);
    const std::uint16_t flags = load_be16(bytes, 0);
    const std::size_t len = header_length_for(flags);
    if (bytes.size() < len) return unexpected(ParseError::kTruncated);
    return GreView(bytes, static_cast<std::uint8_t>(len));
  }

  /// Header length implied by the first 16 bits (DPDK-style table on C|R|K|S; RFC 1701: the
  /// checksum/offset word is present if C or R). Version 1 adds the acknowledgment if A.
  static constexpr std::size_t header_length_for(std::uint16_t flags) noexcept {
    return kOptLen[flags >> 12] + ((flags & kVersionMask) == 1 && (flags & kAckPresent) ? 4u : 0u);
  }

  std::uint16_t flags_and_version() const noexcept { return load_be16(bytes_, 0); }
  bool checksum_present() const noexcept { return (flags_and_version() & kChecksumPresent) != 0; }
  bool routing_present() const noexcept { return (flags_and_version() & kRoutingPresent) != 0; }
  bool key_present() const noexcept { return (flags_and_version() & kKeyPresent) != 0; }
  bool sequence_present() const noexcept { return (flags_and_version() & kSequencePresent) != 0; }
  bool strict_source_route() const noexcept {
    return (flags_and_version() & kStrictSourceRoute) != 0;
  }
  std::uint8_t recursion_control() const noexcept {
    return static_cast<std::uint8_t>((flags_and_version() & kRecursionMask) >> 8);
  }
  bool ack_present() const noexcept { return (flags_and_version() & kAckPresent) != 0; }
  std::uint8_t reserved_flags() const noexcept {
    return static_cast<std::uint8_t>((flags_and_version() & kFlagsReserved) >> 3);
  }
  /// R, s or Recur MSB set: RFC 2784 receivers discard.
  bool must_discard() const noexcept { return (flags_and_version() & kMustDiscard) != 0; }
  std::uint8_t version() const noexcept {
    return static_cast<std::uint8_t>(flags_and_version() & kVersionMask);
  }
  std::uint16_t protocol_type() const noexcept { return load_be16(bytes_, 2); }

  std::optional<std::uint16_t> checksum() const noexcept {
    if (!checksum_present()) return std::nullopt;
    return load_be16(bytes_, 4);
  }
  std::optional<std::uint16_t> reserved1() const noexcept {
    if (!checksum_present()) return std::nullopt;
    return load_be16(bytes_, 6);
  }
  std::optional<std::uint32_t> key() const noexcept {
    if (!key_present()) return std::nullopt;
    return load_be32(bytes_, checksum_present() || routing_present() ? 8 : 4);
  }
  std::optional<std::uint32_t> sequence() const noexcept {
    if (!sequence_present()) return std::nullopt;
    return load_be32(bytes_, kOptLen[flags_and_version() >> 12] - 4);
  }
  std::optional<std::uint32_t> acknowledgment() const noexcept {
    if (version() != 1 || !ack_present()) return std::nullopt;
    return load_be32(bytes_, header_length() - 4);
  }
  std::size_t header_length() const noexcept { return header_len_; }
  ByteSpan header() const noexcept { return bytes_.first(header_len_); }
  ByteSpan payload() const noexcept { return bytes_.subspan(header_len_); }
  ByteSpan bytes() const noexcept { return bytes_; }

 private:
  // Indexed by the top nibble C|R|K|S: 4 + 4·(C|R) + 4·K + 4·S.
  static constexpr std::array<std::uint8_t, 16> kOptLen = {4, 8,  8,  12, 8, 12, 12, 16,
                                                           8, 12, 12, 16, 8, 12, 12, 16};
  GreView(ByteSpan bytes, std::uint8_t len) noexcept : bytes_(bytes), header_len_(len) {}
  ByteSpan bytes_;
  std::uint8_t header_len_;
};

/// GRE version 0 emitter. With checksum_present, write_to() writes 0 in the checksum field; call
/// gre_fill_checksum() over header + payload once the payload is in place.
struct GreHeader {
  bool checksum_present = false;
  std::optional<std::uint32_t> key{};
  std::optional<std::uint32_t> sequence{};
  std::uint16_t protocol_type = 0;
  std::uint16_t reserved_flags = 0;  // bits 9-12 (tests only; senders keep 0)
  std::uint8_t version = 0;          // tests only; senders keep 0

  constexpr std::size_t size() const noexcept {
    return 4 + (checksum_present ? 4u : 0u) + (key ? 4u : 0u) + (sequence ? 4u : 0u);
  }
  /// Offset of the sequence number within the header (for template patching); 0 if absent.
  constexpr std::size_t sequence_offset() const noexcept {
    return sequence ? 4 + (checksum_present ? 4u : 0u) + (key ? 4u : 0u) : 0u;
  }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    const auto flags = static_cast<std::uint16_t>(
        (checksum_present ? GreView::kChecksumPresent : 0u) | (key ? GreView::kKeyPresent : 0u) |
        (sequence ? GreView::kSequencePresent : 0u) | ((reserved_flags & 0xFu) << 3) |
        (version & GreView::kVersionMask));
    store_be16(out, 0, flags);
    store_be16(out, 2, protocol_type);
    std::size_t off = 4;
    if (checksum_present) {
      store_be32(out, off, 0);
      off += 4;
    }
    if (key) {
      store_be32(out, off, *key);
      off += 4;
    }
    if (sequence) store_be32(out, off, *sequence);
  }
};

/// Computes and stores the RFC 2784 §2.5 checksum over `gre_and_payload` (C must be set).
void gre_fill_checksum(MutableByteSpan gre_and_payload) noexcept;

/// True if the C bit is clear or the checksum over header + payload verifies.
bool gre_checksum_ok(ByteSpan gre_and_payload) noexcept;

}  // namespace portmirror::wire
