// The built-in lab from C++: the worker's pod pings the controller's, and the ping prints what
// iputils prints (ttl=62: two forwarding hosts between the pods).
#include <cstdio>

#include <calisim/calico/cluster.hpp>
#include <calisim/calico/scenario.hpp>

int main() {
  using namespace calisim;
  auto scenario = calico::parse_scenario(calico::default_lab_scenario_yaml(), "lab-ipip.yaml");
  if (!scenario) {
    std::fprintf(stderr, "%s\n", scenario.error().message.c_str());
    return 2;
  }
  auto cluster = calico::Cluster::create(*scenario);
  if (!cluster) {
    std::fprintf(stderr, "%s\n", cluster.error().message.c_str());
    return 1;
  }
  (*cluster)->run_until(Time::zero() + Duration::seconds(20));
  auto ping = (*cluster)->ping("default/hello-776c774f98-894tt", "default/hi", 3);
  if (!ping) {
    std::fprintf(stderr, "%s\n", ping.error().message.c_str());
    return 1;
  }
  (*cluster)->run_until(Time::zero() + Duration::seconds(25));
  const auto& run = (*cluster)->pings()[*ping];
  for (const auto& line : run.lines) std::printf("%s\n", line.c_str());
  return run.received == run.transmitted ? 0 : 1;
}
