// A Junos firewall filter (config::Filter) compiled for the mirror's data path: every term becomes
// a record of index ranges into flat arrays of prefixes (sorted longest first, so the first
// containing entry is the longest-prefix match and its `except` flag decides) and numeric ranges,
// plus a tcp-flags truth table. Evaluation follows protocols.md §4.4: terms top to bottom, all
// `from` conditions ANDed, values within a condition ORed, the first matching term decides unless
// it says `next term`; the implicit final term mirrors nothing.
//
// Conditions that need an L4 header (ports, ICMP type/code, tcp-flags, and their -except forms)
// never match a packet without one: non-first fragments, truncated headers, other protocols (§4.5
// advice).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/config/mirror_config.h"
#include "portmirror/source/packet_info.h"
#include "portmirror/source/tcp_flags.h"

namespace portmirror::source {

inline constexpr std::size_t kMaxInstances = 64;

struct MatchResult {
  std::uint64_t instances = 0;  // bit i: mirror to instance i
  int term = -1;                // index of the deciding term, -1 = none (implicit discard)
};

class TermMatcher {
 public:
  // `instance_names[i]` is the name of instance i ("" = the global instance). A term naming an
  // instance that does not exist is an error.
  static Result<TermMatcher> compile(const config::Filter& filter,
                                     const std::vector<std::string>& instance_names);
  // A matcher with no terms that mirrors every packet of `family` to instance 0 (no filter bound).
  static TermMatcher match_all(config::Family family);

  MatchResult match(const PacketInfo& p) const noexcept;

  std::size_t term_count() const noexcept { return terms_.size(); }
  const std::string& term_name(std::size_t i) const { return names_[i]; }
  const std::string& name() const noexcept { return name_; }

 private:
  struct V4Prefix {
    std::uint32_t addr;
    std::uint32_t mask;
    bool except;
  };
  struct V6Prefix {
    std::uint64_t hi, lo, mask_hi, mask_lo;
    bool except;
  };
  struct Span {
    std::uint32_t begin = 0, end = 0;
    bool empty() const noexcept { return begin == end; }
  };
  struct PrefixList {
    Span v4, v6;
    bool present = false;
  };
  struct Values {
    Span ranges;
    bool present = false;
    bool except = false;
  };
  struct CompiledTerm {
    PrefixList src, dst, any_addr;
    Values protocol, src_port, dst_port, any_port, icmp_type, icmp_code, dscp;
    bool tcp_flags_present = false;
    TcpFlagsMatch tcp_flags = TcpFlagsMatch::any();
    bool first_fragment = false;
    bool is_fragment = false;
    bool mirror = false;
    std::uint8_t instance = 0;
    bool next_term = false;
  };

  Result<PrefixList> add_prefixes(const std::vector<config::PrefixEntry>& list, config::Family fam,
                                  const std::string& term);
  Values add_values(const config::ValueMatch& v);
  bool match_prefixes(const PrefixList& l, const PacketInfo& p,
                      const std::uint8_t* addr) const noexcept;
  bool match_values(const Values& v, std::uint32_t x) const noexcept;
  bool match_term(const CompiledTerm& t, const PacketInfo& p) const noexcept;

  std::string name_;
  config::Family family_ = config::Family::kInet;
  std::vector<CompiledTerm> terms_;
  std::vector<std::string> names_;
  std::vector<V4Prefix> v4_;
  std::vector<V6Prefix> v6_;
  std::vector<config::Range> ranges_;
  bool match_all_ = false;
};

}  // namespace portmirror::source
