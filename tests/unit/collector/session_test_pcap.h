// Minimal classic-pcap reader for the session tests (µs or ns magic, either byte order). Test code
// only: the product's reader lives in io/.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/base/time.h"

namespace portmirror::test {

struct PcapRecord {
  TimestampNs ts = 0;
  std::uint32_t orig_len = 0;
  std::vector<std::uint8_t> data;
};

struct PcapFile {
  std::uint32_t linktype = 0;
  std::vector<PcapRecord> records;
};

inline std::string shared_dir() {
  if (const char* env = std::getenv("PM_SHARED_DIR")) return env;
  return PM_SHARED_DIR;
}

inline PcapFile read_pcap(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
  PcapFile out;
  if (b.size() < 24) return out;
  const ByteSpan all(b);
  const std::uint32_t magic_be = load_be32(all, 0);
  const bool swapped = magic_be == 0xD4C3B2A1u || magic_be == 0x4D3CB2A1u;
  const bool nanos = magic_be == 0xA1B23C4Du || magic_be == 0x4D3CB2A1u;
  auto u32 = [&](std::size_t off) {
    const std::uint32_t v = load_be32(all, off);
    return swapped ? __builtin_bswap32(v) : v;
  };
  out.linktype = u32(20) & 0x0FFFFFFFu;
  for (std::size_t off = 24; off + 16 <= b.size();) {
    const std::uint32_t caplen = u32(off + 8);
    if (off + 16 + caplen > b.size()) break;
    PcapRecord r;
    r.ts = TimestampNs{u32(off)} * kNsPerSec + TimestampNs{u32(off + 4)} * (nanos ? 1 : 1000);
    r.orig_len = u32(off + 12);
    r.data.assign(b.begin() + static_cast<std::ptrdiff_t>(off + 16),
                  b.begin() + static_cast<std::ptrdiff_t>(off + 16 + caplen));
    out.records.push_back(std::move(r));
    off += 16 + caplen;
  }
  return out;
}

}  // namespace portmirror::test
