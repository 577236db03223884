// Ethernet II header and IEEE 802.1Q / 802.1ad VLAN tags. IEEE 802.3 §3.2, IEEE 802.1Q §9.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |                 Destination MAC (6 octets) ...                |
// |   ... Destination MAC       |     Source MAC (6 octets) ...   |
// |                 ... Source MAC                                |
// |         EtherType / TPID      |   (VLAN tag: |PCP|D|  VID  | EtherType) ...
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

using MacAddress = std::array<std::uint8_t, 6>;

namespace ethertype {
inline constexpr std::uint16_t kIpv4 = 0x0800;
inline constexpr std::uint16_t kArp = 0x0806;
inline constexpr std::uint16_t kVlan = 0x8100;     // 802.1Q C-tag
inline constexpr std::uint16_t kQinQ = 0x88A8;     // 802.1ad S-tag
inline constexpr std::uint16_t kQinQOld = 0x9100;  // pre-standard S-tag
inline constexpr std::uint16_t kIpv6 = 0x86DD;
inline constexpr std::uint16_t kTeb = 0x6558;       // Transparent Ethernet Bridging (GRE, Geneve)
inline constexpr std::uint16_t kErspan12 = 0x88BE;  // ERSPAN Type I/II in GRE
inline constexpr std::uint16_t kErspan3 = 0x22EB;   // ERSPAN Type III in GRE
inline constexpr std::uint16_t kPpp = 0x880B;
constexpr bool is_vlan_tpid(std::uint16_t t) noexcept {
  return t == kVlan || t == kQinQ || t == kQinQOld;
}
}  // namespace ethertype

/// Ethernet II header (no FCS). After parse() succeeds no accessor reads out of bounds.
class EthernetView {
 public:
  static constexpr std::size_t kSize = 14;
  static Expected<EthernetView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return EthernetView(bytes);
  }
  MacAddress destination() const noexcept { return mac_at(0); }
  MacAddress source() const noexcept { return mac_at(6); }
  std::uint16_t ethertype() const noexcept { return load_be16(bytes_, 12); }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }

 private:
  explicit EthernetView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  MacAddress mac_at(std::size_t off) const noexcept {
    MacAddress m;
    std::memcpy(m.data(), bytes_.data() + off, 6);
    return m;
  }
  ByteSpan bytes_;
};

/// One 802.1Q/802.1ad tag as it follows a TPID: TCI (PCP 3 | DEI 1 | VID 12) and the next
/// EtherType.
class VlanView {
 public:
  static constexpr std::size_t kSize = 4;  // TCI + EtherType (the TPID belongs to the layer before)
  static constexpr std::uint16_t kPcpMask = 0xE000;
  static constexpr int kPcpShift = 13;
  static constexpr std::uint16_t kDeiMask = 0x1000;
  static constexpr std::uint16_t kVidMask = 0x0FFF;
  static Expected<VlanView, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return VlanView(bytes);
  }
  std::uint16_t tci() const noexcept { return load_be16(bytes_, 0); }
  std::uint8_t pcp() const noexcept {
    return static_cast<std::uint8_t>((tci() & kPcpMask) >> kPcpShift);
  }
  bool dei() const noexcept { return (tci() & kDeiMask) != 0; }
  std::uint16_t vid() const noexcept { return tci() & kVidMask; }
  std::uint16_t ethertype() const noexcept { return load_be16(bytes_, 2); }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }

 private:
  explicit VlanView(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

struct EthernetHeader {
  MacAddress destination{};
  MacAddress source{};
  std::uint16_t ethertype = ethertype::kIpv4;
  static constexpr std::size_t size() noexcept { return EthernetView::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    std::memcpy(out.data(), destination.data(), 6);
    std::memcpy(out.data() + 6, source.data(), 6);
    store_be16(out, 12, ethertype);
  }
};

/// A full 4-octet tag (TPID + TCI) as emitted; the following EtherType is written by the next tag
/// or by the caller, so a tagged frame is EthernetHeader{.ethertype = tpid} + VlanHeader... +
/// EtherType.
struct VlanHeader {
  std::uint8_t pcp = 0;
  bool dei = false;
  std::uint16_t vid = 0;
  std::uint16_t ethertype = ethertype::kIpv4;  // what follows this tag
  static constexpr std::size_t size() noexcept { return VlanView::kSize; }
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    const auto tci =
        static_cast<std::uint16_t>(((pcp & 0x7u) << VlanView::kPcpShift) |
                                   (dei ? VlanView::kDeiMask : 0u) | (vid & VlanView::kVidMask));
    store_be16(out, 0, tci);
    store_be16(out, 2, ethertype);
  }
};

}  // namespace portmirror::wire
