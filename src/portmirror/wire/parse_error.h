// Errors a header view reports from parse(): the data path counts them, never throws (style.md §5).
#pragma once

#include <cstdint>
#include <string_view>

namespace portmirror::wire {

enum class ParseError : std::uint8_t {
  kTruncated,    // the bytes end before the header does (capture cut short)
  kMalformed,    // self-contradictory lengths, or reserved bits set in strict mode
  kUnsupported,  // valid but not handled (e.g. GRE routing, unknown version)
  kTooDeep,      // more nested layers than the cap
};

constexpr std::string_view parse_error_name(ParseError e) noexcept {
  switch (e) {
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kMalformed:
      return "malformed";
    case ParseError::kUnsupported:
      return "unsupported";
    case ParseError::kTooDeep:
      return "too_deep";
  }
  return "unknown";
}

}  // namespace portmirror::wire
