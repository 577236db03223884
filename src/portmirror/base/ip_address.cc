#include "portmirror/base/ip_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace portmirror {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::uint8_t raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) return v4(ByteSpan(raw, 4));
  if (inet_pton(AF_INET6, buf, raw) == 1) return v6(ByteSpan(raw, 16));
  return std::nullopt;
}

std::size_t IpAddress::format_to(char* out, std::size_t cap) const noexcept {
  if (empty() || cap < 46) {
    if (cap > 0) out[0] = '\0';
    return 0;
  }
  const char* r =
      inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), out, static_cast<socklen_t>(cap));
  return r ? std::strlen(out) : 0;
}

std::string IpAddress::to_string() const {
  char buf[64];
  std::size_t n = format_to(buf, sizeof buf);
  return std::string(buf, n);
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  int max = addr->is_v4() ? 32 : 128;
  int len = max;
  if (slash != std::string_view::npos) {
    auto tail = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), len);
    if (ec != std::errc() || p != tail.data() + tail.size() || len < 0 || len > max) {
      return std::nullopt;
    }
  }
  return IpPrefix{*addr, len};
}

bool IpPrefix::contains(const IpAddress& a) const noexcept {
  if (a.family() != address.family()) return false;
  ByteSpan x = a.bytes();
  ByteSpan p = address.bytes();
  int full = length / 8;
  for (int i = 0; i < full; ++i) {
    if (x[static_cast<std::size_t>(i)] != p[static_cast<std::size_t>(i)]) return false;
  }
  int rem = length % 8;
  if (rem == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF00u >> rem);
  auto i = static_cast<std::size_t>(full);
  return (x[i] & mask) == (p[i] & mask);
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace portmirror
