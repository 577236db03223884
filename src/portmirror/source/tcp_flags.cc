#include "portmirror/source/tcp_flags.h"

#include <cctype>
#include <charconv>
#include <string>

namespace portmirror::source {
namespace {

using Table = std::array<std::uint64_t, 4>;

Table table_for_bits(std::uint8_t bits) {
  Table t{};
  for (unsigned f = 0; f < 256; ++f) {
    if ((f & bits) == bits) t[f >> 6] |= std::uint64_t{1} << (f & 63);
  }
  return t;
}

struct FlagName {
  std::string_view name;
  std::uint8_t bit;
};
constexpr FlagName kFlagNames[] = {
    {"fin", 0x01}, {"syn", 0x02},    {"rst", 0x04}, {"push", 0x08}, {"psh", 0x08},
    {"ack", 0x10}, {"urgent", 0x20}, {"urg", 0x20}, {"ece", 0x40},  {"cwr", 0x80},
};

// Recursive descent over: or := and (('|'|',') and)* ; and := unary (('&'|'+') unary)* ;
// unary := '!' unary | '(' or ')' | name
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<Table> parse() {
    auto t = parse_or(0);
    if (!t) return t;
    skip_ws();
    if (pos_ != s_.size()) return fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    return t;
  }

 private:
  static constexpr int kMaxDepth = 32;

  Unexpected<Error> fail(const std::string& what) const {
    return make_error(ExitCode::kBadFilter, "tcp-flags \"" + std::string(s_) + "\": " + what +
                                                " at column " + std::to_string(pos_ + 1));
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  Result<Table> parse_or(int depth) {
    auto l = parse_and(depth);
    if (!l) return l;
    Table t = *l;
    for (;;) {
      skip_ws();
      if (pos_ < s_.size() && (s_[pos_] == '|' || s_[pos_] == ',')) {
        ++pos_;
        auto r = parse_and(depth);
        if (!r) return r;
        for (std::size_t i = 0; i < 4; ++i) t[i] |= (*r)[i];
      } else {
        return t;
      }
    }
  }
  Result<Table> parse_and(int depth) {
    auto l = parse_unary(depth);
    if (!l) return l;
    Table t = *l;
    for (;;) {
      skip_ws();
      if (pos_ < s_.size() && (s_[pos_] == '&' || s_[pos_] == '+')) {
        ++pos_;
        auto r = parse_unary(depth);
        if (!r) return r;
        for (std::size_t i = 0; i < 4; ++i) t[i] &= (*r)[i];
      } else {
        return t;
      }
    }
  }
  Result<Table> parse_unary(int depth) {
    if (depth > kMaxDepth) return fail("expression nested too deeply");
    skip_ws();
    if (pos_ >= s_.size()) return fail("expected a flag name");
    const char c = s_[pos_];
    if (c == '!') {
      ++pos_;
      auto t = parse_unary(depth + 1);
      if (!t) return t;
      for (auto& w : *t) w = ~w;
      return t;
    }
    if (c == '(') {
      ++pos_;
      auto t = parse_or(depth + 1);
      if (!t) return t;
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ')') return fail("expected ')'");
      ++pos_;
      return t;
    }
    const std::size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-'))
      ++pos_;
    const std::string_view word = s_.substr(start, pos_ - start);
    if (word.empty()) return fail("expected a flag name");
    for (const auto& f : kFlagNames) {
      if (word == f.name) return table_for_bits(f.bit);
    }
    unsigned v = 0;
    std::from_chars_result r{};
    if (word.size() > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
      r = std::from_chars(word.data() + 2, word.data() + word.size(), v, 16);
    } else {
      r = std::from_chars(word.data(), word.data() + word.size(), v, 10);
    }
    if (r.ec == std::errc() && r.ptr == word.data() + word.size() && v <= 0xFF) {
      return table_for_bits(static_cast<std::uint8_t>(v));
    }
    pos_ = start;
    return fail("unknown flag '" + std::string(word) +
                "' (fin syn rst push ack urgent ece cwr, or a number 0-255)");
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

TcpFlagsMatch TcpFlagsMatch::any() noexcept {
  TcpFlagsMatch m;
  m.table_.fill(~std::uint64_t{0});
  return m;
}

Result<TcpFlagsMatch> TcpFlagsMatch::compile(std::string_view expr) {
  auto t = Parser(expr).parse();
  if (!t) return Unexpected<Error>(t.error());
  TcpFlagsMatch m;
  m.table_ = *t;
  return m;
}

TcpFlagsMatch TcpFlagsMatch::established() noexcept {
  return compile("ack | rst").value();
}
TcpFlagsMatch TcpFlagsMatch::initial() noexcept {
  return compile("syn & !ack").value();
}

}  // namespace portmirror::source
