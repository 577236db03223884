#include "portmirror/junos/lexer.h"

#include <fmt/core.h>

#include <utility>

namespace portmirror::junos {

SourceFile::SourceFile(std::string file_name, std::string contents)
    : name(std::move(file_name)), text(std::move(contents)) {
  std::string_view all(text);
  std::size_t start = 0;
  while (start <= all.size()) {
    std::size_t nl = all.find('\n', start);
    if (nl == std::string_view::npos) {
      if (start < all.size()) lines.push_back(all.substr(start));
      break;
    }
    std::string_view l = all.substr(start, nl - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    start = nl + 1;
  }
}

std::string SourceFile::line_text(int line) const {
  if (line < 1 || static_cast<std::size_t>(line) > lines.size()) return {};
  return std::string(lines[static_cast<std::size_t>(line - 1)]);
}

Diagnostic make_diagnostic(const SourceFile& src, Severity severity, int line, int column,
                           std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.location = src.at(line, column);
  d.message = std::move(message);
  d.source_line = src.line_text(line);
  return d;
}

std::string make_note(const SourceFile& src, int line, int column, const std::string& message) {
  Diagnostic d = make_diagnostic(src, Severity::kNote, line, column, message);
  return format_diagnostics({d});
}

const SourceFile* SourceSet::find(const std::string& name) const {
  for (const auto& f : files) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

Diagnostic SourceSet::diagnostic(Severity severity, const SourceLocation& at,
                                 std::string message) const {
  if (const SourceFile* f = find(at.file)) {
    return make_diagnostic(*f, severity, at.line, at.column, std::move(message));
  }
  Diagnostic d;
  d.severity = severity;
  d.location = at;
  d.message = std::move(message);
  return d;
}

std::string SourceSet::note(const SourceLocation& at, const std::string& message) const {
  return format_diagnostics({diagnostic(Severity::kNote, at, message)});
}

namespace {

bool is_word_char(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
    case ';':
    case '{':
    case '}':
    case '[':
    case ']':
    case '"':
    case '#':
    case '(':
    case ')':
      return false;
    default:
      return true;
  }
}

}  // namespace

std::vector<Token> lex(const SourceFile& src, std::vector<Diagnostic>& diags) {
  std::vector<Token> out;
  const std::string& t = src.text;
  std::size_t i = 0;
  int line = 1;
  std::size_t line_start = 0;
  int last_token_line = 0;
  auto column_of = [&](std::size_t pos) { return static_cast<int>(pos - line_start) + 1; };
  auto indent_of = [&](std::size_t pos) {
    int v = 0;
    for (std::size_t k = line_start; k < pos; ++k) v = (t[k] == '\t') ? (v / 8 + 1) * 8 : v + 1;
    return v;
  };
  auto push = [&](TokenKind kind, std::string text, std::size_t pos) {
    Token tok;
    tok.kind = kind;
    tok.text = std::move(text);
    tok.line = line;
    tok.column = column_of(pos);
    tok.first_on_line = last_token_line != line;
    // Only a line's first token needs the visual indentation (tabs expanded); computing it for
    // every token would be quadratic in the line length.
    tok.indent = tok.first_on_line ? indent_of(pos) : static_cast<int>(pos - line_start);
    last_token_line = line;
    out.push_back(std::move(tok));
  };
  while (i < t.size()) {
    char c = t[i];
    if (c == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < t.size() && t[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
      int open_line = line;
      int open_col = column_of(i);
      i += 2;
      bool closed = false;
      while (i < t.size()) {
        if (t[i] == '*' && i + 1 < t.size() && t[i + 1] == '/') {
          i += 2;
          closed = true;
          break;
        }
        if (t[i] == '\n') {
          ++line;
          line_start = i + 1;
        }
        ++i;
      }
      if (!closed) {
        diags.push_back(make_diagnostic(src, Severity::kError, open_line, open_col,
                                        "unterminated '/*' comment"));
        return out;
      }
      continue;
    }
    std::size_t start = i;
    switch (c) {
      case '{':
        push(TokenKind::kLBrace, "{", start);
        ++i;
        continue;
      case '}':
        push(TokenKind::kRBrace, "}", start);
        ++i;
        continue;
      case '[':
        push(TokenKind::kLBracket, "[", start);
        ++i;
        continue;
      case ']':
        push(TokenKind::kRBracket, "]", start);
        ++i;
        continue;
      case ';':
        push(TokenKind::kSemicolon, ";", start);
        ++i;
        continue;
      default:
        break;
    }
    if (c == '"') {
      std::string value;
      int open_line = line;
      std::size_t open_line_start = line_start;
      ++i;
      bool closed = false;
      while (i < t.size()) {
        char d = t[i];
        if (d == '\\' && i + 1 < t.size()) {
          value.push_back(t[i + 1]);
          if (t[i + 1] == '\n') {
            ++line;
            line_start = i + 2;
          }
          i += 2;
          continue;
        }
        if (d == '"') {
          ++i;
          closed = true;
          break;
        }
        if (d == '\n') {
          ++line;
          line_start = i + 1;
        }
        value.push_back(d);
        ++i;
      }
      // The token belongs to the line where the string opened.
      int cur_line = line;
      std::size_t cur_start = line_start;
      line = open_line;
      line_start = open_line_start;
      if (!closed) {
        diags.push_back(make_diagnostic(src, Severity::kError, open_line, column_of(start),
                                        "unterminated quoted string"));
        return out;
      }
      push(TokenKind::kString, std::move(value), start);
      line = cur_line;
      line_start = cur_start;
      continue;
    }
    if (c == '(') {
      // Policy/bit-field expressions: one word up to the matching ')' on the same line.
      int depth = 0;
      while (i < t.size() && t[i] != '\n') {
        if (t[i] == '(') ++depth;
        if (t[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
        ++i;
      }
      push(TokenKind::kWord, t.substr(start, i - start), start);
      continue;
    }
    if (c == ')') {
      push(TokenKind::kWord, ")", start);
      ++i;
      continue;
    }
    while (i < t.size() && is_word_char(t[i])) ++i;
    push(TokenKind::kWord, t.substr(start, i - start), start);
  }
  return out;
}

}  // namespace portmirror::junos
