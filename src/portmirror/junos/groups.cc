#include "portmirror/junos/groups.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>

namespace portmirror::junos {

namespace {

bool is_wildcard(const std::string& w) {
  return w.size() >= 2 && w.front() == '<' && w.back() == '>';
}

bool is_apply(const Node& n) {
  return n.keyword == "apply-groups" || n.keyword == "apply-groups-except";
}

// `word` written in the configuration (possibly a wildcard) against a local word.
bool word_matches(const std::string& pattern, const std::string& word) {
  if (is_wildcard(pattern)) {
    return wildcard_match(std::string_view(pattern).substr(1, pattern.size() - 2), word);
  }
  return pattern == word;
}

bool keyed_by_value(const Node& n) {
  return n.unknown || (n.spec != nullptr && n.spec->kind == SpecKind::kNamed);
}

// Group node `g` is the same statement as local node `l` (wildcards allowed in `g`).
bool corresponds(const Node& g, const Node& l) {
  if (g.unknown != l.unknown || g.spec != l.spec) return false;
  if (!word_matches(g.keyword, l.keyword)) return false;
  if (!keyed_by_value(g)) return true;
  if (g.values.size() != l.values.size()) return false;
  for (std::size_t k = 0; k < g.values.size(); ++k) {
    if (!word_matches(g.values[k], l.values[k])) return false;
  }
  return true;
}

bool has_wildcard(const Node& n) {
  if (is_wildcard(n.keyword)) return true;
  return keyed_by_value(n) && std::any_of(n.values.begin(), n.values.end(),
                                          [](const auto& v) { return is_wildcard(v); });
}

// A copy of a group's subtree without its wildcard statements (they only decorate what exists)
// and without inactive ones.
Node inherited_copy(const Node& g) {
  Node out = g;
  out.children.clear();
  for (const Node& c : g.children) {
    if (c.inactive || has_wildcard(c) || is_apply(c)) continue;
    out.children.push_back(inherited_copy(c));
  }
  return out;
}

struct Source {
  std::string group;
  const Node* node;  // the group's statement at the level being expanded
};

class Expander {
 public:
  Expander(const Node& root, const SourceSet& sources, std::vector<Diagnostic>& diags)
      : root_(root), sources_(sources), diags_(diags), groups_(root.find("groups")) {}

  Node run() {
    Node out = root_;
    std::vector<const Node*> path;
    level(out, {}, path);
    if (groups_ != nullptr) {
      for (const Node& g : groups_->children) {
        if (g.inactive || g.unknown) continue;
        if (std::find(applied_.begin(), applied_.end(), g.keyword) != applied_.end()) continue;
        diags_.push_back(sources_.diagnostic(
            Severity::kNote, g.location,
            fmt::format("group {} is defined but no 'apply-groups {}' uses it; its statements "
                        "take no effect",
                        g.keyword, g.keyword)));
      }
    }
    return out;
  }

 private:
  // The group's nodes that sit where `path` leads (several with wildcards).
  std::vector<const Node*> resolve(const Node& group, const std::vector<const Node*>& path) const {
    std::vector<const Node*> cur = {&group};
    for (const Node* step : path) {
      std::vector<const Node*> next;
      for (const Node* n : cur) {
        for (const Node& c : n->children) {
          if (!c.inactive && corresponds(c, *step)) next.push_back(&c);
        }
      }
      cur = std::move(next);
      if (cur.empty()) break;
    }
    return cur;
  }

  const Node* group(const std::string& name, bool& inactive) const {
    inactive = false;
    if (groups_ == nullptr) return nullptr;
    for (const Node& g : groups_->children) {
      if (g.unknown || g.keyword != name) continue;
      if (g.inactive) {
        inactive = true;
        continue;
      }
      return &g;
    }
    return nullptr;
  }

