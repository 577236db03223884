// `portmirror lab`: builds the seed's network, runs `portmirror mirror` on the router and
// `portmirror capture` on the capture server, generates the seed's traffic, and checks that the
// collector received exactly what the filter and sampling say it should (docs/lab.md).
#include "apps/portmirror/lab_run.h"

#include <dirent.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "apps/portmirror/lab_config.h"
#include "apps/portmirror/lab_expect.h"
#include "apps/portmirror/lab_json.h"
#include "apps/portmirror/lab_process.h"
#include "apps/portmirror/lab_topology.h"
#include "apps/portmirror/lab_traffic.h"
#include "portmirror/base/exit_codes.h"
#include "portmirror/junos/load.h"

namespace portmirror::app::lab {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kInterruptedExit = 128 + SIGINT;

template <typename... Args>
void say(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print("lab: {}\n", fmt::format(f, std::forward<Args>(args)...));
  std::fflush(stdout);
}

int fail(const Error& e) {
  fmt::print(stderr, "portmirror lab: {}\n", e.message);
  return to_int(e.code);
}

std::string tail_of(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::string out;
  std::size_t start = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (std::size_t i = start; i < lines.size(); ++i) out += "    " + lines[i] + "\n";
  return out;
}

bool file_contains(const std::string& path, std::string_view needle) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().find(needle) != std::string::npos;
}

// --- configuration → plan ----------------------------------------------------------------------

Result<LabPlan> make_plan(const config::MirrorConfig& cfg, const LabOptions& o) {
  LabPlan plan;
  const config::InterfaceBinding* binding = nullptr;
  for (const auto& b : cfg.interfaces) {
    if (b.ifname == kRouterCustomerIf) binding = &b;
  }
  if (binding == nullptr) {
    return make_error(ExitCode::kConfig,
                      fmt::format("the configuration mirrors nothing on {} (mapped to the lab "
                                  "router's {}): bind a filter on its unit 0",
                                  kJunosCustomerIf, kRouterCustomerIf));
  }
  plan.binding = binding->direction;
  plan.filter = binding->filter;
  if (!plan.filter.empty()) {
    for (const auto& f : cfg.filters) {
      if (f.name == plan.filter) plan.filter_ptr = &f;
    }
    if (plan.filter_ptr == nullptr) {
      return make_error(ExitCode::kConfig, fmt::format("filter {} bound on {} is not defined",
                                                       plan.filter, kJunosCustomerIf));
    }
  }
  std::set<std::string> used;
  if (plan.filter_ptr == nullptr) {
    used.insert("");
  } else {
    for (const auto& t : plan.filter_ptr->terms) {
      if (t.port_mirror) used.insert(t.mirror_instance);
    }
  }
  if (used.size() > 1) {
    return make_error(ExitCode::kConfig,
                      fmt::format("filter {} mirrors to {} instances; the lab models one",
                                  plan.filter, used.size()));
  }
  const config::MirrorInstance* inst = nullptr;
  if (!used.empty()) {
    for (const auto& i : cfg.instances) {
      if (i.name == *used.begin()) inst = &i;
    }
    if (inst == nullptr && used.begin()->empty() && !cfg.instances.empty()) {
      inst = &cfg.instances[0];
    }
  }
  if (inst == nullptr) {
    return make_error(ExitCode::kConfig,
                      "the configuration has no port-mirroring instance for the filter's "
                      "port-mirror action");
  }
  plan.instance_name = inst->name;
  plan.rate = o.rate.value_or(inst->rate);
  plan.run_length = o.run_length.value_or(inst->run_length);
  plan.max_length = inst->maximum_packet_length;
  if (inst->outputs.empty()) {
    return make_error(ExitCode::kConfig, "the port-mirroring instance has no output");
  }
  const auto& t = inst->outputs[0];
  plan.tunnel_name = t.name;
  plan.tunnel_destination = t.destination.to_string();
  plan.tunnel_source = t.source ? t.source->to_string() : "";
  plan.tunnel_ttl = t.ttl;
  if (plan.tunnel_destination != kCaptureServer ||
      (!plan.tunnel_source.empty() && plan.tunnel_source != kTunnelSource)) {
    return make_error(
        ExitCode::kConfig,
        fmt::format("the lab's network is the seed's: its tunnel must go from {} to {}, but the "
                    "configuration's goes from {} to {}",
                    kTunnelSource, kCaptureServer,
                    plan.tunnel_source.empty() ? "(unset)" : plan.tunnel_source,
                    plan.tunnel_destination));
  }
  if (t.encap != config::EncapKind::kGre && t.encap != config::EncapKind::kGreEth) {
    return make_error(ExitCode::kConfig, "the lab checks GRE tunnels (as gr- units send) only");
  }
  return plan;
}

// --- `portmirror check` ------------------------------------------------------------------------

struct CheckSummary {
  bool available = false;
  int exit_code = -1;
  int errors = 0;
  int warnings = 0;
  std::vector<std::string> lines;
};

CheckSummary run_check(const std::string& self, const std::string& config_path) {
  CheckSummary s;
  auto r = run({self, "check", config_path});
  if (!r) return s;
  s.exit_code = r->exit_code;
  // A placeholder `check` either says so or rejects the file argument (a CLI11 usage error).
  s.available = r->output.find("not implemented yet") == std::string::npos &&
                r->output.find("Run with --help") == std::string::npos;
  std::istringstream in(r->output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("error:") != std::string::npos) ++s.errors;
    if (line.find("warning:") != std::string::npos) ++s.warnings;
    s.lines.push_back(line);
  }
  return s;
}

// --- readiness: has the child opened its capture socket? ----------------------------------------

std::set<unsigned long> socket_inodes(pid_t pid) {
  std::set<unsigned long> out;
  std::string dir = fmt::format("/proc/{}/fd", pid);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char target[128];
    std::string link = dir + "/" + e->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    std::string_view t(target, static_cast<std::size_t>(n));
    if (t.substr(0, 8) == "socket:[") out.insert(std::strtoul(target + 8, nullptr, 10));
  }
  closedir(d);
  return out;
}

