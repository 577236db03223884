// Final statistics of a collector run: tcpdump-style lines for stderr and the --stats-json object.
// Both read the same counter tables (pipeline, decapsulator, sessions); `capture` adds its own
// (kernel/ring drops) through `extra`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/io/pipeline.h"

namespace portmirror::io {

struct StatsExtra {
  std::vector<std::pair<std::string, std::uint64_t>> counters;  // top-level JSON numbers + a line
  std::vector<std::string> warnings;                            // printed and listed in JSON
  std::vector<std::string> inputs;                              // input names, for JSON
  std::vector<std::string> outputs;                             // files written, for JSON
};

// "N frames read, M tunnelled, K inner packets written" and the following lines, each ending in
// '\n'. At most `max_session_lines` sessions are listed (the rest summarised).
std::string stats_text(const Pipeline& p, const StatsExtra& extra = {},
                       std::size_t max_session_lines = 32);
std::string stats_json(const Pipeline& p, const StatsExtra& extra = {});
// Writes stats_json() to `path` ("-" = stdout). Errors: kOutputUnwritable.
Result<void> write_stats_json(const std::string& path, const Pipeline& p,
                              const StatsExtra& extra = {});

// "2026-11-27T18:21:48.123456789Z"
std::string format_timestamp(TimestampNs ts);
// JSON string literal with escaping.
std::string json_string(std::string_view s);
// Whether a decapsulator counter is informational (does not mean a packet was lost).
bool is_informational(collector::DecapCounter c, bool strict) noexcept;

}  // namespace portmirror::io
