#include "portmirror/junos/tree.h"

#include <fmt/core.h>

namespace portmirror::junos {

const Node* Node::find(std::string_view kw) const {
  for (const Node& c : children) {
    if (!c.inactive && !c.unknown && c.keyword == kw) return &c;
  }
  return nullptr;
}

const Node* Node::find(std::string_view kw, std::string_view v) const {
  for (const Node& c : children) {
    if (!c.inactive && !c.unknown && c.keyword == kw && !c.values.empty() && c.values[0] == v) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<const Node*> Node::all(std::string_view kw) const {
  std::vector<const Node*> out;
  for (const Node& c : children) {
    if (!c.inactive && !c.unknown && c.keyword == kw) out.push_back(&c);
  }
  return out;
}

const std::string& Node::value() const {
  static const std::string kEmpty;
  return values.empty() ? kEmpty : values[0];
}

SourceLocation Node::value_location(std::size_t i) const {
  return i < value_locations.size() ? value_locations[i] : location;
}

namespace {

bool needs_quotes(const std::string& w) {
  if (w.empty()) return true;
  for (char c : w) {
    if (c == ' ' || c == '\t' || c == ';' || c == '{' || c == '}' || c == '[' || c == ']' ||
        c == '"' || c == '#' || c == '\\' || c == '\n') {
      return true;
    }
  }
  return false;
}

std::string quote(const std::string& w) {
  if (!needs_quotes(w) || (w.front() == '(' && w.back() == ')')) return w;
  std::string out = "\"";
  for (char c : w) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string words_of(const Node& n) {
  std::string s = quote(n.keyword);
  bool list = n.spec && n.spec->kind == SpecKind::kLeafList && n.values.size() > 1;
  if (list) s += " [";
  for (const auto& v : n.values) s += " " + quote(v);
  if (list) s += " ]";
  return s;
}

void dump(const Node& n, int depth, std::string& out) {
  std::string pad(static_cast<std::size_t>(depth) * 4, ' ');
  std::string tag = n.inactive ? "inactive: " : "";
  std::string comment = n.unknown && !n.ignored ? " # unknown" : "";
  if (n.children.empty()) {
    out += pad + tag + words_of(n) + ";" + comment + "\n";
    return;
  }
  out += pad + tag + words_of(n) + " {" + comment + "\n";
  for (const Node& c : n.children) dump(c, depth + 1, out);
  out += pad + "}\n";
}

void dump_set_lines(const Node& n, const std::string& prefix, std::string& sets,
                    std::string& deactivates) {
  std::string path = prefix.empty() ? words_of(n) : prefix + " " + words_of(n);
  if (n.inactive) deactivates += "deactivate " + path + "\n";
  if (n.children.empty()) {
    sets += "set " + path + "\n";
    return;
  }
  for (const Node& c : n.children) dump_set_lines(c, path, sets, deactivates);
}

}  // namespace

std::string Node::head() const {
  std::string s = keyword;
  for (const auto& v : values) s += " " + v;
  return s;
}

std::string dump_tree(const Node& root) {
  std::string out;
  for (const Node& c : root.children) dump(c, 0, out);
  return out;
}

std::string dump_set(const Node& root) {
  std::string sets;
  std::string deactivates;
  for (const Node& c : root.children) dump_set_lines(c, "", sets, deactivates);
  return sets + deactivates;
}

}  // namespace portmirror::junos
