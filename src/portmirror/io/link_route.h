// Where a mirror copy toward one collector leaves the host, at the link layer: egress interface,
// source address, next hop and the next hop's MAC address, as the kernel's FIB and neighbour
// table say (rtnetlink RTM_GETROUTE = `ip route get`, RTM_GETNEIGH = `ip neigh get`). The AF_PACKET
// sender (packet_sender.h) writes Ethernet frames from these facts and refreshes them about once
// a second, off the per-packet path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/wire/ethernet.h"

namespace portmirror::io {

struct LinkRoute {
  int ifindex = 0;
  std::string ifname;
  IpAddress source;          // preferred source of the route (or --from)
  IpAddress next_hop;        // the gateway, or the destination itself when on-link
  std::uint32_t mtu = 1500;  // the smaller of the device MTU and a route MTU metric
  wire::MacAddress local_mac{};
  wire::MacAddress next_hop_mac{};
  bool neighbour_valid = false;  // next_hop_mac holds a usable (reachable/stale/permanent) entry
  bool neighbour_stale = false;  // valid but unconfirmed: worth a probe so the kernel revalidates

  bool same_link(const LinkRoute& o) const noexcept {
    return ifindex == o.ifindex && source == o.source && next_hop == o.next_hop && mtu == o.mtu &&
           local_mac == o.local_mac && next_hop_mac == o.next_hop_mac &&
           neighbour_valid == o.neighbour_valid;
  }
};

// Looks up the route toward `destination` (from `source` when given) and the neighbour entry of its
// next hop. Errors (kConfig) say why an AF_PACKET sender cannot be used: no route, a local or
// non-unicast route, a non-Ethernet egress device. An unresolved neighbour is not an error
// (neighbour_valid false).
Result<LinkRoute> lookup_link_route(const IpAddress& destination,
                                    const std::optional<IpAddress>& source);

// Asks the kernel to resolve (ARP / ND) or revalidate the next hop of `route`: a zero-length UDP
// datagram to its discard port (9) through a socket bound to the egress device. Best effort.
void probe_neighbour(const LinkRoute& route) noexcept;

// lookup_link_route, probing the neighbour and polling until it is resolved or `wait_ms` passed.
Result<LinkRoute> resolve_link_route(const IpAddress& destination,
                                     const std::optional<IpAddress>& source, int wait_ms);

}  // namespace portmirror::io
