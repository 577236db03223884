// Tokenizer for Junos configuration text (protocols.md §4.6): words, quoted strings, braces,
// brackets, semicolons; `#` and `/* */` comments are dropped. Every token keeps its line, column
// and indentation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portmirror/junos/load.h"

namespace portmirror::junos {

enum class TokenKind : std::uint8_t {
  kWord,       // bare word, including `(...)` groups
  kString,     // "quoted" (text holds the unescaped value)
  kLBrace,     // {
  kRBrace,     // }
  kLBracket,   // [
  kRBracket,   // ]
  kSemicolon,  // ;
};

struct Token {
  TokenKind kind = TokenKind::kWord;
  std::string text;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in characters
  int indent = 0;  // 0-based visual column (tabs to multiples of 8) when first_on_line
  bool first_on_line = false;
};

// The text of one configuration file split into lines, for diagnostics with a caret.
struct SourceFile {
  std::string name;
  std::string text;
  std::vector<std::string_view> lines;  // views into text, without '\n'
  explicit SourceFile(std::string file_name, std::string contents);
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;
  std::string line_text(int line) const;
  SourceLocation at(int line, int column) const { return SourceLocation{name, line, column}; }
};

// Every file of one configuration, looked up by name for diagnostics raised after parsing.
struct SourceSet {
  std::vector<std::unique_ptr<SourceFile>> files;
  const SourceFile* find(const std::string& name) const;
  Diagnostic diagnostic(Severity severity, const SourceLocation& at, std::string message) const;
  std::string note(const SourceLocation& at, const std::string& message) const;
};

// Builds a diagnostic at (line, column) of `src`, filling the source line for the caret.
Diagnostic make_diagnostic(const SourceFile& src, Severity severity, int line, int column,
                           std::string message);
// "file:line:col: note: message" plus the line and a caret, for Diagnostic::notes.
std::string make_note(const SourceFile& src, int line, int column, const std::string& message);

// Lexes the whole file. Unterminated strings and comments are reported as errors (the token stream
// then ends at that point).
std::vector<Token> lex(const SourceFile& src, std::vector<Diagnostic>& diags);

}  // namespace portmirror::junos
