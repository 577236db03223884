// What the collector should receive: the lab's own reading of the configuration (filter terms
// and sampling), applied to the packets it generated, independent of `portmirror mirror`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/portmirror/lab_traffic.h"
#include "portmirror/config/mirror_config.h"

namespace portmirror::app::lab {

// Junos first-match evaluation (protocols.md §4.4/§4.5) of one filter for one packet.
struct FilterVerdict {
  bool mirror = false;
  std::string instance;  // "" = the global port-mirroring instance
  std::string term;      // the term that decided ("" = implicit discard / no filter)
};
FilterVerdict evaluate_filter(const config::Filter* filter, const PacketFields& p);

bool match_spec(const config::MatchSpec& m, const PacketFields& p);

// Deterministic sampling, protocols.md §4.2: per matching packet, if run > 0 copy and run--,
// else k++ and when k >= N copy, k = 0, run = M.
class Sampler {
 public:
  Sampler(std::uint32_t rate, std::uint32_t run_length) : rate_(rate), run_length_(run_length) {}
  bool next() noexcept {
    if (run_ > 0) {
      --run_;
      return true;
    }
    if (++k_ >= rate_) {
      k_ = 0;
      run_ = run_length_;
      return true;
    }
    return false;
  }

 private:
  std::uint32_t rate_;
  std::uint32_t run_length_;
  std::uint32_t k_ = 0;
  std::uint32_t run_ = 0;
};

// One packet that crossed the customer interface, in the order the router saw it.
struct Crossing {
  std::uint32_t seq = 0;
  Kind kind = Kind::kUnknown;
  config::Direction direction = config::Direction::kInput;
};

// The lab's plan, read from the MirrorConfig the Junos front end produced for the lab's --map.
struct LabPlan {
  config::Direction binding = config::Direction::kInput;
  std::string filter;  // "" = mirror everything
  const config::Filter* filter_ptr = nullptr;
  std::uint32_t rate = 1;
  std::uint32_t run_length = 0;
  std::uint32_t max_length = 0;
  std::string tunnel_name;
  std::string tunnel_source;
  std::string tunnel_destination;
  unsigned tunnel_ttl = 0;
  std::string instance_name;
};

struct Expectation {
  std::uint64_t crossings_seen = 0;  // packets in a bound direction
  std::uint64_t matched = 0;         // ... that a port-mirror term took
  std::vector<Crossing> mirrored;    // ... that sampling copied, in order
};

Expectation expect(const LabPlan& plan, const std::vector<Crossing>& crossings);

}  // namespace portmirror::app::lab
