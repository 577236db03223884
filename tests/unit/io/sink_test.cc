// Sink chain: rotation (-C/-G/-W) and split (--split-by); every produced file opens in tshark and
// the packets across files add up to the input, in order.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "io_test_util.h"
#include "portmirror/io/file_sinks.h"
#include "portmirror/io/sink.h"

namespace portmirror::io {
namespace {

using test::TempDir;

constexpr TimestampNs kT0 = 1'700'000'000LL * kNsPerSec;  // 2023-11-14T22:13:20Z

// ICMP sequence numbers of every packet in `files`, in order, as Wireshark reads them: capinfos
// (libwiretap, tshark's reader) must open every file, then tshark decodes them all in one run
// (mergecap -a concatenates; one tshark start costs ~1-2 s on a loaded CI machine).
std::vector<int> tshark_seqs(const std::vector<std::string>& files) {
  std::string list;
  for (const auto& f : files) list += " '" + f + "'";
  std::string out;
  EXPECT_EQ(test::run("capinfos -c" + list, &out), 0) << out;
  std::string cmd =
      "set -o pipefail; mergecap -a -F pcapng -w -" + list + " | tshark -r - -T fields -e icmp.seq";
  int rc = test::run("bash -c \"" + cmd + "\"", &out);
  EXPECT_EQ(rc, 0) << cmd;
  std::vector<int> v;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t nl = out.find('\n', pos);
    v.push_back(std::stoi(out.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return v;
}

std::vector<int> libpcap_seqs(const std::string& file) {
  auto r = test::read_with_libpcap(file);
  EXPECT_EQ(r.open_error, "") << file;
  EXPECT_FALSE(r.error) << file;
  std::vector<int> v;
  for (const auto& p : r.packets) v.push_back(load_be16(ByteSpan(p), 14 + 26));
  return v;
}

// Closes without a SessionTable (the writers take session counters from the Session objects).
bool close_sink(Sink& s) {
  if (auto* r = dynamic_cast<RotatingSink*>(&s)) return r->close();
  if (auto* p = dynamic_cast<SplitSink*>(&s)) return p->close();
  return false;
}

std::vector<int> iota_vec(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(RotatingSink, SizeRotationLikeTcpdump) {
  TempDir dir;
  SinkOptions o;
  o.path = dir.file("out.pcap");
  o.format = FileFormat::kPcap;
  o.rotate_bytes = 20'000;
  auto sink = open_sink(o);
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  auto s = test::make_session(0, Encap::kGre, 1, 2, false, 0);
  for (int i = 0; i < 100; ++i) {
    auto ip = test::ipv4_icmp(static_cast<std::uint16_t>(i), 1000);
    ASSERT_TRUE((*sink)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0 + i));
  }
  ASSERT_TRUE(close_sink(**sink));
  auto* rs = dynamic_cast<RotatingSink*>(sink->get());
  ASSERT_NE(rs, nullptr);
  const auto& files = rs->files();
  // 24 + 20 * 1030 > 20000: 20 packets per file.
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[0], o.path);  // tcpdump: first file keeps the name, then out.pcap1, 2, ...
  EXPECT_EQ(files[1], o.path + "1");
  EXPECT_EQ(files[4], o.path + "4");
  for (const auto& f : files) {
    EXPECT_LE(std::filesystem::file_size(f), 20'000u + 1000 + 14 + 16);
  }
  EXPECT_EQ(tshark_seqs(files), iota_vec(0, 100));
}

TEST(RotatingSink, RingKeepsTheNewestFiles) {
  TempDir dir;
  SinkOptions o;
  o.path = dir.file("ring.pcapng");
  o.rotate_bytes = 10'000;
  o.ring_files = 3;
  auto sink = open_sink(o);
  ASSERT_TRUE(sink.has_value());
  auto s = test::make_session(0, Encap::kGre, 1, 2, false, 0);
  for (int i = 0; i < 100; ++i) {
    auto ip = test::ipv4_icmp(static_cast<std::uint16_t>(i), 1000);
    ASSERT_TRUE((*sink)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0 + i));
  }
  ASSERT_TRUE(close_sink(**sink));
  auto on_disk = dir.list();
  ASSERT_EQ(on_disk.size(), 3u);
  EXPECT_EQ(on_disk[0], o.path + "0");
  EXPECT_EQ(on_disk[2], o.path + "2");
  // The three files hold a contiguous run that ends with the last packet.
  std::map<int, std::vector<int>> by_first;
  for (const auto& f : on_disk) {
    auto v = libpcap_seqs(f);
    ASSERT_FALSE(v.empty()) << f;
    by_first[v.front()] = v;
  }
  std::vector<int> all;
  for (auto& [first, v] : by_first) all.insert(all.end(), v.begin(), v.end());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all, iota_vec(all.front(), 100));
  EXPECT_GT(all.front(), 50);
  std::vector<std::string> ordered;
  for (auto& [first, v] : by_first) {
    for (const auto& f : on_disk) {
      if (libpcap_seqs(f).front() == first) ordered.push_back(f);
    }
  }
  EXPECT_EQ(tshark_seqs(ordered), all);
}

TEST(RotatingSink, TimeRotationNamesFilesWithStrftime) {
  TempDir dir;
  SinkOptions o;
  o.path = dir.file("t-%Y%m%d-%H%M%S.pcap");
  o.format = FileFormat::kPcapNs;
  o.rotate_seconds = 10;
  auto sink = open_sink(o);
  ASSERT_TRUE(sink.has_value());
  auto s = test::make_session(0, Encap::kGre, 1, 2, false, 0);
  // 20 packets 3 s apart = 60 s: periods of 10 s aligned to the epoch.
  for (int i = 0; i < 20; ++i) {
    auto ip = test::ipv4_icmp(static_cast<std::uint16_t>(i), 100);
    ASSERT_TRUE(
        (*sink)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0 + i * 3 * kNsPerSec));
  }
  ASSERT_TRUE(close_sink(**sink));
  auto files = dynamic_cast<RotatingSink*>(sink->get())->files();
  ASSERT_EQ(files.size(), 6u);
  EXPECT_EQ(files[0], dir.file("t-20231114-221320.pcap"));
  EXPECT_EQ(files[1], dir.file("t-20231114-221330.pcap"));
  EXPECT_EQ(libpcap_seqs(files[0]), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(tshark_seqs(files), iota_vec(0, 20));
}

TEST(SplitSink, OneFilePerSessionWithSafeNames) {
  TempDir dir;
  SinkOptions o;
  o.path = dir.file("cap.pcapng");
  o.split = SplitBy::kSession;
  auto sink = open_sink(o);
  ASSERT_TRUE(sink.has_value());
  auto s1 = test::make_session(0, Encap::kErspan2, 0x0A000001, 0x0A000002, true, 341);
  auto s2 = test::make_session(1, Encap::kGre, 0x0A000003, 0x0A000002, false, 0);
  collector::Session s3;
  s3.index = 2;
  std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  s3.key.sender = IpAddress::v6(ByteSpan(a, 16));
  s3.key.receiver = IpAddress::v6(ByteSpan(b, 16));
  s3.key.encap = Encap::kVxlan;
  s3.key.has_id = true;
  s3.key.id = 77;
  const collector::Session* ss[] = {&s1, &s2, &s3};
  for (int i = 0; i < 30; ++i) {
    const auto& s = *ss[i % 3];
    auto ip = test::ipv4_icmp(static_cast<std::uint16_t>(i), 80);
    auto eth = test::ethernet(ip);
    bool raw = s.key.encap == Encap::kGre;
    ASSERT_TRUE((*sink)->write(
        s, test::decapsulated(s, raw ? ip : eth, raw ? LinkType::kRaw : LinkType::kEthernet),
        kT0 + i));
  }
  ASSERT_TRUE(close_sink(**sink));
  auto files = dir.list();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir.file("cap-erspan2-10.0.0.1-10.0.0.2-341.pcapng"));
  EXPECT_EQ(files[1], dir.file("cap-gre-10.0.0.3-10.0.0.2-none.pcapng"));
  EXPECT_EQ(files[2], dir.file("cap-vxlan-2001-db8--1-2001-db8--2-77.pcapng"));
  EXPECT_EQ(tshark_seqs({files[0]}), (std::vector<int>{0, 3, 6, 9, 12, 15, 18, 21, 24, 27}));
  EXPECT_EQ(libpcap_seqs(files[1]), (std::vector<int>{1, 4, 7, 10, 13, 16, 19, 22, 25, 28}));
  EXPECT_EQ(libpcap_seqs(files[2]), (std::vector<int>{2, 5, 8, 11, 14, 17, 20, 23, 26, 29}));
}

TEST(SplitSink, BySenderWithPatternAndRotation) {
  TempDir dir;
  SinkOptions o;
  o.path = dir.file("from-%s-%n.pcap");
  o.format = FileFormat::kPcap;
  o.split = SplitBy::kSender;
  o.rotate_bytes = 5'000;
  auto sink = open_sink(o);
  ASSERT_TRUE(sink.has_value());
  // Two sessions of one sender share its file; a second sender gets its own.
  auto a1 = test::make_session(0, Encap::kErspan2, 0x0A000001, 0x0A000002, true, 1);
  auto a2 = test::make_session(1, Encap::kErspan2, 0x0A000001, 0x0A000002, true, 2);
  auto b1 = test::make_session(2, Encap::kGre, 0x0A000009, 0x0A000002, false, 0);
  const collector::Session* ss[] = {&a1, &a2, &b1};
  for (int i = 0; i < 30; ++i) {
    auto ip = test::ipv4_icmp(static_cast<std::uint16_t>(i), 500);
    const auto& s = *ss[i % 3];
    ASSERT_TRUE((*sink)->write(s, test::decapsulated(s, ip, LinkType::kRaw), kT0 + i));
  }
  ASSERT_TRUE(close_sink(**sink));
  auto files = dynamic_cast<SplitSink*>(sink->get())->files();
  // Records of 16 + 14 + 500 bytes, files rotated past 5000 bytes: 10 packets per file. Sender
  // .1 has 20 packets (2 files), sender .9 has 10 (1 file).
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir.file("from-10.0.0.1-0.pcap"));
  EXPECT_EQ(files[1], dir.file("from-10.0.0.1-1.pcap"));
  EXPECT_EQ(files[2], dir.file("from-10.0.0.9-0.pcap"));
  std::vector<int> a_expected, b_expected;
  for (int i = 0; i < 30; ++i) (i % 3 == 2 ? b_expected : a_expected).push_back(i);
  EXPECT_EQ(tshark_seqs({files[0], files[1]}), a_expected);
  EXPECT_EQ(tshark_seqs({files[2]}), b_expected);
}

