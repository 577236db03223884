// What the mirror's selection needs to know about one captured frame: L3/L4 summary fields read
// once (Ethernet, up to two VLAN tags, IPv4/IPv6 with extension headers, TCP/UDP/SCTP/ICMP).
// No allocation; every read is bounded by the frame length.
#pragma once

#include <array>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/packet/link_type.h"

namespace portmirror::source {

struct PacketInfo {
  std::uint8_t ip_version = 0;  // 0 = not IP (ARP, LLDP, ...)
  std::uint8_t protocol = 0;    // IPv4 protocol / IPv6 upper-layer next header
  std::uint8_t dscp = 0;        // 6 bits
  std::uint8_t tcp_flags = 0;   // valid when has_l4 && protocol == 6
  std::uint8_t icmp_type = 0;   // ICMP or ICMPv6, valid when has_l4
  std::uint8_t icmp_code = 0;
  bool has_l4 = false;     // the L4 header is present (not a non-first fragment, not cut short)
  bool has_ports = false;  // TCP, UDP, SCTP, UDP-Lite
  bool fragment = false;   // part of a fragmented datagram (MF set or offset != 0)
  bool first_fragment = false;  // fragment with offset 0 (Junos `first-fragment`)
  bool later_fragment = false;  // offset != 0 (Junos `is-fragment`)
  bool vlan = false;            // an 802.1Q tag is in the frame data
  std::uint16_t vlan_tci = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t ip_id = 0;       // IPv4 identification
  std::uint32_t flow_label = 0;  // IPv6
  std::uint32_t l3_offset = 0;   // start of the IP header in the frame
  std::uint32_t l3_length = 0;   // IPv4 total length / IPv6 40 + payload length (clamped to frame)
  std::uint32_t l4_offset = 0;   // start of the L4 header (when has_l4)
  std::array<std::uint8_t, 16> src{};  // IPv4 in the first 4 bytes
  std::array<std::uint8_t, 16> dst{};

  std::uint32_t src_v4() const noexcept { return load_be32(src, 0); }
  std::uint32_t dst_v4() const noexcept { return load_be32(dst, 0); }
};

// Fills `out` from a frame of link type Ethernet or RAW. Returns false only for a frame too short
// to hold its link header; a non-IP or truncated IP frame returns true with ip_version 0.
bool parse_packet_info(ByteSpan frame, LinkType link, PacketInfo& out) noexcept;

// A symmetric 32-bit hash of the inner flow (addresses, protocol, ports): used for the VXLAN UDP
// source port (RFC 7348 §5) so that both directions of one flow take the same path.
std::uint32_t flow_hash(const PacketInfo& info) noexcept;

}  // namespace portmirror::source
