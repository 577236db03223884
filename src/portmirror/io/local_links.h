// The interfaces a collector that is the tunnels' destination can take its traffic from through an
// AF_PACKET ring (capture's receive mode "ring", design.md "Receiving"): up, Ethernet, not
// loopback, not enslaved to a bridge or bond (their master sees the same frames), carrying an IPv4
// address. Rings take IPv4 only (socket_source.h says why); frames of enslaved ports, of other link
// types and IPv6 keep arriving through the sockets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"

namespace portmirror::io {

struct LocalLink {
  std::string name;
  int ifindex = 0;
  std::vector<IpAddress> addresses;  // the interface's IPv4 addresses
};

// With `listen`, only the interface that owns that address (addresses = {listen}); an address no
// eligible interface owns gives an empty list (the sockets then report it).
Result<std::vector<LocalLink>> ring_links(const std::optional<IpAddress>& listen);

}  // namespace portmirror::io
