// Strips the mirroring tunnel from captured frames: link layer -> outer IPv4/IPv6 (fragments
// reassembled) -> GRE / ERSPAN I/II/III / VXLAN / Geneve / TZSP -> inner packet. Every frame that
// yields no inner packet bumps exactly one counter named by layer and cause (e.g. "gre.truncated").
// Data path: no exceptions, no allocation per packet (the reassembler's memory is reserved up front).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "portmirror/base/counters.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/packet/decapsulated.h"
#include "portmirror/packet/frame.h"

namespace portmirror::collector {

// Counters of the decapsulation path. Names are "<layer>.<cause>"; causes are truncated (capture
// ended early), malformed (self-contradictory), unsupported (valid but not handled), too_deep, plus
// informational counters that do not drop the packet (e.g. gre.bad_checksum when not strict).
// The implementation owns this list; it may grow. (Declared here so sinks and stats can print it.)
#define PM_DECAP_COUNTERS(X)                                                                   \
  X(kLinkTruncated, "link.truncated", "link-layer header cut short")                          \
  X(kLinkUnsupported, "link.unsupported", "link-layer protocol is not IP")                    \
  X(kVlanTooDeep, "vlan.too_deep", "more VLAN tags than the cap")                             \
  X(kIpv4Truncated, "ipv4.truncated", "IPv4 header cut short")                                \
  X(kIpv4Malformed, "ipv4.malformed", "IPv4 header lengths inconsistent")                     \
  X(kIpv6Truncated, "ipv6.truncated", "IPv6 header or extension header cut short")            \
  X(kIpv6Malformed, "ipv6.malformed", "IPv6 lengths or extension headers inconsistent")       \
  X(kIpUnsupported, "ip.unsupported", "outer IP protocol carries no tunnel")                  \
  X(kFragHeld, "ip.frag_held", "fragment stored for reassembly (not a drop)")                 \
  X(kFragTimeout, "ip.frag_timeout", "fragments discarded: datagram not complete in time")    \
  X(kFragOverflow, "ip.frag_overflow", "fragments discarded: reassembly memory bound reached") \
  X(kFragMalformed, "ip.frag_malformed", "overlapping or inconsistent fragments")             \
  X(kFragReassembled, "ip.frag_reassembled", "datagrams rebuilt from fragments (info)")       \
  X(kUdpTruncated, "udp.truncated", "UDP header cut short")                                   \
  X(kUdpMalformed, "udp.malformed", "UDP length inconsistent")                                \
  X(kUdpUnsupported, "udp.unsupported", "UDP port is not a tunnel port")                      \
  X(kGreTruncated, "gre.truncated", "GRE header cut short")                                   \
  X(kGreMalformed, "gre.malformed", "GRE reserved bits set (strict) or inconsistent")         \
  X(kGreUnsupported, "gre.unsupported", "GRE routing present or unknown protocol type")       \
  X(kGreVersion1, "gre.v1_pptp", "GRE version 1 (PPTP): not mirror traffic")                  \
  X(kGreBadVersion, "gre.bad_version", "GRE version other than 0 and 1")                      \
  X(kGreBadChecksum, "gre.bad_checksum", "GRE checksum mismatch (delivered unless strict)")   \
  X(kGreKeepalive, "gre.keepalive", "GRE keepalive (protocol 0x0000): liveness, not data")    \
  X(kGreNoPayload, "gre.no_payload", "GRE with no payload")                                   \
  X(kErspanTruncated, "erspan.truncated", "ERSPAN header cut short")                          \
  X(kErspanMalformed, "erspan.malformed", "ERSPAN version does not match GRE protocol")       \
  X(kErspanUnsupported, "erspan.unsupported", "ERSPAN frame type not Ethernet or IP")         \
  X(kVxlanTruncated, "vxlan.truncated", "VXLAN header cut short")                             \
  X(kVxlanMalformed, "vxlan.malformed", "VXLAN I flag clear or reserved bits set (strict)")   \
  X(kGeneveTruncated, "geneve.truncated", "Geneve header or options cut short")               \
  X(kGeneveMalformed, "geneve.malformed", "Geneve version or option length invalid")          \
  X(kGeneveUnsupported, "geneve.unsupported", "Geneve control packet, critical option or protocol") \
  X(kTzspTruncated, "tzsp.truncated", "TZSP header or tags cut short")                        \
  X(kTzspUnsupported, "tzsp.unsupported", "TZSP type or encapsulation not a received frame")  \
  X(kInnerTruncated, "inner.truncated", "inner packet absent or shorter than its link header") \
  X(kTooDeep, "walk.too_deep", "more nested tunnels than the cap")

PM_DECLARE_COUNTERS(DecapCounter, PM_DECAP_COUNTERS)

inline constexpr int kMaxEncapDepth = 8;

struct DecapOptions {
  std::vector<std::uint16_t> vxlan_ports{4789, 8472};
  std::vector<std::uint16_t> geneve_ports{6081};
  std::vector<std::uint16_t> tzsp_ports{37008};
  int depth = 1;        // tunnels to strip; kMaxEncapDepth for --depth all
  bool strict = false;  // reject non-zero reserved bits and bad GRE checksums
  std::uint32_t max_vlan_tags = 8;
  std::size_t reassembly_max_bytes = 8u << 20;      // hard memory bound, reserved at construction
  std::uint32_t reassembly_max_datagrams = 1024;
  TimestampNs reassembly_timeout = 30 * kNsPerSec;  // against frame timestamps
};

enum class DecapStatus : std::uint8_t {
  kInner,        // `out` holds an inner packet
  kUntunnelled,  // valid frame, but no tunnel we strip (counted by the caller as untunnelled)
  kDropped,      // a tunnel, but unusable: `reason` says why (already counted)
  kHeld,         // an outer fragment stored for reassembly; nothing to output yet
  kKeepalive,    // GRE keepalive: liveness for the session in `out.tunnel`, no packet
};

struct DecapResult {
  DecapStatus status = DecapStatus::kUntunnelled;
  DecapCounter reason = DecapCounter::kCount;  // set for kDropped
};

class Decapsulator {
 public:
  explicit Decapsulator(DecapOptions options);
  ~Decapsulator();
  Decapsulator(const Decapsulator&) = delete;
  Decapsulator& operator=(const Decapsulator&) = delete;

  // Walks one captured frame. On kInner, `out.inner` borrows from `frame.data` or from the
  // reassembler's buffer and stays valid until the next call.
  DecapResult decapsulate(const Frame& frame, Decapsulated& out) noexcept;

  // Entry points for sockets that have already consumed the outer headers:
  //  - raw IPv6 GRE sockets deliver the GRE header without the IPv6 header;
  //  - UDP sockets deliver the UDP payload (VXLAN / Geneve / TZSP chosen by `dst_port`).
  DecapResult decapsulate_gre(ByteSpan gre, const IpAddress& src, const IpAddress& dst,
                              std::uint32_t orig_len, Decapsulated& out) noexcept;
  DecapResult decapsulate_udp(ByteSpan payload, const IpAddress& src, const IpAddress& dst,
                              std::uint16_t src_port, std::uint16_t dst_port,
                              std::uint32_t orig_len, Decapsulated& out) noexcept;

  const CounterSet<DecapCounter>& counters() const noexcept { return counters_; }
  const DecapOptions& options() const noexcept { return options_; }

 private:
  struct Impl;
  DecapOptions options_;
  CounterSet<DecapCounter> counters_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portmirror::collector
