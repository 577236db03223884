// CaptureReader's streaming mode (read() into a reused buffer) against the mmap'ed mode and
// libpcap on a file many refill chunks long, with records straddling every chunk boundary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "io_test_util.h"
#include "portmirror/io/capture_reader.h"

namespace portmirror::io {
namespace {

// A pcap (µs, native order) of `n` records whose sizes cycle through odd lengths up to ~9 KB, so
// that record boundaries fall at every alignment relative to the 4 MiB refill chunk.
std::string write_big_pcap(const std::string& path, int n) {
  std::ofstream f(path, std::ios::binary);
  auto put32 = [&](std::uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };  // NOLINT
  auto put16 = [&](std::uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };  // NOLINT
  put32(0xA1B2C3D4);
  put16(2);
  put16(4);
  put32(0);
  put32(0);
  put32(262144);
  put32(1);
  std::vector<char> payload(9100);
  for (int i = 0; i < n; ++i) {
    auto len = static_cast<std::uint32_t>(60 + (i * 7919) % 9000);
    for (std::uint32_t k = 0; k < len; ++k) {
      payload[k] = static_cast<char>((static_cast<std::uint32_t>(i) + k) & 0xFFu);
    }
    put32(static_cast<std::uint32_t>(i));
    put32(static_cast<std::uint32_t>(i % 1000000));
    put32(len);
    put32(len + 4);
    f.write(payload.data(), len);
  }
  return path;
}

struct Seen {
  std::uint32_t caplen;
  std::uint32_t orig;
  TimestampNs ts;
  std::uint32_t checksum;
};

std::vector<Seen> read_all(const std::string& path, bool mmap_mode) {
  if (mmap_mode) {
    setenv("PM_READER", "mmap", 1);
  } else {
    unsetenv("PM_READER");
  }
  auto r = CaptureReader::open(path);
  unsetenv("PM_READER");
  EXPECT_TRUE(r.has_value());
  std::vector<Seen> v;
  if (!r) return v;
  Frame f;
  while ((*r)->next(f)) {
    std::uint32_t sum = 0;
    for (auto b : f.data) sum = sum * 31 + b;
    v.push_back({static_cast<std::uint32_t>(f.data.size()), f.orig_len, f.ts, sum});
  }
  EXPECT_FALSE((*r)->truncated());
  return v;
}

TEST(CaptureReaderStream, ManyChunksMatchMmapAndLibpcap) {
  test::TempDir dir;
  auto path = write_big_pcap(dir.file("big.pcap"), 4000);  // ~18 MB, > 4 refill chunks
  auto streamed = read_all(path, false);
  auto mapped = read_all(path, true);
  ASSERT_EQ(streamed.size(), 4000u);
  ASSERT_EQ(mapped.size(), streamed.size());
  for (std::size_t i = 0; i < streamed.size(); ++i) {
    ASSERT_EQ(streamed[i].caplen, mapped[i].caplen) << i;
    ASSERT_EQ(streamed[i].orig, mapped[i].orig) << i;
    ASSERT_EQ(streamed[i].ts, mapped[i].ts) << i;
    ASSERT_EQ(streamed[i].checksum, mapped[i].checksum) << i;
  }
  auto ref = test::read_with_libpcap(path);
  ASSERT_EQ(ref.packets.size(), streamed.size());
  for (std::size_t i = 0; i < streamed.size(); i += 97) {
    ASSERT_EQ(ref.packets[i].size(), streamed[i].caplen) << i;
    ASSERT_EQ(ref.orig_len[i], streamed[i].orig) << i;
  }
}

}  // namespace
}  // namespace portmirror::io
