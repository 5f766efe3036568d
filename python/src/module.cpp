// calisim._core: the pybind11 extension behind `import calisim` (python/calisim/ is the
// pure-Python package around it). Module-level helpers live here; the Cluster class in
// cluster_binding.cpp; the error translation in errors.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/quantity.hpp>
#include <calisim/calico/scale.hpp>
#include <calisim/calico/scenario.hpp>

#include "bindings.hpp"
#include "errors.hpp"

namespace py = pybind11;

namespace calisim::python {
namespace {

py::list check_scenario(const std::string& text, const std::string& filename) {
  calico::ScenarioParse parse = [&] {
    py::gil_scoped_release release;
    return calico::check_scenario(text, filename);
  }();
  py::list out;
  for (const auto& d : parse.diagnostics) {
    py::dict item;
    item["file"] = d.file;
    item["line"] = d.line;
    item["column"] = d.column;
    item["path"] = d.path;
    item["message"] = d.message;
    item["severity"] = d.severity == calico::Severity::kError ? "error" : "warning";
    item["text"] = d.to_string();
    out.append(item);
  }
  return out;
}

std::string scale_yaml(std::size_t nodes, std::size_t pods_per_node,
                       const std::string& encapsulation, std::uint64_t seed,
                       std::int64_t duration) {
  calico::ScaleOptions o;
  o.nodes = nodes;
  o.pods_per_node = pods_per_node;
  o.encapsulation = unwrap(calico::parse_scale_encapsulation(encapsulation));
  o.seed = seed;
  o.duration_s = duration;
  return unwrap(calico::scale_scenario_yaml(o));
}

}  // namespace
}  // namespace calisim::python

PYBIND11_MODULE(_core, m) {
  using namespace calisim;
  m.doc() =
      "calisim's C++ core: a Calico v3.28 cluster simulated packet by packet. Use the `calisim` "
      "package; this module is its engine.";
  m.attr("__version__") = CALISIM_VERSION;
  python::register_errors(m);
  python::bind_cluster(m);

  m.def(
      "lab_yaml", [] { return std::string(calico::default_lab_scenario_yaml()); },
      "The built-in scenario (examples/lab-ipip.yaml): two VirtualBox VMs on one /25, IPIP, the "
      "node-to-node mesh, a pod on each node.");
  m.def("scale_yaml", &python::scale_yaml, py::arg("nodes") = 100, py::arg("pods_per_node") = 10,
        py::arg("encapsulation") = "ipip", py::arg("seed") = 1, py::arg("duration") = 120,
        "The scenario `calisim scale` runs: `nodes` nodes on one subnet, the default pool in "
        "'ipip', 'vxlan' or 'none', `pods_per_node` pods on each; `duration` in whole seconds.");
  m.def("check_scenario", &python::check_scenario, py::arg("text"),
        py::arg("filename") = "scenario.yaml",
        "Every problem in a scenario, without building it: a list of {'file', 'line', 'column', "
        "'path', 'message', 'severity' ('error' or 'warning'), 'text'} in file order.");
  m.def(
      "parse_duration",
      [](const std::string& text) {
        return python::unwrap(calico::parse_duration(text)).to_seconds();
      },
      py::arg("text"), "Go's duration syntax ('1m30s', '20ms') in seconds.");
  m.def(
      "parse_rate",
      [](const std::string& text) { return python::unwrap(calico::parse_rate_bps(text)); },
      py::arg("text"), "tc's rate syntax ('10Mbit'; 'mbps' is bytes) in bits per second.");
  m.def(
      "parse_percentage",
      [](const std::string& text) { return python::unwrap(calico::parse_percentage(text)); },
      py::arg("text"), "netem's percentage ('1%') as a probability in [0, 1].");
  m.def(
      "supported_commands", [] { return calico::Cluster::supported_commands(); },
      "The commands Cluster.command() accepts, one a line.");
}
