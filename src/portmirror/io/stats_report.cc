#include "portmirror/io/stats_report.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "portmirror/io/pcapng_writer.h"

namespace portmirror::io {
namespace {

using collector::DecapCounter;

std::string session_label(const collector::Session& s) {
  std::string l = fmt::format("{} {} > {}", encap_name(s.key.encap), s.key.sender.to_string(),
                              s.key.receiver.to_string());
  if (s.key.has_id) l += fmt::format(" id {}", s.key.id);
  return l;
}

}  // namespace

bool is_informational(DecapCounter c, bool strict) noexcept {
  if (c == DecapCounter::kGreBadChecksum) return !strict;  // delivered unless strict
  // The walk marks counters that drop nothing in their help text.
  std::string_view help = counter_helps(DecapCounter{})[static_cast<std::size_t>(c)];
  return help.find("(info)") != std::string_view::npos ||
         help.find("not a drop") != std::string_view::npos;
}

std::string format_timestamp(TimestampNs ts) {
  if (ts <= 0) return "";
  std::time_t t = static_cast<std::time_t>(ts / kNsPerSec);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09d}Z", buf, ts % kNsPerSec);
}

std::string json_string(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\r':
        o += "\\r";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          o += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          o.push_back(c);
        }
    }
  }
  o.push_back('"');
  return o;
}

std::string stats_text(const Pipeline& p, const StatsExtra& extra, std::size_t max_session_lines) {
  auto n = [&](PipelineCounter c) { return p.count(c); };
  std::string out = fmt::format("{} frames read, {} tunnelled, {} inner packets written\n",
                                n(PipelineCounter::kFramesRead), n(PipelineCounter::kTunnelled),
                                n(PipelineCounter::kInnerWritten));
  std::string more;
  auto add = [&](std::uint64_t v, std::string_view what) {
    if (v == 0) return;
    if (!more.empty()) more += ", ";
    more += fmt::format("{} {}", v, what);
  };
  std::uint64_t untun = n(PipelineCounter::kUntunnelled);
  if (p.options().keep_untunnelled) {
    add(n(PipelineCounter::kUntunnelledWritten), "untunnelled frames kept");
    add(n(PipelineCounter::kUntunnelledUnkeepable), "untunnelled frames of a link type not kept");
  } else {
    add(untun, "untunnelled frames dropped");
  }
  add(n(PipelineCounter::kFilteredOut), "filtered out");
  add(n(PipelineCounter::kDuplicatesSuppressed), "duplicates suppressed");
  add(n(PipelineCounter::kKeepalives), "keepalives");
  add(n(PipelineCounter::kSessionOverflow), "dropped (session table full)");
  add(n(PipelineCounter::kErspanTimestamps), "ERSPAN III timestamps used");
  add(n(PipelineCounter::kErspanTimestampFallback), "ERSPAN III timestamps not usable");
  add(n(PipelineCounter::kOutputSkipped), "not written (output link type)");
  for (const auto& [k, v] : extra.counters) add(v, k);
  if (!more.empty()) out += more + "\n";

  bool strict = p.decapsulator().options().strict;
  const auto& dc = p.decapsulator().counters();
  std::string rejected, info;
  for (std::size_t i = 0; i < dc.kSize; ++i) {
    if (dc.at(i) == 0) continue;
    std::string& dst = is_informational(static_cast<DecapCounter>(i), strict) ? info : rejected;
    if (!dst.empty()) dst += ", ";
    dst += fmt::format("{} {}", dc.name(i), dc.at(i));
  }
  if (!rejected.empty()) out += "rejected: " + rejected + "\n";
  if (!info.empty()) out += "noted: " + info + "\n";

  const auto& ss = p.sessions().sessions();
  std::size_t shown = 0;
  for (const auto& s : ss) {
    if (shown == max_session_lines) {
      out += fmt::format("... and {} more sessions (see --stats-json)\n", ss.size() - shown);
      break;
    }
    ++shown;
    const auto& q = s.seq.stats();
    std::string line =
        fmt::format("session {}: {} packets, {} bytes", session_label(s), s.packets, s.bytes);
    if (q.with_seq != 0) {
      line += fmt::format(", seq lost {}, duplicate {}, reordered {}, restarts {}", q.lost,
                          q.duplicate, q.reordered, q.restarts);
      if (q.out_of_window != 0) line += fmt::format(", out of window {}", q.out_of_window);
    }
    if (s.keepalives != 0) line += fmt::format(", {} keepalives", s.keepalives);
    out += line + "\n";
  }
  if (p.sessions().overflow() != 0) {
    out += fmt::format("session table full: {} packets of new sessions dropped\n",
                       p.sessions().overflow());
  }
  for (const auto& w : extra.warnings) out += "warning: " + w + "\n";
  return out;
}

