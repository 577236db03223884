#include "portmirror/io/capture_loop.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/core.h>

#include "portmirror/io/local_links.h"
#include "portmirror/io/text_sink.h"

namespace portmirror::io {

std::optional<Pin> Pin::parse(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  auto prefix = IpPrefix::parse(text.substr(0, eq));
  if (!prefix) return std::nullopt;
  std::string_view v = text.substr(eq + 1);
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    v.remove_prefix(2);
    base = 16;
  }
  std::uint32_t id = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), id, base);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return Pin{*prefix, id};
}

bool Admission::admit(const TunnelInfo& t) noexcept {
  if (!allow_.empty()) {
    bool ok = false;
    for (const auto& a : allow_) {
      if (a.contains(t.outer_src)) {
        ok = true;
        break;
      }
    }
    if (!ok) {
      ++not_allowed_;
      count_sender(t.outer_src);
      return false;
    }
  }
  for (const auto& p : pins_) {
    if (p.sender.contains(t.outer_src)) {
      if (!t.has_id || t.id != p.id) {
        ++pin_mismatch_;
        count_sender(t.outer_src);
        return false;
      }
      break;  // first matching pin decides
    }
  }
  return true;
}

void Admission::count_sender(const IpAddress& a) noexcept {
  for (std::size_t i = 0; i < senders_used_; ++i) {
    if (senders_[i].sender == a) {
      ++senders_[i].packets;
      return;
    }
  }
  if (senders_used_ < kMaxSenders) senders_[senders_used_++] = SenderCount{a, 1};
}

namespace {

// " or udp dst port P" for every tunnel port the sockets listen on.
std::string port_clauses(const SocketSourceOptions& s) {
  std::string f;
  for (const auto* v : {&s.vxlan_ports, &s.geneve_ports, &s.tzsp_ports}) {
    for (auto p : *v) f += fmt::format(" or udp dst port {}", p);
  }
  return f;
}

// Kernel filter for sniff mode: tunnel traffic only (plus outer fragments, which carry no ports,
// and VLAN-tagged frames, which the user-space walk handles).
std::string ring_filter(const SocketSourceOptions& s) {
  std::string f = "ip proto 47 or ip6 proto 47 or (ip[6:2] & 0x3fff != 0) or ip6 proto 44";
  f += port_clauses(s);
  f += " or vlan";
  return f;
}
// Mode ring: IPv4 tunnel traffic (GRE, UDP to a tunnel port, and its fragments) addressed to one of
// the interface's addresses. PACKET_HOST and untagged are tested by the ring's own prefix
// (RingOptions::host_only).
std::string local_ring_filter(const SocketSourceOptions& s, const std::vector<IpAddress>& dsts) {
  std::string d;
  for (const auto& a : dsts) {
    if (!d.empty()) d += " or ";
    d += "dst host " + a.to_string();
  }
  // UDP: the tunnel ports, and non-first fragments (they carry no port; the reassembler decides).
  std::string u = "ip[6:2] & 0x1fff != 0" + port_clauses(s);
  return fmt::format("ip and ({}) and (ip proto 47 or (udp and ({})))", d, u);
}

Result<int> make_signalfd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return make_error(ExitCode::kFailure, "cannot block signals");
  }
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0)
    return make_error(ExitCode::kFailure, fmt::format("signalfd: {}", std::strerror(errno)));
  return fd;
}

std::string session_text(const collector::Session& s) {
  TunnelInfo t;
  t.encap = s.key.encap;
  t.outer_src = s.key.sender;
  t.outer_dst = s.key.receiver;
  t.has_id = s.key.has_id;
  t.id = s.key.id;
  TextOptions o;
  o.verbose = 1;
  char buf[256];
  std::size_t n = format_tunnel(t, o, std::span<char>(buf));
  std::string_view v(buf, n);
  // Drop the per-packet " seq N" part: a session has no single sequence number.
  if (auto p = v.find(" seq "); p != std::string_view::npos) v = v.substr(0, p);
  return std::string(v);
}

}  // namespace

