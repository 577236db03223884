// Recursive-descent parser for Junos configuration text, hierarchical (curly-brace) and `set` form,
// into the schema-normalised tree (protocols.md §4.6). Unbalanced braces are located by
// indentation.
#pragma once

#include <string>
#include <vector>

#include "portmirror/junos/lexer.h"
#include "portmirror/junos/load.h"
#include "portmirror/junos/tree.h"

namespace portmirror::junos {

enum class SyntaxForm : std::uint8_t { kAuto, kHierarchical, kSet };

struct ParseOptions {
  bool lenient = false;  // brace/semicolon problems become warnings (recovery is the same)
  SyntaxForm form = SyntaxForm::kAuto;
};

// Parses `src` and merges its statements into `root` (several files form one configuration).
// Diagnostics are appended to `diags`; the tree is always the best recovery.
void parse_config(const SourceFile& src, const ParseOptions& options, Node& root,
                  std::vector<Diagnostic>& diags);

// True when the first statement of `src` is a `set`/`deactivate`/`delete` line.
bool looks_like_set_form(const SourceFile& src);

}  // namespace portmirror::junos
