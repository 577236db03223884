// Sequence accounting per session (RFC 2890 §2.2 numbers, RFC 1982 serial arithmetic; protocols.md
// §1.4 "Recommend (collector)", §2.8). Definitions and examples: docs/sessions.md.
#include <algorithm>
#include <cstring>

#include "portmirror/collector/session.h"

namespace portmirror::collector {
namespace {
constexpr std::uint64_t kMaxSpan = std::uint64_t{1} << 32;
}  // namespace

void SeqTracker::resync(std::uint32_t seq) noexcept {
  highest_ = seq;
  std::memset(seen_bits_, 0, sizeof seen_bits_);
  mark(seq);
  span_ = 1;
  run_len_ = 0;
}

void SeqTracker::advance(std::uint32_t seq, std::uint32_t distance) noexcept {
  // Numbers entering the window ahead of highest_ have not arrived yet: clear their bits (they
  // reuse the positions of numbers kWindow behind, which leave the window now).
  if (distance >= kWindow) {
    std::memset(seen_bits_, 0, sizeof seen_bits_);
  } else {
    for (std::uint32_t s = highest_ + 1; s != seq; ++s) unmark(s);
  }
  mark(seq);
  highest_ = seq;
  span_ = std::min(span_ + distance, kMaxSpan);
}

SeqVerdict SeqTracker::candidate(std::uint32_t seq, bool fills) noexcept {
  pending_ = true;
  pending_fills_ = fills;
  candidate_ = seq;
  run_len_ = 0;
  ++stats_.out_of_window;
  return SeqVerdict::kOutOfWindow;
}

SeqVerdict SeqTracker::observe(std::uint32_t seq) noexcept {
  ++stats_.with_seq;
  if (!started_) {
    // No assumed start value: old Linux started at 1, current Linux at 0 (protocols.md §1.4).
    started_ = true;
    resync(seq);
    return SeqVerdict::kFirst;
  }
  if (pending_) {
    pending_ = false;
    const auto from_candidate = static_cast<std::int32_t>(seq - candidate_);
    if (from_candidate == 0) {  // the candidate again (duplicated copy): still unconfirmed
      pending_ = true;
      ++stats_.duplicate;
      return SeqVerdict::kDuplicate;
    }
    if (from_candidate > 0 && static_cast<std::uint32_t>(from_candidate) <= kWindow) {
      // Two packets agree on the new sequence space: the sender restarted. Resynchronise at the
      // candidate instead of counting the jump as ~2^32 losses.
      --stats_.out_of_window;
      ++stats_.restarts;
      resync(candidate_);
      (void)in_stream(seq);  // a gap right after the restart still counts
      return SeqVerdict::kRestart;
    }
    if (pending_fills_) {
      // Refuted, and the candidate lay behind the window but after the stream's start: a very late
      // packet. Beyond the window duplicate and fill cannot be told apart; assume a fill.
      --stats_.out_of_window;
      ++stats_.reordered;
      if (stats_.lost > 0) --stats_.lost;
    }
  }
  return in_stream(seq);
}

SeqVerdict SeqTracker::in_stream(std::uint32_t seq) noexcept {
  const auto d = static_cast<std::int32_t>(seq - highest_);  // RFC 1982 serial distance
  if (d > 0) {
    run_len_ = 0;
    const auto ahead = static_cast<std::uint32_t>(d);
    if (ahead >= kRestartJump) return candidate(seq, false);
    advance(seq, ahead);
    if (ahead == 1) return SeqVerdict::kInOrder;
    stats_.lost += ahead - 1;
    return SeqVerdict::kGap;
  }
  const std::uint32_t back = highest_ - seq;  // 0 .. 2^31
  if (back >= kWindow) {
    run_len_ = 0;
    return candidate(seq, back < span_);
  }
  if (seen(seq)) {
    ++stats_.duplicate;
    if (back == 0) {
      run_len_ = 0;
      return SeqVerdict::kDuplicate;
    }
    // A run of already-seen numbers n, n+1, ... behind the highest is a sender that restarted
    // close to where it was (fewer than kWindow packets before the reboot).
    if (run_len_ > 0 && seq == run_last_ + 1) {
      ++run_len_;
    } else {
      run_len_ = 1;
      run_start_ = seq;
    }
    run_last_ = seq;
    if (run_len_ < kRestartRun) return SeqVerdict::kDuplicate;
    stats_.duplicate -= kRestartRun;
    ++stats_.restarts;
    const std::uint32_t first = run_start_;
    resync(first);
    for (std::uint32_t s = first + 1; s != seq + 1; ++s) advance(s, 1);
    return SeqVerdict::kRestart;
  }
  run_len_ = 0;
  mark(seq);
  ++stats_.reordered;
  // Inside the stream's span the number was counted lost when it was skipped; before the first
  // packet seen it was never counted.
  if (back < span_ && stats_.lost > 0) --stats_.lost;
  return SeqVerdict::kReordered;
}

}  // namespace portmirror::collector
