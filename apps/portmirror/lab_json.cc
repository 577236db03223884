// JSON reader/writer for the lab (RFC 8259). Recursive descent with a depth cap.
#include "apps/portmirror/lab_json.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>

namespace portmirror::app::lab {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Json> document() {
    auto v = value(0);
    if (!v) return v;
    skip_ws();
    if (pos_ != text_.size()) return fail("trailing characters after the JSON value");
    return v;
  }

 private:
  Unexpected<Error> fail(std::string_view what) const {
    return make_error(ExitCode::kInputUnreadable, fmt::format("JSON offset {}: {}", pos_, what));
  }

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Result<Json> value(int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    skip_ws();
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto s = string();
      if (!s) return Unexpected<Error>(s.error());
      return Json::string(std::move(*s));
    }
    if (literal("true")) return Json::boolean(true);
    if (literal("false")) return Json::boolean(false);
    if (literal("null")) return Json();
    return number();
  }

  Result<Json> number() {
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '-' ||
            text_[pos_] == '+' || text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
    }
    if (start == pos_) return fail("expected a value");
    std::string digits(text_.substr(start, pos_ - start));
    char* end = nullptr;
    double d = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) return fail("bad number");
    return Json::number(d);
  }

  Result<std::string> string() {
    ++pos_;  // opening quote
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return fail("short \\u escape");
          unsigned cp = static_cast<unsigned>(
              std::strtoul(std::string(text_.substr(pos_, 4)).c_str(), nullptr, 16));
          pos_ += 4;
          // Statistics files are ASCII; encode the BMP code point as UTF-8 anyway.
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          out.push_back(e);
          break;  // \" \\ \/
      }
    }
    return fail("unterminated string");
  }

  Result<Json> array(int depth) {
    ++pos_;
    Json a = Json::array();
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return a;
    }
    while (true) {
      auto v = value(depth + 1);
      if (!v) return v;
      a.push(std::move(*v));
      skip_ws();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return a;
      }
      return fail("expected ',' or ']'");
    }
  }

  Result<Json> object(int depth) {
    ++pos_;
    Json o = Json::object();
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return o;
    }
    while (true) {
      skip_ws();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a member name");
      auto key = string();
      if (!key) return Unexpected<Error>(key.error());
      skip_ws();
      if (pos_ >= text_.size() || text_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      auto v = value(depth + 1);
      if (!v) return v;
      o.set(std::move(*key), std::move(*v));
      skip_ws();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return o;
      }
      return fail("expected ',' or '}'");
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Json Json::boolean(bool b) {
  Json j;
  j.kind_ = Kind::kBool;
  j.bool_ = b;
  return j;
}
Json Json::number(double d) {
  Json j;
  j.kind_ = Kind::kNumber;
  j.number_ = d;
  return j;
}
Json Json::string(std::string s) {
  Json j;
  j.kind_ = Kind::kString;
  j.string_ = std::move(s);
  return j;
}
Json Json::array() {
  Json j;
  j.kind_ = Kind::kArray;
  return j;
}
Json Json::object() {
  Json j;
  j.kind_ = Kind::kObject;
  return j;
}

Result<Json> Json::parse(std::string_view text) {
  return Parser(text).document();
}

Result<Json> Json::parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ExitCode::kInputUnreadable, fmt::format("cannot open {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = parse(ss.str());
  if (!j) {
    return make_error(ExitCode::kInputUnreadable, fmt::format("{}: {}", path, j.error().message));
  }
  return j;
}

const Json* Json::find(std::string_view key) const noexcept {
  if (kind_ != Kind::kObject) return nullptr;
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<std::uint64_t> Json::u64(std::string_view key) const noexcept {
  const Json* v = find(key);
  if (v == nullptr || !v->is_number() || v->number_ < 0) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(v->number_));
}

Json& Json::set(std::string key, Json value) {
  kind_ = Kind::kObject;
  for (auto& [k, v] : members_) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

Json& Json::push(Json value) {
  kind_ = Kind::kArray;
  items_.push_back(std::move(value));
  return items_.back();
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

void Json::dump_to(std::string& out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent <= 0) return;
    out.push_back('\n');
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  switch (kind_) {
    case Kind::kNull:
      out += "null";
      break;
    case Kind::kBool:
      out += bool_ ? "true" : "false";
      break;
    case Kind::kNumber:
      if (std::nearbyint(number_) == number_ && std::fabs(number_) < 9.0e15) {
        out += fmt::format("{}", static_cast<long long>(number_));
      } else {
        out += fmt::format("{}", number_);
      }
      break;
    case Kind::kString:
      out.push_back('"');
      out += json_escape(string_);
      out.push_back('"');
      break;
    case Kind::kArray: {
      // Arrays of scalars stay on one line (sequence lists are long and read better that way).
      bool flat = true;
      for (const auto& i : items_)
        flat = flat && i.kind_ != Kind::kArray && i.kind_ != Kind::kObject;
      out.push_back('[');
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out += flat ? ", " : ",";
        if (!flat) newline(depth + 1);
        items_[i].dump_to(out, indent, depth + 1);
      }
      if (!flat && !items_.empty()) newline(depth);
      out.push_back(']');
      break;
    }
    case Kind::kObject:
      out.push_back('{');
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out.push_back(',');
        newline(depth + 1);
        out.push_back('"');
        out += json_escape(members_[i].first);
        out += indent > 0 ? "\": " : "\":";
        members_[i].second.dump_to(out, indent, depth + 1);
      }
      if (!members_.empty()) newline(depth);
      out.push_back('}');
      break;
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

namespace {
bool has_all(const Json& j, const std::vector<std::string_view>& keys) {
  if (!j.is_object()) return false;
  for (auto k : keys) {
    if (j.find(k) == nullptr) return false;
  }
  return true;
}
}  // namespace

const Json* find_object_with(const Json& root, const std::vector<std::string_view>& keys) {
  std::deque<const Json*> queue{&root};
  while (!queue.empty()) {
    const Json* j = queue.front();
    queue.pop_front();
    if (has_all(*j, keys)) return j;
    if (j->is_object()) {
      for (const auto& m : j->members()) queue.push_back(&m.second);
    } else if (j->is_array()) {
      for (const auto& i : j->items()) queue.push_back(&i);
    }
  }
  return nullptr;
}

std::vector<const Json*> find_objects_with(const Json& root,
                                           const std::vector<std::string_view>& keys) {
  std::vector<const Json*> out;
  std::vector<const Json*> stack{&root};
  while (!stack.empty()) {
    const Json* j = stack.back();
    stack.pop_back();
    if (has_all(*j, keys)) out.push_back(j);
    if (j->is_object()) {
      for (auto it = j->members().rbegin(); it != j->members().rend(); ++it) {
        stack.push_back(&it->second);
      }
    } else if (j->is_array()) {
      for (auto it = j->items().rbegin(); it != j->items().rend(); ++it) stack.push_back(&*it);
    }
  }
  return out;
}

}  // namespace portmirror::app::lab
