// The subset of the Junos configuration schema portmirror understands: which keywords exist at each
// level and how many value words each takes. It turns a statement's word sequence (hierarchical or
// `set` form) into the same path of nodes (protocols.md §4.6: "a schema is needed to
// disambiguate").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portmirror::junos {

enum class SpecKind : std::uint8_t {
  kContainer,  // keyword { ... }                    tunnel, from, then, input, output, static
  kNamed,      // keyword NAME { ... }               unit 0, term T, filter F, family inet, route P
  kEntry,      // NAME { ... } (any word)            interface names, prefixes in source-address
  kLeaf,       // keyword VALUE;  (single value)     rate 1; source 192.0.2.1; description "x";
  kOptLeaf,    // keyword [VALUE];                   reject; reject tcp-reset;
  kLeafList,   // keyword V...; / keyword [ V V ];   protocol [ tcp udp ]; next-hop A;
  kFlag,       // keyword;                           accept; no-filter-check; except;
  kIgnored,    // known, not modelled: swallow the rest of the statement and its block silently
};

struct Spec {
  std::string keyword;  // "" for kEntry
  SpecKind kind = SpecKind::kContainer;
  std::vector<Spec> children;
  std::string note;  // for kIgnored/unsupported statements: why it is not modelled
  // The children are those of another spec (a configuration group holds any top-level
  // hierarchy: `groups { NAME { interfaces { ... } } }`); set once when the schema is built.
  const Spec* same_as = nullptr;

  // Exact keyword first, then a kEntry. `apply-groups` and `apply-groups-except` exist at every
  // level that has a block.
  const Spec* child(std::string_view word) const;
  bool has_children() const { return !(same_as ? same_as->children : children).empty(); }
};

// The root of the schema (top level of a configuration).
const Spec& schema_root();

}  // namespace portmirror::junos
