#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/core.h>

#include "portmirror/io/file_sinks.h"
#include "portmirror/io/output_file.h"
#include "portmirror/io/sink.h"

namespace portmirror::io {
namespace {

int digits(std::uint32_t v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

bool has_split_fields(std::string_view p) {
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] != '%') continue;
    char c = p[i + 1];
    if (c == 's' || c == 'r' || c == 'e' || c == 'k') return true;
    ++i;  // skip the conversion character ("%%" included)
  }
  return false;
}

WriterOptions writer_options_of(const SinkOptions& o, std::size_t buffer) {
  WriterOptions w;
  w.format = o.format;
  w.link_policy = o.link_policy;
  w.snaplen = o.snaplen;
  w.filter_text = o.filter_text;
  w.flush_each_packet = o.flush_each_packet;
  w.buffer_size = buffer;
  return w;
}

}  // namespace

std::string sanitize_field(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : (c == ':' ? '-' : '_'));
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

GroupFields GroupFields::of(const collector::Session& s, SplitBy by) {
  GroupFields f;
  if (s.key.sender.empty()) {
    f.sender = f.receiver = f.encap = f.key = "untunnelled";
    return f;
  }
  f.sender = sanitize_field(s.key.sender.to_string());
  if (by == SplitBy::kSender) {
    // One file per sender holds several sessions: the other fields are not single-valued.
    f.receiver = "any";
    f.encap = "any";
    f.key = "any";
    return f;
  }
  f.receiver = sanitize_field(s.key.receiver.to_string());
  f.encap = std::string(encap_name(s.key.encap));
  f.key = s.key.has_id ? std::to_string(s.key.id) : "none";
  return f;
}

std::string expand_fields(std::string_view pattern, const GroupFields* fields, long long seq) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%' || i + 1 >= pattern.size()) {
      out.push_back(c);
      continue;
    }
    char n = pattern[++i];
    if (fields != nullptr && n == 's') {
      out += fields->sender;
    } else if (fields != nullptr && n == 'r') {
      out += fields->receiver;
    } else if (fields != nullptr && n == 'e') {
      out += fields->encap;
    } else if (fields != nullptr && n == 'k') {
      out += fields->key;
    } else if (seq >= 0 && n == 'n') {
      out += std::to_string(seq);
    } else {
      out.push_back('%');
      out.push_back(n);
    }
  }
  return out;
}

std::string strftime_name(std::string_view pattern, TimestampNs ts, bool apply_strftime) {
  std::string p(pattern);
  if (apply_strftime) {
    std::time_t t = static_cast<std::time_t>(ts / kNsPerSec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::string buf(p.size() * 4 + 256, '\0');
    std::size_t n = std::strftime(buf.data(), buf.size(), p.c_str(), &tm);
    if (n != 0 || p.empty()) {
      buf.resize(n);
      return buf;  // strftime already turned "%%" into "%"
    }
  }
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    out.push_back(p[i]);
    if (p[i] == '%' && i + 1 < p.size() && p[i + 1] == '%') ++i;
  }
  return out;
}

std::string default_split_pattern(const std::string& path, SplitBy by) {
  if (has_split_fields(path)) return path;
  std::string suffix = by == SplitBy::kSender ? "-%s" : "-%e-%s-%r-%k";
  std::size_t slash = path.rfind('/');
  std::size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1)) {
    return path + suffix;
  }
  return path.substr(0, dot) + suffix + path.substr(dot);
}

// ---------------------------------------------------------------------------------------------
// RotatingSink

Result<std::unique_ptr<RotatingSink>> RotatingSink::open(std::string pattern,
                                                         const SinkOptions& options,
                                                         const WriterOptions& writer_options) {
  std::unique_ptr<RotatingSink> s(new RotatingSink(std::move(pattern), options, writer_options));
  // With -G the name depends on the first packet's time: open then (close() opens one if no
  // packet came, so an output file always exists). Otherwise open now, so errors show up early.
  if (options.rotate_seconds == 0 && !s->rotate(0)) return Unexpected<Error>(*s->error());
  return s;
}

RotatingSink::RotatingSink(std::string pattern, const SinkOptions& options, const WriterOptions& wo)
    : pattern_(std::move(pattern)), options_(options), writer_options_(wo) {}

