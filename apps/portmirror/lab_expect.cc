// The lab's reference model of the mirror: the filter and sampler written from protocols.md
// §4.2/§4.4/§4.5 directly, so a mistake in `portmirror mirror` shows up as a difference.
#include "apps/portmirror/lab_expect.h"

namespace portmirror::app::lab {
namespace {

// Longest-prefix match over the list; a best match marked `except` means no match (§4.5).
bool prefix_list_matches(const std::vector<config::PrefixEntry>& list, std::uint32_t a) {
  int best = -1;
  bool best_except = false;
  IpAddress ip = IpAddress::v4(a);
  for (const auto& e : list) {
    if (!e.prefix.address.is_v4() || !e.prefix.contains(ip)) continue;
    if (e.prefix.length > best) {
      best = e.prefix.length;
      best_except = e.except;
    }
  }
  return best >= 0 && !best_except;
}

bool value_matches(const config::ValueMatch& m, std::uint32_t v) {
  bool any = false;
  for (const auto& r : m.values) any = any || r.contains(v);
  return m.except ? !any : any;
}

bool has_ports(const PacketFields& p) {
  return p.protocol == 6 || p.protocol == 17;
}

}  // namespace

bool match_spec(const config::MatchSpec& m, const PacketFields& p) {
  if (!m.source_address.empty() && !prefix_list_matches(m.source_address, p.src)) return false;
  if (!m.destination_address.empty() && !prefix_list_matches(m.destination_address, p.dst)) {
    return false;
  }
  if (!m.address.empty() && !prefix_list_matches(m.address, p.src) &&
      !prefix_list_matches(m.address, p.dst)) {
    return false;
  }
  if (!m.protocol.empty() && !value_matches(m.protocol, p.protocol)) return false;
  // Port and ICMP conditions need the header they name; other packets do not match them.
  if (!m.source_port.empty() && !(has_ports(p) && value_matches(m.source_port, p.src_port))) {
    return false;
  }
  if (!m.destination_port.empty() &&
      !(has_ports(p) && value_matches(m.destination_port, p.dst_port))) {
    return false;
  }
  if (!m.port.empty() &&
      !(has_ports(p) && (value_matches(m.port, p.src_port) || value_matches(m.port, p.dst_port)))) {
    return false;
  }
  if (!m.icmp_type.empty() && !(p.protocol == 1 && value_matches(m.icmp_type, p.icmp_type))) {
    return false;
  }
  if (!m.icmp_code.empty() && !(p.protocol == 1 && value_matches(m.icmp_code, p.icmp_code))) {
    return false;
  }
  if (!m.dscp.empty() && !value_matches(m.dscp, p.dscp)) return false;
  // The lab sends no TCP and no fragments.
  if (!m.tcp_flags.empty()) return false;
  if (m.is_fragment) return false;
  return true;
}

FilterVerdict evaluate_filter(const config::Filter* filter, const PacketFields& p) {
  FilterVerdict v;
  if (filter == nullptr) {
    v.mirror = true;  // no filter: everything goes to the global instance
    return v;
  }
  for (const auto& t : filter->terms) {
    if (!match_spec(t.from, p)) continue;
    if (t.port_mirror && !v.mirror) {
      v.mirror = true;
      v.instance = t.mirror_instance;
    }
    v.term = t.name;
    if (t.verdict != config::TermVerdict::kNextTerm) return v;
  }
  return v;  // implicit `then discard` (§4.4): nothing more to mirror
}

Expectation expect(const LabPlan& plan, const std::vector<Crossing>& crossings) {
  Expectation e;
  Sampler sampler(plan.rate, plan.run_length);
  for (const auto& c : crossings) {
    bool bound = plan.binding == config::Direction::kBoth || plan.binding == c.direction;
    if (!bound) continue;
    ++e.crossings_seen;
    if (!evaluate_filter(plan.filter_ptr, fields_for(c.kind)).mirror) continue;
    ++e.matched;
    if (sampler.next()) e.mirrored.push_back(c);
  }
  return e;
}

}  // namespace portmirror::app::lab
