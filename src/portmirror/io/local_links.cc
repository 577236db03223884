#include "portmirror/io/local_links.h"

#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace portmirror::io {
namespace {

struct Candidate {
  std::string name;
  unsigned flags = 0;
  int hatype = -1;
  std::vector<IpAddress> addresses;  // IPv4
};

// A bridge port or bond slave has a `master` link in sysfs.
bool has_master(const std::string& name) {
  std::string p = "/sys/class/net/" + name + "/master";
  return ::access(p.c_str(), F_OK) == 0;
}

}  // namespace

Result<std::vector<LocalLink>> ring_links(const std::optional<IpAddress>& listen) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return make_error(ExitCode::kFailure, std::string("getifaddrs: ") + std::strerror(errno));
  }
  std::vector<Candidate> c;
  auto find = [&](const char* name) -> Candidate& {
    for (auto& x : c) {
      if (x.name == name) return x;
    }
    c.push_back(Candidate{name, 0, -1, {}});
    return c.back();
  };
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_name == nullptr || i->ifa_addr == nullptr) continue;
    Candidate& k = find(i->ifa_name);
    k.flags = i->ifa_flags;
    const int fam = i->ifa_addr->sa_family;
    if (fam == AF_PACKET) {
      sockaddr_ll sll{};
      std::memcpy(&sll, i->ifa_addr, sizeof sll);
      k.hatype = sll.sll_hatype;
    } else if (fam == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, i->ifa_addr, sizeof sin);
      k.addresses.push_back(
          IpAddress::v4(ByteSpan(reinterpret_cast<const std::uint8_t*>(&sin.sin_addr), 4)));
    }
  }
  freeifaddrs(list);

  std::vector<LocalLink> out;
  for (auto& k : c) {
    if ((k.flags & IFF_UP) == 0 || (k.flags & IFF_LOOPBACK) != 0 || (k.flags & IFF_SLAVE) != 0) {
      continue;
    }
    if (k.hatype != ARPHRD_ETHER || k.addresses.empty() || has_master(k.name)) continue;
    const unsigned idx = if_nametoindex(k.name.c_str());
    if (idx == 0) continue;
    if (listen) {
      if (std::find(k.addresses.begin(), k.addresses.end(), *listen) == k.addresses.end()) continue;
      out.push_back(LocalLink{k.name, static_cast<int>(idx), {*listen}});
      break;
    }
    out.push_back(LocalLink{k.name, static_cast<int>(idx), std::move(k.addresses)});
  }
  return out;
}

}  // namespace portmirror::io
