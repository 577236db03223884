// Configuration groups: `groups { NAME { <any hierarchy> } }` inherited through `apply-groups
// NAME;` or `apply-groups [ A B ];` at the top level or at any hierarchy level, as Junos does
// ("Junos OS CLI User Guide: configuration groups"): statements of the group at the same hierarchy
// level are inherited where the configuration does not set them itself (local configuration wins;
// among groups, the first listed wins, and groups applied at a level come before those inherited
// from the levels above). `apply-groups-except NAME` stops inheritance of NAME below that level.
// Names in angle brackets are wildcards (`<*>`, `<ge-*>`, `<xe-1/[0-3]/*>`): they add their
// statements to every matching statement that exists, never create one.
#pragma once

#include <vector>

#include "portmirror/junos/lexer.h"
#include "portmirror/junos/tree.h"

namespace portmirror::junos {

// The configuration with every group applied. Inherited nodes keep the location of the group's
// line. `groups` itself stays in the result (the model never reads it). Undefined group names are
// warnings; a group that nothing applies is a note.
Node expand_groups(const Node& root, const SourceSet& sources, std::vector<Diagnostic>& diags);

// Junos wildcard match of `word` against `pattern` (the text between `<` and `>`): `*` any run,
// `?` one character, `[a-c]` / `[abc]` / `[!x]` one of a set.
bool wildcard_match(std::string_view pattern, std::string_view word);

}  // namespace portmirror::junos
