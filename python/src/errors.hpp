#pragma once
// calisim's Result errors as Python exceptions. The message is the C++ Error's, unchanged; the
// exception also carries the error code's name in `.code` ("not found", "invalid argument").
//
//   Errc::kInvalidArgument, kMalformed, kTruncated, kOutOfRange  -> ValueError
//   Errc::kNotFound                                            -> KeyError
//   Errc::kIo                                                  -> OSError
//   anything else                                              -> calisim.SimulationError
//                                                                 (a RuntimeError)

#include <utility>

#include <pybind11/pybind11.h>

#include <calisim/sim/result.hpp>

namespace calisim::python {

// Creates calisim._core.SimulationError in `m`. Called once, at import.
void register_errors(pybind11::module_& m);

// Sets the Python exception for `error` and throws pybind11::error_already_set. The GIL must
// be held.
[[noreturn]] void raise(const Error& error);
// The same for an error made here, in the binding (a bad argument, a finished cluster).
[[noreturn]] void raise(Errc code, std::string message);

template <class T>
T unwrap(Result<T>&& r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

inline void unwrap(Result<void>&& r) {
  if (!r) raise(r.error());
}

}  // namespace calisim::python