// True when `pid` holds a socket listed in /proc/<pid>/net/<table> (its own namespace's table)
// whose row satisfies `row_ok`. The inode is column `inode_col`.
template <typename RowOk>
bool has_socket(pid_t pid, const char* table, std::size_t inode_col, RowOk row_ok) {
  auto mine = socket_inodes(pid);
  if (mine.empty()) return false;
  std::ifstream in(fmt::format("/proc/{}/net/{}", pid, table));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream cols(line);
    std::vector<std::string> c;
    std::string w;
    while (cols >> w) c.push_back(w);
    if (c.size() <= inode_col) continue;
    if (mine.count(std::strtoul(c[inode_col].c_str(), nullptr, 10)) != 0 && row_ok(c)) return true;
  }
  return false;
}

bool mirror_ready(pid_t pid) {
  // /proc/net/packet: sk RefCnt Type Proto Iface R Rmem User Inode; R = running.
  return has_socket(pid, "packet", 8,
                    [](const std::vector<std::string>& c) { return c[5] == "1"; });
}

bool capture_ready(pid_t pid) {
  // /proc/net/raw: local_address is ADDR:PROTOCOL; GRE is protocol 47 = 0x2F.
  return has_socket(pid, "raw", 9, [](const std::vector<std::string>& c) {
    return c[1].size() >= 5 && c[1].substr(c[1].size() - 4) == "002F";
  });
}

// --- statistics files ----------------------------------------------------------------------------

// Counter lookup that does not depend on one layout: the shallowest numeric member named `name`
// or ending in ".name" / "_name" (statistics files nest totals above per-interface detail).
std::optional<std::uint64_t> find_counter(const Json& root, std::vector<std::string_view> names) {
  std::vector<const Json*> level{&root};
  while (!level.empty()) {
    std::vector<const Json*> next;
    for (const Json* j : level) {
      if (j->is_object()) {
        for (auto n : names) {
          for (const auto& [k, v] : j->members()) {
            bool hit = k == n ||
                       (k.size() > n.size() && k.ends_with(n) &&
                        (k[k.size() - n.size() - 1] == '.' || k[k.size() - n.size() - 1] == '_'));
            if (hit && v.is_number() && v.as_number() >= 0) {
              return static_cast<std::uint64_t>(v.as_number());
            }
          }
        }
        for (const auto& m : j->members()) next.push_back(&m.second);
      } else if (j->is_array()) {
        for (const auto& i : j->items()) next.push_back(&i);
      }
    }
    level = std::move(next);
  }
  return std::nullopt;
}

std::string scalar_text(const Json& v) {
  switch (v.kind()) {
    case Json::Kind::kString:
      return v.as_string();
    case Json::Kind::kNumber:
      return Json::number(v.as_number()).dump(0);
    case Json::Kind::kBool:
      return v.as_bool() ? "true" : "false";
    default:
      return "";
  }
}

// Session objects: members of an array called "sessions" (or any array of objects with a
// packet count).
std::vector<const Json*> find_sessions(const Json& root) {
  std::vector<const Json*> out;
  std::vector<const Json*> stack{&root};
  while (!stack.empty()) {
    const Json* j = stack.back();
    stack.pop_back();
    if (j->is_object()) {
      for (const auto& [k, v] : j->members()) {
        if (k == "sessions" && v.is_array()) {
          for (const auto& s : v.items()) out.push_back(&s);
          return out;
        }
        stack.push_back(&v);
      }
    }
  }
  return out;
}

// --- identities ---------------------------------------------------------------------------------

using Key = std::pair<int, std::uint32_t>;  // (kind, seq)

Key key_of(Kind k, std::uint32_t seq) {
  return {static_cast<int>(k), seq};
}

struct Comparison {
  std::uint64_t total = 0;
  std::uint64_t exact = 0;       // expected copies seen exactly once
  std::uint64_t missing = 0;     // expected, not seen
  std::uint64_t duplicates = 0;  // seen more than once
  std::uint64_t unexpected = 0;  // seen, not expected (or unidentifiable)
  std::vector<std::string> examples;
  bool ok() const { return missing == 0 && duplicates == 0 && unexpected == 0; }
};

Comparison compare(const std::vector<Crossing>& expected, const std::vector<Identity>& seen) {
  Comparison c;
  c.total = seen.size();
  std::map<Key, int> want;
  for (const auto& e : expected) want[key_of(e.kind, e.seq)] = 0;
  for (const auto& s : seen) {
    if (!s.seq) {
      ++c.unexpected;
      if (c.examples.size() < 5)
        c.examples.push_back(fmt::format("unidentified {}", kind_name(s.kind)));
      continue;
    }
    auto it = want.find(key_of(s.kind, *s.seq));
    if (it == want.end()) {
      ++c.unexpected;
      if (c.examples.size() < 5) {
        c.examples.push_back(fmt::format("unexpected {} seq {}", kind_name(s.kind), *s.seq));
      }
    } else if (++it->second == 2) {
      ++c.duplicates;
      if (c.examples.size() < 5) {
        c.examples.push_back(fmt::format("duplicate {} seq {}", kind_name(s.kind), *s.seq));
      }
    }
  }
  for (const auto& [k, n] : want) {
    if (n == 0) {
      ++c.missing;
      if (c.examples.size() < 5) {
        c.examples.push_back(
            fmt::format("missing {} seq {}", kind_name(static_cast<Kind>(k.first)), k.second));
      }
    }
    if (n == 1) ++c.exact;
  }
  return c;
}

