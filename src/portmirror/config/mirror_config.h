// Plain structs describing a mirror source: what to capture, which packets to select (Junos filter
// terms or BPF), how to sample/truncate/police them and where to send them. Filled by the CLI flags
// (`portmirror mirror ...`) and by the Junos front end (`--junos`); consumed by source/.
// No behaviour here beyond defaults and validation helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"

namespace portmirror::config {

enum class Family : std::uint8_t { kInet, kInet6, kAny };
enum class Direction : std::uint8_t { kInput, kOutput, kBoth };

// An inclusive numeric range; a single value has lo == hi.
struct Range {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  bool contains(std::uint32_t v) const noexcept { return v >= lo && v <= hi; }
  friend bool operator==(const Range&, const Range&) = default;
};

// One entry of a Junos address list: `10.0.0.0/8;` or `10.1.0.0/16 except;`.
// Evaluation is longest-prefix match over the list (protocols.md §4.5).
struct PrefixEntry {
  IpPrefix prefix;
  bool except = false;
  friend bool operator==(const PrefixEntry&, const PrefixEntry&) = default;
};

// A set of values with an optional negation (`protocol-except`, `destination-port-except`, ...).
struct ValueMatch {
  std::vector<Range> values;  // OR'ed
  bool except = false;        // true: matches when none of the values match
  bool empty() const noexcept { return values.empty(); }
  friend bool operator==(const ValueMatch&, const ValueMatch&) = default;
};

// The `from { ... }` clause of a term: all present conditions must match (AND); values within a
// condition are OR'ed. An empty MatchSpec matches every packet.
struct MatchSpec {
  std::vector<PrefixEntry> source_address;
  std::vector<PrefixEntry> destination_address;
  std::vector<PrefixEntry> address;  // source OR destination
  ValueMatch protocol;               // IP protocol / IPv6 next header
  ValueMatch source_port;
  ValueMatch destination_port;
  ValueMatch port;  // source OR destination
  ValueMatch icmp_type;
  ValueMatch icmp_code;
  ValueMatch dscp;
  std::string tcp_flags;  // Junos bit-field expression text, e.g. "(syn & !ack)"; "" = none
  bool first_fragment = false;
  bool is_fragment = false;
  friend bool operator==(const MatchSpec&, const MatchSpec&) = default;
};

// What a term does. Mirroring is a non-terminating action (implicit accept unless combined with
// another action); `discard`/`reject` stop evaluation too and only matter for mirroring in that the
// packet is still mirrored if the same term says port-mirror (Junos mirrors before the verdict).
enum class TermVerdict : std::uint8_t { kAccept, kDiscard, kReject, kNextTerm };

struct Term {
  std::string name;
  MatchSpec from;
  bool port_mirror = false;     // `then port-mirror` or `port-mirror-instance NAME`
  std::string mirror_instance;  // "" = the global port-mirroring instance
  TermVerdict verdict = TermVerdict::kAccept;
  std::string count;  // counter name, "" = none
  friend bool operator==(const Term&, const Term&) = default;
};

struct Filter {
  std::string name;
  Family family = Family::kInet;
  std::vector<Term> terms;  // first match decides; implicit final `then discard`
  friend bool operator==(const Filter&, const Filter&) = default;
};

// Tunnel encapsulations the mirror source emits.
enum class EncapKind : std::uint8_t {
  kGre,      // GRE carrying the IP packet (0x0800 / 0x86DD), as Junos gr- does
  kGreEth,   // GRE carrying the Ethernet frame (0x6558, transparent Ethernet bridging)
  kErspan2,  // GRE 0x88BE + ERSPAN Type II
  kErspan3,  // GRE 0x22EB + ERSPAN Type III
  kVxlan,    // UDP 4789 + VXLAN
};

constexpr std::string_view encap_kind_name(EncapKind k) noexcept {
  switch (k) {
    case EncapKind::kGre:
      return "gre";
    case EncapKind::kGreEth:
      return "gre-eth";
    case EncapKind::kErspan2:
      return "erspan2";
    case EncapKind::kErspan3:
      return "erspan3";
    case EncapKind::kVxlan:
      return "vxlan";
  }
  return "?";
}

constexpr std::string_view direction_name(Direction d) noexcept {
  switch (d) {
    case Direction::kInput:
      return "input";
    case Direction::kOutput:
      return "output";
    case Direction::kBoth:
      return "input and output";
  }
  return "?";
}

// One collector a copy is sent to (a gr- unit's tunnel, a next-hop, a --to).
struct TunnelConfig {
  std::string name;  // e.g. "gr-0/2/0.100" or "--to 192.0.2.1"
  EncapKind encap = EncapKind::kGre;
  IpAddress destination;
  std::optional<IpAddress> source;  // default: chosen by the kernel route
  std::uint8_t ttl = 64;
  std::uint8_t dscp = 0;
  std::optional<std::uint32_t> key;  // GRE key
  bool sequence = false;             // GRE sequence numbers (always on for ERSPAN)
  bool checksum = false;             // GRE checksum
  std::uint16_t erspan_session = 0;  // 0–1023
  std::uint32_t erspan_index = 0;    // Type II 20-bit index
  std::uint8_t erspan_hw_id = 0;     // Type III 6-bit hardware ID
  std::uint8_t erspan_gra = 0;       // Type III timestamp granularity (0 = 100 µs, 1 = 100 ns)
  std::uint32_t vni = 0;             // VXLAN
  std::uint16_t udp_port = 4789;     // VXLAN destination port
  friend bool operator==(const TunnelConfig&, const TunnelConfig&) = default;
};

// Token-bucket policer on the mirrored output. Zero means "no limit" for that dimension.
struct PolicerConfig {
  std::uint64_t packets_per_second = 0;
  std::uint64_t bits_per_second = 0;
  std::uint64_t burst_packets = 0;  // 0 = derived (1/10 s of rate, at least 64)
  std::uint64_t burst_bytes = 0;    // 0 = derived
  friend bool operator==(const PolicerConfig&, const PolicerConfig&) = default;
};

enum class MtuPolicy : std::uint8_t { kClip, kFragment };

// A port-mirroring instance (Junos `port-mirroring` global or `instance NAME`).
struct MirrorInstance {
  std::string name;  // "" = global instance
  Family family = Family::kInet;
  std::uint32_t rate = 1;                   // 1–65535
  std::uint32_t run_length = 0;             // 0–20
  std::uint32_t maximum_packet_length = 0;  // 0 = no truncation
  bool random_sampling = false;             // default deterministic (protocols.md §4.2)
  std::vector<TunnelConfig> outputs;        // each copy goes to every output (next-hop group)
  PolicerConfig policer;
  MtuPolicy mtu_policy = MtuPolicy::kClip;
  friend bool operator==(const MirrorInstance&, const MirrorInstance&) = default;
};

// A Linux interface to capture on, with the filter bound to it in that direction.
struct InterfaceBinding {
  std::string ifname;      // Linux interface (after --map)
  std::string junos_name;  // e.g. "t1-1/0/3:3.0" when it came from --junos, else ""
  Direction direction = Direction::kBoth;
  std::string filter;  // Filter::name, or "" = mirror everything to the global instance
  friend bool operator==(const InterfaceBinding&, const InterfaceBinding&) = default;
};

struct MirrorConfig {
  std::vector<InterfaceBinding> interfaces;
  std::vector<Filter> filters;
  std::vector<MirrorInstance> instances;  // instances[0] is the global one when present
  std::string bpf;                        // optional tcpdump expression ANDed with the terms
  bool mirror_once = true;                // never mirror one packet twice (seen on two interfaces)
  // Two sightings of one packet count as one when their capture times are this close. The egress
  // sighting is stamped after forwarding, which a busy software router can delay by tens of ms.
  std::uint32_t mirror_once_window_ms = 100;
  bool loop_prevention = true;          // never mirror our own tunnel traffic
  std::uint32_t keepalive_seconds = 0;  // GRE keepalive when idle; 0 = off
};

}  // namespace portmirror::config
