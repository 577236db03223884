// Process exit codes, one per kind of failure a script may want to tell apart (tcpdump
// status-exit-codes.h idea). Documented in README "Exit codes".
#pragma once

namespace portmirror {

enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,           // generic runtime failure; `check`: warnings only
  kUsage = 2,             // bad command line; `check`: errors found
  kInputUnreadable = 3,   // cannot open or parse an input capture / config file
  kUnknownLinkType = 4,   // input capture has a link type we cannot walk
  kOutputUnwritable = 5,  // cannot create or write an output file (includes disk full)
  kBadFilter = 6,         // filter expression or term does not compile
  kPermission = 7,        // missing capability (CAP_NET_RAW / CAP_NET_ADMIN) or not root
  kAddressInUse = 8,      // a port or address we must bind is taken
  kNoSuchInterface = 9,   // unknown interface
  kConfig = 10,           // configuration (Junos or flags) is inconsistent
  kEnvironment = 11,      // missing tool or kernel feature (ip, netns) for `lab`
};

constexpr int to_int(ExitCode c) noexcept {
  return static_cast<int>(c);
}

}  // namespace portmirror