TEST(SinkNames, FieldsAndSanitising) {
  EXPECT_EQ(sanitize_field("fe80::1%eth0"), "fe80--1_eth0");
  EXPECT_EQ(sanitize_field("a/b\\c"), "a_b_c");
  EXPECT_EQ(sanitize_field(".."), "_..");
  GroupFields f{"10.0.0.1", "10.0.0.2", "erspan2", "341"};
  EXPECT_EQ(expand_fields("x-%s-%r-%e-%k-%n-%%-%H.pcap", &f, 4),
            "x-10.0.0.1-10.0.0.2-erspan2-341-4-%%-%H.pcap");
  EXPECT_EQ(expand_fields("x-%s.pcap", nullptr, -1), "x-%s.pcap");
  EXPECT_EQ(strftime_name("a-%Y-%%.pcap", kT0, true), "a-2023-%.pcap");
  EXPECT_EQ(strftime_name("a-%Y-%%.pcap", kT0, false), "a-%Y-%.pcap");
  EXPECT_EQ(default_split_pattern("/d/out.pcapng", SplitBy::kSender), "/d/out-%s.pcapng");
  EXPECT_EQ(default_split_pattern("/d.x/out", SplitBy::kSession), "/d.x/out-%e-%s-%r-%k");
  EXPECT_EQ(default_split_pattern("/d/o-%k.pcap", SplitBy::kSession), "/d/o-%k.pcap");
}

TEST(OpenSink, RejectsImpossibleCombinations) {
  SinkOptions o;
  o.path = "-";
  o.split = SplitBy::kSender;
  auto s = open_sink(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ExitCode::kUsage);
  SinkOptions w;
  w.path = "/tmp/x.pcap";
  w.ring_files = 3;
  auto t = open_sink(w);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ExitCode::kUsage);
  SinkOptions u;
  u.path = "/nonexistent-dir/x.pcap";
  auto v = open_sink(u);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ExitCode::kOutputUnwritable);
}

}  // namespace
}  // namespace portmirror::io
