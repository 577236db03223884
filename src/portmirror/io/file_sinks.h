// The file end of the sink chain: SplitSink (one output per sender or session) -> RotatingSink
// (tcpdump -C/-G/-W conventions) -> CaptureWriter. File names come from patterns:
//   %s sender  %r receiver  %e encapsulation  %k key/session ID/VNI ("none" without)  (split only)
//   %n file sequence number (ring position with -W)   %% a literal %
// and, with -G, strftime(3) conversions of the file's period start (UTC). Field values are
// sanitised to [A-Za-z0-9._-] (an IPv6 ':' becomes '-') so names are safe on any filesystem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portmirror/io/capture_writer.h"
#include "portmirror/io/sink.h"

namespace portmirror::io {

struct GroupFields {
  std::string sender, receiver, encap, key;
  static GroupFields of(const collector::Session& s, SplitBy by);
};

std::string sanitize_field(std::string_view v);
// Expands the split fields (when `fields` is non-null) and %n (when `seq` >= 0); everything else,
// including "%%" and strftime conversions, is kept for strftime_name().
std::string expand_fields(std::string_view pattern, const GroupFields* fields, long long seq);
// Applies strftime to `pattern` for `ts` (UTC), then turns any remaining "%%" into "%".
std::string strftime_name(std::string_view pattern, TimestampNs ts, bool apply_strftime);
// The default split pattern for `path`: "-%s" (sender) or "-%e-%s-%r-%k" (session) before the
// extension, unless `path` already contains split fields.
std::string default_split_pattern(const std::string& path, SplitBy by);

// One logical output, possibly rotated over several files. Never splits.
class RotatingSink final : public Sink {
 public:
  // `pattern` may still contain %n and strftime conversions (already expanded split fields).
  static Result<std::unique_ptr<RotatingSink>> open(std::string pattern, const SinkOptions& options,
                                                    const WriterOptions& writer_options);
  bool write(const collector::Session& session, const Decapsulated& d,
             TimestampNs ts) noexcept override;
  bool close(const collector::SessionTable& sessions) noexcept override;
  bool close() noexcept;
  bool flush() noexcept override;
  void set_stable_input(ByteSpan region) noexcept override;
  const Error* error() const noexcept override;
  std::uint64_t skipped() const noexcept override {
    return skipped_ + (writer_ ? writer_->skipped() : 0);
  }
  // Every file name opened so far, in order (the ring deletes the oldest beyond -W).
  std::vector<std::string> files() const override { return files_; }

 private:
  RotatingSink(std::string pattern, const SinkOptions& options, const WriterOptions& wo);
  [[gnu::cold]] bool rotate(TimestampNs ts) noexcept;
  std::string next_name(TimestampNs period_start) const;

  std::string pattern_;
  SinkOptions options_;
  WriterOptions writer_options_;
  std::unique_ptr<CaptureWriter> writer_;
  std::vector<std::string> files_;
  std::vector<std::string> ring_;  // live files, oldest first (only with -W)
  long long seq_ = 0;              // files opened so far
  TimestampNs period_start_ = 0;
  // -G: has `ts` left the current period? Overflow-free for any 64-bit packet time.
  bool period_elapsed(TimestampNs ts) const noexcept {
    TimestampNs elapsed = 0;
    if (__builtin_sub_overflow(ts, period_start_, &elapsed)) return true;
    return elapsed >= static_cast<TimestampNs>(options_.rotate_seconds) * kNsPerSec;
  }
  std::uint64_t skipped_ = 0;
  ByteSpan stable_;
  bool failed_ = false;
  Error error_;
};

class SplitSink final : public Sink {
 public:
  SplitSink(const SinkOptions& options, const WriterOptions& writer_options);
  bool write(const collector::Session& session, const Decapsulated& d,
             TimestampNs ts) noexcept override;
  bool close(const collector::SessionTable& sessions) noexcept override;
  bool close() noexcept;
  bool flush() noexcept override;
  void set_stable_input(ByteSpan region) noexcept override;
  const Error* error() const noexcept override { return failed_ ? &error_ : nullptr; }
  std::uint64_t skipped() const noexcept override;
  std::size_t outputs() const noexcept { return children_.size(); }
  std::vector<std::string> files() const override;

 private:
  [[gnu::cold]] std::int32_t add_child(const collector::Session& s) noexcept;

  SinkOptions options_;
  WriterOptions writer_options_;
  std::string pattern_;
  std::vector<std::unique_ptr<RotatingSink>> children_;
  std::vector<std::string> child_keys_;         // group key text per child
  std::vector<std::int32_t> child_of_session_;  // by session index; -1 unknown
  ByteSpan stable_;
  bool failed_ = false;
  Error error_;
};

}  // namespace portmirror::io
