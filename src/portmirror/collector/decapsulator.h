// Strips the mirroring tunnel from captured frames: link layer -> outer IPv4/IPv6 (fragments
// reassembled) -> GRE / ERSPAN I/II/III / VXLAN / Geneve / TZSP -> inner packet. Every frame that
// yields no inner packet bumps exactly one counter named by layer and cause (e.g. "gre.truncated").
// Data path: no exceptions, no allocation per packet (the reassembler's memory is reserved up
// front).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "portmirror/base/counters.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/packet/decap_counters.h"
#include "portmirror/packet/decapsulated.h"
#include "portmirror/packet/frame.h"

namespace portmirror::collector {

// Counters of the decapsulation path (the list lives in packet/decap_counters.h so the layer walk
// can name reasons): "<layer>.<cause>" with causes truncated, malformed, unsupported, too_deep,
// plus informational counters that do not drop the packet (gre.bad_checksum when not strict,
// ip.frag_reassembled, ip.length_from_frame, erspan.version_mismatch, geneve.critical_skipped).
using packet::counter_helps;
using packet::counter_name;
using packet::counter_names;
using packet::DecapCounter;

inline constexpr int kMaxEncapDepth = packet::kMaxEncapDepth;

struct DecapOptions {
  std::vector<std::uint16_t> vxlan_ports{4789, 8472};
  std::vector<std::uint16_t> geneve_ports{6081};
  std::vector<std::uint16_t> tzsp_ports{37008};
  int depth = 1;        // tunnels to strip; kMaxEncapDepth for --depth all
  bool strict = false;  // reject non-zero reserved bits and bad GRE checksums
  std::uint32_t max_vlan_tags = 8;
  std::size_t reassembly_max_bytes = 8u << 20;  // hard memory bound, reserved at construction
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
