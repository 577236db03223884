// CaptureReader: every corpus file read frame-for-frame identically to libpcap; other byte order,
// nanosecond files, truncation at every offset, bad inputs with their exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io_test_util.h"
#include "portmirror/io/capture_reader.h"
#include "portmirror/io/capture_writer.h"

namespace portmirror::io {
namespace {

using test::TempDir;

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)),
                                   std::istreambuf_iterator<char>());
}
void spit(const std::string& path, ByteSpan b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()),  // NOLINT: byte I/O
          static_cast<std::streamsize>(b.size()));
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(test::shared_dir() + "/corpus")) {
    auto ext = e.path().extension().string();
    if (ext == ".pcap" || ext == ".pcapng") v.push_back(e.path().string());
  }
  std::sort(v.begin(), v.end());
  return v;
}

void expect_same_as_libpcap(const std::string& path) {
  auto ref = test::read_with_libpcap(path);
  ASSERT_EQ(ref.open_error, "") << path;
  auto r = CaptureReader::open(path);
  ASSERT_TRUE(r.has_value()) << path << ": " << r.error().message;
  Frame f;
  std::size_t i = 0;
  while ((*r)->next(f)) {
    ASSERT_LT(i, ref.packets.size()) << path;
    EXPECT_EQ(std::vector<std::uint8_t>(f.data.begin(), f.data.end()), ref.packets[i])
        << path << " frame " << i;
    EXPECT_EQ(f.ts, ref.ts_ns[i]) << path << " frame " << i;
    EXPECT_EQ(f.orig_len, ref.orig_len[i]) << path << " frame " << i;
    ++i;
  }
  EXPECT_EQ(i, ref.packets.size()) << path;
  EXPECT_FALSE((*r)->truncated()) << (*r)->warning();
  EXPECT_EQ((*r)->frames(), i);
}

TEST(CaptureReader, ReadsEveryCorpusFileLikeLibpcap) {
  auto files = corpus_files();
  ASSERT_EQ(files.size(), 25u) << "corpus not found under " << test::shared_dir();
  for (const auto& f : files) expect_same_as_libpcap(f);
}

TEST(CaptureReader, LinkTypesOfCorpusFiles) {
  auto r = CaptureReader::open(test::shared_dir() + "/corpus/tcpdump_erspan-type-iii-pb-1.pcap");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)->link_type(), LinkType::kRaw);
  auto n = CaptureReader::open(test::shared_dir() + "/corpus/lwerdna_simple_http_tzsp.pcapng");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ((*n)->link_type(), LinkType::kEthernet);
}

// Rewrites a little-endian µs pcap as big-endian (or as nanoseconds) and reads it back.
std::vector<std::uint8_t> convert(const std::vector<std::uint8_t>& le, bool big_endian,
                                  bool nanos) {
  std::vector<std::uint8_t> out = le;
  auto sw32 = [&](std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, out.data() + off, 4);
    if (big_endian) v = __builtin_bswap32(v);
    std::memcpy(out.data() + off, &v, 4);
  };
  auto sw16 = [&](std::size_t off) {
    std::uint16_t v;
    std::memcpy(&v, out.data() + off, 2);
    if (big_endian) v = __builtin_bswap16(v);
    std::memcpy(out.data() + off, &v, 2);
  };
  std::uint32_t caplen_at;
  if (nanos) {
    std::uint32_t m = 0xA1B23C4D;
    std::memcpy(out.data(), &m, 4);
  }
  std::size_t off = 24;
  while (off + 16 <= out.size()) {
    std::memcpy(&caplen_at, le.data() + off + 8, 4);
    if (nanos) {
      std::uint32_t us;
      std::memcpy(&us, out.data() + off + 4, 4);
      us = us * 1000 + 7;
      std::memcpy(out.data() + off + 4, &us, 4);
    }
    for (int k = 0; k < 4; ++k) sw32(off + static_cast<std::size_t>(k) * 4);
    off += 16 + caplen_at;
  }
  sw32(0);
  sw16(4);
  sw16(6);
  sw32(8);
  sw32(12);
  sw32(16);
  sw32(20);
  return out;
}

