#include "portmirror/junos/parser.h"

#include <fmt/core.h>

#include <algorithm>
#include <utility>

namespace portmirror::junos {

namespace {

struct Word {
  std::string text;
  int line = 0;
  int column = 0;
};

bool is_tag(const std::string& w) {
  return w == "inactive:" || w == "protect:" || w == "replace:" || w == "delete:" || w == "active:";
}

std::string edit_path(const std::vector<std::string>& heads) {
  std::string s = "[edit";
  for (const auto& h : heads) s += " " + h;
  return s + "]";
}

// Inserts statements into the tree following the schema (shared by both syntaxes).
class Inserter {
 public:
  Inserter(const SourceFile& src, std::vector<Diagnostic>& diags) : src_(src), diags_(diags) {}

  struct Where {
    Node* node = nullptr;
    const Spec* spec = nullptr;  // nullptr: unknown or ignored subtree (children kept raw)
    std::vector<std::string> heads;
  };

  // Adds the statement `words` under `at`; returns where its block (if any) continues.
  // `inactive` marks the statement's first node (an `inactive:` tag) or, with `tag_last`, the node
  // the path ends at (a `deactivate` line).
  Where insert(const Where& at, const std::vector<Word>& words, bool inactive,
               bool tag_last = false) {
    Where cur = at;
    bool first = true;
    std::size_t i = 0;
    if (cur.spec == nullptr) {
      Node n = raw_node(words, 0);
      n.inactive = inactive;
      n.unknown = true;
      n.ignored = cur.node->ignored ||
                  (cur.node->spec != nullptr && cur.node->spec->kind == SpecKind::kIgnored);
      cur.node->children.push_back(std::move(n));
      cur.heads.push_back(cur.node->children.back().head());
      cur.node = &cur.node->children.back();
      return cur;
    }
    while (i < words.size()) {
      const Word& w = words[i];
      const Spec* s = cur.spec->child(w.text);
      if (s == nullptr) {
        bool leafy = !cur.spec->has_children() && cur.node != at.node;
        if (leafy) {
          diag(Severity::kError, w,
               fmt::format("unexpected '{}' after '{}'", w.text, cur.node->head()));
        } else {
          diag(Severity::kWarning, w,
               fmt::format("unknown statement '{}' in {}; ignored", w.text, edit_path(cur.heads)));
        }
        Node n = raw_node(words, i);
        n.unknown = true;
        n.inactive = inactive;
        cur.node->children.push_back(std::move(n));
        cur.heads.push_back(cur.node->children.back().head());
        cur.node = &cur.node->children.back();
        cur.spec = nullptr;
        return cur;
      }
      Node n;
      n.keyword = w.text;
      n.location = src_.at(w.line, w.column);
      n.spec = s;
      ++i;
      auto take = [&](std::size_t count) {
        for (std::size_t k = 0; k < count && i < words.size(); ++k, ++i) {
          n.values.push_back(words[i].text);
          n.value_locations.push_back(src_.at(words[i].line, words[i].column));
        }
      };
      switch (s->kind) {
        case SpecKind::kNamed:
        case SpecKind::kLeaf:
          if (i >= words.size()) {
            diag(Severity::kError, w, fmt::format("'{}' needs a value", w.text));
            return cur;
          }
          take(1);
          break;
        case SpecKind::kOptLeaf:
          take(1);
          break;
        case SpecKind::kLeafList:
          if (i >= words.size()) {
            diag(Severity::kError, w, fmt::format("'{}' needs a value", w.text));
            return cur;
          }
          take(words.size() - i);
          break;
        case SpecKind::kIgnored:
          take(words.size() - i);
          if (!s->note.empty()) {
            diag(Severity::kWarning, w,
                 fmt::format("'{}' in {} is not supported ({}); ignored", w.text,
                             edit_path(cur.heads), s->note));
          }
          break;
        case SpecKind::kEntry:
        case SpecKind::kContainer:
        case SpecKind::kFlag:
          break;
      }
      Node* target = merge(*cur.node, std::move(n));
      bool last = i >= words.size() || s->kind == SpecKind::kIgnored;
      if (inactive && (tag_last ? last : first)) target->inactive = true;
      first = false;
      cur.heads.push_back(target->head());
      cur.node = target;
      cur.spec = s->kind == SpecKind::kIgnored ? nullptr : s;
      if (s->kind == SpecKind::kIgnored) return cur;
    }
    return cur;
  }

