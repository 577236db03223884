// What the configuration says about mirroring, with source locations: interfaces and units,
// filters, port-mirroring instances, static routes, tunnel services. Built from the tree with value
// and range checks (protocols.md §4.1–§4.5); read by to_config (the mirror plan) and check (the
// lint).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "portmirror/base/ip_address.h"
#include "portmirror/config/mirror_config.h"
#include "portmirror/junos/lexer.h"
#include "portmirror/junos/load.h"
#include "portmirror/junos/tree.h"

namespace portmirror::junos {

struct TunnelModel {
  std::optional<IpAddress> source;
  std::optional<IpAddress> destination;
  std::optional<std::uint8_t> ttl;
  std::optional<std::uint32_t> key;
  SourceLocation location;
};

struct UnitModel {
  std::string interface;  // "gr-0/2/0"
  std::uint32_t unit = 0;
  std::string description;
  std::optional<TunnelModel> tunnel;
  bool has_family_inet = false;
  std::vector<IpPrefix> inet_addresses;
  std::string filter_input;  // family inet filter input
  std::string filter_output;
  SourceLocation filter_input_location;
  SourceLocation filter_output_location;
  bool has_family_inet6 = false;
  std::vector<IpPrefix> inet6_addresses;
  std::string filter6_input;  // family inet6 filter input
  std::string filter6_output;
  SourceLocation filter6_input_location;
  SourceLocation filter6_output_location;
  SourceLocation location;
  std::string name() const { return interface + "." + std::to_string(unit); }
  // The filter bound in `family` (inet or inet6) and direction; "" when none.
  const std::string& filter(config::Family family, bool output) const;
  SourceLocation filter_location(config::Family family, bool output) const;
  bool has_filter() const {
    return !filter_input.empty() || !filter_output.empty() || !filter6_input.empty() ||
           !filter6_output.empty();
  }
};

struct InterfaceModel {
  std::string name;
  std::string description;
  std::string speed;  // `speed 10g;` as written; "" when absent
  SourceLocation speed_location;
  std::vector<UnitModel> units;
  SourceLocation location;
};

// An interface's speed, from its `speed` statement or else guessed from the media prefix of its
// name (ge- 1 Gb/s, xe- 10 Gb/s, t1- 1.544 Mb/s, ...).
struct InterfaceSpeed {
  std::uint64_t bps = 0;    // 0 when unknown (or a range, as et- 40/100 Gb/s)
  std::string text;         // "10 Gb/s Ethernet", "T1, 1.544 Mb/s"; "" when unknown
  bool high = false;        // 1 Gb/s or more
  bool configured = false;  // from the `speed` statement (at `location`)
  SourceLocation location;
};

struct MirrorOutput {
  std::string interface;  // "gr-0/2/0.100"
  std::vector<IpAddress> next_hops;
  SourceLocation location;
};

// One (instance, family) of port-mirroring. The global instance has name "".
struct InstanceModel {
  std::string name;
  config::Family family = config::Family::kInet;
  std::uint32_t rate = 1;
  std::uint32_t run_length = 0;
  std::uint32_t maximum_packet_length = 0;
  SourceLocation rate_location;
  SourceLocation run_length_location;
  bool rate_set = false;
  bool run_length_set = false;
  std::vector<MirrorOutput> outputs;
  std::string next_hop_group;
  bool no_filter_check = false;
  SourceLocation location;           // of `family X` (or of the instance when it has none)
  SourceLocation instance_location;  // of `port-mirroring` / `instance NAME`
};

struct TermModel {
  config::Term term;
  bool has_policer = false;  // `policer` or `three-color-policer`
  std::string policer;       // `then policer NAME`
  SourceLocation policer_location;
  SourceLocation location;
  SourceLocation mirror_location;     // of `port-mirror` / `port-mirror-instance`
  SourceLocation next_term_location;  // of `next term`, if any
  bool next_term = false;
  std::vector<SourceLocation> source_address_locations;  // parallel to term.from.source_address
};

struct FilterModel {
  config::Filter filter;
  std::vector<TermModel> terms;  // parallel to filter.terms
  SourceLocation location;
};

struct StaticRoute {
  IpPrefix prefix;
  std::vector<IpAddress> next_hops;
  SourceLocation location;
};

struct TunnelServices {
  std::uint32_t fpc = 0;
  std::uint32_t pic = 0;
  std::string bandwidth;  // "1g", "10g", or "" when omitted
  SourceLocation location;
};

// `firewall policer NAME { if-exceeding { ... } then discard; }` (single-rate two-color).
struct PolicerModel {
  std::string name;
  std::uint64_t bandwidth_bps = 0;      // bandwidth-limit, bit/s
  std::uint32_t bandwidth_percent = 0;  // bandwidth-percent (of the interface speed), 1-100
  std::uint64_t burst_bytes = 0;        // burst-size-limit, bytes
  std::uint64_t pps = 0;                // if-exceeding-pps pps-limit
  std::uint64_t packet_burst = 0;       // if-exceeding-pps packet-burst
  bool discard = false;                 // `then discard`: excess is dropped (else re-marked)
  SourceLocation location;
};

// `chassis fpc N [pic M] port-mirror-instance NAME` (protocols.md §4.1).
struct InstanceBinding {
  std::uint32_t fpc = 0;
  std::optional<std::uint32_t> pic;
  std::string instance;
  SourceLocation location;  // of the instance name
};

struct RouterModel {
  std::vector<InterfaceModel> interfaces;
  bool has_interfaces = false;  // an `interfaces` hierarchy was present at all
  bool has_port_mirroring = false;
  SourceLocation port_mirroring_location;
  std::vector<InstanceModel> instances;
  bool mirror_once = false;
  bool has_firewall = false;
  std::vector<FilterModel> filters;
  std::vector<PolicerModel> policers;
  bool has_routing_options = false;
  std::vector<StaticRoute> routes;
  bool has_chassis = false;
  std::vector<TunnelServices> tunnel_services;
  std::vector<InstanceBinding> instance_bindings;

