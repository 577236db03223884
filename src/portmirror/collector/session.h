// Tunnel sessions: one per (outer sender, outer receiver, encapsulation, GRE key / ERSPAN session
// ID / VNI), each with packet/byte counters, sequence accounting and liveness. The table is a flat,
// bounded hash map: inserts beyond the cap are counted, never allocated on the data path.
// Definitions, thresholds and examples: docs/sessions.md.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "portmirror/base/ip_address.h"
#include "portmirror/base/time.h"
#include "portmirror/packet/decapsulated.h"

namespace portmirror::collector {

struct SessionKey {
  IpAddress sender;
  IpAddress receiver;
  Encap encap = Encap::kGre;
  bool has_id = false;
  std::uint32_t id = 0;
  static SessionKey from(const TunnelInfo& t) noexcept {
    return SessionKey{t.outer_src, t.outer_dst, t.encap, t.has_id, t.id};
  }
  friend bool operator==(const SessionKey&, const SessionKey&) = default;
};

// 64-bit hash of a key (stable within a process; used by SessionTable, usable by sinks).
std::uint64_t hash_key(const SessionKey& k) noexcept;

// Sequence accounting from GRE (RFC 2890) / ERSPAN sequence numbers. Never drops packets; counts.
//  lost       = sequence numbers skipped (gap > 0), minus those that later arrive late
//  duplicate  = a sequence number seen again (inside the window)
//  reordered  = a late arrival inside the window that fills an earlier gap (also: a late arrival
//               from just before the first packet seen, which fills nothing)
//  restarts   = a jump so large (or backwards beyond the window) that the sender must have
//  restarted;
//               the tracker resynchronises instead of counting ~2^32 losses. A restart needs
//               confirmation by the next packet (it must follow the new number within the window);
//               until then, and if never confirmed, the packet counts in out_of_window.
// 32-bit wrap is handled with serial-number arithmetic (RFC 1982 / protocols.md §1.4).
struct SeqStats {
  std::uint64_t with_seq = 0;  // packets that carried a sequence number
  std::uint64_t lost = 0;
  std::uint64_t duplicate = 0;
  std::uint64_t reordered = 0;
  std::uint64_t restarts = 0;
  std::uint64_t out_of_window = 0;  // (additive) too far from the stream to account, unconfirmed
};

// kOutOfWindow (additive): the packet is far outside the stream; a restart candidate. The packet
// that confirms a restart gets kRestart.
enum class SeqVerdict : std::uint8_t {
  kInOrder,
  kGap,
  kDuplicate,
  kReordered,
  kRestart,
  kFirst,
  kOutOfWindow
};

class SeqTracker {
 public:
  static constexpr std::uint32_t kWindow = 1024;           // reorder / duplicate window
  static constexpr std::uint32_t kRestartJump = 1u << 20;  // forward jump treated as a restart
  // (additive) this many consecutive numbers n, n+1, ... that were all already seen (inside the
  // window, behind the highest) mean the sender restarted close to its old position.
  static constexpr std::uint32_t kRestartRun = 8;
  SeqVerdict observe(std::uint32_t seq) noexcept;
  const SeqStats& stats() const noexcept { return stats_; }
  bool started() const noexcept { return started_; }
  std::uint32_t highest() const noexcept { return highest_; }  // valid when started()

 private:
  void resync(std::uint32_t seq) noexcept;
  SeqVerdict in_stream(std::uint32_t seq) noexcept;
  SeqVerdict candidate(std::uint32_t seq, bool fills) noexcept;
  void advance(std::uint32_t seq, std::uint32_t distance) noexcept;
  bool seen(std::uint32_t seq) const noexcept {
    return (seen_bits_[(seq % kWindow) / 64] >> (seq % 64)) & 1u;
  }
  void mark(std::uint32_t seq) noexcept { seen_bits_[(seq % kWindow) / 64] |= 1ull << (seq % 64); }
  void unmark(std::uint32_t seq) noexcept {
    seen_bits_[(seq % kWindow) / 64] &= ~(1ull << (seq % 64));
  }

