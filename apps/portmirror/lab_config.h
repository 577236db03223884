// The configuration `portmirror lab` runs by default: the seed's four Junos snippets
// (../shared/seed/router-*.conf), corrected and combined into one router configuration.
#pragma once

#include <cstdint>
#include <string>

namespace portmirror::app::lab {

// The corrected seed configuration with the given sampling values substituted into
// `forwarding-options port-mirroring family inet input` (the seed uses rate 1, run-length 1).
std::string default_router_config(std::uint32_t rate, std::uint32_t run_length);

// What was corrected, one line per change, for the report and docs/lab.md.
const char* default_config_corrections();

}  // namespace portmirror::app::lab