std::string RotatingSink::next_name(TimestampNs period_start) const {
  bool rotating = options_.rotate_bytes != 0 || options_.ring_files != 0;
  long long shown = options_.ring_files != 0 ? seq_ % options_.ring_files : seq_;
  bool has_n = pattern_.find("%n") != std::string::npos;
  std::string name = expand_fields(pattern_, nullptr, shown);
  name = strftime_name(name, period_start, options_.rotate_seconds != 0);
  // tcpdump convention: with -C/-W the count is appended (zero-padded to -W's width; the first
  // file of a plain -C run keeps the bare name).
  if (!has_n && rotating && (options_.ring_files != 0 || seq_ > 0)) {
    int width = options_.ring_files != 0 ? digits(options_.ring_files - 1) : 0;
    name += fmt::format("{:0{}}", shown, width);
  }
  return name;
}

bool RotatingSink::rotate(TimestampNs ts) noexcept {
  try {
    if (writer_) {
      bool ok = writer_->close();
      skipped_ += writer_->skipped();
      if (!ok) {
        error_ = *writer_->error();
        failed_ = true;
        return false;
      }
      writer_.reset();
    }
    if (options_.rotate_seconds != 0) {
      TimestampNs period = static_cast<TimestampNs>(options_.rotate_seconds) * kNsPerSec;
      period_start_ = ts - (((ts % period) + period) % period);
    }
    std::string name = next_name(period_start_);
    if (options_.ring_files != 0) {
      // Ring of -W files: when full, the oldest goes (with -C its name is reused and truncated).
      ring_.erase(std::remove(ring_.begin(), ring_.end(), name), ring_.end());
      while (ring_.size() >= options_.ring_files) {
        ::unlink(ring_.front().c_str());
        ring_.erase(ring_.begin());
      }
      ring_.push_back(name);
    }
    auto w = open_capture_writer(name, writer_options_);
    if (!w) {
      error_ = w.error();
      failed_ = true;
      return false;
    }
    writer_ = std::move(*w);
    writer_->set_stable_region(stable_);
    files_.push_back(name);
    ++seq_;
    return true;
  } catch (const std::exception& e) {
    error_ = Error{ExitCode::kOutputUnwritable, e.what(), std::nullopt};
    failed_ = true;
    return false;
  }
}

bool RotatingSink::write(const collector::Session& session, const Decapsulated& d,
                         TimestampNs ts) noexcept {
  if (failed_) return false;
  if (!writer_) {
    if (!rotate(ts)) return false;
  } else if (options_.rotate_seconds != 0 && period_elapsed(ts)) {
    if (!rotate(ts)) return false;
  } else if (options_.rotate_bytes != 0 && writer_->packets() != 0 &&
             writer_->bytes() > options_.rotate_bytes) {
    if (!rotate(ts)) return false;
  }
  if (!writer_->write(session, d, ts)) {
    error_ = *writer_->error();
    failed_ = true;
    return false;
  }
  return true;
}

void RotatingSink::set_stable_input(ByteSpan region) noexcept {
  stable_ = region;
  if (writer_) writer_->set_stable_region(region);
}

bool RotatingSink::flush() noexcept {
  if (failed_) return false;
  if (writer_ && !writer_->flush()) {
    error_ = *writer_->error();
    failed_ = true;
    return false;
  }
  return true;
}

bool RotatingSink::close(const collector::SessionTable& /*sessions*/) noexcept {
  return close();
}

bool RotatingSink::close() noexcept {
  if (!writer_ && !failed_ && files_.empty()) {
    if (!rotate(wall_clock_ns())) return false;
  }
  if (writer_) {
    bool ok = writer_->close();
    skipped_ += writer_->skipped();
    if (!ok && !failed_) {
      error_ = *writer_->error();
      failed_ = true;
    }
    writer_.reset();
  }
  return !failed_;
}

const Error* RotatingSink::error() const noexcept {
  if (failed_) return &error_;
  return writer_ ? writer_->error() : nullptr;
}

// ---------------------------------------------------------------------------------------------
// SplitSink

SplitSink::SplitSink(const SinkOptions& options, const WriterOptions& writer_options)
    : options_(options),
      writer_options_(writer_options),
      pattern_(options.split_pattern.empty() ? default_split_pattern(options.path, options.split)
                                             : options.split_pattern) {
  child_of_session_.reserve(4096);
}

