// pcap / pcapng writers: files re-read by libpcap in-process and by tcpdump / tshark.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>

#include "io_test_util.h"
#include "portmirror/io/capture_writer.h"
#include "portmirror/io/pcap_writer.h"
#include "portmirror/io/pcapng_writer.h"

namespace portmirror::io {
namespace {

using test::TempDir;

constexpr std::uint32_t kA = 0x0A000001;  // 10.0.0.1
constexpr std::uint32_t kB = 0x0A000002;
constexpr std::uint32_t kC = 0x0A000003;
constexpr TimestampNs kT0 = 1'700'000'000LL * kNsPerSec + 123'456'789;

std::unique_ptr<CaptureWriter> open_or_die(const std::string& path, WriterOptions o) {
  auto w = open_capture_writer(path, o);
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message);
  return w ? std::move(*w) : nullptr;
}

TEST(PcapWriter, MicrosecondFileReadsBackWithSynthesizedEthernet) {
  TempDir dir;
  std::string path = dir.file("a.pcap");
  auto s = test::make_session(0, Encap::kGre, kA, kB, false, 0);
  WriterOptions o;
  o.format = FileFormat::kPcap;
  auto w = open_or_die(path, o);
  auto ip = test::ipv4_icmp(7, 100);
  auto eth = test::ethernet(test::ipv4_icmp(8, 60));
  ASSERT_TRUE(w->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0));
  ASSERT_TRUE(w->write(s, test::decapsulated(s, eth, LinkType::kEthernet), kT0 + 1000));
  ASSERT_TRUE(w->close());

  auto r = test::read_with_libpcap(path);
  ASSERT_EQ(r.open_error, "");
  EXPECT_EQ(r.dlt, DLT_EN10MB);
  ASSERT_EQ(r.packets.size(), 2u);
  EXPECT_FALSE(r.error);
  ASSERT_EQ(r.packets[0].size(), 14 + ip.size());
  EXPECT_EQ(0, std::memcmp(r.packets[0].data(), kSynthDstMac.data(), 6));
  EXPECT_EQ(0, std::memcmp(r.packets[0].data() + 6, kSynthSrcMac.data(), 6));
  EXPECT_EQ(r.packets[0][12], 0x08);
  EXPECT_EQ(r.packets[0][13], 0x00);
  EXPECT_EQ(0, std::memcmp(r.packets[0].data() + 14, ip.data(), ip.size()));
  EXPECT_EQ(r.packets[1], eth);
  EXPECT_EQ(r.ts_ns[0], kT0 - 789);  // microsecond file: ns truncated
  EXPECT_EQ(r.orig_len[0], 14 + ip.size());

  std::string out;
  ASSERT_EQ(test::run("tcpdump -nn -r " + path, &out), 0);
  EXPECT_EQ(test::count_lines(out), 2u);
  EXPECT_NE(out.find("ICMP echo request"), std::string::npos) << out;
}

TEST(PcapWriter, NanosecondFileKeepsNanoseconds) {
  TempDir dir;
  std::string path = dir.file("ns.pcap");
  auto s = test::make_session(0, Encap::kVxlan, kA, kB, true, 42);
  WriterOptions o;
  o.format = FileFormat::kPcapNs;
  auto w = open_or_die(path, o);
  auto eth = test::ethernet(test::ipv4_icmp(1));
  ASSERT_TRUE(w->write(s, test::decapsulated(s, eth, LinkType::kEthernet), kT0));
  ASSERT_TRUE(w->close());
  auto r = test::read_with_libpcap(path);
  ASSERT_EQ(r.packets.size(), 1u);
  EXPECT_EQ(r.ts_ns[0], kT0);
  std::ifstream f(path, std::ios::binary);
  std::uint32_t magic = 0;
  f.read(reinterpret_cast<char*>(&magic), 4);  // NOLINT: test reads the raw header
  EXPECT_EQ(magic, 0xA1B23C4Du);
}

TEST(PcapWriter, NativeKeepsRawAndSkipsOtherLinkTypes) {
  TempDir dir;
  std::string path = dir.file("raw.pcap");
  auto s = test::make_session(0, Encap::kGre, kA, kB, false, 0);
  WriterOptions o;
  o.format = FileFormat::kPcap;
  o.link_policy = LinkTypePolicy::kNative;
  auto w = open_or_die(path, o);
  auto ip = test::ipv4_icmp(1);
  auto eth = test::ethernet(ip);
  ASSERT_TRUE(w->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0));
  ASSERT_TRUE(w->write(s, test::decapsulated(s, eth, LinkType::kEthernet), kT0));
  ASSERT_TRUE(w->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0));
  EXPECT_EQ(w->skipped(), 1u);
  ASSERT_TRUE(w->close());
  auto r = test::read_with_libpcap(path);
  EXPECT_EQ(r.dlt, DLT_RAW);
  ASSERT_EQ(r.packets.size(), 2u);
  EXPECT_EQ(r.packets[0], ip);
}

