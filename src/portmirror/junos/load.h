// The Junos front end's entry points used by the CLI: parse a router configuration (hierarchical or
// `set` form), build the mirror plan for mapped interfaces, lint it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/config/mirror_config.h"

namespace portmirror::junos {

enum class Severity : std::uint8_t { kNote, kWarning, kError };

// A compiler-style diagnostic: "file:line:col: severity: message", then the line and a caret.
struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation location;
  std::string message;
  std::vector<std::string> notes;  // "file:line:col: note: block opened here" etc.
  std::string source_line;         // text of location.line (for the caret); "" when unknown
};

struct LoadOptions {
  bool lenient = false;  // recover from missing/extra braces by indentation, with a warning
  // Junos interface name (with or without unit, e.g. "t1-1/0/3:3" or "t1-1/0/3:3.0") -> Linux
  // ifname
  std::vector<std::pair<std::string, std::string>> interface_map;
  bool set_form = false;  // force the `set` syntax (default: detected from the first statement)
};

// Reads `path` and produces the mirror source's configuration. Diagnostics (warnings for unknown
// statements, errors with locations) are appended to `diags`; on errors returns an Error.
Result<config::MirrorConfig> load_mirror_config(const std::string& path, const LoadOptions& options,
                                                std::vector<Diagnostic>& diags);

// Several files read as one configuration (the seed gives its configuration in four snippets).
Result<config::MirrorConfig> load_mirror_config(const std::vector<std::string>& paths,
                                                const LoadOptions& options,
                                                std::vector<Diagnostic>& diags);

// Plain-words description of a plan (interfaces, terms, instances, tunnels) for --dry-run.
std::string describe_plan(const config::MirrorConfig& plan);

// Renders diagnostics like a compiler, with source line and caret.
std::string format_diagnostics(const std::vector<Diagnostic>& diags);

}  // namespace portmirror::junos
