// Linux cooked capture headers SLL (LINKTYPE_LINUX_SLL 113) and SLL2 (276). libpcap pcap/sll.h,
// tcpdump.org/linktypes/LINKTYPE_LINUX_SLL{,2}.html; protocols.md §5.4.
//
// SLL (16 octets):
// |        Packet type            |        ARPHRD type            |
// |   Link-layer address length   |  Link-layer address (8) ...   |
// |   ... address ...                                             |
// |   ... address                 |        Protocol type          |
// SLL2 (20 octets):
// |        Protocol type          |        Reserved (MBZ)         |
// |                       Interface index                         |
// |        ARPHRD type            | Packet type   |  Addr length  |
// |                  Link-layer address (8 octets)                |
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

namespace arphrd {
inline constexpr std::uint16_t kEther = 1;
inline constexpr std::uint16_t kLoopback = 772;
inline constexpr std::uint16_t kIpGre = 778;   // protocol field is a GRE protocol type
inline constexpr std::uint16_t kIp6Gre = 823;  // same, for ip6gre devices
inline constexpr std::uint16_t kNone = 0xFFFE;
}  // namespace arphrd

/// Common fields of both cooked headers.
struct CookedFields {
  std::uint16_t packet_type = 0;
  std::uint16_t arphrd_type = 0;
  std::uint8_t address_length = 0;
  ByteSpan address{};  // up to 8 octets, as many as address_length says (capped at 8)
  std::uint16_t protocol = 0;
  std::int32_t interface_index = 0;  // SLL2 only
};

class LinuxSllView {
 public:
  static constexpr std::size_t kSize = 16;
  static Expected<LinuxSllView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return LinuxSllView(bytes);
  }
  std::uint16_t packet_type() const noexcept { return load_be16(bytes_, 0); }
  std::uint16_t arphrd_type() const noexcept { return load_be16(bytes_, 2); }
  std::uint16_t address_length() const noexcept { return load_be16(bytes_, 4); }
  ByteSpan address() const noexcept {
    return bytes_.subspan(6, address_length() < 8 ? address_length() : 8u);
  }
  std::uint16_t protocol() const noexcept { return load_be16(bytes_, 14); }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }
  CookedFields fields() const noexcept {
    return {packet_type(), arphrd_type(), static_cast<std::uint8_t>(address_length()),
            address(),     protocol(),    0};
  }

 private:
  explicit LinuxSllView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

class LinuxSll2View {
 public:
  static constexpr std::size_t kSize = 20;
  static Expected<LinuxSll2View, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return LinuxSll2View(bytes);
  }
  std::uint16_t protocol() const noexcept { return load_be16(bytes_, 0); }
  std::uint16_t reserved() const noexcept { return load_be16(bytes_, 2); }
  std::int32_t interface_index() const noexcept {
    return static_cast<std::int32_t>(load_be32(bytes_, 4));
  }
  std::uint16_t arphrd_type() const noexcept { return load_be16(bytes_, 8); }
  std::uint8_t packet_type() const noexcept { return bytes_[10]; }
  std::uint8_t address_length() const noexcept { return bytes_[11]; }
  ByteSpan address() const noexcept {
    return bytes_.subspan(12, address_length() < 8 ? address_length() : 8u);
  }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }
  CookedFields fields() const noexcept {
    return {packet_type(), arphrd_type(), address_length(),
            address(),     protocol(),    interface_index()};
  }

 private:
  explicit LinuxSll2View(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

struct LinuxSllHeader {
  std::uint16_t packet_type = 0;
  std::uint16_t arphrd_type = arphrd::kEther;
  std::uint8_t address_length = 0;
  std::uint8_t address[8] = {};
  std::uint16_t protocol = 0;
  static constexpr std::size_t size() noexcept { return LinuxSllView::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be16(out, 0, packet_type);
    store_be16(out, 2, arphrd_type);
    store_be16(out, 4, address_length);
    std::memcpy(out.data() + 6, address, 8);
    store_be16(out, 14, protocol);
  }
};

struct LinuxSll2Header {
  std::uint16_t protocol = 0;
  std::int32_t interface_index = 0;
  std::uint16_t arphrd_type = arphrd::kEther;
  std::uint8_t packet_type = 0;
  std::uint8_t address_length = 0;
  std::uint8_t address[8] = {};
  static constexpr std::size_t size() noexcept { return LinuxSll2View::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be16(out, 0, protocol);
    store_be16(out, 2, 0);
    store_be32(out, 4, static_cast<std::uint32_t>(interface_index));
    store_be16(out, 8, arphrd_type);
    out[10] = packet_type;
    out[11] = address_length;
    std::memcpy(out.data() + 12, address, 8);
  }
};

}  // namespace portmirror::wire