TEST(PcapWriter, EmptyNativeFileIsStillValid) {
  TempDir dir;
  std::string path = dir.file("empty.pcap");
  WriterOptions o;
  o.format = FileFormat::kPcap;
  o.link_policy = LinkTypePolicy::kNative;
  auto w = open_or_die(path, o);
  ASSERT_TRUE(w->close());
  auto r = test::read_with_libpcap(path);
  EXPECT_EQ(r.open_error, "");
  EXPECT_EQ(r.packets.size(), 0u);
}

TEST(PcapWriter, SnaplenCutsButKeepsOriginalLength) {
  TempDir dir;
  std::string path = dir.file("snap.pcap");
  auto s = test::make_session(0, Encap::kGre, kA, kB, false, 0);
  WriterOptions o;
  o.format = FileFormat::kPcap;
  o.snaplen = 64;
  auto w = open_or_die(path, o);
  auto ip = test::ipv4_icmp(1, 1000);
  ASSERT_TRUE(w->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0));
  ASSERT_TRUE(w->close());
  auto r = test::read_with_libpcap(path);
  ASSERT_EQ(r.packets.size(), 1u);
  EXPECT_EQ(r.packets[0].size(), 64u);
  EXPECT_EQ(r.orig_len[0], 1014u);
}

// Several sessions, each its own Ethernet interface: libpcap (tcpdump) and tshark read it, and the
// interface names / descriptions / comments / direction flags / ISBs carry the metadata.
TEST(PcapngWriter, SessionsBecomeInterfacesReadableByTcpdumpAndTshark) {
  TempDir dir;
  std::string path = dir.file("s.pcapng");
  auto s1 = test::make_session(0, Encap::kErspan2, kA, kB, true, 341);
  auto s2 = test::make_session(1, Encap::kErspan3, kC, kB, true, 7);
  auto s3 = test::make_session(2, Encap::kGre, kA, kB, false, 0);
  WriterOptions o;
  o.filter_text = "icmp";
  auto w = open_or_die(path, o);
  std::vector<std::vector<std::uint8_t>> keep;
  for (int i = 0; i < 30; ++i) {
    const collector::Session& s = i % 3 == 0 ? s1 : (i % 3 == 1 ? s2 : s3);
    auto ip = test::ipv4_icmp(static_cast<std::uint16_t>(i), 60 + static_cast<std::size_t>(i));
    keep.push_back(s.key.encap == Encap::kGre ? ip : test::ethernet(ip));
    Decapsulated d = test::decapsulated(
        s, keep.back(), s.key.encap == Encap::kGre ? LinkType::kRaw : LinkType::kEthernet);
    if (s.key.encap == Encap::kErspan2) {
      d.tunnel.erspan.vlan = 100;
      d.tunnel.erspan.truncated = i == 3;
    }
    if (s.key.encap == Encap::kErspan3) d.tunnel.erspan.direction_egress = (i % 2) == 0;
    ASSERT_TRUE(w->write(s, d, kT0 + i * 1000));
  }
  // Session counters as the pipeline would have them at close.
  s1.packets = 10;
  s1.first_seen = kT0;
  s1.last_seen = kT0 + 27000;
  ASSERT_TRUE(w->close());

  auto r = test::read_with_libpcap(path);
  ASSERT_EQ(r.open_error, "");
  EXPECT_EQ(r.dlt, DLT_EN10MB);
  ASSERT_EQ(r.packets.size(), 30u);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.ts_ns[5], kT0 + 5000);  // if_tsresol 9

  std::string out;
  ASSERT_EQ(test::run("tcpdump -nn -r " + path, &out), 0);
  EXPECT_EQ(test::count_lines(out), 30u);

  ASSERT_EQ(test::run("tshark -r " + path +
                          " -T fields -E separator='|' -e frame.interface_name "
                          "-e frame.interface_description -e frame.comment "
                          "-e frame.packet_flags_direction -e icmp.seq",
                      &out),
            0);
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t nl = out.find('\n', pos);
    lines.push_back(out.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), 30u) << out;
  EXPECT_EQ(lines[0].rfind("erspan2:10.0.0.1>10.0.0.2:341|ERSPAN Type II, session ID 341", 0), 0u)
      << lines[0];
  EXPECT_NE(lines[3].find("truncated-by-sender(T) vlan 100"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[1].rfind("erspan3:10.0.0.3>10.0.0.2:7|", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("|0x0000000"), std::string::npos) << lines[1];  // direction present
  EXPECT_EQ(lines[2].rfind("gre:10.0.0.1>10.0.0.2|", 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find("synthesized Ethernet"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[29].substr(lines[29].rfind('|') + 1), "29");

  // ISB: tshark's capinfos-like summary shows the drop count per interface.
  ASSERT_EQ(test::run("capinfos -I " + path, &out), 0);
  EXPECT_NE(out.find("erspan2:10.0.0.1>10.0.0.2:341"), std::string::npos) << out;
  EXPECT_NE(out.find("icmp"), std::string::npos) << out;  // if_filter
}

// Walk our own blocks to check the ISB numbers exactly.
TEST(PcapngWriter, WritesOneStatisticsBlockPerSession) {
  TempDir dir;
  std::string path = dir.file("isb.pcapng");
  auto s1 = test::make_session(0, Encap::kErspan2, kA, kB, true, 1);
  auto s2 = test::make_session(1, Encap::kGre, kA, kC, true, 2);
  WriterOptions o;
  o.link_policy = LinkTypePolicy::kNative;
  auto w = open_or_die(path, o);
  auto ip = test::ipv4_icmp(1);
  auto eth = test::ethernet(ip);
  ASSERT_TRUE(w->write(s1, test::decapsulated(s1, eth, LinkType::kEthernet), kT0));
  ASSERT_TRUE(w->write(s2, test::decapsulated(s2, ip, LinkType::kRaw), kT0 + 5));
  ASSERT_TRUE(w->write(s2, test::decapsulated(s2, eth, LinkType::kEthernet), kT0 + 9));
  s1.packets = 1;
  s1.first_seen = s1.last_seen = kT0;
  s2.packets = 2;
  s2.first_seen = kT0 + 5;
  s2.last_seen = kT0 + 9;
  ASSERT_TRUE(w->close());

  std::ifstream f(path, std::ios::binary);
  std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
  ByteSpan all(b);
  std::vector<std::uint16_t> idb_links;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> isb_recv;
  std::size_t off = 0;
  while (off + 12 <= b.size()) {
    auto type = load_host<std::uint32_t>(all, off);
    auto len = load_host<std::uint32_t>(all, off + 4);
    ASSERT_GE(len, 12u);
    ASSERT_EQ(len % 4, 0u);
    ASSERT_EQ(load_host<std::uint32_t>(all, off + len - 4), len);
    if (type == PcapngWriter::kIdb) idb_links.push_back(load_host<std::uint16_t>(all, off + 8));
    if (type == PcapngWriter::kIsb) {
      auto ifid = load_host<std::uint32_t>(all, off + 8);
      // options start at +20; find isb_ifrecv (4)
      std::size_t o2 = off + 20;
      while (o2 + 4 <= off + len - 4) {
        auto code = load_host<std::uint16_t>(all, o2);
        auto olen = load_host<std::uint16_t>(all, o2 + 2);
        if (code == 0) break;
        if (code == 4) isb_recv.emplace_back(ifid, load_host<std::uint64_t>(all, o2 + 4));
        o2 += 4 + ((olen + 3u) & ~3u);
      }
    }
    off += len;
  }
  EXPECT_EQ(off, b.size());
  // Native: s1 Ethernet (if 0), s2 RAW (if 1), s2 Ethernet (if 2).
  ASSERT_EQ(idb_links.size(), 3u);
  EXPECT_EQ(idb_links[0], 1);
  EXPECT_EQ(idb_links[1], 101);
  EXPECT_EQ(idb_links[2], 1);
  // One ISB per session, on its first interface.
  ASSERT_EQ(isb_recv.size(), 2u);
  EXPECT_EQ(isb_recv[0], (std::pair<std::uint32_t, std::uint64_t>{0, 1}));
  EXPECT_EQ(isb_recv[1], (std::pair<std::uint32_t, std::uint64_t>{1, 2}));

  std::string out;
  ASSERT_EQ(test::run("tshark -r " + path + " -T fields -e frame.interface_id", &out), 0);
  EXPECT_EQ(out, "0\n1\n2\n");
}

TEST(Writers, UnwritablePathIsOutputUnwritable) {
  for (auto fmt : {FileFormat::kPcap, FileFormat::kPcapng}) {
    WriterOptions o;
    o.format = fmt;
    auto w = open_capture_writer("/nonexistent-dir/x.pcap", o);
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error().code, ExitCode::kOutputUnwritable);
    EXPECT_NE(w.error().message.find("/nonexistent-dir/x.pcap"), std::string::npos);
  }
}

TEST(Writers, DevFullReportsNoSpaceStickily) {
  auto s = test::make_session(0, Encap::kGre, kA, kB, false, 0);
  WriterOptions o;
  o.format = FileFormat::kPcap;
  auto w = open_capture_writer("/dev/full", o);
  ASSERT_TRUE(w.has_value());
  auto ip = test::ipv4_icmp(1);
  ASSERT_TRUE((*w)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0));
  EXPECT_FALSE((*w)->flush());
  ASSERT_NE((*w)->error(), nullptr);
  EXPECT_EQ((*w)->error()->code, ExitCode::kOutputUnwritable);
  EXPECT_NE((*w)->error()->message.find("No space left"), std::string::npos);
  EXPECT_FALSE((*w)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0));  // sticky
  EXPECT_FALSE((*w)->close());
}

