// `portmirror lab`: options and the run itself (topology, children, traffic, report).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace portmirror::app::lab {

struct LabOptions {
  std::uint32_t count = 40;  // packets to generate (ignored with duration)
  double duration = 0;       // seconds; 0 = use count
  double pps = 50;           // generated packets per second
  std::optional<std::uint32_t> rate;
  std::optional<std::uint32_t> run_length;
  std::string config;  // "" = the embedded corrected seed configuration
  bool keep = false;
  std::string cleanup_tag;  // --cleanup TAG
  std::string workdir;      // "" = a new /tmp/portmirror-lab-XXXXXX
  std::string report_json;
  bool quiet = false;  // do not echo the collector's live lines
};

int run_lab(const LabOptions& options);

}  // namespace portmirror::app::lab
