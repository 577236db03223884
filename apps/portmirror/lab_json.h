// A small JSON reader and writer for `portmirror lab`: it reads the --stats-json files that
// `mirror` and `capture` write and writes its own --report-json. RFC 8259, control path only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portmirror/base/error.h"

namespace portmirror::app::lab {

class Json {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;
  static Json boolean(bool b);
  static Json number(double d);
  static Json string(std::string s);
  static Json array();
  static Json object();

  // Parses a complete document (trailing whitespace allowed).
  static Result<Json> parse(std::string_view text);
  static Result<Json> parse_file(const std::string& path);

  Kind kind() const noexcept { return kind_; }
  bool is_object() const noexcept { return kind_ == Kind::kObject; }
  bool is_array() const noexcept { return kind_ == Kind::kArray; }
  bool is_number() const noexcept { return kind_ == Kind::kNumber; }
  bool is_string() const noexcept { return kind_ == Kind::kString; }
  double as_number() const noexcept { return number_; }
  bool as_bool() const noexcept { return bool_; }
  const std::string& as_string() const noexcept { return string_; }
  const std::vector<Json>& items() const noexcept { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const noexcept { return members_; }

  // Object member lookup; nullptr when absent or not an object.
  const Json* find(std::string_view key) const noexcept;
  // Unsigned integer member (numbers only); nullopt when absent.
  std::optional<std::uint64_t> u64(std::string_view key) const noexcept;

  // Builders (objects keep insertion order).
  Json& set(std::string key, Json value);
  Json& push(Json value);

  std::string dump(int indent = 2) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Breadth-first search for the first object (the root included) that has every key in `keys`:
// statistics files nest their totals at different depths, and the shallowest match is the total.
const Json* find_object_with(const Json& root, const std::vector<std::string_view>& keys);

// Every object, at any depth, that has every key in `keys` (document order).
std::vector<const Json*> find_objects_with(const Json& root,
                                           const std::vector<std::string_view>& keys);

std::string json_escape(std::string_view s);

}  // namespace portmirror::app::lab
