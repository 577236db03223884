#include "portmirror/source/term_syntax.h"

#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

namespace portmirror::source {
namespace {

struct Named {
  std::string_view name;
  std::uint32_t value;
};

constexpr Named kProtocols[] = {
    {"icmp", 1},  {"igmp", 2},   {"ipip", 4},   {"tcp", 6},   {"egp", 8},      {"udp", 17},
    {"rsvp", 46}, {"gre", 47},   {"esp", 50},   {"ah", 51},   {"icmp6", 58},   {"ospf", 89},
    {"pim", 103}, {"vrrp", 112}, {"sctp", 132}, {"ipv6", 41}, {"dstopts", 60},
};
constexpr Named kPorts[] = {
    {"ftp-data", 20},     {"ftp", 21},          {"ssh", 22},   {"telnet", 23},
    {"smtp", 25},         {"domain", 53},       {"dhcp", 67},  {"bootps", 67},
    {"bootpc", 68},       {"tftp", 69},         {"http", 80},  {"kerberos-sec", 88},
    {"pop3", 110},        {"sunrpc", 111},      {"ntp", 123},  {"netbios-ns", 137},
    {"netbios-dgm", 138}, {"netbios-ssn", 139}, {"imap", 143}, {"snmp", 161},
    {"snmptrap", 162},    {"bgp", 179},         {"ldap", 389}, {"https", 443},
    {"syslog", 514},      {"printer", 515},     {"ldp", 646},  {"radius", 1812},
    {"radacct", 1813},    {"http-alt", 8080},
};
constexpr Named kIcmpTypes[] = {
    {"echo-reply", 0},      {"unreachable", 3},      {"source-quench", 4},
    {"redirect", 5},        {"echo-request", 8},     {"router-advertisement", 9},
    {"router-solicit", 10}, {"time-exceeded", 11},   {"parameter-problem", 12},
    {"timestamp", 13},      {"timestamp-reply", 14}, {"info-request", 15},
    {"info-reply", 16},     {"mask-request", 17},    {"mask-reply", 18},
};

std::optional<std::uint32_t> lookup(const Named* begin, const Named* end, std::string_view n) {
  for (const Named* p = begin; p != end; ++p) {
    if (p->name == n) return p->value;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> parse_number(std::string_view s) {
  std::uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Splits on whitespace; "..." and '...' group; [ and ] are tokens of their own.
Result<std::vector<std::string>> tokenize(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '[' || c == ']') {
      out.emplace_back(1, c);
      ++i;
    } else if (c == '"' || c == '\'') {
      const std::size_t close = s.find(c, i + 1);
      if (close == std::string_view::npos) {
        return make_error(ExitCode::kBadFilter, "unterminated quote in term: " + std::string(s));
      }
      out.emplace_back(s.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '[' &&
             s[j] != ']')
        ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

enum class ValueKind { kProtocol, kPort, kIcmpType, kIcmpCode, kDscp };

struct ValueKeyword {
  std::string_view word;
  ValueKind kind;
  config::ValueMatch config::MatchSpec::*field;
  bool except;
};

constexpr ValueKeyword kValueKeywords[] = {
    {"protocol", ValueKind::kProtocol, &config::MatchSpec::protocol, false},
    {"protocol-except", ValueKind::kProtocol, &config::MatchSpec::protocol, true},
    {"next-header", ValueKind::kProtocol, &config::MatchSpec::protocol, false},
    {"payload-protocol", ValueKind::kProtocol, &config::MatchSpec::protocol, false},
    {"source-port", ValueKind::kPort, &config::MatchSpec::source_port, false},
    {"source-port-except", ValueKind::kPort, &config::MatchSpec::source_port, true},
    {"destination-port", ValueKind::kPort, &config::MatchSpec::destination_port, false},
    {"destination-port-except", ValueKind::kPort, &config::MatchSpec::destination_port, true},
    {"port", ValueKind::kPort, &config::MatchSpec::port, false},
    {"port-except", ValueKind::kPort, &config::MatchSpec::port, true},
    {"icmp-type", ValueKind::kIcmpType, &config::MatchSpec::icmp_type, false},
    {"icmp-type-except", ValueKind::kIcmpType, &config::MatchSpec::icmp_type, true},
    {"icmp-code", ValueKind::kIcmpCode, &config::MatchSpec::icmp_code, false},
    {"icmp-code-except", ValueKind::kIcmpCode, &config::MatchSpec::icmp_code, true},
    {"dscp", ValueKind::kDscp, &config::MatchSpec::dscp, false},
    {"dscp-except", ValueKind::kDscp, &config::MatchSpec::dscp, true},
    {"traffic-class", ValueKind::kDscp, &config::MatchSpec::dscp, false},
    {"traffic-class-except", ValueKind::kDscp, &config::MatchSpec::dscp, true},
};

struct PrefixKeyword {
  std::string_view word;
  std::vector<config::PrefixEntry> config::MatchSpec::*field;
};
constexpr PrefixKeyword kPrefixKeywords[] = {
    {"source-address", &config::MatchSpec::source_address},
    {"destination-address", &config::MatchSpec::destination_address},
    {"address", &config::MatchSpec::address},
};

constexpr std::string_view kFlagKeywords[] = {
    "tcp-flags", "tcp-established", "tcp-initial", "first-fragment", "is-fragment", "then", "from",
    "term"};

bool is_keyword(std::string_view w) {
  for (const auto& k : kValueKeywords)
    if (k.word == w) return true;
  for (const auto& k : kPrefixKeywords)
    if (k.word == w) return true;
  for (auto k : kFlagKeywords)
    if (k == w) return true;
  return false;
}

std::uint32_t max_for(ValueKind k) {
  switch (k) {
    case ValueKind::kProtocol:
      return 255;
    case ValueKind::kPort:
      return 65535;
    case ValueKind::kIcmpType:
    case ValueKind::kIcmpCode:
      return 255;
    case ValueKind::kDscp:
      return 63;
  }
  return 0;
}

std::optional<std::uint32_t> value_of(ValueKind k, std::string_view w) {
  if (auto n = parse_number(w)) return n;
  switch (k) {
    case ValueKind::kProtocol:
      return protocol_by_name(w);
    case ValueKind::kPort:
      return port_by_name(w);
    case ValueKind::kIcmpType:
      return icmp_type_by_name(w);
    case ValueKind::kIcmpCode:
      return std::nullopt;
    case ValueKind::kDscp:
      return dscp_by_name(w);
  }
  return std::nullopt;
}

Result<config::Range> parse_range(ValueKind k, std::string_view w, std::string_view key) {
  auto bad = [&](const std::string& why) {
    return make_error(ExitCode::kBadFilter, std::string(key) + " '" + std::string(w) + "': " + why);
  };
  std::string_view lo = w, hi = w;
  // a-b range; names contain '-' too (echo-request), so try the whole word first.
  if (!value_of(k, w)) {
    const auto dash = w.find('-');
    if (dash != std::string_view::npos && dash > 0) {
      lo = w.substr(0, dash);
      hi = w.substr(dash + 1);
    }
  }
  auto a = value_of(k, lo);
  auto b = value_of(k, hi);
  if (!a || !b) return bad("not a number, range or known name");
  if (*a > max_for(k) || *b > max_for(k))
    return bad("out of range 0-" + std::to_string(max_for(k)));
  if (*a > *b) return bad("range low end above high end");
  return config::Range{*a, *b};
}

}  // namespace

std::optional<std::uint32_t> protocol_by_name(std::string_view n) {
  return lookup(std::begin(kProtocols), std::end(kProtocols), n);
}
std::optional<std::uint32_t> port_by_name(std::string_view n) {
  return lookup(std::begin(kPorts), std::end(kPorts), n);
}
std::optional<std::uint32_t> icmp_type_by_name(std::string_view n) {
  return lookup(std::begin(kIcmpTypes), std::end(kIcmpTypes), n);
}
std::optional<std::uint32_t> dscp_by_name(std::string_view n) {
  if (n == "be") return 0;
  if (n == "ef") return 46;
  if (n.size() == 3 && n.substr(0, 2) == "cs" && n[2] >= '0' && n[2] <= '7')
    return static_cast<std::uint32_t>(n[2] - '0') * 8;
  if (n.size() == 4 && n.substr(0, 2) == "af" && n[2] >= '1' && n[2] <= '4' && n[3] >= '1' &&
      n[3] <= '3')
    return static_cast<std::uint32_t>(n[2] - '0') * 8 + static_cast<std::uint32_t>(n[3] - '0') * 2;
  return std::nullopt;
}

Result<config::Term> parse_cli_term(std::string_view text, const std::string& default_name) {
  auto toks_r = tokenize(text);
  if (!toks_r) return Unexpected<Error>(toks_r.error());
  const auto& toks = *toks_r;
  config::Term term;
  term.name = default_name;
  auto err = [&](const std::string& m) {
    return make_error(ExitCode::kBadFilter, "--term '" + std::string(text) + "': " + m);
  };
  std::size_t i = 0;
  if (i < toks.size() && toks[i] == "term") {
    if (i + 1 >= toks.size()) return err("'term' needs a name");
    term.name = toks[i + 1];
    i += 2;
  }
  if (i < toks.size() && toks[i] == "from") ++i;
  auto& f = term.from;
  while (i < toks.size() && toks[i] != "then") {
    const std::string& w = toks[i];
    ++i;
    bool handled = false;
    for (const auto& k : kPrefixKeywords) {
      if (w != k.word) continue;
      handled = true;
      auto& list = f.*(k.field);
      const std::size_t before = list.size();
      bool bracket = i < toks.size() && toks[i] == "[";
      if (bracket) ++i;
      while (i < toks.size() && !is_keyword(toks[i]) && toks[i] != "]") {
        if (toks[i] == "except") {
          if (list.size() == before) return err("'except' must follow a prefix");
          list.back().except = true;
          ++i;
          continue;
        }
        // Accept commas as separators too.
        std::string_view rest = toks[i];
        while (!rest.empty()) {
          const auto comma = rest.find(',');
          const std::string_view one = rest.substr(0, comma);
          if (!one.empty()) {
            auto p = IpPrefix::parse(one);
            if (!p)
              return err(std::string(k.word) + ": '" + std::string(one) +
                         "' is not an address prefix");
            list.push_back(config::PrefixEntry{*p, false});
          }
          if (comma == std::string_view::npos) break;
          rest = rest.substr(comma + 1);
        }
        ++i;
      }
      if (bracket) {
        if (i >= toks.size() || toks[i] != "]") return err("missing ']'");
        ++i;
      }
      if (list.size() == before) return err(std::string(k.word) + " needs at least one prefix");
    }
    for (const auto& k : kValueKeywords) {
      if (handled || w != k.word) continue;
      handled = true;
      auto& vm = f.*(k.field);
      if (!vm.values.empty() && vm.except != k.except) {
        return err(std::string(k.word) + " conflicts with the same condition given before");
      }
      vm.except = k.except;
      const std::size_t before = vm.values.size();
      bool bracket = i < toks.size() && toks[i] == "[";
      if (bracket) ++i;
      while (i < toks.size() && !is_keyword(toks[i]) && toks[i] != "]") {
        std::string_view rest = toks[i];
        while (!rest.empty()) {
          const auto comma = rest.find(',');
          const std::string_view one = rest.substr(0, comma);
          if (!one.empty()) {
            auto r = parse_range(k.kind, one, k.word);
            if (!r) return err(r.error().message);
            vm.values.push_back(*r);
          }
          if (comma == std::string_view::npos) break;
          rest = rest.substr(comma + 1);
        }
        ++i;
      }
      if (bracket) {
        if (i >= toks.size() || toks[i] != "]") return err("missing ']'");
        ++i;
      }
      if (vm.values.size() == before) return err(std::string(k.word) + " needs a value");
    }
    if (handled) continue;
    if (w == "tcp-flags") {
      if (i >= toks.size())
        return err("tcp-flags needs an expression, e.g. tcp-flags \"syn & !ack\"");
      std::string expr = toks[i++];
      // Unquoted expressions may span several words until the next keyword.
      while (i < toks.size() && !is_keyword(toks[i])) expr += " " + toks[i++];
      f.tcp_flags = f.tcp_flags.empty() ? expr : "(" + f.tcp_flags + ") & (" + expr + ")";
    } else if (w == "tcp-established" || w == "tcp-initial") {
      const std::string expr = w == "tcp-established" ? "ack | rst" : "syn & !ack";
      f.tcp_flags = f.tcp_flags.empty() ? expr : "(" + f.tcp_flags + ") & (" + expr + ")";
      if (f.protocol.values.empty()) f.protocol.values.push_back(config::Range{6, 6});
    } else if (w == "first-fragment") {
      f.first_fragment = true;
    } else if (w == "is-fragment") {
      f.is_fragment = true;
    } else {
      return err("unknown match condition '" + w +
                 "' (source-address destination-address address protocol source-port "
                 "destination-port port icmp-type icmp-code dscp tcp-flags tcp-established "
                 "tcp-initial first-fragment is-fragment, -except forms)");
    }
  }
  if (i >= toks.size()) {
    term.port_mirror = true;  // no `then`: mirror
    return term;
  }
  ++i;  // then
  if (i >= toks.size()) return err("'then' needs an action");
  bool any_action = false;
  while (i < toks.size()) {
    const std::string& w = toks[i++];
    any_action = true;
    if (w == "port-mirror") {
      term.port_mirror = true;
    } else if (w == "port-mirror-instance") {
      if (i >= toks.size()) return err("port-mirror-instance needs an instance name");
      term.port_mirror = true;
      term.mirror_instance = toks[i++];
    } else if (w == "accept") {
      term.port_mirror = true;
      term.verdict = config::TermVerdict::kAccept;
    } else if (w == "discard" || w == "reject") {
      term.verdict = w == "discard" ? config::TermVerdict::kDiscard : config::TermVerdict::kReject;
    } else if (w == "next") {
      if (i >= toks.size() || toks[i] != "term") return err("expected 'next term'");
      ++i;
      term.verdict = config::TermVerdict::kNextTerm;
    } else if (w == "count") {
      if (i >= toks.size()) return err("count needs a counter name");
      term.count = toks[i++];
    } else {
      return err(
          "unknown action '" + w +
          "' (port-mirror, port-mirror-instance NAME, accept, discard, next term, count NAME)");
    }
  }
  if (!any_action) return err("'then' needs an action");
  // `then port-mirror discard`: a router mirrors, then drops; for us that is "mirror".
  return term;
}

}  // namespace portmirror::source
