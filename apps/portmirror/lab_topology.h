// The lab's network: five namespaces joined by veth pairs, addressed as in the seed.
//
//   customer (cust)          router (rtr)                       transit (wan)        capture server
//   (col) 192.168.70.5/32 lo       t1-1-0-3-3 192.168.35.1/30          192.168.50.1/24      eth0
//   192.168.51.20/24 to-router 192.168.35.2 ─ t1-1-0-3-3   to-wan 192.168.50.10 ─ to-router route
//   192.168.50.10/32
//                            to-dest 10.0.45.1/24                to-collector ─────── via
//                            192.168.51.1
//                              │                                 192.168.51.1/24      (no default
//                              route)
//                            destination (dst) to-router 10.0.45.8/24
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "portmirror/base/error.h"

namespace portmirror::app::lab {

// Roles, in creation order. Each becomes namespace "<tag>-<role>".
inline constexpr std::string_view kRoles[] = {"cust", "rtr", "dst", "wan", "col"};

// Interface names inside the namespaces (Linux names cannot contain '/' or ':').
inline constexpr const char* kRouterCustomerIf = "t1-1-0-3-3";  // Junos t1-1/0/3:3
inline constexpr const char* kJunosCustomerIf = "t1-1/0/3:3";
inline constexpr const char* kCollectorIf = "eth0";

// Addresses of the seed (shared/seed/remote-port-mirror.md).
inline constexpr const char* kCustomerHost = "192.168.70.5";
inline constexpr const char* kOtherCustomerHost = "192.168.71.5";  // outside capture-filter
inline constexpr const char* kCustomerLink = "192.168.35.2";
inline constexpr const char* kRouterCustomerSide = "192.168.35.1";
inline constexpr const char* kDestination = "10.0.45.8";
inline constexpr const char* kTunnelSource = "192.168.50.10";
inline constexpr const char* kTransitGateway = "192.168.51.1";
inline constexpr const char* kCaptureServer = "192.168.51.20";

class Topology {
 public:
  Topology(std::string ip_path, std::string tag) : ip_(std::move(ip_path)), tag_(std::move(tag)) {}
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const std::string& tag() const noexcept { return tag_; }
  std::string ns(std::string_view role) const { return tag_ + "-" + std::string(role); }

  // Creates everything; on failure, what was created stays recorded for teardown().
  Result<void> build();

  // Kills any process still inside the namespaces (only ours can be there) and deletes them.
  // Safe to call twice. Returns the namespaces it could not delete.
  std::vector<std::string> teardown();

  // The shell commands that build the same network (for docs and --keep).
  const std::vector<std::string>& commands() const noexcept { return log_; }

 private:
  Result<void> ip(std::vector<std::string> args);

  std::string ip_;
  std::string tag_;
  std::vector<std::string> created_;
  std::vector<std::string> log_;
};

// Enters namespace `name` for the calling thread and returns there on destruction, so sockets
// created in between belong to that namespace (setns(2), CLONE_NEWNET).
class NetnsScope {
 public:
  static Result<NetnsScope> enter(const std::string& name);
  NetnsScope(NetnsScope&& o) noexcept;
  NetnsScope& operator=(NetnsScope&&) = delete;
  NetnsScope(const NetnsScope&) = delete;
  ~NetnsScope();

 private:
  NetnsScope() = default;
  int home_fd_ = -1;
};

// Writes a sysctl inside namespace `ns` ("net/ipv4/ip_forward" = "1").
Result<void> set_sysctl(const std::string& ns, const std::string& key, const std::string& value);

// Namespaces "<tag>-<role>" that currently exist.
std::vector<std::string> existing_lab_namespaces(const std::string& ip_path,
                                                 const std::string& tag);

// Kills the processes in the given namespaces and deletes them (for `--cleanup TAG`).
std::vector<std::string> remove_namespaces(const std::string& ip_path,
                                           const std::vector<std::string>& names);

}  // namespace portmirror::app::lab