Json comparison_json(const Comparison& c) {
  Json j = Json::object();
  j.set("packets", Json::number(static_cast<double>(c.total)));
  j.set("expected_exactly_once", Json::number(static_cast<double>(c.exact)));
  j.set("missing", Json::number(static_cast<double>(c.missing)));
  j.set("duplicates", Json::number(static_cast<double>(c.duplicates)));
  j.set("unexpected", Json::number(static_cast<double>(c.unexpected)));
  Json ex = Json::array();
  for (const auto& e : c.examples) ex.push(Json::string(e));
  j.set("examples", std::move(ex));
  return j;
}

std::string ip_text(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFF);
}

// --- the run ------------------------------------------------------------------------------------

class SignalGuard {
 public:
  SignalGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    sigprocmask(SIG_BLOCK, &set_, &old_);
    fd_ = signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~SignalGuard() {
    if (fd_ >= 0) close(fd_);
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  int fd() const { return fd_; }
  bool pending() {
    signalfd_siginfo si{};
    bool got = false;
    while (read(fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) got = true;
    return got;
  }

 private:
  sigset_t set_{};
  sigset_t old_{};
  int fd_ = -1;
};

// Removes the namespaces on every way out of run_lab (error, Ctrl-C, success) unless --keep.
class TeardownGuard {
 public:
  explicit TeardownGuard(Topology& t) : t_(t) {}
  ~TeardownGuard() {
    if (!keep_) t_.teardown();
  }
  void keep() { keep_ = true; }
  TeardownGuard(const TeardownGuard&) = delete;
  TeardownGuard& operator=(const TeardownGuard&) = delete;

 private:
  Topology& t_;
  bool keep_ = false;
};

int cleanup_command(const std::string& ip, const std::string& tag) {
  auto names = existing_lab_namespaces(ip, tag);
  if (names.empty()) {
    fmt::print("portmirror lab: no namespaces named {}-{{cust,rtr,dst,wan,col}}\n", tag);
    return to_int(ExitCode::kOk);
  }
  auto failed = remove_namespaces(ip, names);
  for (const auto& n : names) {
    bool bad = std::find(failed.begin(), failed.end(), n) != failed.end();
    fmt::print("{} {}\n", bad ? "could not remove" : "removed", n);
  }
  return failed.empty() ? to_int(ExitCode::kOk) : to_int(ExitCode::kFailure);
}

}  // namespace

int run_lab(const LabOptions& o) {
  // Preflight: clear errors before anything is created.
  if (geteuid() != 0) {
    return fail({ExitCode::kPermission,
                 "must run as root: the lab creates network namespaces and veth pairs, and its "
                 "router and capture server open packet and raw sockets (try: sudo portmirror lab)",
                 std::nullopt});
  }
  std::string ip = find_program("ip");
  if (ip.empty()) {
    return fail({ExitCode::kEnvironment,
                 "the `ip` command (iproute2) was not found: apt-get install iproute2",
                 std::nullopt});
  }
  if (access("/proc/self/ns/net", R_OK) != 0) {
    return fail({ExitCode::kEnvironment,
                 "this kernel has no network namespaces (/proc/self/ns/net is missing)",
                 std::nullopt});
  }
  if (!o.cleanup_tag.empty()) return cleanup_command(ip, o.cleanup_tag);

  const std::string self = self_exe();
  SignalGuard signals;
  // A closed stdout (`portmirror lab | head`) must not kill the lab before it cleans up.
  std::signal(SIGPIPE, SIG_IGN);

  // Work directory, configuration, `check`.
  std::string workdir = o.workdir;
  if (workdir.empty()) {
    char tmpl[] = "/tmp/portmirror-lab-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      return fail({ExitCode::kOutputUnwritable,
                   fmt::format("cannot create a work directory in /tmp: {}", std::strerror(errno)),
                   std::nullopt});
    }
    workdir = tmpl;
  } else if (mkdir(workdir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail({ExitCode::kOutputUnwritable,
                 fmt::format("cannot create {}: {}", workdir, std::strerror(errno)), std::nullopt});
  }
  std::string config_path = o.config;
  bool embedded = config_path.empty();
  if (!embedded && (o.rate || o.run_length)) {
    // `mirror --junos` takes sampling from the configuration, so an override could not reach it.
    return fail({ExitCode::kUsage,
                 "--rate/--run-length override the embedded configuration only; with --config, "
                 "set them in the file (forwarding-options port-mirroring ... input)",
                 std::nullopt});
  }
  if (embedded) {
    config_path = workdir + "/router.conf";
    std::ofstream out(config_path);
    out << default_router_config(o.rate.value_or(1), o.run_length.value_or(1));
    if (!out) {
      return fail(
          {ExitCode::kOutputUnwritable, fmt::format("cannot write {}", config_path), std::nullopt});
    }
  }
  CheckSummary check = run_check(self, config_path);
  if (check.available && check.exit_code == to_int(ExitCode::kUsage)) {
    for (const auto& l : check.lines) fmt::print(stderr, "{}\n", l);
    return fail({ExitCode::kConfig,
                 fmt::format("`portmirror check {}` found errors (above)", config_path),
                 std::nullopt});
  }

  std::vector<junos::Diagnostic> diags;
  junos::LoadOptions lo;
  lo.interface_map.emplace_back(kJunosCustomerIf, kRouterCustomerIf);
  auto loaded = junos::load_mirror_config(config_path, lo, diags);
  if (!loaded) {
    if (!diags.empty()) fmt::print(stderr, "{}", junos::format_diagnostics(diags));
    return fail({ExitCode::kConfig,
                 fmt::format("cannot use {}: {}", config_path, loaded.error().message),
                 std::nullopt});
  }
  auto plan_r = make_plan(*loaded, o);
  if (!plan_r) return fail(plan_r.error());
  LabPlan plan = *plan_r;

  // Namespaces left by a lab run that was killed outright (SIGKILL leaves no chance to clean up).
  if (auto stale = stale_lab_namespaces(ip); !stale.empty()) {
    say("removing namespaces of an earlier lab run that is gone: {}", fmt::join(stale, " "));
    remove_namespaces(ip, stale);
  }

  // The network.
  std::string tag = fmt::format("pml{}", getpid());
  if (!existing_lab_namespaces(ip, tag).empty())
    tag += fmt::format("x{}", Clock::now().time_since_epoch().count() % 1000);
  Topology topo(ip, tag);
  TeardownGuard teardown(topo);
  say("building the seed's network in namespaces {}-{{cust,rtr,dst,wan,col}} (work dir {})", tag,
      workdir);
  if (auto r = topo.build(); !r) return fail(r.error());
  if (signals.pending()) return kInterruptedExit;

  std::optional<Sink> sink;
  std::optional<WireTap> tap;
  std::optional<Generator> gen;
  {
    auto s = Sink::open(topo.ns("dst"));
    if (!s) return fail(s.error());
    sink.emplace(std::move(*s));
    auto t = WireTap::open(topo.ns("col"));
    if (!t) return fail(t.error());
    tap.emplace(std::move(*t));
    auto g = Generator::open(topo.ns("cust"), static_cast<std::uint16_t>(getpid()));
    if (!g) return fail(g.error());
    gen.emplace(std::move(*g));
  }

  // The collector and the router.
  const std::string pcapng = workdir + "/lab.pcapng";
  const std::string cap_stats = workdir + "/capture-stats.json";
  const std::string mir_stats = workdir + "/mirror-stats.json";
  const std::string cap_log = workdir + "/capture.log";
  const std::string mir_log = workdir + "/mirror.log";
  for (const auto& f : {pcapng, cap_stats, mir_stats, cap_log, mir_log}) std::remove(f.c_str());

  std::vector<std::string> capture_cmd{"portmirror",   "capture",
                                       "--listen",     kCaptureServer,
                                       "--allow",      fmt::format("{}/32", kTunnelSource),
                                       "-w",           pcapng,
                                       "--stats-json", cap_stats};
  // `capture -w` prints no live lines (as tcpdump -w); a second collector shows them (below).
  const bool cap_print = false;
  std::vector<std::string> mirror_cmd{
      "portmirror",   "mirror", "--junos",
      config_path,    "--map",  fmt::format("{}={}", kJunosCustomerIf, kRouterCustomerIf),
      "--stats-json", mir_stats};
  auto in_ns = [&](const std::string& ns, std::vector<std::string> cmd) {
    cmd[0] = self;
    cmd.insert(cmd.begin(), {ip, "netns", "exec", ns});
    return cmd;
  };
  auto shown = [&](const std::string& ns, std::vector<std::string> cmd) {
    return fmt::format("ip netns exec {} {}", ns, shell_quote(cmd));
  };

  // Without --print, a second collector on the same address shows the live lines (each raw GRE
  // socket receives its own copy), as the seed ran tethereal next to tcpdump.
  std::vector<std::string> display_cmd{
      "portmirror", "capture", "--listen", kCaptureServer, "--allow",
      fmt::format("{}/32", kTunnelSource), "-n", "--stats-json",
      workdir + "/capture-display-stats.json",
      // The default UDP ports are the first collector's (port options add to the defaults, so
      // drop those); the lab's tunnel is GRE.
      "--no-default-ports", "--vxlan-port", "47890", "--geneve-port", "47891", "--tzsp-port",
      "47892"};
  const std::string disp_log = workdir + "/capture-display.log";
  std::remove(disp_log.c_str());

  say("capture server: {}", shown(topo.ns("col"), capture_cmd));
  auto capture = Child::start(in_ns(topo.ns("col"), capture_cmd), cap_log);
  if (!capture) return fail(capture.error());
  std::optional<Child> display;
  if (!cap_print) {
    say("                {}", shown(topo.ns("col"), display_cmd));
    auto d = Child::start(in_ns(topo.ns("col"), display_cmd), disp_log);
    if (!d) return fail(d.error());
    display.emplace(std::move(*d));
  }
  Child& live = display ? *display : *capture;
  say("router:         {}", shown(topo.ns("rtr"), mirror_cmd));
  auto mirror = Child::start(in_ns(topo.ns("rtr"), mirror_cmd), mir_log);
  if (!mirror) return fail(mirror.error());

  auto child_failed = [&](Child& c, const char* what, const std::string& log) -> Error {
    c.running();
    if (file_contains(log, "not implemented yet") ||
        file_contains(log, "not available in this build")) {
      return {ExitCode::kFailure,
              fmt::format("`portmirror {}` cannot do what the lab needs in this build yet, so the "
                          "lab cannot run its {}; its output:\n{}",
                          what, std::string_view(what) == "mirror" ? "router" : "capture server",
                          tail_of(log, 10)),
              std::nullopt};
    }
    return {ExitCode::kFailure,
            fmt::format("`portmirror {}` exited with status {} before the traffic started; the "
                        "end of {}:\n{}",
                        what, c.exit_code(), log, tail_of(log, 15)),
            std::nullopt};
  };

  // Wait until every child has its socket open (seen in /proc), then let them settle.
  bool cap_ok = false, disp_ok = !display, mir_ok = false;
  auto ready_deadline = Clock::now() + milliseconds(10000);
  while (!(cap_ok && mir_ok && disp_ok)) {
    if (signals.pending()) return kInterruptedExit;
    if (!capture->running()) return fail(child_failed(*capture, "capture", cap_log));
    if (display && !display->running()) return fail(child_failed(*display, "capture", disp_log));
    if (!mirror->running()) return fail(child_failed(*mirror, "mirror", mir_log));
    cap_ok = cap_ok || capture_ready(capture->pid());
    disp_ok = disp_ok || capture_ready(display->pid());
    mir_ok = mir_ok || mirror_ready(mirror->pid());
    if (Clock::now() > ready_deadline) {
      return fail({ExitCode::kFailure,
                   fmt::format("{} did not open its sockets within 10 s (logs: {}, {})",
                               !(cap_ok && disp_ok) ? "portmirror capture" : "portmirror mirror",
                               cap_log, mir_log),
                   std::nullopt});
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::this_thread::sleep_for(milliseconds(300));

  // Traffic, with the collector's live lines shown as they arrive.
  say("sending {} from {} to {} at {} packets/s; the collector shows:",
      o.duration > 0 ? fmt::format("for {} s", o.duration) : fmt::format("{} packets", o.count),
      kCustomerHost, kDestination, o.pps);
  std::vector<Crossing> crossings;
  std::map<Kind, std::uint64_t> generated;
  std::uint64_t echo_replies = 0;
  std::uint64_t collector_lines = 0;
  std::string pending_line;
  bool interrupted = false;
  bool cap_eof = false;

  auto pump_capture = [&](bool show) {
    char buf[8192];
    ssize_t n = read(live.stdout_fd(), buf, sizeof buf);
    if (n <= 0) {
      if (n == 0) cap_eof = true;
      return;
    }
    pending_line.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending_line.find('\n')) != std::string::npos) {
      ++collector_lines;
      if (show) fmt::print("{}\n", pending_line.substr(0, nl));
      pending_line.erase(0, nl + 1);
    }
    std::fflush(stdout);
  };

  std::optional<std::uint32_t> awaiting_reply;
  Clock::time_point reply_deadline{};
  auto handle_replies = [&] {
    for (std::uint32_t s : gen->drain_replies()) {
      ++echo_replies;
      crossings.push_back({s, Kind::kEchoReply, config::Direction::kOutput});
      if (awaiting_reply && *awaiting_reply == s) awaiting_reply.reset();
    }
  };

  // One poll loop for sending, draining and signals, until `done()`.
  auto loop = [&](auto done, auto on_tick) {
    while (!done()) {
      std::vector<pollfd> fds;
      fds.push_back({signals.fd(), POLLIN, 0});
      fds.push_back({gen->icmp_fd(), POLLIN, 0});
      fds.push_back({tap->fd(), POLLIN, 0});
      for (int fd : sink->fds()) fds.push_back({fd, POLLIN, 0});
      if (!cap_eof) fds.push_back({live.stdout_fd(), POLLIN, 0});
      poll(fds.data(), fds.size(), 2);
      if (signals.pending()) {
        interrupted = true;
        return;
      }
      handle_replies();
      tap->drain();
      for (int fd : sink->fds()) sink->drain(fd);
      if (!cap_eof && (fds.back().revents & (POLLIN | POLLHUP)) != 0) pump_capture(!o.quiet);
      on_tick();
    }
  };

  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.pps));
  const auto start = Clock::now();
  auto next_send = start;
  std::uint32_t seq = 0;
  auto sending_done = [&] {
    if (interrupted) return true;
    if (awaiting_reply) return false;
    if (o.duration > 0) {
      return Clock::now() - start >= std::chrono::duration<double>(o.duration);
    }
    return seq >= o.count;
  };
  loop(sending_done, [&] {
    // Everything that is due (up to a batch), so high --pps does not depend on the poll tick.
    for (int batch = 0; batch < 64; ++batch) {
      auto now = Clock::now();
      if (awaiting_reply && now > reply_deadline) awaiting_reply.reset();
      if (awaiting_reply || now < next_send || sending_done()) return;
      Kind k = kind_for_index(seq);
      if (gen->send(seq, k)) {
        ++generated[k];
        crossings.push_back({seq, k, config::Direction::kInput});
        if (k == Kind::kEchoRequest) {
          // Wait for the reply so the router sees request and reply in a known order.
          awaiting_reply = seq;
          reply_deadline = now + milliseconds(250);
        }
      }
      ++seq;
      next_send += interval;
    }
  });

  // What the collector should get, then wait for it on the wire (or give up after 3 s).
  Expectation expected = expect(plan, crossings);
  const auto drain_start = Clock::now();
  auto last_progress = drain_start;
  std::size_t last_count = 0;
  loop(
      [&] {
        auto now = Clock::now();
        if (tap->copies().size() != last_count) {
          last_count = tap->copies().size();
          last_progress = now;
        }
        bool enough = tap->copies().size() >= expected.mirrored.size();
        return (enough && now - last_progress >= milliseconds(400)) ||
               now - last_progress >= milliseconds(3000);
      },
      [] {});

  // Stop the router first (so nothing more is mirrored), then the collector; both write their
  // statistics on SIGINT.
  int mirror_exit = mirror->stop(SIGINT, milliseconds(5000));
  auto quiet_until = Clock::now() + milliseconds(200);
  loop([&] { return Clock::now() >= quiet_until; }, [] {});
  int capture_exit = capture->stop(SIGINT, milliseconds(5000));
  int display_exit = display ? display->stop(SIGINT, milliseconds(5000)) : 0;
  while (!cap_eof) pump_capture(!o.quiet);
  if (!pending_line.empty()) {
    ++collector_lines;
    if (!o.quiet) fmt::print("{}\n", pending_line);
  }
  handle_replies();
  tap->drain();
  for (int fd : sink->fds()) sink->drain(fd);

  // --- the report -------------------------------------------------------------------------------
  std::vector<std::string> failures;
  Json report = Json::object();
  report.set("tag", Json::string(tag));
  report.set("workdir", Json::string(workdir));
  report.set("interrupted", Json::boolean(interrupted));

  Json jcfg = Json::object();
  jcfg.set("file", Json::string(config_path));
  jcfg.set("source", Json::string(embedded ? "embedded (seed, corrected)" : "--config"));
  jcfg.set("junos_interface", Json::string(kJunosCustomerIf));
  jcfg.set("linux_interface", Json::string(kRouterCustomerIf));
  jcfg.set("binding", Json::string(std::string(direction_name(plan.binding))));
  jcfg.set("filter", Json::string(plan.filter));
  jcfg.set("rate", Json::number(plan.rate));
  jcfg.set("run_length", Json::number(plan.run_length));
  jcfg.set("tunnel", Json::string(plan.tunnel_name));
  jcfg.set("tunnel_source", Json::string(plan.tunnel_source));
  jcfg.set("tunnel_destination", Json::string(plan.tunnel_destination));
  jcfg.set("tunnel_ttl", Json::number(plan.tunnel_ttl));
  if (embedded) jcfg.set("corrections", Json::string(default_config_corrections()));
  report.set("config", std::move(jcfg));

  Json jcheck = Json::object();
  jcheck.set("available", Json::boolean(check.available));
  jcheck.set("exit_code", Json::number(check.exit_code));
  jcheck.set("errors", Json::number(check.errors));
  jcheck.set("warnings", Json::number(check.warnings));
  Json jlines = Json::array();
  for (const auto& l : check.lines) jlines.push(Json::string(l));
  jcheck.set("output", std::move(jlines));
  report.set("check", std::move(jcheck));

  std::uint64_t total_generated = 0;
  Json jgen = Json::object();
  for (auto k : {Kind::kUdpA, Kind::kUdpB, Kind::kEchoRequest, Kind::kOther}) {
    total_generated += generated[k];
  }
  jgen.set("packets", Json::number(static_cast<double>(total_generated)));
  jgen.set("udp_49378", Json::number(static_cast<double>(generated[Kind::kUdpA])));
  jgen.set("udp_49380", Json::number(static_cast<double>(generated[Kind::kUdpB])));
  jgen.set("icmp_echo_request", Json::number(static_cast<double>(generated[Kind::kEchoRequest])));
  jgen.set("other_customer", Json::number(static_cast<double>(generated[Kind::kOther])));
  jgen.set("icmp_echo_reply", Json::number(static_cast<double>(echo_replies)));
  jgen.set("send_errors", Json::number(static_cast<double>(gen->send_errors())));
  jgen.set("destination_udp_received", Json::number(static_cast<double>(sink->received())));
  Json jcross = Json::array();
  for (const auto& c : crossings) {
    Json x = Json::object();
    x.set("seq", Json::number(c.seq));
    x.set("kind", Json::string(std::string(kind_name(c.kind))));
    x.set("direction", Json::string(std::string(direction_name(c.direction))));
    jcross.push(std::move(x));
  }
  jgen.set("crossings", std::move(jcross));
  report.set("generated", std::move(jgen));
  if (gen->send_errors() > 0) {
    failures.push_back(
        fmt::format("{} packets could not be sent ({})", gen->send_errors(), gen->last_error()));
  }
  std::uint64_t udp_sent =
      generated[Kind::kUdpA] + generated[Kind::kUdpB] + generated[Kind::kOther];
  if (sink->received() != udp_sent) {
    failures.push_back(
        fmt::format("the destination received {} of {} UDP packets: the router "
                    "did not forward everything",
                    sink->received(), udp_sent));
  }

  Json jexp = Json::object();
  jexp.set("seen", Json::number(static_cast<double>(expected.crossings_seen)));
  jexp.set("matched", Json::number(static_cast<double>(expected.matched)));
  jexp.set("mirrored", Json::number(static_cast<double>(expected.mirrored.size())));
  Json jseqs = Json::array();
  for (const auto& m : expected.mirrored) jseqs.push(Json::number(m.seq));
  jexp.set("mirrored_seqs", std::move(jseqs));
  report.set("expected", std::move(jexp));

  // Router: mirror's statistics.
  Json jrouter = Json::object();
  jrouter.set("exit_code", Json::number(mirror_exit));
  auto mstats = Json::parse_file(mir_stats);
  std::optional<std::uint64_t> m_seen, m_matched, m_sampled, m_sent, m_errors, m_policed;
  if (mstats) {
    // mirror's layout: interfaces[] (seen, matched, ...) and instances[] (matched, sampled,
    // sent, send_errors, ...); summed, since the lab has one of each. Other layouts: by name.
    auto sum = [&](const char* array, const char* key) -> std::optional<std::uint64_t> {
      const Json* a = mstats->find(array);
      if (a == nullptr || !a->is_array() || a->items().empty()) return std::nullopt;
      std::uint64_t total = 0;
      for (const auto& item : a->items()) {
        auto v = item.u64(key);
        if (!v) return std::nullopt;
        total += *v;
      }
      return total;
    };
    auto either = [](std::optional<std::uint64_t> a, std::optional<std::uint64_t> b) {
      return a ? a : b;
    };
    m_seen = either(sum("interfaces", "seen"), find_counter(*mstats, {"seen", "received"}));
    m_matched = either(sum("instances", "matched"), find_counter(*mstats, {"matched"}));
    m_sampled = either(sum("instances", "sampled"), find_counter(*mstats, {"sampled"}));
    m_sent = either(sum("instances", "sent"), find_counter(*mstats, {"sent"}));
    m_errors = either(sum("instances", "send_errors"), find_counter(*mstats, {"send_errors"}));
    m_policed = either(sum("instances", "policed"), find_counter(*mstats, {"policed"}));
    auto put = [&](const char* name, std::optional<std::uint64_t> v) {
      if (v) jrouter.set(name, Json::number(static_cast<double>(*v)));
    };
    put("seen", m_seen);
    put("matched", m_matched);
    put("sampled", m_sampled);
    put("sent", m_sent);
    put("send_errors", m_errors);
    put("policed", m_policed);
    if (m_policed.value_or(0) > 0) {
      failures.push_back(
          fmt::format("the mirror's policer dropped {} copies (lower --pps: the "
                      "mirror's default policer protects the collector)",
                      *m_policed));
    }
    jrouter.set("stats_json", Json::string(mir_stats));
    auto expect_eq = [&](const char* what, std::optional<std::uint64_t> got, std::uint64_t want) {
      if (!got) {
        failures.push_back(fmt::format("mirror statistics have no '{}' counter", what));
      } else if (*got != want) {
        failures.push_back(fmt::format("router {} {} packets, expected {}", what, *got, want));
      }
    };
    expect_eq("matched", m_matched, expected.matched);
    expect_eq("sampled", m_sampled, expected.mirrored.size());
    expect_eq("sent", m_sent, expected.mirrored.size());
  } else {
    failures.push_back(
        fmt::format("portmirror mirror wrote no statistics: {}", mstats.error().message));
  }
  if (mirror_exit != 0) {
    failures.push_back(
        fmt::format("portmirror mirror exited with status {} (log: {})", mirror_exit, mir_log));
  }
  report.set("router", std::move(jrouter));

  // Wire: what reached the capture server.
  std::vector<Identity> wire_ids;
  std::set<unsigned> ttls;
  std::uint64_t foreign = 0;
  bool any_key = false, any_seq = false;
  for (const auto& c : tap->copies()) {
    if (ip_text(c.outer_src) != kTunnelSource) {
      ++foreign;
      continue;
    }
    wire_ids.push_back(c.inner);
    ttls.insert(c.outer_ttl);
    any_key = any_key || c.gre_key.has_value();
    any_seq = any_seq || c.gre_seq.has_value();
  }
  Comparison wire = compare(expected.mirrored, wire_ids);
  Json jwire = comparison_json(wire);
  Json jttl = Json::array();
  for (unsigned t : ttls) jttl.push(Json::number(t));
  jwire.set("outer_ttl", std::move(jttl));
  jwire.set("gre_key", Json::boolean(any_key));
  jwire.set("gre_sequence", Json::boolean(any_seq));
  report.set("wire", std::move(jwire));
  if (!wire.ok()) {
    failures.push_back(fmt::format("on the wire: {} missing, {} duplicated, {} unexpected copies",
                                   wire.missing, wire.duplicates, wire.unexpected));
  }
  // The tunnel crosses one transit router (192.168.50.1 -> 192.168.51.1) on the way.
  if (plan.tunnel_ttl > 1 && !ttls.empty() &&
      (ttls.size() != 1 || *ttls.begin() != plan.tunnel_ttl - 1)) {
    failures.push_back(fmt::format("outer TTL on arrival should be {} (ttl {} minus one hop)",
                                   plan.tunnel_ttl - 1, plan.tunnel_ttl));
  }

  // Collector: capture's statistics and its file.
  Json jcol = Json::object();
  jcol.set("exit_code", Json::number(capture_exit));
  jcol.set("live_lines", Json::number(static_cast<double>(collector_lines)));
  jcol.set("live_lines_enabled", Json::boolean(cap_print));
  auto cstats = Json::parse_file(cap_stats);
  std::vector<std::string> session_lines;
  if (cstats) {
    jcol.set("stats_json", Json::string(cap_stats));
    auto sessions = find_sessions(*cstats);
    Json jsess = Json::array();
    std::uint64_t session_packets = 0;
    std::uint64_t session_loss = 0;
    for (const Json* s : sessions) {
      Json one = Json::object();
      std::string generic;
      for (const auto& [k, v] : s->members()) {
        if (v.kind() == Json::Kind::kArray || v.kind() == Json::Kind::kObject) continue;
        one.set(k, v);
        if (!k.ends_with("_ns")) {
          generic += fmt::format("{}{}={}", generic.empty() ? "" : " ", k, scalar_text(v));
        }
      }
      const Json* sender = s->find("sender");
      const Json* receiver = s->find("receiver");
      const Json* encap = s->find("encap");
      if (sender != nullptr && receiver != nullptr && encap != nullptr && s->u64("packets")) {
        const Json* id = s->find("id");
        session_lines.push_back(fmt::format(
            "{} {} -> {}{}: {} packets, {} bytes, sequence: lost {}, duplicate {}, reordered {}{}",
            scalar_text(*encap), scalar_text(*sender), scalar_text(*receiver),
            id != nullptr && !scalar_text(*id).empty() ? " id " + scalar_text(*id) : "",
            *s->u64("packets"), s->u64("bytes").value_or(0), s->u64("seq_lost").value_or(0),
            s->u64("seq_duplicate").value_or(0), s->u64("seq_reordered").value_or(0),
            any_seq ? ""
                    : " (this tunnel carries no sequence numbers, as Junos gr- units send "
                      "none: loss is not measurable)"));
      } else {
        session_lines.push_back(generic);
      }
      session_packets += find_counter(*s, {"packets", "received"}).value_or(0);
      session_loss +=
          find_counter(*s, {"lost", "loss", "seq_lost", "sequence_lost", "gaps"}).value_or(0);
      jsess.push(std::move(one));
    }
    jcol.set("sessions", std::move(jsess));
    jcol.set("session_packets", Json::number(static_cast<double>(session_packets)));
    jcol.set("sequence_loss", Json::number(static_cast<double>(session_loss)));
    if (auto rej = find_counter(*cstats, {"rejected"})) {
      jcol.set("rejected", Json::number(static_cast<double>(*rej)));
    }
    if (sessions.empty() && !expected.mirrored.empty()) {
      failures.push_back("capture statistics list no session");
    } else if (session_packets != expected.mirrored.size()) {
      failures.push_back(fmt::format("collector sessions hold {} packets, expected {}",
                                     session_packets, expected.mirrored.size()));
    }
    if (session_loss != 0)
      failures.push_back(fmt::format("collector reports {} lost", session_loss));
  } else {
    failures.push_back(
        fmt::format("portmirror capture wrote no statistics: {}", cstats.error().message));
  }
  if (display_exit != 0) {
    failures.push_back(fmt::format("the display collector exited with status {} (log: {})",
                                   display_exit, disp_log));
  }
  if (capture_exit != 0) {
    failures.push_back(
        fmt::format("portmirror capture exited with status {} (log: {})", capture_exit, cap_log));
  }
  auto file = read_capture_file(pcapng);
  Comparison file_cmp;
  if (file) {
    std::vector<Identity> ids;
    for (const auto& p : *file) ids.push_back(p.inner);
    file_cmp = compare(expected.mirrored, ids);
    jcol.set("pcapng", Json::string(pcapng));
    jcol.set("file", comparison_json(file_cmp));
    if (!file_cmp.ok()) {
      failures.push_back(fmt::format("{}: {} missing, {} duplicated, {} unexpected packets", pcapng,
                                     file_cmp.missing, file_cmp.duplicates, file_cmp.unexpected));
    }
  } else {
    failures.push_back(fmt::format("cannot read the collector's file: {}", file.error().message));
  }
  report.set("collector", std::move(jcol));
  if (interrupted) failures.insert(failures.begin(), "interrupted before the end (Ctrl-C)");

  Json jver = Json::object();
  jver.set("ok", Json::boolean(failures.empty()));
  Json jf = Json::array();
  for (const auto& f : failures) jf.push(Json::string(f));
  jver.set("failures", std::move(jf));
  report.set("verdict", std::move(jver));

  // Close our sockets before the namespaces go (they would keep them alive).
  const std::uint64_t dest_received = sink->received();
  gen.reset();
  sink.reset();
  tap.reset();
  std::vector<std::string> left;
  if (o.keep) {
    teardown.keep();
  } else {
    left = topo.teardown();
    if (!left.empty()) {
      failures.push_back(fmt::format("could not remove namespaces: {}", fmt::join(left, " ")));
    }
  }

  // Text report.
  fmt::print("\n== portmirror lab report ==\n");
  fmt::print("configuration  {} ({}): filter {} bound {} on {} (= {} here)\n", config_path,
             embedded ? "the seed's, corrected" : "--config",
             plan.filter.empty() ? "(none)" : plan.filter, direction_name(plan.binding),
             kJunosCustomerIf, kRouterCustomerIf);
  fmt::print("               rate {}, run-length {}; tunnel {} {} -> {} ttl {}\n", plan.rate,
             plan.run_length, plan.tunnel_name, plan.tunnel_source, plan.tunnel_destination,
             plan.tunnel_ttl);
  if (embedded) {
    fmt::print(
        "               binding: input, because capture-filter matches traffic FROM "
        "192.168.70.0/24,\n               which enters the router on {} (the seed's "
        "`output` would mirror nothing)\n",
        kJunosCustomerIf);
  }
  if (check.available) {
    fmt::print("check          exit {}: {} error(s), {} warning(s)\n", check.exit_code,
               check.errors, check.warnings);
    for (const auto& l : check.lines) {
      if (l.find("warning:") != std::string::npos || l.find("error:") != std::string::npos ||
          l.find("note:") != std::string::npos) {
        fmt::print("               {}\n", l);
      }
    }
  } else {
    fmt::print(
        "check          not available (`portmirror check` is a placeholder in this build)\n");
  }
  fmt::print(
      "generated      {} packets from the customer: {} udp 49378>18252, {} udp 49380>16968, "
      "{} echo request(s), {} from 192.168.71.5 (outside the filter); {} echo reply(s); "
      "destination received {} UDP\n",
      total_generated, generated[Kind::kUdpA], generated[Kind::kUdpB],
      generated[Kind::kEchoRequest], generated[Kind::kOther], echo_replies, dest_received);
  fmt::print("expected       {} crossings in the bound direction, {} matched, {} mirrored\n",
             expected.crossings_seen, expected.matched, expected.mirrored.size());
  auto opt = [](std::optional<std::uint64_t> v) { return v ? std::to_string(*v) : "?"; };
  fmt::print(
      "router         saw {}, matched {}, sampled {}, policed {}, sent {}, send errors {}  ({})\n",
      opt(m_seen), opt(m_matched), opt(m_sampled), opt(m_policed), opt(m_sent), opt(m_errors),
      mir_stats);
  fmt::print("wire           {} GRE packets {} -> {}, outer ttl {} on arrival, {}, {}{}\n",
             wire.total, kTunnelSource, kCaptureServer,
             ttls.empty() ? std::string("-") : fmt::format("{}", fmt::join(ttls, "/")),
             any_key ? "with key" : "no key",
             any_seq ? "with sequence numbers" : "no sequence numbers",
             foreign > 0 ? fmt::format(" ({} from elsewhere)", foreign) : "");
  fmt::print("collector      {} live lines; sessions:\n", collector_lines);
  for (const auto& l : session_lines) fmt::print("               {}\n", l);
  {
    // The collector's own final lines (tcpdump-style totals), as the seed's capture ends.
    std::ifstream in(cap_log);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (line.starts_with("portmirror")) continue;
      fmt::print("{}{}\n", first ? "totals         " : "               ", line);
      first = false;
    }
  }
  fmt::print(
      "pcapng         {}: {} packets, {} expected copies exactly once, {} missing, "
      "{} duplicated, {} unexpected\n",
      pcapng, file_cmp.total, file_cmp.exact, file_cmp.missing, file_cmp.duplicates,
      file_cmp.unexpected);
  if (o.keep) {
    fmt::print(
        "kept           namespaces {}-{{cust,rtr,dst,wan,col}}; explore with e.g.\n"
        "                 ip netns exec {} tcpdump -nni eth0 ip proto 47\n"
        "               remove them with: portmirror lab --cleanup {}\n",
        tag, topo.ns("col"), tag);
  }
  if (failures.empty()) {
    fmt::print(
        "verdict        PASS: the collector received exactly what the filter and sampling "
        "say it should\n");
  } else {
    fmt::print("verdict        FAIL\n");
    for (const auto& f : failures) fmt::print("               - {}\n", f);
  }
  std::fflush(stdout);

  if (!o.report_json.empty()) {
    std::ofstream out(o.report_json);
    out << report.dump(2) << "\n";
    if (!out) {
      fmt::print(stderr, "portmirror lab: cannot write {}\n", o.report_json);
      return to_int(ExitCode::kOutputUnwritable);
    }
  }
  if (interrupted) return kInterruptedExit;
  return failures.empty() ? to_int(ExitCode::kOk) : to_int(ExitCode::kFailure);
}

}  // namespace portmirror::app::lab