  void diag(Severity sev, const Word& w, std::string msg) {
    diags_.push_back(make_diagnostic(src_, sev, w.line, w.column, std::move(msg)));
  }

 private:
  Node raw_node(const std::vector<Word>& words, std::size_t from) {
    Node n;
    n.keyword = words[from].text;
    n.location = src_.at(words[from].line, words[from].column);
    for (std::size_t k = from + 1; k < words.size(); ++k) {
      n.values.push_back(words[k].text);
      n.value_locations.push_back(src_.at(words[k].line, words[k].column));
    }
    return n;
  }

  static Node* merge(Node& parent, Node n) {
    const Spec* s = n.spec;
    for (Node& c : parent.children) {
      if (c.unknown || c.spec != s || c.keyword != n.keyword) continue;
      switch (s->kind) {
        case SpecKind::kLeaf:
        case SpecKind::kOptLeaf:
          c.values = std::move(n.values);  // later statement wins, as with `set`
          c.value_locations = std::move(n.value_locations);
          c.location = n.location;
          return &c;
        case SpecKind::kLeafList:
          for (std::size_t k = 0; k < n.values.size(); ++k) {
            if (std::find(c.values.begin(), c.values.end(), n.values[k]) == c.values.end()) {
              c.values.push_back(n.values[k]);
              c.value_locations.push_back(n.value_locations[k]);
            }
          }
          return &c;
        case SpecKind::kIgnored:
          continue;
        default:
          if (c.values == n.values) return &c;
      }
    }
    parent.children.push_back(std::move(n));
    return &parent.children.back();
  }

  const SourceFile& src_;
  std::vector<Diagnostic>& diags_;
};

// ---- hierarchical form ----------------------------------------------------------------------

struct Frame {
  Inserter::Where where;
  std::string head;  // "family inet"
  int line = 0;
  int column = 0;
  int indent = -1;  // indentation of the line that opened the block
  int child_indent = -1;
  bool uses_indent = false;  // children were indented deeper than the header
};

class HierarchicalParser {
 public:
  HierarchicalParser(const SourceFile& src, const ParseOptions& opt, Node& root,
                     std::vector<Diagnostic>& diags)
      : src_(src), opt_(opt), diags_(diags), ins_(src, diags) {
    Frame top;
    top.where = Inserter::Where{&root, &schema_root(), {}};
    stack_.push_back(std::move(top));
  }

  void run() {
    toks_ = lex(src_, diags_);
    for (const Token& t : toks_) {
      if (t.first_on_line) {
        if (line_indent_.size() <= static_cast<std::size_t>(t.line)) {
          line_indent_.resize(static_cast<std::size_t>(t.line) + 1, 0);
        }
        line_indent_[static_cast<std::size_t>(t.line)] = t.indent;
      }
    }
    while (p_ < toks_.size()) step();
    while (stack_.size() > 1) {
      const Frame& f = stack_.back();
      Severity sev = brace_severity();
      int last_line = toks_.empty() ? 1 : toks_.back().line;
      auto d = make_diagnostic(
          src_, sev, f.line, f.column,
          fmt::format("'{}' (opened at line {}) is never closed: end of file reached; missing "
                      "'}}' after line {}",
                      f.head, f.line, last_line));
      diags_.push_back(std::move(d));
      stack_.pop_back();
    }
  }

 private:
  Severity brace_severity() const { return opt_.lenient ? Severity::kWarning : Severity::kError; }
  std::string recovered() const { return opt_.lenient ? " (recovered by indentation)" : ""; }

  void note_child_indent(const Token& t) {
    Frame& f = stack_.back();
    if (stack_.size() == 1 || f.child_indent >= 0 || !t.first_on_line || t.line == f.line) return;
    f.child_indent = t.indent;
    f.uses_indent = f.child_indent > f.indent;
  }