  void level(Node& local, const std::vector<Source>& inherited, std::vector<const Node*>& path) {
    std::vector<Source> all;
    std::vector<std::string> except;
    if (const Node* ex = local.find("apply-groups-except")) except = ex->values;
    if (const Node* ap = local.find("apply-groups")) {
      for (std::size_t k = 0; k < ap->values.size(); ++k) {
        const std::string& name = ap->values[k];
        bool inactive = false;
        const Node* g = group(name, inactive);
        if (g == nullptr) {
          if (!inactive) {
            diags_.push_back(sources_.diagnostic(
                Severity::kWarning, ap->value_location(k),
                fmt::format("apply-groups: group '{}' is not defined under 'groups'; nothing "
                            "inherited from it",
                            name)));
          }
          continue;
        }
        if (std::find(applied_.begin(), applied_.end(), name) == applied_.end()) {
          applied_.push_back(name);
        }
        for (const Node* n : resolve(*g, path)) all.push_back(Source{name, n});
      }
    }
    for (const Source& s : inherited) {
      if (std::find(except.begin(), except.end(), s.group) == except.end()) all.push_back(s);
    }
    if (all.empty() && !subtree_applies(local)) return;
    // Statements the configuration lacks come from the first group that has them.
    for (const Source& s : all) {
      for (const Node& g : s.node->children) {
        if (g.inactive || has_wildcard(g) || is_apply(g)) continue;
        bool present = std::any_of(local.children.begin(), local.children.end(),
                                   [&](const Node& l) { return corresponds(g, l); });
        if (!present) local.children.push_back(inherited_copy(g));
      }
    }
    // Then every block, local or inherited, takes what the groups say at its own level.
    for (std::size_t k = 0; k < local.children.size(); ++k) {
      Node& child = local.children[k];
      if (child.inactive || child.unknown || child.spec == nullptr) continue;
      if (path.empty() && child.keyword == "groups") continue;
      SpecKind kind = child.spec->kind;
      if (kind != SpecKind::kContainer && kind != SpecKind::kNamed && kind != SpecKind::kEntry) {
        continue;
      }
      std::vector<Source> below;
      for (const Source& s : all) {
        for (const Node& g : s.node->children) {
          if (!g.inactive && corresponds(g, child)) below.push_back(Source{s.group, &g});
        }
      }
      path.push_back(&child);
      level(child, below, path);
      path.pop_back();
    }
  }

  // True when an `apply-groups` appears somewhere below `n` (worth descending without sources).
  static bool subtree_applies(const Node& n) {
    return std::any_of(n.children.begin(), n.children.end(), [](const Node& c) {
      return !c.inactive && !c.unknown && (c.keyword == "apply-groups" || subtree_applies(c));
    });
  }

  const Node& root_;
  const SourceSet& sources_;
  std::vector<Diagnostic>& diags_;
  const Node* groups_;
  std::vector<std::string> applied_;
};

bool set_match(std::string_view set, char c) {
  bool negate = !set.empty() && (set[0] == '!' || set[0] == '^');
  if (negate) set.remove_prefix(1);
  bool hit = false;
  for (std::size_t k = 0; k < set.size(); ++k) {
    if (k + 2 < set.size() && set[k + 1] == '-') {
      hit = hit || (c >= set[k] && c <= set[k + 2]);
      k += 2;
    } else {
      hit = hit || c == set[k];
    }
  }
  return hit != negate;
}

}  // namespace

bool wildcard_match(std::string_view p, std::string_view w) {
  // Iterative glob with one backtrack point for the last `*` (linear in practice).
  std::size_t pi = 0;
  std::size_t wi = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_w = 0;
  while (wi < w.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      star_w = wi;
      continue;
    }
    if (pi < p.size()) {
      if (p[pi] == '[') {
        std::size_t close = p.find(']', pi + 1);
        if (close != std::string_view::npos) {
          if (set_match(p.substr(pi + 1, close - pi - 1), w[wi])) {
            pi = close + 1;
            ++wi;
            continue;
          }
        } else if (w[wi] == '[') {
          ++pi;
          ++wi;
          continue;
        }
      } else if (p[pi] == '?' || p[pi] == w[wi]) {
        ++pi;
        ++wi;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    pi = star + 1;
    wi = ++star_w;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Node expand_groups(const Node& root, const SourceSet& sources, std::vector<Diagnostic>& diags) {
  return Expander(root, sources, diags).run();
}

}  // namespace portmirror::junos
