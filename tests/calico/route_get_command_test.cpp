// `ip route get ADDRESS` typed at a node of an example cluster (Cluster::command): the route a
// socket there would get, with its source address, as iproute2 prints it.

#include <calisim/calico/cluster.hpp>

#include <gtest/gtest.h>

#include <string>

#include "calico/example_cluster.hpp"

namespace calisim::calico {
namespace {

std::string view(const Cluster& c, std::string_view where, std::string_view command) {
  auto out = c.command(where, command);
  if (!out) {
    ADD_FAILURE() << where << "$ " << command << ": " << out.error().message;
    return "";
  }
  return *out;
}

TEST(ClusterCommand, IpRouteGet) {
  auto c = test::run_example("lab-ipip.yaml");
  ASSERT_NE(c, nullptr);
  // A remote block leaves through tunl0 with the tunnel address as source (Calico's tunl0
  // address is what node-originated traffic to remote pods carries).
  EXPECT_EQ(view(*c, "user-controller", "ip route get 192.168.153.250"),
            "192.168.153.250 via 203.248.23.215 dev tunl0 src 192.168.136.0 uid 0 \n"
            "    cache \n");
  EXPECT_EQ(view(*c, "user-controller", "ip r g 203.248.23.215"),
            "203.248.23.215 dev enp0s8 src 203.248.23.214 uid 0 \n"
            "    cache \n");
  EXPECT_EQ(view(*c, "user-controller", "ip route get 203.248.23.214"),
            "local 203.248.23.214 dev lo src 203.248.23.214 uid 0 \n"
            "    cache <local> \n");
  // The node's own block is a blackhole: the kernel refuses with EINVAL.
  EXPECT_EQ(view(*c, "user-controller", "ip route get 192.168.136.60"),
            "RTNETLINK answers: Invalid argument\n");
  EXPECT_TRUE(Cluster::check_command("ip route get 10.0.0.1").has_value());
  EXPECT_FALSE(Cluster::check_command("ip route get").has_value());
  EXPECT_FALSE(Cluster::check_command("ip route get fe80::1").has_value());
  EXPECT_FALSE(Cluster::check_command("ip route get 10.0.0.1 from 10.0.0.2").has_value());
}

}  // namespace
}  // namespace calisim::calico
