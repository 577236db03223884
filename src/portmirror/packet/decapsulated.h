// What the layer walk produces for one tunnelled frame: the tunnel's metadata and the inner packet.
// Shared by the collector (session table, sinks) and the text printer. Plain data; the inner bytes
// are borrowed from the frame (or from the reassembler's buffer, valid until the next walk).
#pragma once

#include <cstdint>
#include <string_view>

#include "portmirror/base/bytes.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/base/time.h"
#include "portmirror/packet/link_type.h"

namespace portmirror {

// The mirroring encapsulation (the outermost tunnel removed). GRE covers every GRE payload that is
// not ERSPAN: IPv4/IPv6 (Junos gr-), 0x6558 TEB (gretap, NVGRE).
enum class Encap : std::uint8_t {
  kGre = 0,
  kErspan1,
  kErspan2,
  kErspan3,
  kVxlan,
  kGeneve,
  kTzsp,
};
inline constexpr int kEncapCount = 7;

constexpr std::string_view encap_name(Encap e) noexcept {
  switch (e) {
    case Encap::kGre:
      return "gre";
    case Encap::kErspan1:
      return "erspan1";
    case Encap::kErspan2:
      return "erspan2";
    case Encap::kErspan3:
      return "erspan3";
    case Encap::kVxlan:
      return "vxlan";
    case Encap::kGeneve:
      return "geneve";
    case Encap::kTzsp:
      return "tzsp";
  }
  return "unknown";
}

// ERSPAN II/III fields (protocols.md §2.2–2.4). Zero when absent.
struct ErspanInfo {
  std::uint8_t version = 0;  // 1 = Type II, 2 = Type III (0 for Type I)
  std::uint16_t vlan = 0;
  std::uint8_t cos = 0;
  std::uint8_t en_or_bso = 0;   // Type II "En", Type III "BSO"
  bool truncated = false;       // T bit
  std::uint32_t index = 0;      // Type II 20-bit index
  std::uint32_t timestamp = 0;  // Type III low 32 bits
  std::uint16_t sgt = 0;
  bool p = false;
  std::uint8_t ft = 0;
  std::uint8_t hw_id = 0;
  bool direction_egress = false;  // D bit
  std::uint8_t gra = 0;
  bool has_platform = false;  // O bit: 8-octet sub-header present
  std::uint8_t platform_id = 0;
  std::uint32_t platform_info = 0;  // w3 low 26 bits
  std::uint32_t platform_w4 = 0;    // upper timestamp (Platf 3/7) or seconds (5/6)
};

struct TunnelInfo {
  Encap encap = Encap::kGre;
  IpAddress outer_src;
  IpAddress outer_dst;
  // Session identifier: GRE key, ERSPAN session ID, VXLAN/Geneve VNI. Absent for plain GRE without
  // key.
  bool has_id = false;
  std::uint32_t id = 0;
  bool has_seq = false;
  std::uint32_t seq = 0;            // GRE sequence number (RFC 2890)
  std::uint16_t gre_proto = 0;      // GRE protocol type / Geneve protocol type
  bool gre_checksum_bad = false;    // C=1 and the checksum did not verify (delivered unless strict)
  bool outer_reassembled = false;   // the outer datagram was rebuilt from fragments
  std::uint16_t outer_udp_src = 0;  // VXLAN/Geneve/TZSP
  std::uint16_t outer_udp_dst = 0;
  ErspanInfo erspan;  // valid for kErspan2/kErspan3
  // Shown by `capture -v`: the outer IPv4 TTL / IPv6 hop limit when the outer header was seen (not
  // behind UDP or IPv6 raw sockets), the GRE flags word (GRE and ERSPAN), VXLAN flags, Geneve
  // options.
  bool has_outer_ttl = false;
  std::uint8_t outer_ttl = 0;
  std::uint16_t gre_flags = 0;
  std::uint8_t vxlan_flags = 0;
  std::uint8_t geneve_options = 0;        // number of options
  std::uint8_t geneve_options_words = 0;  // Opt Len: options length in 4-octet words
  bool geneve_critical = false;           // C bit or a critical option
};

struct Decapsulated {
  TunnelInfo tunnel;
  ByteSpan inner;  // inner packet bytes as captured (ends at the outer IP length)
  LinkType inner_link = LinkType::kEthernet;  // kEthernet or kRaw
  std::uint32_t inner_orig_len = 0;  // original inner length (> inner.size() if the capture cut it)
  std::uint8_t layers_removed = 1;   // tunnels stripped (1 by default; more with --depth)
};

}  // namespace portmirror
