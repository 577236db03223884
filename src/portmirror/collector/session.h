// Tunnel sessions: one per (outer sender, outer receiver, encapsulation, GRE key / ERSPAN session ID /
// VNI), each with packet/byte counters, sequence accounting and liveness. The table is a flat,
// bounded hash map: inserts beyond the cap are counted, never allocated on the data path.
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

// Sequence accounting from GRE (RFC 2890) / ERSPAN sequence numbers. Never drops packets; counts.
//  lost       = sequence numbers skipped (gap > 0), minus those that later arrive late
//  duplicate  = a sequence number seen again (inside the window)
//  reordered  = a late arrival inside the window that fills an earlier gap
//  restarts   = a jump so large (or backwards beyond the window) that the sender must have restarted;
//               the tracker resynchronises instead of counting ~2^32 losses
// 32-bit wrap is handled with serial-number arithmetic.
struct SeqStats {
  std::uint64_t with_seq = 0;  // packets that carried a sequence number
  std::uint64_t lost = 0;
  std::uint64_t duplicate = 0;
  std::uint64_t reordered = 0;
  std::uint64_t restarts = 0;
};

enum class SeqVerdict : std::uint8_t { kInOrder, kGap, kDuplicate, kReordered, kRestart, kFirst };

class SeqTracker {
 public:
  static constexpr std::uint32_t kWindow = 1024;         // reorder / duplicate window
  static constexpr std::uint32_t kRestartJump = 1u << 20;  // forward jump treated as a restart
  SeqVerdict observe(std::uint32_t seq) noexcept;
  const SeqStats& stats() const noexcept { return stats_; }

 private:
  SeqStats stats_;
  bool started_ = false;
  std::uint32_t highest_ = 0;          // highest sequence seen (serial arithmetic)
  std::uint64_t seen_bits_[kWindow / 64]{};  // which of the last kWindow numbers arrived
};

struct Session {
  SessionKey key;
  std::uint32_t index = 0;  // creation order; also the pcapng interface index in a single file
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;     // inner bytes on the wire (orig len)
  std::uint64_t keepalives = 0;
  std::uint64_t duplicates_suppressed = 0;
  std::uint64_t rejected = 0;  // for the live collector's allow-list / pinning
  TimestampNs first_seen = 0;
  TimestampNs last_seen = 0;
  SeqTracker seq;
};

class SessionTable {
 public:
  explicit SessionTable(std::size_t max_sessions = 4096);
  // Finds or creates the session of `t`; nullptr when the table is full (counted in overflow()).
  // Never allocates after construction.
  Session* find_or_insert(const TunnelInfo& t, TimestampNs now) noexcept;
  std::size_t size() const noexcept { return sessions_.size(); }
  std::uint64_t overflow() const noexcept { return overflow_; }
  // Sessions in creation order.
  const std::vector<Session>& sessions() const noexcept { return sessions_; }
  std::vector<Session>& sessions() noexcept { return sessions_; }

 private:
  std::vector<Session> sessions_;        // reserved to the cap
  std::vector<std::int32_t> slots_;      // open addressing, -1 empty
  std::size_t max_;
  std::uint64_t overflow_ = 0;
};

// ERSPAN III timestamp -> wall clock (protocols.md §2.6). Returns the packet time in ns, unwrapped
// against `capture_ts`; sets `reliable` false (and returns capture_ts) when the value is absent,
// user-defined (Gra 11) or further from capture time than the sanity bound.
TimestampNs erspan_timestamp_ns(const ErspanInfo& e, TimestampNs capture_ts,
                                bool& reliable) noexcept;

}  // namespace portmirror::collector
