#pragma once
// The parts of calisim._core, each defined in its own file and added to the module at import.

#include <pybind11/pybind11.h>

namespace calisim::python {

void bind_cluster(pybind11::module_& m);  // cluster_binding.cpp: calisim._core.Cluster

}  // namespace calisim::python