  const InterfaceModel* find_interface(const std::string& name) const;
  const UnitModel* find_unit(const std::string& interface, std::uint32_t unit) const;
  const UnitModel* find_unit(const std::string& dotted) const;    // "gr-0/2/0.100", unit 0 if none
  const FilterModel* find_filter(const std::string& name) const;  // any family, inet first
  const FilterModel* find_filter(const std::string& name, config::Family family) const;
  const PolicerModel* find_policer(const std::string& name) const;
  InterfaceSpeed speed(const std::string& interface) const;
  // The instance bound (`chassis fpc N [pic M] port-mirror-instance`) to the PFE of `interface`
  // that takes over `then port-mirror` there: PIC level first, then FPC level (protocols.md §4.1).
  // nullptr when none is bound, the name has no FPC/PIC, or two are bound at the winning level
  // (`ambiguous` is then set, if given).
  const InstanceBinding* bound_instance(const std::string& interface,
                                        bool* ambiguous = nullptr) const;
  // The instance a term mirrors to on `interface`: the term's own (`port-mirror-instance X`), else
  // the bound one, else "" (global).
  std::string effective_instance(const std::string& interface,
                                 const std::string& term_instance) const;
};

// "gr-0/2/0", "t1-1/0/3:3" -> FPC, PIC, port; false for names without that form (ae0, lo0).
bool parse_fpc_pic_port(const std::string& ifname, std::uint32_t& fpc, std::uint32_t& pic,
                        std::uint32_t& port);

// Junos numbers with k/m/g suffixes (decimal: 10m = 10,000,000): bandwidth-limit, burst-size-limit,
// speed. nullopt when malformed or beyond 2^64.
std::optional<std::uint64_t> parse_scaled(const std::string& v);

// Splits "t1-1/0/3:3.0" into ("t1-1/0/3:3", 0); a name without a unit means unit 0.
std::pair<std::string, std::uint32_t> split_unit(const std::string& name);

// Builds the model; value and range errors are appended to `diags` with the value's location.
RouterModel build_model(const Node& root, const SourceSet& sources, std::vector<Diagnostic>& diags);

// Named values (protocols.md §4.5): ports, protocols, ICMP types, DSCP code points.
std::optional<config::Range> parse_port(const std::string& v);
std::optional<config::Range> parse_protocol(const std::string& v);
std::optional<config::Range> parse_icmp_type(const std::string& v);
std::optional<config::Range> parse_dscp(const std::string& v);

}  // namespace portmirror::junos
