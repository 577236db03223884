// The command-line form of a filter term (`portmirror mirror --term '...'`), the Junos `set` words
// written on one line (docs/mirror.md "Terms"):
//
//   [term NAME] [from] CONDITION... [then ACTION...]
//
//   CONDITION  source-address | destination-address | address   PREFIX [except] ...
//              protocol | source-port | destination-port | port | icmp-type | icmp-code | dscp
//              VALUES (each also as NAME-except, e.g. protocol-except, destination-port-except)
//              tcp-flags EXPR   tcp-established   tcp-initial   first-fragment   is-fragment
//   VALUES     one or more of: number, a-b range, name (udp, ssh, echo-request, ef, af41 ...),
//              separated by spaces or commas, optionally in [ ]
//   ACTION     port-mirror | port-mirror-instance NAME | accept | discard | next term | count NAME
//
// A term without `then` mirrors (Junos: a term with no action accepts). On the command line, where
// there is no forwarding decision to make, `accept` means "mirror to the global instance" and
// `discard` means "do not mirror" (stop evaluating).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "portmirror/base/error.h"
#include "portmirror/config/mirror_config.h"

namespace portmirror::source {

// `default_name` is used when the text has no `term NAME`.
Result<config::Term> parse_cli_term(std::string_view text, const std::string& default_name);

// Junos value names (protocols.md §4.5).
std::optional<std::uint32_t> protocol_by_name(std::string_view name);
std::optional<std::uint32_t> port_by_name(std::string_view name);
std::optional<std::uint32_t> icmp_type_by_name(std::string_view name);
std::optional<std::uint32_t> dscp_by_name(std::string_view name);

}  // namespace portmirror::source
