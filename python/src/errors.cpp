// C++ Errors to Python exceptions (errors.hpp has the table).

#include "errors.hpp"

#include <string>

namespace py = pybind11;

namespace calisim::python {
namespace {

// calisim._core.SimulationError; created at import and kept for the life of the process (the
// module holds a reference too, so it is never freed while it can be raised).
PyObject* simulation_error = nullptr;

PyObject* exception_type(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
    case Errc::kMalformed:
    case Errc::kTruncated:
    case Errc::kOutOfRange:
      return PyExc_ValueError;
    case Errc::kNotFound:
      return PyExc_KeyError;
    case Errc::kIo:
      return PyExc_OSError;
    case Errc::kBadChecksum:
    case Errc::kUnsupported:
    case Errc::kExists:
    case Errc::kUnavailable:
      break;
  }
  return simulation_error != nullptr ? simulation_error : PyExc_RuntimeError;
}

}  // namespace

void register_errors(py::module_& m) {
  simulation_error = PyErr_NewExceptionWithDoc(
      "calisim._core.SimulationError",
      "A failure of the simulation that is not a bad argument, a missing name or an I/O error\n"
      "(for example something the model does not support). The message is calisim's own; the\n"
      "`code` attribute names the error kind.",
      PyExc_RuntimeError, nullptr);
  if (simulation_error == nullptr) throw py::error_already_set();
  // The module's reference is a new one: ours stays for exception_type().
  m.add_object("SimulationError", py::reinterpret_borrow<py::object>(simulation_error));
}

void raise(const Error& error) {
  PyObject* type = exception_type(error.code);
  py::object exc = py::reinterpret_borrow<py::object>(type)(error.message);
  exc.attr("code") = py::str(std::string(to_string(error.code)));
  PyErr_SetObject(type, exc.ptr());
  throw py::error_already_set();
}

void raise(Errc code, std::string message) {
  raise(Error{code, std::move(message)});
}

}  // namespace calisim::python
