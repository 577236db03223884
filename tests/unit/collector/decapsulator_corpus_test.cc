// Walks every capture of the shared corpus (../shared/corpus, 25 files from other projects) through
// the Decapsulator and checks, per file, the number of inner packets against manifest.tsv
// `expected_inner` and each inner packet's tuple (inner Ethernet addresses | first IP header)
// against expected/<file>.inner.tsv, in capture order. The io helper separately runs the full CLI.
#include <pcap/pcap.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/wire/ethernet.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"

namespace portmirror::collector {
namespace {

std::string corpus_dir() {
  const char* env = std::getenv("PM_SHARED_DIR");
  return std::string(env != nullptr ? env : PM_SHARED_DIR) + "/corpus";
}

struct ManifestRow {
  std::string file;
  std::string linktype;
  int expected_inner = -1;
};

std::vector<ManifestRow> read_manifest() {
  std::ifstream in(corpus_dir() + "/manifest.tsv");
  std::vector<ManifestRow> rows;
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (header.empty()) {
      header = cols;
      continue;
    }
    ManifestRow r;
    for (std::size_t i = 0; i < cols.size() && i < header.size(); ++i) {
      if (header[i] == "file") r.file = cols[i];
      if (header[i] == "expected_inner") r.expected_inner = std::stoi(cols[i]);
    }
    rows.push_back(r);
  }
  return rows;
}

std::vector<std::string> expected_tuples(const std::string& file) {
  std::ifstream in(corpus_dir() + "/expected/" + file + ".inner.tsv");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (cols.size() >= 4 && cols[3] == "yes") out.push_back(cols[2]);
  }
  return out;
}

std::string mac(const wire::MacAddress& m) {
  char b[18];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

// The manifest's tuple recipe (MANIFEST.md "inner tuple"): L2 | L3.
std::string tuple_of(const Decapsulated& d) {
  std::string l2 = "-";
  ByteSpan l3 = d.inner;
  std::uint16_t et = 0;
  if (d.inner_link == LinkType::kEthernet) {
    auto eth = wire::EthernetView::parse(d.inner);
    if (!eth) return "short-ethernet";
    l2 = "eth:" + mac(eth->source()) + ">" + mac(eth->destination());
    et = eth->ethertype();
    l3 = eth->payload();
    while (wire::ethertype::is_vlan_tpid(et)) {
      auto v = wire::VlanView::parse(l3);
      if (!v) return l2 + "|short-vlan";
      et = v->ethertype();
      l3 = v->payload();
    }
    if (et == wire::ethertype::kArp) return l2 + "|arp";
    if (et <= 1500) return l2 + "|llc";
  } else if (!l3.empty()) {
    et = (l3[0] >> 4) == 6 ? wire::ethertype::kIpv6 : wire::ethertype::kIpv4;
  }
  if (et == wire::ethertype::kIpv4) {
    auto ip = wire::Ipv4View::parse(l3);
    if (!ip) return l2 + "|bad-ip4";
    return l2 + "|ip4:" + IpAddress::v4(ip->source()).to_string() + ">" +
           IpAddress::v4(ip->destination()).to_string() + ":" + std::to_string(ip->protocol()) +
           ":" + std::to_string(ip->total_length());
  }
  if (et == wire::ethertype::kIpv6) {
    auto ip = wire::Ipv6View::parse(l3);
    if (!ip) return l2 + "|bad-ip6";
    return l2 + "|ip6:" + IpAddress::v6(ip->source()).to_string() + ">" +
           IpAddress::v6(ip->destination()).to_string() + ":" + std::to_string(ip->next_header()) +
           ":" + std::to_string(ip->payload_length());
  }
  char b[16];
  std::snprintf(b, sizeof b, "0x%04x", et);
  return l2 + "|" + b;
}

struct FileResult {
  int inner = 0;
  std::vector<std::string> tuples;
  std::map<std::string, std::uint64_t> counters;
  std::uint64_t frames = 0;
};

FileResult run_file(const std::string& file, DecapOptions opts) {
  FileResult res;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision((corpus_dir() + "/" + file).c_str(),
                                                      PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    ADD_FAILURE() << file << ": " << err;
    return res;
  }
  LinkType link;
  EXPECT_TRUE(link_type_from_file(static_cast<std::uint32_t>(pcap_datalink(p)), link)) << file;
  Decapsulator d(std::move(opts));
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++res.frames;
    Frame f;
    f.data = ByteSpan(data, h->caplen);
    f.orig_len = h->len;
    f.ts = h->ts.tv_sec * kNsPerSec + h->ts.tv_usec;
    f.link = link;
    Decapsulated out;
    const DecapResult r = d.decapsulate(f, out);
    if (r.status == DecapStatus::kInner) {
      ++res.inner;
      EXPECT_LE(out.inner.size(), out.inner_orig_len) << file;
      res.tuples.push_back(tuple_of(out));
    }
  }
  pcap_close(p);
  for (std::size_t i = 0; i < CounterSet<DecapCounter>::kSize; ++i) {
    if (d.counters().at(i) != 0)
      res.counters[std::string(CounterSet<DecapCounter>::name(i))] = d.counters().at(i);
  }
  return res;
}