  void step() {
    const Token& t = toks_[p_];
    switch (t.kind) {
      case TokenKind::kRBrace:
        close_brace(t);
        ++p_;
        return;
      case TokenKind::kSemicolon:
        ++p_;
        return;
      case TokenKind::kLBracket:
      case TokenKind::kRBracket:
      case TokenKind::kLBrace:
        diags_.push_back(make_diagnostic(src_, Severity::kError, t.line, t.column,
                                         fmt::format("unexpected '{}'", t.text)));
        ++p_;
        return;
      default:
        break;
    }
    // `...` alone on its line: documentation elision.
    if (t.kind == TokenKind::kWord && t.text == "..." &&
        (p_ + 1 >= toks_.size() || toks_[p_ + 1].line != t.line)) {
      if (!elision_noted_) {
        diags_.push_back(make_diagnostic(src_, Severity::kNote, t.line, t.column,
                                         "'...' marks elided configuration (as in "
                                         "documentation); skipped"));
        elision_noted_ = true;
      }
      ++p_;
      return;
    }
    statement();
  }

  void statement() {
    const Token& first = toks_[p_];
    bool inactive = false;
    while (p_ < toks_.size() && toks_[p_].kind == TokenKind::kWord && is_tag(toks_[p_].text)) {
      if (toks_[p_].text == "inactive:") inactive = true;
      ++p_;
    }
    std::vector<Word> words;
    int stmt_indent = line_indent_at(first.line);
    bool missing_semicolon = false;
    while (p_ < toks_.size()) {
      const Token& t = toks_[p_];
      if (t.kind == TokenKind::kWord || t.kind == TokenKind::kString) {
        if (!words.empty() && t.first_on_line && t.indent <= stmt_indent) {
          missing_semicolon = true;
          break;
        }
        words.push_back(Word{t.text, t.line, t.column});
        ++p_;
        continue;
      }
      if (t.kind == TokenKind::kLBracket) {
        ++p_;
        while (p_ < toks_.size() &&
               (toks_[p_].kind == TokenKind::kWord || toks_[p_].kind == TokenKind::kString)) {
          words.push_back(Word{toks_[p_].text, toks_[p_].line, toks_[p_].column});
          ++p_;
        }
        if (p_ < toks_.size() && toks_[p_].kind == TokenKind::kRBracket) {
          ++p_;
        } else {
          diags_.push_back(make_diagnostic(src_, Severity::kError, t.line, t.column,
                                           "'[' without a matching ']'"));
        }
        continue;
      }
      break;
    }
    if (words.empty()) {  // only tags
      diags_.push_back(make_diagnostic(src_, Severity::kError, first.line, first.column,
                                       "tag without a statement"));
      return;
    }
    bool block = false;
    if (missing_semicolon) {
      const Word& last = words.back();
      diags_.push_back(make_diagnostic(
          src_, brace_severity(), last.line, last.column + static_cast<int>(last.text.size()),
          fmt::format("missing ';' after '{}'{}", last.text, recovered())));
    } else if (p_ < toks_.size() && toks_[p_].kind == TokenKind::kSemicolon) {
      ++p_;
    } else if (p_ < toks_.size() && toks_[p_].kind == TokenKind::kLBrace) {
      block = true;
      ++p_;
    } else if (p_ < toks_.size() && toks_[p_].kind == TokenKind::kRBrace) {
      // Tolerated (protocols.md §4.6, as Batfish does): `rate 1 }`.
    } else {
      const Word& last = words.back();
      diags_.push_back(make_diagnostic(src_, brace_severity(), last.line,
                                       last.column + static_cast<int>(last.text.size()),
                                       fmt::format("missing ';' after '{}'", last.text)));
    }

    // Indentation check: a statement starting a line at or left of the innermost block's own
    // indentation means that block's '}' is missing.
    bool close_after = false;
    if (first.first_on_line) {
      while (stack_.size() > 1) {
        Frame& f = stack_.back();
        if (!f.uses_indent || first.indent > f.indent) break;
        const Frame& parent = stack_[stack_.size() - 2];
        // Schema hint: the statement is valid inside the open block but not in its parent, so the
        // text only lost its indentation and the '}' belongs after it.
        bool belongs_inside = !block && f.where.spec != nullptr && parent.where.spec != nullptr &&
                              f.where.spec->child(words[0].text) != nullptr &&
                              parent.where.spec->child(words[0].text) == nullptr;
        std::string msg = fmt::format(
            "'{}' (opened at line {}) is never closed: line {} is indented like '{}' itself, so "
            "its closing '}}' is probably missing {}{}",
            f.head, f.line, first.line, f.head,
            belongs_inside ? fmt::format("after line {} ('{}' belongs inside '{}', not in '{}')",
                                         first.line, words[0].text, f.head,
                                         parent.head.empty() ? "the top level" : parent.head)
                           : fmt::format("before line {}", first.line),
            recovered());
        auto d = make_diagnostic(src_, brace_severity(), first.line, first.column, msg);
        d.notes.push_back(
            make_note(src_, f.line, f.column, fmt::format("'{}' opened here", f.head)));
        diags_.push_back(std::move(d));
        if (belongs_inside) {
          close_after = true;
          break;
        }
        stack_.pop_back();
      }
    }
    note_child_indent(first);
    Inserter::Where w = ins_.insert(stack_.back().where, words, inactive);
    if (close_after) {
      stack_.pop_back();
      if (block) close_after = false;
    }
    if (block) {
      Frame f;
      f.where = w;
      std::string head;
      for (const auto& x : words) head += (head.empty() ? "" : " ") + x.text;
      f.head = head;
      f.line = first.line;
      f.column = first.column;
      f.indent = line_indent_at(first.line);
      stack_.push_back(std::move(f));
    }
  }

