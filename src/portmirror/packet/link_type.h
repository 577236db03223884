// Link types as written in pcap/pcapng files (LINKTYPE_ values, not DLT_). protocols.md §5.3.
#pragma once

#include <cstdint>
#include <string_view>

namespace portmirror {

enum class LinkType : std::uint16_t {
  kNull = 0,  // BSD loopback, host-order 4-byte AF
  kEthernet = 1,
  kRaw = 101,   // IPv4 or IPv6, version nibble decides (DLT_RAW is 12 in the API)
  kLoop = 108,  // OpenBSD loopback, network-order 4-byte AF
  kLinuxSll = 113,
  kIpv4 = 228,
  kIpv6 = 229,
  kLinuxSll2 = 276,
};

constexpr std::string_view link_type_name(LinkType t) noexcept {
  switch (t) {
    case LinkType::kNull:
      return "NULL";
    case LinkType::kEthernet:
      return "EN10MB";
    case LinkType::kRaw:
      return "RAW";
    case LinkType::kLoop:
      return "LOOP";
    case LinkType::kLinuxSll:
      return "LINUX_SLL";
    case LinkType::kIpv4:
      return "IPV4";
    case LinkType::kIpv6:
      return "IPV6";
    case LinkType::kLinuxSll2:
      return "LINUX_SLL2";
  }
  return "unknown";
}

// Maps a file's LINKTYPE value (also accepting DLT_RAW 12 and 14 as libpcap does) to ours;
// returns false for link types the walk cannot start from.
constexpr bool link_type_from_file(std::uint32_t v, LinkType& out) noexcept {
  switch (v) {
    case 0:
      out = LinkType::kNull;
      return true;
    case 1:
      out = LinkType::kEthernet;
      return true;
    case 12:
    case 14:
    case 101:
      out = LinkType::kRaw;
      return true;
    case 108:
      out = LinkType::kLoop;
      return true;
    case 113:
      out = LinkType::kLinuxSll;
      return true;
    case 228:
      out = LinkType::kIpv4;
      return true;
    case 229:
      out = LinkType::kIpv6;
      return true;
    case 276:
      out = LinkType::kLinuxSll2;
      return true;
    default:
      return false;
  }
}

}  // namespace portmirror
