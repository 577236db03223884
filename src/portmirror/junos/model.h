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
  SourceLocation location;
  std::string name() const { return interface + "." + std::to_string(unit); }
};

struct InterfaceModel {
  std::string name;
  std::string description;
  std::vector<UnitModel> units;
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
  SourceLocation location;
};

struct TermModel {
  config::Term term;
  bool has_policer = false;
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

struct RouterModel {
  std::vector<InterfaceModel> interfaces;
  bool has_interfaces = false;  // an `interfaces` hierarchy was present at all
  bool has_port_mirroring = false;
  SourceLocation port_mirroring_location;
  std::vector<InstanceModel> instances;
  bool mirror_once = false;
  bool has_firewall = false;
  std::vector<FilterModel> filters;
  std::vector<std::string> policers;
  bool has_routing_options = false;
  std::vector<StaticRoute> routes;
  bool has_chassis = false;
  std::vector<TunnelServices> tunnel_services;

  const UnitModel* find_unit(const std::string& interface, std::uint32_t unit) const;
  const UnitModel* find_unit(const std::string& dotted) const;  // "gr-0/2/0.100", unit 0 if none
  const FilterModel* find_filter(const std::string& name) const;
};

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
