// The flags `capture` and `decap` share (output format and link type, split and rotation, tunnel
// decoding, statistics), declared once so that their names, types, help and meaning cannot drift
// between the two commands. docs/output.md describes what they do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/io/pipeline.h"
#include "portmirror/io/sink.h"

namespace CLI {
class App;
}

namespace portmirror::app {

// UDP ports per encapsulation: a command's defaults, or what a run uses.
struct UdpPorts {
  std::vector<std::uint16_t> vxlan;
  std::vector<std::uint16_t> geneve;
  std::vector<std::uint16_t> tzsp;
};

struct SinkFlags {
  std::string format;  // empty: pcapng, but pcap for "-w -"
  std::string linktype = "ethernet";
  std::string split_by = "none";
  std::string split_pattern;
  std::string rotate_size;  // -C, as typed (parse_rotate_size)
  std::uint32_t rotate_seconds = 0;
  std::uint32_t ring_files = 0;
  bool flush_each = false;  // -U
  std::string depth = "1";
  bool strict = false;
  bool dedup = false;
  std::string timestamps = "capture";
  UdpPorts ports;  // --vxlan-port ... as given (added to the defaults)
  bool no_default_ports = false;
  std::string stats_json;
};

/// Declares the shared flags on `app`; `defaults` are the command's own UDP ports, named in the
/// help. `flags` must outlive the parse.
void add_sink_options(CLI::App* app, SinkFlags& flags, const UdpPorts& defaults);

/// -C SIZE: millions of bytes as tcpdump (a fraction is allowed: 0.5 = 500,000 bytes), or with a
/// k/m/g suffix KiB/MiB/GiB. Empty when not a positive size.
std::optional<std::uint64_t> parse_rotate_size(std::string_view text);

/// The ports a run uses: the defaults plus every port given (each once, in that order), or only the
/// given ones with --no-default-ports.
UdpPorts effective_ports(const SinkFlags& flags, const UdpPorts& defaults);

/// The writer chain for output `path` ("-" = standard output). kUsage errors name the flag.
Result<io::SinkOptions> to_sink_options(const SinkFlags& flags, const std::string& path);

/// Decapsulation and session options (--depth, --strict, --dedup, --timestamps, `ports`) into `po`.
Result<void> apply_pipeline_options(const SinkFlags& flags, const UdpPorts& ports,
                                    io::PipelineOptions& po);

}  // namespace portmirror::app