// A full disk mid-file (simulated with RLIMIT_FSIZE in a child process) leaves a file that ends
// at a record boundary and reads without error.
void fill_disk_in_child(const std::string& path, FileFormat format) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{1'500'000, 1'500'000};
    setrlimit(RLIMIT_FSIZE, &lim);
    auto s = test::make_session(0, Encap::kGre, kA, kB, false, 0);
    WriterOptions o;
    o.format = format;
    auto w = open_capture_writer(path, o);
    if (!w) _exit(10);
    for (int i = 0; i < 100000; ++i) {
      auto ip =
          test::ipv4_icmp(static_cast<std::uint16_t>(i), 100 + static_cast<std::size_t>(i % 1300));
      if (!(*w)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0 + i)) {
        bool code_ok = (*w)->error() != nullptr &&
                       (*w)->error()->code == ExitCode::kOutputUnwritable &&
                       (*w)->error()->message.find("last complete record") != std::string::npos;
        _exit(code_ok ? 0 : 11);
      }
    }
    _exit(12);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  ASSERT_EQ(WEXITSTATUS(st), 0);
  auto r = test::read_with_libpcap(path);
  EXPECT_EQ(r.open_error, "");
  EXPECT_FALSE(r.error) << "file does not end at a record boundary";
  EXPECT_GT(r.packets.size(), 100u);
  for (std::size_t i = 0; i < r.packets.size(); ++i) {
    ASSERT_EQ(load_be16(ByteSpan(r.packets[i]), 14 + 26), static_cast<std::uint16_t>(i));
  }
  std::string out;
  EXPECT_EQ(test::run("tshark -r " + path + " -T fields -e frame.number | tail -1", &out), 0);
  EXPECT_EQ(out, std::to_string(r.packets.size()) + "\n");
}