std::int32_t SplitSink::add_child(const collector::Session& s) noexcept {
  try {
    GroupFields f = GroupFields::of(s, options_.split);
    std::string key = options_.split == SplitBy::kSender
                          ? f.sender
                          : fmt::format("{}\n{}\n{}\n{}", f.sender, f.receiver, f.encap, f.key);
    std::int32_t child = -1;
    for (std::size_t i = 0; i < child_keys_.size(); ++i) {
      if (child_keys_[i] == key) child = static_cast<std::int32_t>(i);
    }
    if (child < 0) {
      auto sink = RotatingSink::open(expand_fields(pattern_, &f, -1), options_, writer_options_);
      if (!sink) {
        error_ = sink.error();
        failed_ = true;
        return -1;
      }
      (*sink)->set_stable_input(stable_);
      children_.push_back(std::move(*sink));
      child_keys_.push_back(key);
      child = static_cast<std::int32_t>(children_.size() - 1);
    }
    if (s.index >= child_of_session_.size()) child_of_session_.resize(s.index + 1, -1);
    child_of_session_[s.index] = child;
    return child;
  } catch (const std::exception& e) {
    error_ = Error{ExitCode::kOutputUnwritable, e.what(), std::nullopt};
    failed_ = true;
    return -1;
  }
}

bool SplitSink::write(const collector::Session& session, const Decapsulated& d,
                      TimestampNs ts) noexcept {
  if (failed_) return false;
  std::int32_t c = session.index < child_of_session_.size() ? child_of_session_[session.index] : -1;
  if (c < 0 && (c = add_child(session)) < 0) return false;
  RotatingSink& sink = *children_[static_cast<std::size_t>(c)];
  if (!sink.write(session, d, ts)) {
    error_ = *sink.error();
    failed_ = true;
    return false;
  }
  return true;
}

void SplitSink::set_stable_input(ByteSpan region) noexcept {
  stable_ = region;
  for (auto& c : children_) c->set_stable_input(region);
}

bool SplitSink::flush() noexcept {
  bool ok = !failed_;
  for (auto& c : children_) ok = c->flush() && ok;
  return ok;
}

bool SplitSink::close(const collector::SessionTable& /*sessions*/) noexcept {
  return close();
}

bool SplitSink::close() noexcept {
  bool ok = !failed_;
  for (auto& c : children_) {
    if (!c->close() && !failed_) {
      error_ = *c->error();
      failed_ = true;
      ok = false;
    }
  }
  return ok;
}

std::uint64_t SplitSink::skipped() const noexcept {
  std::uint64_t n = 0;
  for (const auto& c : children_) n += c->skipped();
  return n;
}

std::vector<std::string> SplitSink::files() const {
  std::vector<std::string> out;
  for (const auto& c : children_) {
    std::vector<std::string> f = c->files();
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<Sink>> open_sink(const SinkOptions& options) {
  if (options.path.empty()) return make_error(ExitCode::kUsage, "no output file given (-w)");
  bool to_stdout = options.path == "-";
  if (to_stdout && (options.split != SplitBy::kNone || options.rotate_bytes != 0 ||
                    options.rotate_seconds != 0 || options.ring_files != 0)) {
    return make_error(ExitCode::kUsage,
                      "-w - (standard output) cannot be combined with --split-by, -C, -G or -W");
  }
  if (options.ring_files != 0 && options.rotate_bytes == 0 && options.rotate_seconds == 0) {
    return make_error(ExitCode::kUsage, "-W needs -C or -G");
  }
  if (options.split != SplitBy::kNone) {
    // Many files open at once: smaller buffers each (still far above one record).
    WriterOptions wo = writer_options_of(options, OutputFile::kMaxRecord * 2);
    return std::unique_ptr<Sink>(new SplitSink(options, wo));
  }
  WriterOptions wo = writer_options_of(options, OutputFile::kDefaultBuffer);
  auto s = RotatingSink::open(options.path, options, wo);
  if (!s) return Unexpected<Error>(s.error());
  return std::unique_ptr<Sink>(std::move(*s));
}

}  // namespace portmirror::io
