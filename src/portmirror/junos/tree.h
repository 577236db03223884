// The configuration tree: one node per keyword (+ its values), the same for the hierarchical and
// the `set` form (protocols.md §4.6 "hierarchical statement path == the word sequence after set").
#pragma once

#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/junos/schema.h"

namespace portmirror::junos {

struct Node {
  std::string keyword;              // "unit", "rate", or the name itself for entries ("ge-0/0/0")
  std::vector<std::string> values;  // "0" for `unit 0`; "tcp", "udp" for `protocol [ tcp udp ]`
  SourceLocation location;          // of the keyword
  std::vector<SourceLocation> value_locations;
  std::vector<Node> children;
  bool inactive = false;  // `inactive:` tag or `deactivate` line: kept, skipped by the model
  bool unknown = false;   // not in the schema: kept for the dump, never read by the model
  bool ignored = false;   // inside a known-but-unmodelled statement (policer bodies, ...)
  const Spec* spec = nullptr;

  // First active child with this keyword (and first value, if given).
  const Node* find(std::string_view kw) const;
  const Node* find(std::string_view kw, std::string_view value) const;
  std::vector<const Node*> all(std::string_view kw) const;  // active children with this keyword
  const std::string& value() const;                         // first value or ""
  SourceLocation value_location(std::size_t i = 0) const;
  std::string head() const;  // "unit 0", "family inet", "term 0-capture"
};

// Normalised hierarchical text (4-space indentation, `inactive:` tags, unknown statements marked
// with a trailing comment).
std::string dump_tree(const Node& root);
// `show | display set` form: one `set` line per leaf, then `deactivate` lines.
std::string dump_set(const Node& root);

}  // namespace portmirror::junos