std::string stats_json(const Pipeline& p, const StatsExtra& extra) {
  std::string o = "{\n";
  const auto& pc = p.counters();
  for (std::size_t i = 0; i < pc.kSize; ++i) {
    o += fmt::format("  \"{}\": {},\n", pc.name(i), pc.at(i));
  }
  for (const auto& [k, v] : extra.counters) o += fmt::format("  {}: {},\n", json_string(k), v);
  o += "  \"errors\": {";
  const auto& dc = p.decapsulator().counters();
  bool first = true;
  for (std::size_t i = 0; i < dc.kSize; ++i) {
    if (dc.at(i) == 0) continue;
    o += fmt::format("{}\n    \"{}\": {}", first ? "" : ",", dc.name(i), dc.at(i));
    first = false;
  }
  o += first ? "},\n" : "\n  },\n";
  auto list = [&](const char* name, const std::vector<std::string>& v) {
    o += fmt::format("  \"{}\": [", name);
    for (std::size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + json_string(v[i]);
    o += "],\n";
  };
  list("inputs", extra.inputs);
  list("outputs", extra.outputs);
  list("warnings", extra.warnings);
  o += fmt::format("  \"session_overflow_packets\": {},\n", p.sessions().overflow());
  o += "  \"sessions\": [";
  const auto& ss = p.sessions().sessions();
  for (std::size_t i = 0; i < ss.size(); ++i) {
    const auto& s = ss[i];
    const auto& q = s.seq.stats();
    o += fmt::format(
        "{}\n    {{\"sender\": {}, \"receiver\": {}, \"encap\": \"{}\", \"id\": {}, "
        "\"interface\": {}, \"packets\": {}, \"bytes\": {}, \"keepalives\": {}, "
        "\"duplicates_suppressed\": {}, \"seq_packets\": {}, \"seq_lost\": {}, "
        "\"seq_duplicate\": {}, \"seq_reordered\": {}, \"seq_restarts\": {}, "
        "\"seq_out_of_window\": {}, \"first_seen\": {}, \"last_seen\": {}, \"first_seen_ns\": {}, "
        "\"last_seen_ns\": {}}}",
        i ? "," : "", json_string(s.key.sender.to_string()),
        json_string(s.key.receiver.to_string()), encap_name(s.key.encap),
        s.key.has_id ? std::to_string(s.key.id) : "null", json_string(interface_name(s)), s.packets,
        s.bytes, s.keepalives, s.duplicates_suppressed, q.with_seq, q.lost, q.duplicate,
        q.reordered, q.restarts, q.out_of_window, json_string(format_timestamp(s.first_seen)),
        json_string(format_timestamp(s.last_seen)), s.first_seen, s.last_seen);
  }
  o += ss.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return o;
}

Result<void> write_stats_json(const std::string& path, const Pipeline& p, const StatsExtra& extra) {
  std::string text = stats_json(p, extra);
  FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return make_error(ExitCode::kOutputUnwritable,
                      fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (path == "-" ? std::fflush(f) == 0 : std::fclose(f) == 0) && ok;
  if (!ok) {
    return make_error(ExitCode::kOutputUnwritable,
                      fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return {};
}

}  // namespace portmirror::io
