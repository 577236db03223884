#include "portmirror/source/mirror_engine.h"

#include <fmt/core.h>
#include <algorithm>
#include <cstring>

#include "portmirror/source/packet_info.h"

namespace portmirror::source {
namespace {

constexpr std::uint8_t kProtoGre = 47;
constexpr std::uint8_t kProtoUdp = 17;

}  // namespace

Result<std::unique_ptr<MirrorEngine>> MirrorEngine::create(
    const config::MirrorConfig& cfg, const std::vector<std::vector<OutputRoute>>& routes,
    TimestampNs now) {
  std::unique_ptr<MirrorEngine> e(new MirrorEngine());
  e->now_ = now;
  e->loop_prevention_ = cfg.loop_prevention;
  e->keepalive_ns_ = static_cast<TimestampNs>(cfg.keepalive_seconds) * kNsPerSec;
  if (cfg.instances.empty()) return make_error(ExitCode::kConfig, "no mirror instance configured");
  if (cfg.instances.size() > kMaxInstances) {
    return make_error(ExitCode::kConfig, "at most 64 mirror instances are supported");
  }
  if (routes.size() != cfg.instances.size()) {
    return make_error(ExitCode::kFailure, "internal: routes do not match instances");
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < cfg.instances.size(); ++i) {
    const auto& ic = cfg.instances[i];
    names.push_back(ic.name);
    if (ic.rate < 1 || ic.rate > 65535) {
      return make_error(ExitCode::kUsage,
                        "rate " + std::to_string(ic.rate) + " out of range 1-65535");
    }
    if (ic.run_length > 20) {
      return make_error(ExitCode::kUsage,
                        "run-length " + std::to_string(ic.run_length) + " out of range 0-20");
    }
    if (ic.maximum_packet_length > 9216) {
      return make_error(ExitCode::kUsage, "maximum-packet-length " +
                                              std::to_string(ic.maximum_packet_length) +
                                              " out of range 0-9216");
    }
    if (ic.outputs.empty()) {
      return make_error(ExitCode::kConfig, "mirror instance '" +
                                               (ic.name.empty() ? std::string("global") : ic.name) +
                                               "' has no output (--to)");
    }
    Instance inst;
    inst.name = ic.name;
    inst.sampler = Sampler(ic.rate, ic.run_length, ic.random_sampling,
                           static_cast<std::uint64_t>(now) ^ (0x9E3779B97F4A7C15ull * (i + 1)));
    inst.policer = Policer(ic.policer, now);
    inst.max_length = ic.maximum_packet_length;
    inst.mtu_policy = ic.mtu_policy;
    if (routes[i].size() != ic.outputs.size()) {
      return make_error(ExitCode::kFailure, "internal: routes do not match outputs");
    }
    for (std::size_t j = 0; j < ic.outputs.size(); ++j) {
      const auto& t = ic.outputs[j];
      auto tpl =
          EncapTemplate::build(t, routes[i][j].source, ic.mtu_policy == config::MtuPolicy::kClip);
      if (!tpl) return Unexpected<Error>(tpl.error());
      Output o;
      o.tunnel = t;
      o.tpl = *tpl;
      o.instance = i;
      o.path_mtu = routes[i][j].path_mtu;
      o.headers.resize(kBatch);
      o.slots.resize(kBatch);
      o.last_send = now;
      inst.outputs.push_back(e->outputs_.size());
      e->outputs_.push_back(std::move(o));
      const bool vx = t.encap == config::EncapKind::kVxlan;
      e->loop_keys_.push_back(LoopKey{t.destination, vx ? kProtoUdp : kProtoGre,
                                      static_cast<std::uint16_t>(vx ? t.udp_port : 0)});
    }
    e->instances_.push_back(std::move(inst));
  }
  for (const auto& f : cfg.filters) {
    auto m = TermMatcher::compile(f, names);
    if (!m) return Unexpected<Error>(m.error());
    e->matchers_.push_back(std::move(*m));
  }
  const std::size_t all_index = e->matchers_.size();
  e->matchers_.push_back(TermMatcher::match_all(config::Family::kAny));
  for (const auto& b : cfg.interfaces) {
    Iface i;
    i.name = b.ifname;
    if (b.filter.empty()) {
      i.matcher = all_index;
    } else {
      auto it = std::find_if(cfg.filters.begin(), cfg.filters.end(),
                             [&](const config::Filter& f) { return f.name == b.filter; });
      if (it == cfg.filters.end()) {
        return make_error(ExitCode::kConfig, "interface " + b.ifname + " uses filter '" + b.filter +
                                                 "', which is not defined");
      }
      i.matcher = static_cast<std::size_t>(it - cfg.filters.begin());
    }
    e->ifaces_.push_back(std::move(i));
  }
  // mirror-once matters only when a packet can be captured twice: two capture points or more
  // (an interface in `both` directions counts as two).
  std::size_t points = 0;
  for (const auto& b : cfg.interfaces) points += b.direction == config::Direction::kBoth ? 2 : 1;
  if (cfg.mirror_once && points >= 2) {
    e->once_ = std::make_unique<MirrorOnce>(
        14, static_cast<TimestampNs>(cfg.mirror_once_window_ms) * 1'000'000);
  }
  return e;
}

bool MirrorEngine::is_our_tunnel(const PacketInfo& p) const noexcept {
  if (p.ip_version == 0) return false;
  for (const auto& k : loop_keys_) {
    if (p.protocol != k.protocol) continue;
    const auto a = k.destination.bytes();
    if (a.size() != (p.ip_version == 4 ? 4u : 16u)) continue;
    if (std::memcmp(a.data(), p.dst.data(), a.size()) != 0) continue;
    if (k.protocol == kProtoUdp && !(p.has_ports && p.dst_port == k.port)) continue;
    return true;
  }
  return false;
}

void MirrorEngine::process(const Frame& frame, std::size_t iface, bool outgoing,
                           TimestampNs now) noexcept {
  now_ = now;
  Iface& ifc = ifaces_[iface];
  ifc.counters.inc(IfaceCounter::kSeen);
  PacketInfo info;
  if (!parse_packet_info(frame.data, frame.link, info)) return;
  if (loop_prevention_ && is_our_tunnel(info)) {
    ifc.counters.inc(IfaceCounter::kLoopExcluded);
    return;
  }
  const MatchResult r = matchers_[ifc.matcher].match(info);
  if (r.instances == 0) return;
  ifc.counters.inc(IfaceCounter::kMatched);
  if (once_ && once_->seen_before(frame.data, info, frame.ts)) {
    ifc.counters.inc(IfaceCounter::kDuplicate);
    return;
  }
  std::uint64_t bits = r.instances;
  while (bits != 0) {
    const auto i = static_cast<std::size_t>(__builtin_ctzll(bits));
    bits &= bits - 1;
    emit(instances_[i], frame, info, outgoing);
  }
}

void MirrorEngine::emit(Instance& inst, const Frame& frame, const PacketInfo& info,
                        bool outgoing) noexcept {
  inst.counters.inc(InstanceCounter::kMatched);
  if (!inst.sampler.sample()) return;
  inst.counters.inc(InstanceCounter::kSampled);
  const std::size_t police_len = std::min<std::size_t>(
      frame.data.size(), inst.max_length ? inst.max_length : frame.data.size());
  if (!inst.policer.allow(static_cast<std::uint32_t>(police_len), now_)) {
    inst.counters.inc(InstanceCounter::kPoliced);
    return;
  }
  EncapMeta meta;
  meta.ts = frame.ts;
  meta.egress = outgoing;
  meta.vlan = info.vlan;
  meta.vlan_tci = info.vlan_tci;
  meta.flow_hash = flow_hash(info);
  bool counted_trunc = false;
  for (const std::size_t oi : inst.outputs) {
    Output& o = outputs_[oi];
    ByteSpan payload = frame.data;
    std::uint32_t original = frame.orig_len > frame.data.size()
                                 ? frame.orig_len
                                 : static_cast<std::uint32_t>(frame.data.size());
    if (o.tpl.carries_ip()) {
      if (info.ip_version == 0) {
        inst.counters.inc(InstanceCounter::kNotIp);
        continue;
      }
      payload = frame.data.subspan(info.l3_offset, info.l3_length);
      original = info.l3_length;
    }
    bool truncated = payload.size() < original;  // the capture itself was cut short
    if (inst.max_length != 0 && payload.size() > inst.max_length) {
      payload = payload.first(inst.max_length);
      truncated = true;
      if (!counted_trunc) inst.counters.inc(InstanceCounter::kTruncated);
      counted_trunc = true;
    }
    const std::size_t outer = o.tpl.size() + payload.size();
    if (outer > o.path_mtu) {
      if (inst.mtu_policy == config::MtuPolicy::kClip) {
        const std::size_t room = o.path_mtu > o.tpl.size() ? o.path_mtu - o.tpl.size() : 0;
        payload = payload.first(room);
        truncated = true;
        inst.counters.inc(InstanceCounter::kMtuClipped);
      } else {
        inst.counters.inc(InstanceCounter::kMtuFragmented);
      }
    }
    meta.truncated = truncated;
    meta.original_length = original;
    auto& hdr = o.headers[o.count];
    o.tpl.write(MutableByteSpan(hdr), payload, meta);
    TxSlot& s = o.slots[o.count];
    s.header = hdr.data() + o.tpl.tunnel_offset();
    s.header_len = static_cast<std::uint32_t>(o.tpl.tunnel_size());
    s.payload = payload.data();
    s.payload_len = static_cast<std::uint32_t>(payload.size());
    s.ip_header_len = static_cast<std::uint32_t>(o.tpl.tunnel_offset());
    ++o.count;
    if (o.count > max_fill_) max_fill_ = o.count;
    inst.counters.inc(InstanceCounter::kBytes, o.tpl.size() + payload.size());
  }
}

void MirrorEngine::sent(std::size_t oi, std::uint32_t ok, std::uint32_t errors) noexcept {
  Output& o = outputs_[oi];
  Instance& inst = instances_[o.instance];
  inst.counters.inc(InstanceCounter::kSent, ok);
  inst.counters.inc(InstanceCounter::kSendErrors, errors);
  o.sent += ok;
  o.errors += errors;
  if (o.count != 0) o.last_send = now_;
  o.count = 0;
  std::size_t m = 0;
  for (const auto& x : outputs_) m = std::max(m, x.count);
  max_fill_ = m;
}

void MirrorEngine::tick(TimestampNs now) noexcept {
  now_ = now;
  if (keepalive_ns_ == 0) return;
  for (auto& o : outputs_) {
    if (!o.tpl.is_gre() || o.count >= kBatch) continue;
    if (now - o.last_send < keepalive_ns_) continue;
    auto& hdr = o.headers[o.count];
    const std::size_t n = o.tpl.write_keepalive(MutableByteSpan(hdr));
    TxSlot& s = o.slots[o.count];
    s.header = hdr.data() + o.tpl.tunnel_offset();
    s.header_len = static_cast<std::uint32_t>(n - o.tpl.tunnel_offset());
    s.payload = nullptr;
    s.payload_len = 0;
    s.ip_header_len = static_cast<std::uint32_t>(o.tpl.tunnel_offset());
    ++o.count;
    max_fill_ = std::max(max_fill_, o.count);
    o.last_send = now;
    instances_[o.instance].counters.inc(InstanceCounter::kKeepalives);
  }
}

std::string format_engine_stats(const MirrorEngine& e) {
  std::string out;
  for (std::size_t i = 0; i < e.interface_count(); ++i) {
    const auto& c = e.iface_counters(i);
    out += fmt::format("interface {}:", e.iface_name(i));
    for (std::size_t k = 0; k < c.kSize; ++k) out += fmt::format(" {}={}", c.name(k), c.at(k));
    out += "\n";
  }
  for (std::size_t i = 0; i < e.instance_count(); ++i) {
    const auto& c = e.instance_counters(i);
    out += fmt::format("instance {}:", e.instance_name(i).empty() ? "global" : e.instance_name(i));
    for (std::size_t k = 0; k < c.kSize; ++k) out += fmt::format(" {}={}", c.name(k), c.at(k));
    out += "\n";
  }
  for (std::size_t o = 0; o < e.output_count(); ++o) {
    out += fmt::format("output {} -> {}: sent={} send_errors={} next_sequence={}\n", o,
                       e.output_config(o).destination.to_string(), e.output_sent(o),
                       e.output_errors(o), e.output_template(o).next_sequence());
  }
  return out;
}

}  // namespace portmirror::source
