// Control-path errors: a message a user can act on, an exit code, an optional source location.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "portmirror/base/exit_codes.h"
#include "portmirror/base/expected.h"

namespace portmirror {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

struct Error {
  ExitCode code = ExitCode::kFailure;
  std::string message;
  std::optional<SourceLocation> location;
};

inline Unexpected<Error> make_error(ExitCode code, std::string message) {
  return Unexpected<Error>(Error{code, std::move(message), std::nullopt});
}

template <typename T>
using Result = Expected<T, Error>;

}  // namespace portmirror