CaptureLoop::~CaptureLoop() {
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Result<void> CaptureLoop::open_local_rings(const CaptureOptions& o) {
  auto links = ring_links(o.sockets.listen);
  if (!links) return unexpected(links.error());
  if (links->empty()) {
    return make_error(
        ExitCode::kConfig,
        o.sockets.listen ? fmt::format("--rx ring: no Ethernet interface owns {} (rings take "
                                       "IPv4 addressed to an Ethernet interface)",
                                       o.sockets.listen->to_string())
                         : std::string("--rx ring: no up Ethernet interface with an IPv4 address"));
  }
  // Default: 64 MiB in all, at least 16 MiB per ring; --ring-size sets each ring.
  const std::uint32_t mb =
      o.local_ring_mb != 0
          ? o.local_ring_mb
          : std::max<std::uint32_t>(16, 64 / static_cast<std::uint32_t>(links->size()));
  std::vector<HandoffLink> handoff;
  for (std::size_t i = 0; i < links->size(); ++i) {
    const LocalLink& link = (*links)[i];
    // Each ring takes what arrives on its interface for that interface's own addresses (so an
    // address reached through another interface, weak-host style, comes through the sockets).
    auto prog = compile_bpf(local_ring_filter(o.sockets, link.addresses), 1);
    if (!prog) return unexpected(prog.error());
    RingOptions ro;
    ro.ifname = link.name;
    ro.direction = CaptureDirection::kIn;
    ro.host_only = true;
    ro.block_size = 1u << 20;
    ro.block_count = std::max<std::uint32_t>(2, mb);
    ro.filter = std::move(*prog);
    ro.source_id = static_cast<std::uint16_t>(0x100 + i);
    auto ring = PacketRing::open(ro);
    if (!ring) {
      rings_.clear();
      return unexpected(ring.error());
    }
    handoff.push_back(HandoffLink{ring->ifindex(), link.addresses});
    rings_.push_back(std::move(*ring));
  }
  options_.sockets.handoff = std::move(handoff);
  local_rings_ = true;
  return {};
}

Result<std::unique_ptr<CaptureLoop>> CaptureLoop::open(const CaptureOptions& options) {
  std::unique_ptr<CaptureLoop> l(new CaptureLoop());
  l->options_ = options;
  l->count_limit_ = options.count;
  if (options.ring) {
    RingOptions ro = *options.ring;
    if (ro.filter.empty()) {
      auto prog = compile_bpf(ring_filter(options.sockets), 1);
      if (!prog) return unexpected(prog.error());
      ro.filter = std::move(*prog);
    }
    auto ring = PacketRing::open(ro);
    if (!ring) return unexpected(ring.error());
    l->rings_.push_back(std::move(*ring));
    // Best effort: reject-all sockets so that the kernel does not answer the mirrored traffic with
    // ICMP unreachable when this host is the tunnel's destination (§6.1). A port in use is fine.
    SocketSourceOptions g = options.sockets;
    g.guard_only = true;
    g.batch = 1;
    g.slot_bytes = 2048;
    if (auto gs = SocketSource::open(g)) l->guards_.emplace(std::move(*gs));
  } else {
    if (options.rx != RxMode::kSocket) {
      if (auto r = l->open_local_rings(options); !r) {
        if (options.rx == RxMode::kRing) return unexpected(r.error());
        l->ring_fallback_ = r.error().message;  // kAuto: the sockets take everything
      }
    }
    auto s = SocketSource::open(l->options_.sockets);
    if (!s) return unexpected(s.error());
    l->sockets_.emplace(std::move(*s));
    l->batch_.resize(l->sockets_->batch());
  }
  l->stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (l->stop_fd_ < 0) {
    return make_error(ExitCode::kFailure, fmt::format("eventfd: {}", std::strerror(errno)));
  }
  return l;
}

std::string CaptureLoop::describe() const {
  std::string d;
  if (!local_rings_ && !rings_.empty()) {
    d = fmt::format("{} (AF_PACKET TPACKET_V3 ring, {} x {} KiB), link-type EN10MB (Ethernet)",
                    rings_[0].ifname(), options_.ring->block_count,
                    options_.ring->block_size / 1024);
    if (guards_) d += fmt::format(" + {} ICMP guard sockets", guards_->sockets().size());
    return d;
  }
  if (local_rings_) {
    for (const auto& r : rings_) {
      if (!d.empty()) d += ", ";
      d += fmt::format("ring {}", r.ifname());
    }
    std::size_t n = 0;
    for (const auto& h : options_.sockets.handoff) n += h.addresses.size();
    d += fmt::format(
        " (AF_PACKET TPACKET_V3, IPv4 tunnels to {} local addresses; sockets take the rest): ", n);
  }
  bool first = true;
  for (const auto& s : sockets_->sockets()) {
    if (!first) d += ", ";
    d += s.description;
    first = false;
  }
  return d;
}

Result<void> CaptureLoop::drop_privileges(const std::string& user) {
  errno = 0;
  passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    return make_error(ExitCode::kUsage, fmt::format("-Z {}: no such user", user));
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0) {
    return make_error(ExitCode::kPermission,
                      fmt::format("-Z {}: cannot change to uid {} gid {}: {}", user, pw->pw_uid,
                                  pw->pw_gid, std::strerror(errno)));
  }
  return {};
}