TEST(CaptureReader, BigEndianAndNanosecondFiles) {
  TempDir dir;
  auto le = slurp(test::shared_dir() + "/corpus/zeek_erspanII.pcap");
  ASSERT_EQ(le[0], 0xD4);  // little-endian µs as stored
  for (bool be : {false, true}) {
    for (bool ns : {false, true}) {
      std::string p =
          dir.file(std::string("c") + (be ? "be" : "le") + (ns ? "ns" : "us") + ".pcap");
      auto bytes = convert(le, be, ns);
      spit(p, bytes);
      expect_same_as_libpcap(p);
      auto r = CaptureReader::open(p);
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ((*r)->nanosecond_file(), ns);
      Frame f;
      ASSERT_TRUE((*r)->next(f));
      EXPECT_EQ(f.ts % 1000, ns ? 7 : 0);
    }
  }
}

// Cut a file at every byte offset: never a crash, every complete record kept, the rest flagged.
TEST(CaptureReader, TruncationAtEveryOffset) {
  auto full = slurp(test::shared_dir() + "/corpus/zeek_erspanIII.pcap");
  // Record boundaries of the intact file.
  std::vector<std::size_t> ends;
  std::size_t off = 24;
  while (off < full.size()) {
    std::uint32_t cap;
    std::memcpy(&cap, full.data() + off + 8, 4);
    off += 16 + cap;
    ends.push_back(off);
  }
  ASSERT_EQ(off, full.size());
  for (std::size_t cut = 0; cut <= full.size(); ++cut) {
    ByteSpan part(full.data(), cut);
    auto r = CaptureReader::open_memory(part);
    if (cut < 24) {
      ASSERT_FALSE(r.has_value()) << cut;
      EXPECT_EQ(r.error().code, ExitCode::kInputUnreadable);
      continue;
    }
    ASSERT_TRUE(r.has_value()) << cut;
    Frame f;
    std::size_t n = 0;
    while ((*r)->next(f)) ++n;
    std::size_t complete = static_cast<std::size_t>(
        std::count_if(ends.begin(), ends.end(), [&](std::size_t e) { return e <= cut; }));
    EXPECT_EQ(n, complete) << "cut at " << cut;
    bool at_boundary = cut == 24 || std::find(ends.begin(), ends.end(), cut) != ends.end();
    EXPECT_EQ((*r)->truncated(), !at_boundary) << "cut at " << cut;
    if (!at_boundary) {
      EXPECT_NE((*r)->warning().find("cut short"), std::string::npos) << (*r)->warning();
    }
  }
}

TEST(CaptureReader, TruncatedPcapngKeepsWhatWasRead) {
  auto full = slurp(test::shared_dir() + "/corpus/lwerdna_simple_http_tzsp.pcapng");
  ByteSpan part(full.data(), full.size() / 2);
  auto r = CaptureReader::open_memory(part);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Frame f;
  std::size_t n = 0;
  while ((*r)->next(f)) ++n;
  EXPECT_GE(n, 1u);
  EXPECT_LT(n, 5u);
  EXPECT_TRUE((*r)->truncated());
  EXPECT_FALSE((*r)->warning().empty());
}

TEST(CaptureReader, BadInputs) {
  TempDir dir;
  auto missing = CaptureReader::open(dir.file("missing.pcap"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ExitCode::kInputUnreadable);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);

  std::string text = dir.file("text.pcap");
  std::string junk(100, 'x');
  spit(text, ByteSpan(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));  // NOLINT
  auto t = CaptureReader::open(text);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ExitCode::kInputUnreadable);

  auto d = CaptureReader::open(dir.path());
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ExitCode::kInputUnreadable);

  // A pcap header with LINKTYPE_IEEE802_11 (105).
  auto bytes = slurp(test::shared_dir() + "/corpus/zeek_erspanI.pcap");
  bytes[20] = 105;
  std::string wifi = dir.file("wifi.pcap");
  spit(wifi, bytes);
  auto w = CaptureReader::open(wifi);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ExitCode::kUnknownLinkType);
  EXPECT_NE(w.error().message.find("105"), std::string::npos);
}

TEST(CaptureReader, ReadsStandardInputThroughLibpcap) {
  // A FIFO is not a regular file: streamed through libpcap.
  TempDir dir;
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string src = test::shared_dir() + "/corpus/zeek_vxlan.pcap";
  pid_t pid = fork();
  if (pid == 0) {
    execlp("sh", "sh", "-c", ("cat " + src + " > " + fifo).c_str(), nullptr);
    _exit(1);
  }
  auto r = CaptureReader::open(fifo);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Frame f;
  std::size_t n = 0;
  while ((*r)->next(f)) ++n;
  EXPECT_EQ(n, 10u);
  int st;
  waitpid(pid, &st, 0);
}

}  // namespace
}  // namespace portmirror::io
