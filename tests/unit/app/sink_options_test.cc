// The flags capture and decap share (apps/portmirror/sink_options.h): parsed the same way by both
// commands, with tcpdump's -C unit and port options that add to each command's defaults.
#include "apps/portmirror/sink_options.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace portmirror::app {
namespace {

const UdpPorts kCaptureDefaults{{4789}, {6081}, {37008}};
const UdpPorts kDecapDefaults{{4789, 8472}, {6081}, {37008}};

// Parses `args` with a command that has only the shared flags and `-w`.
SinkFlags parse(const UdpPorts& defaults, std::vector<std::string> args) {
  CLI::App app{"test"};
  SinkFlags f;
  std::string w;
  add_sink_options(&app, f, defaults);
  app.add_option("-w", w);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  app.parse(args);
  return f;
}

TEST(SinkOptions, BothCommandsParseTheSameFlagsToTheSameOptions) {
  const std::vector<std::string> args{"--format",   "pcap-ns",      "--linktype", "native",
                                      "--split-by", "session",      "-C",         "0.5",
                                      "-G",         "60",           "-W",         "4",
                                      "-U",         "--depth",      "2",          "--strict",
                                      "--dedup",    "--timestamps", "erspan",     "--stats-json",
                                      "s.json",     "--vxlan-port", "8472",       "--vxlan-port",
                                      "4790",       "--tzsp-port",  "31337",      "--split-pattern",
                                      "x-%s.pcap"};
  const SinkFlags c = parse(kCaptureDefaults, args);
  const SinkFlags d = parse(kDecapDefaults, args);
  auto sc = to_sink_options(c, "out.pcap");
  auto sd = to_sink_options(d, "out.pcap");
  ASSERT_TRUE(sc);
  ASSERT_TRUE(sd);
  for (const io::SinkOptions* s : {&*sc, &*sd}) {
    EXPECT_EQ(s->format, io::FileFormat::kPcapNs);
    EXPECT_EQ(s->link_policy, io::LinkTypePolicy::kNative);
    EXPECT_EQ(s->split, io::SplitBy::kSession);
    EXPECT_EQ(s->split_pattern, "x-%s.pcap");
    EXPECT_EQ(s->rotate_bytes, 500'000u);
    EXPECT_EQ(s->rotate_seconds, 60u);
    EXPECT_EQ(s->ring_files, 4u);
    EXPECT_TRUE(s->flush_each_packet);
  }
  io::PipelineOptions pc, pd;
  ASSERT_TRUE(apply_pipeline_options(c, effective_ports(c, kCaptureDefaults), pc));
  ASSERT_TRUE(apply_pipeline_options(d, effective_ports(d, kDecapDefaults), pd));
  for (const io::PipelineOptions* p : {&pc, &pd}) {
    EXPECT_EQ(p->decap.depth, 2);
    EXPECT_TRUE(p->decap.strict);
    EXPECT_TRUE(p->dedup);
    EXPECT_EQ(p->timestamps, io::TimestampSource::kErspan);
    EXPECT_EQ(p->decap.geneve_ports, std::vector<std::uint16_t>{6081});
    EXPECT_EQ(p->decap.tzsp_ports, (std::vector<std::uint16_t>{37008, 31337}));
  }
  EXPECT_EQ(c.stats_json, "s.json");
  EXPECT_EQ(d.stats_json, "s.json");
  // Port options add to each command's defaults; a port given twice is used once.
  EXPECT_EQ(pc.decap.vxlan_ports, (std::vector<std::uint16_t>{4789, 8472, 4790}));
  EXPECT_EQ(pd.decap.vxlan_ports, (std::vector<std::uint16_t>{4789, 8472, 4790}));
}

TEST(SinkOptions, PortOptionsAddToTheDefaultsUnlessNoDefaultPorts) {
  SinkFlags f = parse(kCaptureDefaults, {"--vxlan-port", "4789", "--vxlan-port", "8472"});
  UdpPorts p = effective_ports(f, kCaptureDefaults);
  EXPECT_EQ(p.vxlan, (std::vector<std::uint16_t>{4789, 8472}));
  EXPECT_EQ(p.geneve, std::vector<std::uint16_t>{6081});
  EXPECT_EQ(p.tzsp, std::vector<std::uint16_t>{37008});
  f = parse(kCaptureDefaults, {"--no-default-ports", "--geneve-port", "47891"});
  p = effective_ports(f, kCaptureDefaults);
  EXPECT_TRUE(p.vxlan.empty());
  EXPECT_EQ(p.geneve, std::vector<std::uint16_t>{47891});
  EXPECT_TRUE(p.tzsp.empty());
  p = effective_ports(parse(kDecapDefaults, {}), kDecapDefaults);
  EXPECT_EQ(p.vxlan, (std::vector<std::uint16_t>{4789, 8472}));
}

TEST(SinkOptions, RotateSizeIsMillionsOfBytesWithFractionsAndSuffixes) {
  struct Case {
    const char* text;
    std::optional<std::uint64_t> bytes;
  };
  const Case cases[] = {
      {"1", 1'000'000},      {"100", 100'000'000},  {"0.5", 500'000},      {"1.25", 1'250'000},
      {"0.000001", 1},       {"1k", 1024},          {"1K", 1024},          {"3m", 3u << 20},
      {"2g", 2ull << 30},    {"0.5m", 1u << 19},    {"", std::nullopt},    {"0", std::nullopt},
      {"-1", std::nullopt},  {"k", std::nullopt},   {"1kk", std::nullopt}, {"1x", std::nullopt},
      {"1e3", std::nullopt}, {"nan", std::nullopt}, {"inf", std::nullopt}, {" 1", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_rotate_size(c.text), c.bytes) << c.text;
}

TEST(SinkOptions, FormatDefaultsToPcapngForFilesAndPcapForStandardOutput) {
  SinkFlags f;
  EXPECT_EQ(to_sink_options(f, "x.pcapng")->format, io::FileFormat::kPcapng);
  EXPECT_EQ(to_sink_options(f, "-")->format, io::FileFormat::kPcap);
  f.format = "pcapng";
  EXPECT_EQ(to_sink_options(f, "-")->format, io::FileFormat::kPcapng);
  f.format = "pcapns";
  EXPECT_EQ(to_sink_options(f, "-")->format, io::FileFormat::kPcapNs);
}

TEST(SinkOptions, BadValuesAreUsageErrorsNamingTheFlag) {
  auto usage = [](SinkFlags f, const char* flag) {
    Result<io::SinkOptions> s = to_sink_options(f, "x");
    io::PipelineOptions po;
    Result<void> p = s ? apply_pipeline_options(f, {}, po) : Result<void>{};
    ASSERT_TRUE(!s || !p) << flag;
    const Error& e = !s ? s.error() : p.error();
    EXPECT_EQ(e.code, ExitCode::kUsage) << flag;
    EXPECT_NE(e.message.find(flag), std::string::npos) << e.message;
  };
  SinkFlags f;
  f.format = "pcapx";
  usage(f, "--format");
  f = {};
  f.linktype = "raw";
  usage(f, "--linktype");
  f = {};
  f.split_by = "key";
  usage(f, "--split-by");
  f = {};
  f.rotate_size = "10q";
  usage(f, "-C");
  f = {};
  f.depth = "3x";
  usage(f, "--depth");
  f.depth = "0";
  usage(f, "--depth");
  f = {};
  f.timestamps = "gps";
  usage(f, "--timestamps");
}

}  // namespace
}  // namespace portmirror::app