  void close_brace(const Token& t) {
    note_child_indent(t);
    if (stack_.size() == 1) {
      bool last = p_ + 1 == toks_.size();
      std::string msg = "unexpected '}': no block is open here";
      if (!last_closed_.empty()) {
        msg += fmt::format(" (the last block, '{}', was closed at line {})", last_closed_,
                           last_closed_line_);
      }
      if (last) msg += "; extra '}' at end of file ignored";
      diags_.push_back(make_diagnostic(src_, last ? Severity::kWarning : brace_severity(), t.line,
                                       t.column, msg));
      return;
    }
    Frame& top = stack_.back();
    if (t.first_on_line && top.uses_indent && t.indent < top.indent) {
      // The brace lines up with an outer block: every block in between lost its '}'.
      std::size_t k = stack_.size() - 1;
      while (k >= 1 && stack_[k].indent > t.indent) --k;
      if (k >= 1 && stack_[k].indent == t.indent) {
        const Frame& target = stack_[k];
        while (stack_.size() - 1 > k) {
          const Frame& f = stack_.back();
          auto d = make_diagnostic(
              src_, brace_severity(), t.line, t.column,
              fmt::format("'{}' (opened at line {}) is never closed: the '}}' on line {} is "
                          "indented like '{}' (line {}), so the '}}' for '{}' is probably "
                          "missing before line {}{}",
                          f.head, f.line, t.line, target.head, target.line, f.head, t.line,
                          recovered()));
          d.notes.push_back(
              make_note(src_, f.line, f.column, fmt::format("'{}' opened here", f.head)));
          diags_.push_back(std::move(d));
          stack_.pop_back();
        }
      }
    }
    last_closed_ = stack_.back().head;
    last_closed_line_ = t.line;
    stack_.pop_back();
  }

  int line_indent_at(int line) const {
    auto l = static_cast<std::size_t>(line);
    return l < line_indent_.size() ? line_indent_[l] : 0;
  }

