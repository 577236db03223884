// The layer walk: link -> VLAN tags -> outer IPv4/IPv6 -> GRE (ERSPAN I/II/III) or UDP (VXLAN,
// Geneve, TZSP) -> inner packet. Zero copy: results borrow from the input. No allocation, no
// virtual call, no exception; every outcome other than an inner packet carries one reason
// (DecapCounter). Protocol chaining is a switch per layer; header lengths come from the wire/
// views.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "portmirror/base/bytes.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/packet/decap_counters.h"
#include "portmirror/packet/decapsulated.h"
#include "portmirror/packet/link_type.h"

namespace portmirror::packet {

struct WalkConfig {
  std::span<const std::uint16_t> vxlan_ports;
  std::span<const std::uint16_t> geneve_ports;
  std::span<const std::uint16_t> tzsp_ports;
  int depth = 1;        // tunnels to strip (clamped to 1..kMaxEncapDepth)
  bool strict = false;  // reject reserved bits, ERSPAN Ver mismatches, bad GRE checksums, critical
                        // Geneve options
  std::uint32_t max_vlan_tags = 8;
};

enum class WalkStatus : std::uint8_t {
  kInner,        // `out` holds an inner packet
  kUntunnelled,  // valid, but no tunnel to strip (reason says which layer: informative, not
                 // counted)
  kDropped,      // a tunnel that cannot be used; `reason` says why
  kFragment,     // the outer IP datagram is a fragment: see WalkResult::fragment
  kKeepalive,    // GRE keepalive; `out.tunnel` names the session
};

/// An outer IP fragment handed to reassembly (bytes borrowed from the frame).
struct OuterFragment {
  ByteSpan datagram;            // from the IP header to min(IP length, capture)
  std::uint32_t ip_length = 0;  // the datagram's length per its header
  bool ipv6 = false;
  std::uint16_t header_length = 0;  // IPv4: IHL·4; IPv6: offset of the fragment header
};

/// Informational events (bit set) that do not stop delivery; the caller counts them.
enum WalkInfo : std::uint8_t {
  kInfoNone = 0,
  kInfoBadChecksum = 1,
  kInfoLengthFromFrame = 2,
  kInfoVersionMismatch = 4,
  kInfoCriticalSkipped = 8,
};

struct WalkResult {
  WalkStatus status = WalkStatus::kUntunnelled;
  DecapCounter reason = DecapCounter::kCount;
  std::uint8_t info = kInfoNone;
  OuterFragment fragment;  // valid for kFragment
};

class LayerWalker {
 public:
  explicit LayerWalker(const WalkConfig& config) noexcept;

  /// Walks a captured frame of link type `link`. `orig_len` is the length on the wire.
  WalkResult walk_frame(ByteSpan data, std::uint32_t orig_len, LinkType link,
                        Decapsulated& out) const noexcept;
  /// Walks a whole IP datagram (e.g. rebuilt by reassembly); fragments are not accepted here.
  WalkResult walk_ip(ByteSpan datagram, std::uint32_t orig_len, Decapsulated& out) const noexcept;
  /// Walks a GRE header + payload whose IP header was consumed by a socket.
  WalkResult walk_gre(ByteSpan gre, std::uint32_t orig_len, const IpAddress& src,
                      const IpAddress& dst, Decapsulated& out) const noexcept;
  /// Walks a UDP payload (VXLAN / Geneve / TZSP chosen by the destination port).
  WalkResult walk_udp_payload(ByteSpan payload, std::uint32_t orig_len, const IpAddress& src,
                              const IpAddress& dst, std::uint16_t src_port, std::uint16_t dst_port,
                              Decapsulated& out) const noexcept;

  enum class PortKind : std::uint8_t { kNone = 0, kVxlan, kGeneve, kTzsp };
  PortKind port_kind(std::uint16_t port) const noexcept { return port_kind_[port]; }
  const WalkConfig& config() const noexcept { return config_; }

 private:
  struct Ctx;
  struct Layer {
    ByteSpan cap;            // captured bytes of this layer and what follows
    std::uint32_t orig = 0;  // their length on the wire (>= cap.size())
  };
  struct Found {
    Layer inner;
    LinkType link = LinkType::kEthernet;
  };
  enum class Step : std::uint8_t { kIp, kStripped, kUntunnelled, kDropped, kFragment, kKeepalive };

  Step from_link(LinkType link, Layer frame, Ctx& c, Layer& ip, Found& found) const noexcept;
  Step from_ethertype(std::uint16_t et, Layer payload, Ctx& c, Layer& ip) const noexcept;
  Step from_ip(Layer ip, Ctx& c, Found& found) const noexcept;
  Step from_udp(Layer udp, Ctx& c, Found& found) const noexcept;
  Step from_udp_payload(PortKind kind, Layer payload, Ctx& c, Found& found) const noexcept;
  Step from_gre(Layer gre, Ctx& c, Found& found) const noexcept;
  Step gre_protocol(std::uint16_t proto, bool sequence_bit, Layer payload, Ctx& c,
                    Found& found) const noexcept;
  Step erspan2(Layer payload, bool mismatch, Ctx& c, Found& found) const noexcept;
  Step erspan3(Layer payload, bool mismatch, Ctx& c, Found& found) const noexcept;
  Step check_inner(Found& found, Ctx& c) const noexcept;
  WalkResult finish(Step s, Found& found, Ctx& c, Decapsulated& out) const noexcept;

  WalkConfig config_;
  std::array<PortKind, 65536> port_kind_{};
};

}  // namespace portmirror::packet
