// Helpers for the io tests: synthetic inner packets, sessions, temp dirs, subprocesses, libpcap
// reads.
#pragma once

#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/collector/session.h"
#include "portmirror/packet/decapsulated.h"
#include "support/shell.h"

namespace portmirror::io::test {

inline std::string shared_dir() {
  if (const char* e = std::getenv("PM_SHARED_DIR")) return e;
  return PM_SHARED_DIR;
}

// A fresh directory under /tmp, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "pmio-XXXXXX").string();
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    char* d = mkdtemp(buf.data());
    path_ = d != nullptr ? d : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  std::vector<std::string> list() const {
    std::vector<std::string> v;
    for (const auto& e : std::filesystem::directory_iterator(path_)) v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    return v;
  }

 private:
  std::string path_;
};

using portmirror::testing::run;

inline std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// An IPv4/ICMP echo packet whose ICMP sequence field carries `seq`, total length `len` (>= 28).
inline std::vector<std::uint8_t> ipv4_icmp(std::uint16_t seq, std::size_t len = 64,
                                           std::uint32_t src = 0xC6120001,
                                           std::uint32_t dst = 0xC6120002) {
  std::vector<std::uint8_t> p(len, 0xAB);
  MutableByteSpan b(p);
  store_u8(b, 0, 0x45);
  store_u8(b, 1, 0);
  store_be16(b, 2, static_cast<std::uint16_t>(len));
  store_be16(b, 4, seq);
  store_be16(b, 6, 0);
  store_u8(b, 8, 64);
  store_u8(b, 9, 1);  // ICMP
  store_be16(b, 10, 0);
  store_be32(b, 12, src);
  store_be32(b, 16, dst);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += load_be16(b, i);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  store_be16(b, 10, static_cast<std::uint16_t>(~sum));
  store_u8(b, 20, 8);  // echo request
  store_u8(b, 21, 0);
  store_be16(b, 22, 0);
  store_be16(b, 24, 0x1234);
  store_be16(b, 26, seq);
  return p;
}

// The same packet behind an Ethernet header (optionally 802.1Q tagged).
inline std::vector<std::uint8_t> ethernet(const std::vector<std::uint8_t>& ip,
                                          std::uint16_t vlan = 0) {
  std::vector<std::uint8_t> f = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa};
  if (vlan != 0) {
    f.push_back(0x81);
    f.push_back(0x00);
    f.push_back(static_cast<std::uint8_t>(vlan >> 8));
    f.push_back(static_cast<std::uint8_t>(vlan));
  }
  f.push_back(0x08);
  f.push_back(0x00);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

inline collector::Session make_session(std::uint32_t index, Encap encap, std::uint32_t sender,
                                       std::uint32_t receiver, bool has_id, std::uint32_t id) {
  collector::Session s;
  s.index = index;
  s.key.sender = IpAddress::v4(sender);
  s.key.receiver = IpAddress::v4(receiver);
  s.key.encap = encap;
  s.key.has_id = has_id;
  s.key.id = id;
  return s;
}

inline Decapsulated decapsulated(const collector::Session& s,
                                 const std::vector<std::uint8_t>& inner, LinkType link) {
  Decapsulated d;
  d.tunnel.encap = s.key.encap;
  d.tunnel.outer_src = s.key.sender;
  d.tunnel.outer_dst = s.key.receiver;
  d.tunnel.has_id = s.key.has_id;
  d.tunnel.id = s.key.id;
  d.inner = ByteSpan(inner);
  d.inner_link = link;
  d.inner_orig_len = static_cast<std::uint32_t>(inner.size());
  return d;
}

struct ReadBack {
  int dlt = -1;
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<long long> ts_ns;
  std::vector<std::uint32_t> orig_len;
  bool error = false;  // pcap_next_ex reported an error (truncated/corrupt)
  std::string open_error;
};

// Reads a capture with libpcap (nanosecond precision).
inline ReadBack read_with_libpcap(const std::string& path) {
  ReadBack r;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    r.open_error = err;
    return r;
  }
  r.dlt = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    r.packets.emplace_back(d, d + h->caplen);
    r.ts_ns.push_back(static_cast<long long>(h->ts.tv_sec) * 1000000000LL + h->ts.tv_usec);
    r.orig_len.push_back(h->len);
  }
  r.error = rc == PCAP_ERROR;
  pcap_close(p);
  return r;
}

}  // namespace portmirror::io::test

namespace portmirror::io::test {

struct IsbInfo {
  std::uint32_t interface_id = 0;
  std::uint64_t ifrecv = 0, ifdrop = 0;
  bool has_recv = false, has_drop = false;
};

// Walks a pcapng file we wrote (host byte order): every block's lengths must agree; returns the
// interface link types and the ISBs. `ok` false if the block structure is broken.
struct PcapngBlocks {
  bool ok = true;
  std::vector<std::uint16_t> idb_links;
  std::vector<IsbInfo> isbs;
  std::size_t epbs = 0;
};
inline PcapngBlocks walk_pcapng(const std::string& path) {
  PcapngBlocks r;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    r.ok = false;
    return r;
  }
  std::vector<std::uint8_t> b;
  std::uint8_t buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) b.insert(b.end(), buf, buf + n);
  std::fclose(f);
  ByteSpan all(b);
  std::size_t off = 0;
  while (off + 12 <= b.size()) {
    auto type = load_host<std::uint32_t>(all, off);
    auto len = load_host<std::uint32_t>(all, off + 4);
    if (len < 12 || len % 4 != 0 || off + len > b.size() ||
        load_host<std::uint32_t>(all, off + len - 4) != len) {
      r.ok = false;
      return r;
    }
    if (type == 1) r.idb_links.push_back(load_host<std::uint16_t>(all, off + 8));
    if (type == 6) ++r.epbs;
    if (type == 5) {
      IsbInfo isb;
      isb.interface_id = load_host<std::uint32_t>(all, off + 8);
      std::size_t o = off + 20;
      while (o + 4 <= off + len - 4) {
        auto code = load_host<std::uint16_t>(all, o);
        auto olen = load_host<std::uint16_t>(all, o + 2);
        if (code == 0) break;
        if (code == 4) isb.ifrecv = load_host<std::uint64_t>(all, o + 4), isb.has_recv = true;
        if (code == 5) isb.ifdrop = load_host<std::uint64_t>(all, o + 4), isb.has_drop = true;
        o += 4 + ((olen + 3u) & ~3u);
      }
      r.isbs.push_back(isb);
    }
    off += len;
  }
  r.ok = r.ok && off == b.size();
  return r;
}

}  // namespace portmirror::io::test
