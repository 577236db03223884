// Junos `tcp-flags` bit-field expressions compiled to a 256-entry truth table (protocols.md §4.5):
//   names   fin 0x01  syn 0x02  rst 0x04  push 0x08  ack 0x10  urgent 0x20  (also ece 0x40, cwr
//   0x80,
//           and 0xNN / decimal literals meaning "all these bits set")
//   ops     ( )  then  !  then  & or +  then  | or ,   (left-associative)
// `syn & !ack` matches a segment whose SYN bit is set and ACK bit clear. Matching is one table
// lookup.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "portmirror/base/error.h"

namespace portmirror::source {

class TcpFlagsMatch {
 public:
  // Matches every flag combination (no condition).
  static TcpFlagsMatch any() noexcept;
  // Compiles `expr`; errors name the column of the offending token.
  static Result<TcpFlagsMatch> compile(std::string_view expr);
  // Junos aliases: tcp-established = "(ack | rst)", tcp-initial = "(syn & !ack)".
  static TcpFlagsMatch established() noexcept;
  static TcpFlagsMatch initial() noexcept;

  bool matches(std::uint8_t flags) const noexcept {
    return ((table_[flags >> 6] >> (flags & 63)) & 1u) != 0;
  }
  TcpFlagsMatch operator&(const TcpFlagsMatch& o) const noexcept {
    TcpFlagsMatch r;
    for (std::size_t i = 0; i < 4; ++i) r.table_[i] = table_[i] & o.table_[i];
    return r;
  }
  friend bool operator==(const TcpFlagsMatch&, const TcpFlagsMatch&) = default;

 private:
  std::array<std::uint64_t, 4> table_{};
};

}  // namespace portmirror::source