void CaptureLoop::request_stop() noexcept {
  std::uint64_t one = 1;
  ssize_t r = ::write(stop_fd_, &one, sizeof one);
  (void)r;
}

KernelStats CaptureLoop::kernel_stats() noexcept {
  KernelStats k;
  k.captured = frames_;
  k.ring_frames = ring_frames_;
  k.socket_datagrams = frames_ - ring_frames_;
  for (auto& ring : rings_) {
    const RingStats& r = ring.update_stats();
    k.received += r.packets;
    k.dropped += r.drops;
  }
  if (sockets_) {
    SocketStats t = sockets_->total();
    k.dropped += t.kernel_drops;
    k.received += t.datagrams + t.kernel_drops;
  }
  return k;
}

std::size_t CaptureLoop::drain_sockets(Pipeline& p, bool& stop, bool& more) noexcept {
  const auto& infos = sockets_->sockets();
  std::size_t total = 0;
  more = false;
  for (std::size_t i = 0; i < infos.size() && !stop; ++i) {
    // Bounded work per socket per round so one busy socket cannot starve the others.
    for (int round = 0; round < 16 && !stop; ++round) {
      std::size_t n = sockets_->receive(i, batch_);
      if (n == 0) break;
      frames_ += n;
      total += n;
      if (round == 15 && n == batch_.size()) more = true;
      for (std::size_t k = 0; k < n; ++k) {
        const Datagram& d = batch_[k];
        bool ok = true;
        switch (d.kind) {
          case SocketKind::kGreV4: {
            Frame f;
            f.data = d.data;
            f.orig_len = d.orig_len;
            f.ts = d.ts;
            f.link = LinkType::kRaw;
            f.source_id = d.socket_index;
            ok = p.process(f);
            break;
          }
          case SocketKind::kGreV6:
            ok = p.process_gre(d.data, d.src, d.dst, d.orig_len, d.ts);
            break;
          case SocketKind::kVxlan:
          case SocketKind::kGeneve:
          case SocketKind::kTzsp:
            ok = p.process_udp(d.data, d.src, d.dst, d.src_port, d.dst_port, d.orig_len, d.ts);
            break;
        }
        if (!ok || (count_limit_ != 0 && p.count(PipelineCounter::kInnerWritten) >= count_limit_)) {
          stop = true;
          break;
        }
      }
      if (n < batch_.size()) break;
    }
  }
  return total;
}

void CaptureLoop::drain_ring(PacketRing& ring, Pipeline& p, bool& stop) noexcept {
  for (int blocks = 0; blocks < 64 && !stop && ring.acquire_block(); ++blocks) {
    RingFrame rf;
    while (!stop && ring.next_frame(rf)) {
      // Mode ring reads what the host itself receives: frames for this MAC, untagged on this
      // link (a tagged one is seen again on its VLAN device). The kernel BPF (host_only) already
      // tested both; this keeps the rule should a kernel lack an ancillary load.
      if (local_rings_ && (rf.pkttype != 0 /* PACKET_HOST */ || rf.vlan_reinserted)) continue;
      ++frames_;
      ++ring_frames_;
      // Open vSwitch's mirror snaplen cuts the frame after encapsulation and leaves the outer
      // IPv4 total length as it was (peers/README.md §1, bug 2). Count it; the walk decides.
      ByteSpan b = rf.frame.data;
      std::size_t off = 12;
      while (off + 4 <= b.size() && (load_be16(b, off) == 0x8100 || load_be16(b, off) == 0x88a8)) {
        off += 4;
      }
      if (off + 2 + 20 <= b.size() && load_be16(b, off) == 0x0800 &&
          load_be16(b, off + 2 + 2) > b.size() - off - 2) {
        ++outer_len_mismatch_;
      }
      if (!p.process(rf.frame) ||
          (count_limit_ != 0 && p.count(PipelineCounter::kInnerWritten) >= count_limit_)) {
        stop = true;
      }
    }
    ring.release_block();
  }
}

void CaptureLoop::check_liveness(const Pipeline& p, std::FILE* log, TimestampNs now) noexcept {
  const auto& sessions = p.sessions().sessions();
  if (!options_.liveness_lines) return;
  for (; announced_ < sessions.size(); ++announced_) {
    const auto& s = sessions[announced_];
    fmt::print(log, "portmirror: session start: {}\n", session_text(s));
    silent_.push_back(0);
  }
  if (options_.silence_timeout <= 0) return;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const auto& s = sessions[i];
    bool quiet = s.last_seen != 0 && now - s.last_seen > options_.silence_timeout;
    if (quiet && !silent_[i]) {
      fmt::print(log, "portmirror: session silent for {} s: {}\n", (now - s.last_seen) / kNsPerSec,
                 session_text(s));
      silent_[i] = 1;
    } else if (!quiet && silent_[i]) {
      fmt::print(log, "portmirror: session resumed: {}\n", session_text(s));
      silent_[i] = 0;
    }
  }
  std::fflush(log);
}

