// Builds and removes the lab's namespaces with iproute2 (`ip`), one command at a time, so that
// every step a user would type is the step the lab runs (and --keep can print them).
#include "apps/portmirror/lab_topology.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "apps/portmirror/lab_process.h"

namespace portmirror::app::lab {

Result<void> Topology::ip(std::vector<std::string> args) {
  args.insert(args.begin(), ip_);
  auto r = run(args);
  std::vector<std::string> shown(args.begin() + 1, args.end());
  shown.insert(shown.begin(), "ip");
  log_.push_back(shell_quote(shown));
  if (!r) return Unexpected<Error>(r.error());
  if (r->exit_code != 0) {
    std::string out = r->output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return make_error(ExitCode::kEnvironment,
                      fmt::format("`{}` failed: {}", shell_quote(shown), out));
  }
  return {};
}

Result<void> Topology::build() {
  for (auto role : kRoles) {
    std::string n = ns(role);
    if (auto r = ip({"netns", "add", n}); !r) return r;
    created_.push_back(n);
    // No IPv6 (router solicitations, DAD) and no reverse-path filtering: the only packets on the
    // wires are the ones the lab sends and the mirror's copies.
    for (const char* key :
         {"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"}) {
      if (auto r = set_sysctl(n, key, "1"); !r) return r;
    }
    for (const char* key : {"net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter"}) {
      if (auto r = set_sysctl(n, key, "0"); !r) return r;
    }
    if (auto r = ip({"-n", n, "link", "set", "lo", "up"}); !r) return r;
  }
  struct Link {
    std::string_view a_role;
    const char* a_if;
    std::string_view b_role;
    const char* b_if;
  };
  const Link links[] = {
      {"cust", "to-router", "rtr", kRouterCustomerIf},
      {"rtr", "to-dest", "dst", "to-router"},
      {"rtr", "to-wan", "wan", "to-router"},
      {"wan", "to-collector", "col", kCollectorIf},
  };
  for (const auto& l : links) {
    if (auto r = ip({"link", "add", l.a_if, "netns", ns(l.a_role), "type", "veth", "peer", "name",
                     l.b_if, "netns", ns(l.b_role)});
        !r) {
      return r;
    }
  }
  struct Addr {
    std::string_view role;
    const char* ifname;
    std::string cidr;
  };
  const Addr addrs[] = {
      {"cust", "to-router", fmt::format("{}/30", kCustomerLink)},
      {"cust", "lo", fmt::format("{}/32", kCustomerHost)},
      {"cust", "lo", fmt::format("{}/32", kOtherCustomerHost)},
      {"rtr", kRouterCustomerIf, fmt::format("{}/30", kRouterCustomerSide)},
      {"rtr", "to-dest", "10.0.45.1/24"},
      {"rtr", "to-wan", fmt::format("{}/24", kTunnelSource)},
      {"dst", "to-router", fmt::format("{}/24", kDestination)},
      {"wan", "to-router", "192.168.50.1/24"},
      {"wan", "to-collector", fmt::format("{}/24", kTransitGateway)},
      {"col", kCollectorIf, fmt::format("{}/24", kCaptureServer)},
  };
  for (const auto& a : addrs) {
    if (auto r = ip({"-n", ns(a.role), "addr", "add", a.cidr, "dev", a.ifname}); !r) return r;
  }
  for (const auto& l : links) {
    if (auto r = ip({"-n", ns(l.a_role), "link", "set", l.a_if, "up"}); !r) return r;
    if (auto r = ip({"-n", ns(l.b_role), "link", "set", l.b_if, "up"}); !r) return r;
  }
  struct Route {
    std::string_view role;
    std::vector<std::string> args;
  };
  const Route routes[] = {
      // The customer's CPE sends everything to the router.
      {"cust", {"default", "via", kRouterCustomerSide}},
      // routing-options static route 192.168.70.0/24 next-hop 192.168.35.2 (seed step 3).
      {"rtr", {"192.168.70.0/24", "via", kCustomerLink}},
      {"rtr", {"192.168.51.0/24", "via", "192.168.50.1"}},
      {"dst", {"default", "via", "10.0.45.1"}},
      // Capture server: no default route (seed: it "must not have a route to the packets that are
      // being captured"), only the route to the originating router (seed step 3).
      {"col", {"192.168.50.10/32", "via", kTransitGateway}},
  };
  for (const auto& r : routes) {
    std::vector<std::string> args{"-n", ns(r.role), "route", "add"};
    args.insert(args.end(), r.args.begin(), r.args.end());
    if (auto res = ip(args); !res) return res;
  }
  for (auto role : {"rtr", "wan"}) {
    if (auto r = set_sysctl(ns(role), "net/ipv4/ip_forward", "1"); !r) return r;
  }
  return {};
}

std::vector<std::string> Topology::teardown() {
  std::vector<std::string> reversed(created_.rbegin(), created_.rend());
  created_.clear();
  return remove_namespaces(ip_, reversed);
}

Result<NetnsScope> NetnsScope::enter(const std::string& name) {
  NetnsScope s;
  s.home_fd_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (s.home_fd_ < 0) {
    return make_error(ExitCode::kEnvironment,
                      fmt::format("network namespaces unavailable (/proc/self/ns/net: {})",
                                  std::strerror(errno)));
  }
  std::string path = "/var/run/netns/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ExitCode::kEnvironment,
                      fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  int rc = setns(fd, CLONE_NEWNET);
  int saved = errno;
  close(fd);
  if (rc != 0) {
    return make_error(errno == EPERM ? ExitCode::kPermission : ExitCode::kEnvironment,
                      fmt::format("setns({}): {}", name, std::strerror(saved)));
  }
  return s;
}

NetnsScope::NetnsScope(NetnsScope&& o) noexcept : home_fd_(std::exchange(o.home_fd_, -1)) {}

NetnsScope::~NetnsScope() {
  if (home_fd_ >= 0) {
    // Returning home cannot fail for a namespace we came from; if it did, every later step
    // would run in the wrong namespace, so stop here.
    if (setns(home_fd_, CLONE_NEWNET) != 0) std::abort();
    close(home_fd_);
  }
}

Result<void> set_sysctl(const std::string& ns, const std::string& key, const std::string& value) {
  auto scope = NetnsScope::enter(ns);
  if (!scope) return Unexpected<Error>(scope.error());
  // /proc/sys/net resolves to the namespace of the task that opens it.
  std::string path = "/proc/sys/" + key;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ExitCode::kEnvironment,
                      fmt::format("cannot open {} in {}: {}", path, ns, std::strerror(errno)));
  }
  ssize_t n = write(fd, value.data(), value.size());
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return make_error(ExitCode::kEnvironment, fmt::format("cannot write {} in {}", path, ns));
  }
  return {};
}

std::vector<std::string> existing_lab_namespaces(const std::string& ip_path,
                                                 const std::string& tag) {
  std::vector<std::string> out;
  auto r = run({ip_path, "netns", "list"});
  if (!r || r->exit_code != 0) return out;
  std::istringstream in(r->output);
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));  // "name (id: 3)"
    for (auto role : kRoles) {
      if (name == tag + "-" + std::string(role)) out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> remove_namespaces(const std::string& ip_path,
                                           const std::vector<std::string>& names) {
  std::vector<std::string> failed;
  for (const auto& n : names) {
    // Only processes the lab started live in its namespaces; end them by PID.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto pids = run({ip_path, "netns", "pids", n});
      if (!pids || pids->exit_code != 0) break;
      std::istringstream in(pids->output);
      std::vector<pid_t> list;
      long p = 0;
      while (in >> p) {
        if (p > 1 && p != getpid()) list.push_back(static_cast<pid_t>(p));
      }
      if (list.empty()) break;
      for (pid_t pid : list) kill(pid, attempt == 0 ? SIGTERM : SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    auto r = run({ip_path, "netns", "del", n});
    if (!r || r->exit_code != 0) failed.push_back(n);
  }
  return failed;
}

}  // namespace portmirror::app::lab
