// An IPv4 or IPv6 address held by value (17 bytes), comparable and hashable, for session keys.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "portmirror/base/bytes.h"

namespace portmirror {

class IpAddress {
 public:
  enum class Family : std::uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

  constexpr IpAddress() = default;
  static IpAddress v4(ByteSpan four) noexcept {
    IpAddress a;
    a.family_ = Family::kV4;
    std::memcpy(a.bytes_.data(), four.data(), 4);
    return a;
  }
  static IpAddress v4(std::uint32_t host_order) noexcept {
    IpAddress a;
    a.family_ = Family::kV4;
    store_be32(a.bytes_, 0, host_order);
    return a;
  }
  static IpAddress v6(ByteSpan sixteen) noexcept {
    IpAddress a;
    a.family_ = Family::kV6;
    std::memcpy(a.bytes_.data(), sixteen.data(), 16);
    return a;
  }
  // Parses dotted quad or RFC 4291 text; nullopt on anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::kV4; }
  bool is_v6() const noexcept { return family_ == Family::kV6; }
  bool empty() const noexcept { return family_ == Family::kNone; }
  std::uint32_t v4_host_order() const noexcept { return load_be32(bytes_, 0); }
  // 4 or 16 bytes in network order.
  ByteSpan bytes() const noexcept {
    return ByteSpan(bytes_.data(), is_v4() ? 4u : (is_v6() ? 16u : 0u));
  }
  std::string to_string() const;
  // Writes the text form into `out` (at least 46 bytes); returns its length. No allocation.
  std::size_t format_to(char* out, std::size_t cap) const noexcept;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::kNone;
  std::array<std::uint8_t, 16> bytes_{};
};

// An address prefix (CIDR), e.g. for --allow and filter terms.
struct IpPrefix {
  IpAddress address;
  int length = 0;  // bits
  static std::optional<IpPrefix> parse(
      std::string_view text);  // "a.b.c.d/n", "x::/n", bare address
  bool contains(const IpAddress& a) const noexcept;
  std::string to_string() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace portmirror
