// Sequence accounting on real captures: the corpus files (and the peers' Open vSwitch captures)
// that carry GRE sequence numbers, through the real Decapsulator and SessionTable. Expected values
// were read independently with tshark (gre.sequence_number per outer src/dst/key/span id); see
// docs/sessions.md "What the corpus shows".
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/collector/session.h"
#include "session_test_pcap.h"

namespace portmirror::collector {
namespace {

struct Want {
  const char* sender;
  const char* receiver;
  Encap encap;
  std::uint32_t id;
  std::uint64_t packets;
  std::uint32_t first_seq;  // highest() after the run = first_seq + packets - 1 when clean
};

struct Case {
  const char* path;  // under PM_SHARED_DIR
  std::vector<Want> sessions;
};

SessionTable run(const std::string& path, std::uint64_t& inner) {
  const test::PcapFile f = test::read_pcap(test::shared_dir() + "/" + path);
  EXPECT_FALSE(f.records.empty()) << path << ": missing or empty";
  Decapsulator decap{DecapOptions{}};
  SessionTable table(64);
  Decapsulated out;
  inner = 0;
  for (const auto& r : f.records) {
    Frame frame{r.data, r.orig_len, r.ts, static_cast<LinkType>(f.linktype), 0};
    if (decap.decapsulate(frame, out).status != DecapStatus::kInner) continue;
    ++inner;
    Session* s = table.find_or_insert(out.tunnel, r.ts);
    EXPECT_NE(s, nullptr);
    if (s != nullptr) s->account(out.tunnel, out.inner_orig_len, false);
  }
  return table;
}

class SessionCorpus : public ::testing::TestWithParam<Case> {};

TEST_P(SessionCorpus, SequenceCountsPerSession) {
  const Case& c = GetParam();
  std::uint64_t inner = 0;
  const SessionTable table = run(c.path, inner);
  ASSERT_EQ(table.size(), c.sessions.size()) << c.path;
  for (std::size_t i = 0; i < c.sessions.size(); ++i) {
    const Want& w = c.sessions[i];
    const Session& s = table.sessions()[i];
    SCOPED_TRACE(std::string(c.path) + " session " + std::to_string(i));
    EXPECT_EQ(s.key.sender.to_string(), w.sender);
    EXPECT_EQ(s.key.receiver.to_string(), w.receiver);
    EXPECT_EQ(s.key.encap, w.encap);
    EXPECT_TRUE(s.key.has_id);
    EXPECT_EQ(s.key.id, w.id);
    EXPECT_EQ(s.packets, w.packets);
    const SeqStats& q = s.seq.stats();
    EXPECT_EQ(q.with_seq, w.packets);
    EXPECT_EQ(q.lost, 0u);
    EXPECT_EQ(q.duplicate, 0u);
    EXPECT_EQ(q.reordered, 0u);
    EXPECT_EQ(q.restarts, 0u);
    EXPECT_EQ(q.out_of_window, 0u);
    EXPECT_EQ(s.seq.highest(), w.first_seq + w.packets - 1);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, SessionCorpus,
    ::testing::Values(Case{"corpus/zeek_erspanII.pcap",
                           {{"2.2.2.2", "1.1.1.1", Encap::kErspan2, 100, 4, 1796}}},
                      Case{"corpus/suri_decode-erspan-typeII-01.pcap",
                           {{"2.2.2.2", "1.1.1.1", Encap::kErspan2, 100, 6, 1794}}},
                      Case{"corpus/tcpdump_erspan-type-ii-3.pcap",
                           {{"192.168.1.172", "192.168.1.249", Encap::kErspan2, 101, 108, 106954}}},
                      Case{"corpus/zeek_erspanIII.pcap",
                           {{"10.0.0.1", "10.0.0.2", Encap::kErspan3, 0, 2, 62123356}}},
                      Case{"corpus/pdn_gre_all_options.pcap",
                           {{"203.0.113.1", "192.0.2.2", Encap::kGre, 0x1d97c, 5, 5},
                            {"192.0.2.2", "203.0.113.1", Encap::kGre, 0x1d97c, 5, 5}}},
                      Case{"peers/pcaps/ovs-erspan2.pcap",
                           {{"198.18.1.1", "198.18.1.2", Encap::kErspan3, 102, 6, 0}}},
                      Case{"peers/pcaps/ovs-erspan1.pcap",
                           {{"198.18.1.1", "198.18.1.2", Encap::kErspan2, 101, 6, 0}}},
                      Case{"peers/pcaps/ovs-gre.pcap",
                           {{"198.18.1.1", "198.18.1.2", Encap::kGre, 0x1234, 12, 0}}}));

TEST(SessionCorpus, TruncatedErspanIIIMakesNoSession) {
  std::uint64_t inner = 0;
  const SessionTable table = run("corpus/tcpdump_erspan-type-iii-pb-1.pcap", inner);
  EXPECT_EQ(inner, 0u);
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace portmirror::collector