TEST(Writers, DiskFullKeepsPcapValid) {
  TempDir dir;
  fill_disk_in_child(dir.file("full.pcap"), FileFormat::kPcap);
}

TEST(Writers, DiskFullKeepsPcapngValid) {
  TempDir dir;
  fill_disk_in_child(dir.file("full.pcapng"), FileFormat::kPcapng);
}

TEST(PcapngWriter, InterfaceNamesCarryIpv6AndIds) {
  collector::Session s;
  s.index = 0;
  std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  s.key.sender = IpAddress::v6(ByteSpan(a, 16));
  s.key.receiver = IpAddress::v6(ByteSpan(b, 16));
  s.key.encap = Encap::kVxlan;
  s.key.has_id = true;
  s.key.id = 5569041;
  EXPECT_EQ(interface_name(s), "vxlan:2001:db8::1>2001:db8::2:5569041");
  collector::Session u;
  EXPECT_EQ(interface_name(u), "untunnelled");
}

}  // namespace
}  // namespace portmirror::io

namespace portmirror::io {
namespace {

// libpcap refuses a pcapng section without an interface: an empty output still gets one.
TEST(PcapngWriter, EmptyOutputOpensInTcpdump) {
  test::TempDir dir;
  std::string path = dir.file("empty.pcapng");
  auto w = open_capture_writer(path, WriterOptions{});
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->close());
  auto r = test::read_with_libpcap(path);
  EXPECT_EQ(r.open_error, "");
  EXPECT_EQ(r.packets.size(), 0u);
  std::string out;
  EXPECT_EQ(test::run("tcpdump -r " + path + " --count", &out), 0);
  EXPECT_NE(out.find("0 packets"), std::string::npos) << out;
}

}  // namespace
}  // namespace portmirror::io