  SeqStats stats_;
  bool started_ = false;
  std::uint32_t highest_ = 0;                // highest sequence seen (serial arithmetic)
  std::uint64_t seen_bits_[kWindow / 64]{};  // which of the last kWindow numbers arrived
  std::uint64_t span_ = 0;                   // numbers from the (re)start to highest_, inclusive
  bool pending_ = false;                     // a restart candidate is waiting for confirmation
  bool pending_fills_ = false;               // ... which, if refuted, is a very late fill
  std::uint32_t candidate_ = 0;
  std::uint32_t run_len_ = 0;  // consecutive already-seen numbers n, n+1, ... behind highest_
  std::uint32_t run_start_ = 0;
  std::uint32_t run_last_ = 0;
};

struct Session {
  SessionKey key;
  std::uint32_t index = 0;  // creation order; also the pcapng interface index in a single file
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  // inner bytes on the wire (orig len)
  std::uint64_t keepalives = 0;
  std::uint64_t duplicates_suppressed = 0;
  std::uint64_t rejected = 0;  // for the live collector's allow-list / pinning
  TimestampNs first_seen = 0;
  TimestampNs last_seen = 0;
  SeqTracker seq;
  std::uint64_t erspan_ts_unreliable = 0;  // (additive) --timestamps erspan fell back to capture

  // (additive) Accounts one inner packet of this session: packets, bytes (every packet received,
  // duplicates included: pcapng isb_ifrecv), sequence. Returns the sequence verdict (kInOrder when
  // the packet has no sequence number). With `suppress_duplicates` (--dedup), a kDuplicate is
  // also counted in duplicates_suppressed: the caller must then drop the packet.
  SeqVerdict account(const TunnelInfo& t, std::uint32_t orig_len,
                     bool suppress_duplicates) noexcept;
};

class SessionTable {
 public:
  explicit SessionTable(std::size_t max_sessions = 4096);
  // Finds or creates the session of `t`; nullptr when the table is full (counted in overflow()).
  // Updates last_seen to `now`. Never allocates after construction.
  Session* find_or_insert(const TunnelInfo& t, TimestampNs now) noexcept;
  Session* find_or_insert(const SessionKey& k, TimestampNs now) noexcept;  // (additive)
  Session* find(const SessionKey& k) noexcept;                             // (additive)
  std::size_t size() const noexcept { return sessions_.size(); }
  std::size_t capacity() const noexcept { return max_; }  // (additive)
  std::uint64_t overflow() const noexcept { return overflow_; }
  // Sessions in creation order. Do not add or remove elements through the mutable reference.
  const std::vector<Session>& sessions() const noexcept { return sessions_; }
  std::vector<Session>& sessions() noexcept { return sessions_; }

 private:
  static constexpr std::uint64_t kEmpty = 0;
  static std::size_t slot_index(std::uint64_t slot) noexcept {
    return static_cast<std::size_t>((slot & 0xFFFFFFFFu) - 1);
  }
  std::size_t probe(const SessionKey& k, std::uint64_t h) const noexcept;

  std::vector<Session> sessions_;     // reserved to the cap
  std::vector<std::uint64_t> slots_;  // open addressing: hash tag << 32 | (index + 1); 0 empty
  std::size_t max_;
  std::uint64_t overflow_ = 0;
};

// ERSPAN III timestamp -> wall clock (protocols.md §2.6). Returns the packet time in ns, unwrapped
// against `capture_ts`; sets `reliable` false (and returns capture_ts) when the value is absent,
// user-defined (Gra 11) or further from capture time than the sanity bound.
TimestampNs erspan_timestamp_ns(const ErspanInfo& e, TimestampNs capture_ts,
                                bool& reliable) noexcept;

// (additive) Tunables of the conversion; the defaults are what the 3-argument form uses.
struct ErspanTimeOptions {
  // Gra 10 (IEEE 1588) seconds are TAI; UTC = TAI - this. 37 s since 2017-01-01. 0 if the sender
  // already sends UTC.
  std::int64_t tai_utc_offset_s = 37;
  // A converted time further than this from capture time is rejected (capture time is kept).
  TimestampNs sanity_bound_ns = 60 * kNsPerSec;
  // Gra 11 (user-configured) unit in ns; 0 = unknown, keep capture time. With platform sub-header
  // 0x3/0x7 the 64-bit value is used (Pensando/AMD DSCs send ns since the epoch: unit 1).
  std::uint32_t user_unit_ns = 0;
};
TimestampNs erspan_timestamp_ns(const ErspanInfo& e, TimestampNs capture_ts,
                                const ErspanTimeOptions& options, bool& reliable) noexcept;

}  // namespace portmirror::collector
