#pragma once
// Recoverable failures at API edges: Result<T> = std::expected<T, Error>.
// No exceptions in the core; broken invariants abort (see CALISIM_CHECK).

#include <cstdio>
#include <cstdlib>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace calisim {

enum class Errc {
  kInvalidArgument,  // a caller passed something unusable
  kTruncated,        // input ended before a structure did
  kMalformed,        // input is inconsistent (bad version, length fields that disagree, ...)
  kBadChecksum,      // a checksum does not verify
  kUnsupported,      // valid, but not something calisim models
  kIo,               // the operating system refused (file, device, socket)
  kNotFound,
  kExists,
  kOutOfRange,
  kUnavailable,      // the thing is there but not working now (a crashed node, a down session)
};

constexpr std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kTruncated: return "truncated";
    case Errc::kMalformed: return "malformed";
    case Errc::kBadChecksum: return "bad checksum";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kIo: return "I/O error";
    case Errc::kNotFound: return "not found";
    case Errc::kExists: return "already exists";
    case Errc::kUnavailable: return "unavailable";
    case Errc::kOutOfRange: return "out of range";
  }
  return "unknown error";
}

struct Error {
  Errc code;
  std::string message;  // says what and where, for a person: "ipv4: total length 60 > 40 bytes"
};

template <class T>
using Result = std::expected<T, Error>;

[[nodiscard]] inline std::unexpected<Error> make_error(Errc code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "calisim: invariant broken at %s:%d: %s (%s)\n", file, line, msg, expr);
  std::abort();
}

}  // namespace calisim

// A broken invariant is a bug in calisim or in the caller's use of it: abort with a message.
#define CALISIM_CHECK(cond, msg) \
  ((cond) ? static_cast<void>(0) : ::calisim::check_failed(#cond, __FILE__, __LINE__, (msg)))
