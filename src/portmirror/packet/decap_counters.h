// Reason counters of the decapsulation walk, "<layer>.<cause>". Declared here (packet/) so the
// layer walk can name a reason without depending on collector/; collector::DecapCounter is this
// enum.
#pragma once

#include "portmirror/base/counters.h"

// Causes: truncated (capture ended early), malformed (self-contradictory), unsupported (valid but
// not handled), too_deep; "(info)" counters do not drop the packet. Untunnelled frames bump nothing
// here: the caller counts them (DecapStatus::kUntunnelled).
#define PM_DECAP_COUNTERS(X)                                                                   \
  X(kLinkTruncated, "link.truncated", "link-layer header cut short")                           \
  X(kLinkUnsupported, "link.unsupported", "link-layer protocol is not IP")                     \
  X(kVlanTooDeep, "vlan.too_deep", "more VLAN tags than the cap")                              \
  X(kIpv4Truncated, "ipv4.truncated", "IPv4 header cut short")                                 \
  X(kIpv4Malformed, "ipv4.malformed", "IPv4 header lengths inconsistent")                      \
  X(kIpv6Truncated, "ipv6.truncated", "IPv6 header or extension header cut short")             \
  X(kIpv6Malformed, "ipv6.malformed", "IPv6 lengths or extension headers inconsistent")        \
  X(kIpUnsupported, "ip.unsupported", "outer IP protocol carries no tunnel")                   \
  X(kFragHeld, "ip.frag_held", "fragment stored for reassembly (not a drop)")                  \
  X(kFragTimeout, "ip.frag_timeout", "fragments discarded: datagram not complete in time")     \
  X(kFragOverflow, "ip.frag_overflow", "fragments discarded: reassembly memory bound reached") \
  X(kFragMalformed, "ip.frag_malformed", "overlapping or inconsistent fragments")              \
  X(kFragReassembled, "ip.frag_reassembled", "datagrams rebuilt from fragments (info)")        \
  X(kUdpTruncated, "udp.truncated", "UDP header cut short")                                    \
  X(kUdpMalformed, "udp.malformed", "UDP length inconsistent")                                 \
  X(kUdpUnsupported, "udp.unsupported", "UDP port is not a tunnel port")                       \
  X(kGreTruncated, "gre.truncated", "GRE header cut short")                                    \
  X(kGreMalformed, "gre.malformed", "GRE reserved bits set (strict) or inconsistent")          \
  X(kGreUnsupported, "gre.unsupported", "GRE routing present or unknown protocol type")        \
  X(kGreVersion1, "gre.v1_pptp", "GRE version 1 (PPTP): not mirror traffic")                   \
  X(kGreBadVersion, "gre.bad_version", "GRE version other than 0 and 1")                       \
  X(kGreBadChecksum, "gre.bad_checksum", "GRE checksum mismatch (delivered unless strict)")    \
  X(kGreKeepalive, "gre.keepalive", "GRE keepalive (protocol 0x0000): liveness, not data")     \
  X(kGreNoPayload, "gre.no_payload", "GRE with no payload")                                    \
  X(kErspanTruncated, "erspan.truncated", "ERSPAN header cut short")                           \
  X(kErspanMalformed, "erspan.malformed", "ERSPAN version does not match GRE protocol")        \
  X(kErspanUnsupported, "erspan.unsupported", "ERSPAN frame type not Ethernet or IP")          \
  X(kVxlanTruncated, "vxlan.truncated", "VXLAN header cut short")                              \
  X(kVxlanMalformed, "vxlan.malformed", "VXLAN I flag clear or reserved bits set (strict)")    \
  X(kGeneveTruncated, "geneve.truncated", "Geneve header or options cut short")                \
  X(kGeneveMalformed, "geneve.malformed", "Geneve version or option length invalid")           \
  X(kGeneveUnsupported, "geneve.unsupported",                                                  \
    "Geneve control packet, critical option or protocol")                                      \
  X(kTzspTruncated, "tzsp.truncated", "TZSP header or tags cut short")                         \
  X(kTzspUnsupported, "tzsp.unsupported", "TZSP type or encapsulation not a received frame")   \
  X(kInnerTruncated, "inner.truncated", "inner packet absent or shorter than its link header") \
  X(kTooDeep, "walk.too_deep", "more nested tunnels than the cap")                             \
  X(kIpLengthFromFrame, "ip.length_from_frame",                                                \
    "outer IP length field 0 (BIG TCP/GSO): length taken from the frame (info)")               \
  X(kErspanVersionMismatch, "erspan.version_mismatch",                                         \
    "ERSPAN Ver does not match the GRE protocol; decoded by Ver (info)")                       \
  X(kGeneveCritical, "geneve.critical_skipped", "Geneve critical options skipped (info)")

namespace portmirror::packet {

PM_DECLARE_COUNTERS(DecapCounter, PM_DECAP_COUNTERS)

/// Hard cap on tunnels stripped from one frame (--depth all).
inline constexpr int kMaxEncapDepth = 8;

}  // namespace portmirror::packet
