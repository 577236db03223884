// The outer headers of one mirror output, built once when the configuration is applied and patched
// per copy (style.md §4, OVS build_header/push_header):
//
//   kGre      IPv4|IPv6 / GRE [C][K][S] 0x0800|0x86DD / mirrored IP packet        (Junos gr-)
//   kGreEth   IPv4|IPv6 / GRE [C][K][S] 0x6558 / mirrored Ethernet frame          (Linux gretap)
//   kErspan2  IPv4|IPv6 / GRE S 0x88BE / ERSPAN Type II (8) / Ethernet frame      (protocols.md
//   §2.2, §2.9) kErspan3  IPv4|IPv6 / GRE S 0x22EB / ERSPAN Type III (12) / Ethernet frame (§2.3,
//   §2.9) kVxlan    IPv4|IPv6 / UDP 4789 / VXLAN I, VNI / Ethernet frame                 (§3.1)
//
// Per copy: IP total/payload length, IPv4 identification and header checksum, GRE sequence (first
// copy 0, RFC 2890), GRE checksum over header + payload (RFC 2784 §2.5), GRE protocol for kGre (v4
// or v6 payload), ERSPAN T (truncated), VLAN/COS/En|BSO, ERSPAN III timestamp (capture time at the
// chosen granularity, §2.6) and direction D, VXLAN UDP source port from the inner flow hash and UDP
// length (UDP checksum 0 over IPv4, computed over IPv6).
//
// write() emits the full outer packet header (from the IP header). A raw socket whose kernel builds
// the IP header sends from tunnel_offset(). No allocation after build().
#pragma once

#include <array>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/base/time.h"
#include "portmirror/config/mirror_config.h"

namespace portmirror::source {

inline constexpr std::size_t kMaxEncapHeader = 80;

// What a copy needs from its original packet.
struct EncapMeta {
  TimestampNs ts = 0;      // capture time (wall clock)
  bool truncated = false;  // the copy is shorter than the original: ERSPAN T bit
  bool egress = false;     // captured leaving the interface: ERSPAN III D bit
  bool vlan = false;       // the frame carries an 802.1Q tag (kept in the frame: En = 11)
  std::uint16_t vlan_tci = 0;
  std::uint32_t flow_hash = 0;        // VXLAN source port entropy
  std::uint32_t original_length = 0;  // of the mirrored payload before truncation
};

class EncapTemplate {
 public:
  EncapTemplate() = default;
  // `source` must be of the destination's family (the sender resolves it from the route).
  // `dont_fragment` sets IPv4 DF (MTU policy clip).
  static Result<EncapTemplate> build(const config::TunnelConfig& tunnel, const IpAddress& source,
                                     bool dont_fragment = true);

  std::size_t size() const noexcept { return size_; }              // outer header bytes
  std::size_t tunnel_offset() const noexcept { return ip_size_; }  // start of GRE / UDP
  std::size_t tunnel_size() const noexcept { return size_ - ip_size_; }
  bool carries_ip() const noexcept { return kind_ == config::EncapKind::kGre; }
  bool is_gre() const noexcept { return kind_ != config::EncapKind::kVxlan; }
  config::EncapKind kind() const noexcept { return kind_; }
  std::uint32_t next_sequence() const noexcept { return seq_; }

  // Writes the outer header for `payload` into `out` (>= size() bytes) and returns size().
  std::size_t write(MutableByteSpan out, ByteSpan payload, const EncapMeta& meta) noexcept;
  // A GRE keepalive (protocol 0x0000, no payload, same K/S/C); returns its size, 0 for VXLAN.
  std::size_t write_keepalive(MutableByteSpan out) noexcept;

 private:
  config::EncapKind kind_ = config::EncapKind::kGre;
  bool v6_ = false;
  bool gre_checksum_ = false;
  bool gre_sequence_ = false;
  std::uint8_t erspan_gra_ = 0;
  std::array<std::uint8_t, kMaxEncapHeader> bytes_{};
  std::uint16_t size_ = 0;
  std::uint16_t ip_size_ = 0;
  std::uint16_t gre_size_ = 0;  // GRE header incl. options
  std::uint16_t off_csum_ = 0;  // GRE checksum field (from the GRE start)
  std::uint16_t off_seq_ = 0;   // GRE sequence field (from the GRE start)
  std::uint16_t ip_id_ = 0;
  std::uint32_t seq_ = 0;
};

}  // namespace portmirror::source