  const SourceFile& src_;
  const ParseOptions& opt_;
  std::vector<Diagnostic>& diags_;
  Inserter ins_;
  std::vector<Token> toks_;
  std::vector<int> line_indent_;
  std::size_t p_ = 0;
  std::vector<Frame> stack_;
  bool elision_noted_ = false;
  std::string last_closed_;
  int last_closed_line_ = 0;
};

// ---- set form -------------------------------------------------------------------------------

// Removes the node at `words` (schema path) below `root`; false if absent.
bool remove_path(Node& root, const std::vector<Word>& words) {
  Node* cur = &root;
  const Spec* spec = &schema_root();
  Node* parent = nullptr;
  std::size_t idx = 0;
  std::size_t i = 0;
  while (i < words.size()) {
    if (spec == nullptr) return false;
    const Spec* s = spec->child(words[i].text);
    if (s == nullptr) return false;
    std::string kw = words[i].text;
    ++i;
    std::vector<std::string> values;
    if ((s->kind == SpecKind::kNamed) && i < words.size()) values.push_back(words[i++].text);
    if (s->kind == SpecKind::kLeaf || s->kind == SpecKind::kOptLeaf ||
        s->kind == SpecKind::kLeafList || s->kind == SpecKind::kIgnored) {
      i = words.size();
      values.clear();
    }
    bool found = false;
    for (std::size_t k = 0; k < cur->children.size(); ++k) {
      Node& c = cur->children[k];
      bool match = c.keyword == kw && (s->kind != SpecKind::kNamed || c.values == values);
      if (match) {
        parent = cur;
        idx = k;
        cur = &c;
        found = true;
        break;
      }
    }
    if (!found) return false;
    spec = s;
  }
  if (parent == nullptr) return false;
  parent->children.erase(parent->children.begin() + static_cast<std::ptrdiff_t>(idx));
  return true;
}

void parse_set_form(const SourceFile& src, Node& root, std::vector<Diagnostic>& diags) {
  std::vector<Token> toks = lex(src, diags);
  Inserter ins(src, diags);
  std::size_t p = 0;
  while (p < toks.size()) {
    int line = toks[p].line;
    std::vector<Word> words;
    const Token& first = toks[p];
    bool bad = false;
    for (; p < toks.size() && toks[p].line == line; ++p) {
      const Token& t = toks[p];
      if (t.kind == TokenKind::kWord || t.kind == TokenKind::kString) {
        words.push_back(Word{t.text, t.line, t.column});
      } else if (t.kind == TokenKind::kLBrace || t.kind == TokenKind::kRBrace ||
                 t.kind == TokenKind::kSemicolon) {
        if (!bad) {
          diags.push_back(make_diagnostic(src, Severity::kError, t.line, t.column,
                                          fmt::format("'{}' in a set-form configuration", t.text)));
        }
        bad = true;
      }
    }
    if (words.empty() || bad) continue;
    const std::string verb = words[0].text;
    std::vector<Word> path(words.begin() + 1, words.end());
    if (path.empty() && verb != "...") {
      diags.push_back(make_diagnostic(src, Severity::kError, first.line, first.column,
                                      fmt::format("'{}' without a path", verb)));
      continue;
    }
    Inserter::Where top{&root, &schema_root(), {}};
    if (verb == "set") {
      ins.insert(top, path, false);
    } else if (verb == "deactivate") {
      ins.insert(top, path, true, /*tag_last=*/true);
    } else if (verb == "activate") {
      Inserter::Where w = ins.insert(top, path, false);
      if (w.node != nullptr) w.node->inactive = false;
    } else if (verb == "delete") {
      if (!remove_path(root, path)) {
        ins.diag(Severity::kWarning, words[0], "'delete' of a statement that is not configured");
      }
    } else if (verb == "...") {
      continue;
    } else {
      ins.diag(Severity::kWarning, words[0],
               fmt::format("'{}' lines are not supported in set form; line ignored", verb));
    }
  }
}

}  // namespace

bool looks_like_set_form(const SourceFile& src) {
  std::vector<Diagnostic> ignored;
  std::vector<Token> toks = lex(src, ignored);
  for (const Token& t : toks) {
    if (t.kind != TokenKind::kWord) return false;
    if (t.text == "...") continue;
    return t.text == "set" || t.text == "deactivate" || t.text == "delete" || t.text == "activate";
  }
  return false;
}

void parse_config(const SourceFile& src, const ParseOptions& options, Node& root,
                  std::vector<Diagnostic>& diags) {
  bool set_form = options.form == SyntaxForm::kSet ||
                  (options.form == SyntaxForm::kAuto && looks_like_set_form(src));
  if (set_form) {
    parse_set_form(src, root, diags);
    return;
  }
  HierarchicalParser(src, options, root, diags).run();
}

}  // namespace portmirror::junos
