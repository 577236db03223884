// Pipeline: crafted mirror streams through Decapsulator -> SessionTable -> filter -> real sinks;
// exact counters, sequence accounting in stats and pcapng ISBs, dedup, keep-untunnelled, and no
// heap allocation per packet.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "io_test_util.h"
#include "portmirror/io/pipeline.h"
#include "portmirror/io/stats_report.h"
#include "support/alloc_counter.h"
#include "support/packet_builder.h"

namespace portmirror::io {
namespace {

using portmirror::testing::PacketBuilder;
using test::TempDir;

constexpr TimestampNs kT0 = 1'700'000'000LL * kNsPerSec;

// ERSPAN II frame of session `sid` from `src`, GRE sequence `seq`, inner Ethernet/IPv4/ICMP (or
// UDP).
std::vector<std::uint8_t> erspan2(const std::string& src, std::uint16_t sid, std::uint32_t seq,
                                  bool udp = false) {
  wire::GreHeader g;
  g.sequence = seq;
  wire::Erspan2Header e;
  e.session_id = sid;
  e.vlan = 10;
  PacketBuilder b;
  b.eth().ipv4(src, "198.18.0.100").gre(g).erspan2(e).eth();
  b.ipv4("10.1.0.1", "10.1.0.2", udp ? 17 : 1);
  if (udp) {
    b.udp(1000, 53).payload(20);
  } else {
    b.bytes({8, 0, 0, 0, 0x12, 0x34, static_cast<std::uint8_t>(seq >> 8),
             static_cast<std::uint8_t>(seq)})
        .payload(16);
  }
  return b.build();
}

std::vector<std::uint8_t> gre_ip(const std::string& src, std::uint32_t key) {
  wire::GreHeader g;
  g.key = key;
  return PacketBuilder()
      .eth()
      .ipv4(src, "198.18.0.100")
      .gre(g)
      .ipv4("10.2.0.1", "10.2.0.2", 17)
      .udp(1, 2)
      .payload(10)
      .build();
}

std::vector<std::uint8_t> plain_udp() {
  return PacketBuilder().eth().ipv4("10.9.0.1", "10.9.0.2").udp(5, 6).payload(10).build();
}

struct Harness {
  std::unique_ptr<Sink> sink;
  std::unique_ptr<InnerFilter> filter;
  std::unique_ptr<Pipeline> pipeline;
};

Harness make(const std::string& out, PipelineOptions po, const std::string& expr = "",
             FileFormat fmt = FileFormat::kPcapng) {
  Harness r;
  SinkOptions so;
  so.path = out;
  so.format = fmt;
  so.filter_text = expr;
  auto s = open_sink(so);
  EXPECT_TRUE(s.has_value());
  r.sink = std::move(*s);
  auto f = InnerFilter::compile(expr);
  EXPECT_TRUE(f.has_value());
  r.filter = std::move(*f);
  r.pipeline = std::make_unique<Pipeline>(po, *r.sink, r.filter.get());
  return r;
}

TEST(Pipeline, SequenceLossReachesStatsAndStatisticsBlocks) {
  TempDir dir;
  std::string out = dir.file("o.pcapng");
  Harness r = make(out, {});
  std::vector<std::vector<std::uint8_t>> frames;
  // Session 341 from .1: seq 1..100 without 50, 51, 52 (3 lost), 60 twice (duplicate).
  // Session 7 from .2: seq 1..10 in order. One untunnelled frame.
  for (std::uint32_t s = 1; s <= 100; ++s) {
    if (s >= 50 && s <= 52) continue;
    frames.push_back(erspan2("198.18.0.1", 341, s));
    if (s == 60) frames.push_back(erspan2("198.18.0.1", 341, s));
    if (s <= 10) frames.push_back(erspan2("198.18.0.2", 7, s));
  }
  frames.push_back(plain_udp());
  TimestampNs ts = kT0;
  for (const auto& f : frames) {
    ASSERT_TRUE(r.pipeline->process(portmirror::testing::make_frame(f, LinkType::kEthernet, ts)));
    ts += 1000;
  }
  ASSERT_TRUE(r.pipeline->finish());
  const Pipeline& p = *r.pipeline;
  EXPECT_EQ(p.count(PipelineCounter::kFramesRead), frames.size());
  EXPECT_EQ(p.count(PipelineCounter::kTunnelled), frames.size() - 1);
  EXPECT_EQ(p.count(PipelineCounter::kInnerWritten), frames.size() - 1);
  EXPECT_EQ(p.count(PipelineCounter::kUntunnelled), 1u);
  ASSERT_EQ(p.sessions().size(), 2u);
  const auto& s1 = p.sessions().sessions()[0];
  EXPECT_EQ(s1.key.id, 341u);
  EXPECT_EQ(s1.packets, 98u);
  EXPECT_EQ(s1.seq.stats().lost, 3u);
  EXPECT_EQ(s1.seq.stats().duplicate, 1u);
  EXPECT_EQ(s1.first_seen, kT0);

  auto blocks = test::walk_pcapng(out);
  ASSERT_TRUE(blocks.ok);
  EXPECT_EQ(blocks.epbs, frames.size() - 1);
  ASSERT_EQ(blocks.isbs.size(), 2u);
  EXPECT_EQ(blocks.isbs[0].ifrecv, 98u);
  EXPECT_EQ(blocks.isbs[0].ifdrop, 3u);
  EXPECT_EQ(blocks.isbs[1].ifrecv, 10u);
  EXPECT_EQ(blocks.isbs[1].ifdrop, 0u);

  std::string text = stats_text(p);
  EXPECT_NE(text.find(fmt::format("{} frames read, {} tunnelled, {} inner packets written",
                                  frames.size(), frames.size() - 1, frames.size() - 1)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 untunnelled frames dropped"), std::string::npos) << text;
  EXPECT_NE(text.find("session erspan2 198.18.0.1 > 198.18.0.100 id 341: 98 packets"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("seq lost 3, duplicate 1"), std::string::npos) << text;
  std::string json = stats_json(p);
  EXPECT_NE(json.find("\"frames_read\": " + std::to_string(frames.size())), std::string::npos);
  EXPECT_NE(json.find("\"seq_lost\": 3"), std::string::npos) << json;
  EXPECT_NE(json.find("\"sender\": \"198.18.0.1\", \"receiver\": \"198.18.0.100\", \"encap\": "
                      "\"erspan2\", \"id\": 341"),
            std::string::npos)
      << json;

  std::string tsh;
  ASSERT_EQ(test::run("tcpdump -r " + out + " --count", &tsh), 0);
  EXPECT_NE(tsh.find(std::to_string(frames.size() - 1) + " packets"), std::string::npos) << tsh;
}

TEST(Pipeline, DedupFilterAndKeepUntunnelled) {
  TempDir dir;
  std::string out = dir.file("o.pcap");
  PipelineOptions po;
  po.dedup = true;
  po.keep_untunnelled = true;
  Harness r = make(out, po, "icmp or udp port 6", FileFormat::kPcap);
  std::vector<std::vector<std::uint8_t>> frames = {
      erspan2("198.18.0.1", 1, 1),       erspan2("198.18.0.1", 1, 1),  // duplicate copy
      erspan2("198.18.0.1", 1, 2, true),                               // UDP 53: filtered out
      gre_ip("198.18.0.3", 9),                                         // UDP 2: filtered out
      erspan2("198.18.0.1", 1, 3),       plain_udp(),                  // kept, matches port 6
  };
  for (const auto& f : frames) {
    ASSERT_TRUE(r.pipeline->process(portmirror::testing::make_frame(f, LinkType::kEthernet, kT0)));
  }
  ASSERT_TRUE(r.pipeline->finish());
  const Pipeline& p = *r.pipeline;
  EXPECT_EQ(p.count(PipelineCounter::kDuplicatesSuppressed), 1u);
  EXPECT_EQ(p.count(PipelineCounter::kFilteredOut), 2u);
  EXPECT_EQ(p.count(PipelineCounter::kInnerWritten), 2u);
  EXPECT_EQ(p.count(PipelineCounter::kUntunnelledWritten), 1u);
  EXPECT_EQ(p.sessions().sessions()[0].duplicates_suppressed, 1u);
  EXPECT_EQ(p.sessions().sessions()[0].packets, 4u);  // every received copy counts
  auto back = test::read_with_libpcap(out);
  ASSERT_EQ(back.packets.size(), 3u);
  EXPECT_EQ(back.packets[2], plain_udp());  // untunnelled frame unchanged
}

TEST(Pipeline, StopsAtTheFirstWriteErrorWithOutputUnwritable) {
  SinkOptions so;
  so.path = "/dev/full";
  so.format = FileFormat::kPcap;
  auto sink = open_sink(so);
  ASSERT_TRUE(sink.has_value());
  Pipeline p({}, **sink, nullptr);
  auto f = erspan2("198.18.0.1", 1, 1);
  // The buffer takes the first packets; the failure shows at the latest at finish().
  bool ok = true;
  for (int i = 0; i < 5000 && ok; ++i) {
    ok = p.process(portmirror::testing::make_frame(f, LinkType::kEthernet, kT0));
  }
  ok = p.finish() && ok;
  EXPECT_FALSE(ok);
  ASSERT_NE((*sink)->error(), nullptr);
  EXPECT_EQ((*sink)->error()->code, ExitCode::kOutputUnwritable);
}

TEST(Pipeline, NoHeapAllocationPerPacket) {
  TempDir dir;
  Harness r = make(dir.file("a.pcapng"), {}, "icmp");
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::uint32_t s = 1; s <= 64; ++s) {
    frames.push_back(erspan2("198.18.0.1", 341, s));
    frames.push_back(gre_ip("198.18.0.3", 9));
    frames.push_back(plain_udp());
  }
  // Warm up: sessions and pcapng interfaces are created once (control path).
  for (const auto& f : frames) {
    ASSERT_TRUE(r.pipeline->process(portmirror::testing::make_frame(f, LinkType::kEthernet, kT0)));
  }
  std::vector<Frame> prepared;
  for (const auto& f : frames) {
    prepared.push_back(portmirror::testing::make_frame(f, LinkType::kEthernet, kT0));
  }
  std::size_t allocs = 0;
  {
    portmirror::testing::AllocCounter counter;
    for (int round = 0; round < 50; ++round) {
      for (const auto& f : prepared) (void)r.pipeline->process(f);
    }
    allocs = counter.count();
  }
  EXPECT_EQ(allocs, 0u);
  ASSERT_TRUE(r.pipeline->finish());
  EXPECT_EQ(r.pipeline->count(PipelineCounter::kInnerWritten), 64u * 51);
}

}  // namespace
}  // namespace portmirror::io