TEST(DecapsulatorCorpus, EveryFileMatchesManifestCountAndTuples) {
  const auto rows = read_manifest();
  if (rows.empty()) GTEST_SKIP() << "corpus not found under " << corpus_dir();
  ASSERT_EQ(rows.size(), 25u);
  for (const auto& row : rows) {
    DecapOptions opts;
    if (row.file == "lwerdna_simple_http_tzsp.pcapng") opts.tzsp_ports.push_back(31337);
    const FileResult r = run_file(row.file, opts);
    std::string counters;
    for (const auto& [k, v] : r.counters) counters += " " + k + "=" + std::to_string(v);
    std::printf("%-42s frames=%-4llu inner=%-4d expected=%-4d%s\n", row.file.c_str(),
                static_cast<unsigned long long>(r.frames), r.inner, row.expected_inner,
                counters.c_str());
    EXPECT_EQ(r.inner, row.expected_inner) << row.file << counters;
    const auto want = expected_tuples(row.file);
    EXPECT_EQ(want.size(), static_cast<std::size_t>(row.expected_inner)) << row.file;
    if (r.tuples.size() == want.size()) {
      for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(r.tuples[i], want[i]) << row.file << " inner #" << i + 1;
        if (r.tuples[i] != want[i]) break;
      }
    }
  }
}

TEST(DecapsulatorCorpus, WithoutReassemblyTheGretapFileLosesTheFragmentedDatagrams) {
  // MANIFEST: 248 with outer reassembly, 232 without. A zero memory bound disables reassembly.
  DecapOptions opts;
  opts.reassembly_max_bytes = 0;
  const FileResult r = run_file("zeek_erspan-gretap-key.pcap", opts);
  if (r.frames == 0) GTEST_SKIP() << "corpus not found";
  EXPECT_EQ(r.inner, 232);
  EXPECT_EQ(r.counters.at("ip.frag_overflow"), 55u);
}

TEST(DecapsulatorCorpus, TzspNeedsItsPort) {
  const FileResult r = run_file("lwerdna_simple_http_tzsp.pcapng", DecapOptions{});
  if (r.frames == 0) GTEST_SKIP() << "corpus not found";
  EXPECT_EQ(r.inner, 0);
}

TEST(DecapsulatorCorpus, DepthAllStripsNestedTunnels) {
  DecapOptions opts;
  opts.depth = kMaxEncapDepth;
  const FileResult gre = run_file("zeek_gre-within-gre.pcap", opts);
  if (gre.frames == 0) GTEST_SKIP() << "corpus not found";
  EXPECT_EQ(gre.inner, 628);
  // After two GRE layers the inner IPv4 carries ICMP or UDP (RIP), not GRE any more.
  for (const auto& t : gre.tuples) EXPECT_EQ(t.find(":47:"), std::string::npos) << t;
  const FileResult vx = run_file("zeek_vxlan-triple-v2.pcap", opts);
  ASSERT_EQ(vx.inner, 1);
  EXPECT_NE(vx.tuples[0].find("ip4:"), std::string::npos);
  EXPECT_NE(vx.tuples[0].find(":17:"), std::string::npos);  // DNS over UDP at the bottom
}

}  // namespace
}  // namespace portmirror::collector
