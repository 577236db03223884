// Reading configuration files into one tree and model, and turning the model into the mirror plan.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/config/mirror_config.h"
#include "portmirror/junos/lexer.h"
#include "portmirror/junos/load.h"
#include "portmirror/junos/model.h"
#include "portmirror/junos/parser.h"
#include "portmirror/junos/tree.h"

namespace portmirror::junos {

struct LoadedConfig {
  SourceSet sources;
  Node root;      // as written (dumps show this)
  Node expanded;  // with configuration groups applied: what the model reads
  RouterModel model;
  bool syntax_errors = false;  // the parser reported errors: the tree is its best recovery
};

// Parses every file (merged into one tree) and builds the model. Only an unreadable file is an
// Error; syntax and value problems are diagnostics.
Result<std::unique_ptr<LoadedConfig>> load_files(const std::vector<std::string>& paths,
                                                 const ParseOptions& options,
                                                 std::vector<Diagnostic>& diags);

// Same, from text already in memory (tests, fuzzing).
std::unique_ptr<LoadedConfig> load_text(const std::string& name, const std::string& text,
                                        const ParseOptions& options,
                                        std::vector<Diagnostic>& diags);

// The mirror plan for `options.interface_map`; problems are diagnostics (errors make the plan
// unusable; load_mirror_config turns them into an Error).
config::MirrorConfig to_mirror_config(const LoadedConfig& cfg, const LoadOptions& options,
                                      std::vector<Diagnostic>& diags);

bool has_errors(const std::vector<Diagnostic>& diags);

}  // namespace portmirror::junos