bool CaptureLoop::ring_error(PacketRing& ring, std::FILE* log) noexcept {
  const int err = ring.take_error();
  const std::size_t i = static_cast<std::size_t>(&ring - rings_.data());
  if (!ring.interface_exists()) {
    fmt::print(log, "portmirror capture: interface {} is gone{}\n", ring.ifname(),
               local_rings_ ? "; its ring is closed, the sockets take whatever still arrives"
                            : "; nothing left to capture");
    std::fflush(log);
    return false;
  }
  if (err != 0 && !ring_down_[i]) {
    fmt::print(log, "portmirror capture: interface {}: {} (the ring resumes when it is up)\n",
               ring.ifname(), std::strerror(err));
    std::fflush(log);
    ring_down_[i] = 1;
  }
  return true;
}

bool CaptureLoop::run(Pipeline& pipeline, Admission& admission, std::FILE* log,
                      const std::function<void()>& on_usr1) {
  if (!admission.open()) {
    pipeline.set_admission(
        [](void* ctx, const TunnelInfo& t) noexcept {
          return static_cast<Admission*>(ctx)->admit(t);
        },
        &admission);
  }
  auto sfd = make_signalfd();
  int sig_fd = sfd ? *sfd : -1;

  std::vector<pollfd> fds;
  fds.push_back(pollfd{stop_fd_, POLLIN, 0});
  fds.push_back(pollfd{sig_fd, POLLIN, 0});
  const std::size_t first_source = fds.size();
  for (const auto& r : rings_) fds.push_back(pollfd{r.fd(), POLLIN | POLLERR, 0});
  ring_down_.assign(rings_.size(), 0);
  const std::size_t first_socket = fds.size();
  if (sockets_) {
    for (const auto& s : sockets_->sockets()) fds.push_back(pollfd{s.fd, POLLIN, 0});
  }

  bool stop = false;
  TimestampNs last_check = 0;
  while (!stop) {
    int r = ::poll(fds.data(), fds.size(), 100);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) break;
    if (sig_fd >= 0 && (fds[1].revents & POLLIN)) {
      signalfd_siginfo si{};
      while (::read(sig_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGUSR1) {
          if (on_usr1) on_usr1();
        } else {
          stop = true;
        }
      }
      if (stop) break;
    }
    bool ready = false;
    bool sockets_ready = false;
    for (std::size_t i = first_source; i < fds.size(); ++i) {
      ready |= fds[i].revents != 0;
      if (i >= first_socket) sockets_ready |= fds[i].revents != 0;
    }
    for (std::size_t k = 0; k < rings_.size(); ++k) {
      pollfd& pf = fds[first_source + k];
      if (pf.fd >= 0 && (pf.revents & POLLIN) != 0) ring_down_[k] = 0;
      if (pf.fd < 0 || (pf.revents & POLLERR) == 0) continue;
      if (!ring_error(rings_[k], log)) {
        pf.fd = -1;  // poll() skips it from now on
        if (!local_rings_)
          source_lost_ = "stopped: interface " + rings_[k].ifname() + " disappeared";
      }
    }
    if (!source_lost_.empty()) break;
    // Rings are also drained on timeouts: a partly filled block is retired by the kernel timer.
    std::size_t got = 0;
    bool more = false;
    for (auto& ring : rings_) {
      if (!stop) drain_ring(ring, pipeline, stop);
    }
    if (sockets_ready && !stop) got = drain_sockets(pipeline, stop, more);
    if (pipeline.failed()) break;
    // Text lines become visible after each batch; file writers keep their large buffers (-U
    // flushes per packet inside the sink).
    if (ready && options_.flush_after_batch) (void)pipeline.sink().flush();
    TimestampNs now = wall_clock_ns();
    if (now - last_check >= 200'000'000) {
      check_liveness(pipeline, log, now);
      last_check = now;
    }
    if (got != 0 && !more && !stop && options_.coalesce_us != 0) {
      // Traffic is flowing: let the kernel queue the next batch instead of waking us (and paying
      // a wake-up on the receiving CPU) per datagram. Bounded by the receive buffer: at 1 Mpps,
      // 500 us is 500 datagrams.
      timespec ts{0, static_cast<long>(options_.coalesce_us) * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  check_liveness(pipeline, log, wall_clock_ns());
  if (sig_fd >= 0) ::close(sig_fd);
  return !pipeline.failed();
}

}  // namespace portmirror::io
