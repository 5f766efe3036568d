// `ip route`, `ip rule`, `route -n` and /proc/net/route compared byte for byte with the real
// tools. Every expected text below was printed by iproute2 6.1 / net-tools 2.10 on kernel 6.18
// in a throw-away namespace built with the same commands (linux.md §1.1, §1.5, §1.6 and
// calico.md §1.3 show the same outputs).

#include <calisim/dataplane/fib.hpp>
#include <calisim/dataplane/route.hpp>
#include <calisim/dataplane/route_views.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

namespace calisim::dataplane {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Prefix;

Ipv4Address A(std::string_view text) { return Ipv4Address::parse(text).value(); }
Ipv4Prefix P(std::string_view text) { return Ipv4Prefix::parse(text).value(); }

// Devices of a test namespace: lo is ifindex 1, as in Linux.
struct Devices {
  std::map<std::uint32_t, std::string> names{{kLoopbackIfindex, "lo"}};
  std::set<std::uint32_t> without_carrier;

  std::uint32_t add(std::string name, bool carrier = true) {
    const auto index = static_cast<std::uint32_t>(names.size() + 1);
    names.emplace(index, std::move(name));
    if (!carrier) without_carrier.insert(index);
    return index;
  }
  IfNames view() const {
    return IfNames{
        .name = [this](std::uint32_t i) { return names.contains(i) ? names.at(i) : std::string(); },
        .carrier = [this](std::uint32_t i) { return !without_carrier.contains(i); },
        .exists =
            [this](std::string_view n) {
              for (const auto& [i, name] : names) {
                if (name == n) return true;
              }
              return false;
            },
    };
  }
};

void must(Result<void> r) { ASSERT_TRUE(r.has_value()) << r.error().message; }

// linux.md's host `ref-a`: a0 10.200.1.2/24 (peer up), v1 192.168.50.1/24 (peer down, so no
// carrier), lo up. The routes are linux.md §1.1's, without the multipath route (10.9.14.0/24)
// and the advmss/initcwnd/rto_min one (10.9.15.0/24), which calisim does not model.
struct LinuxSample {
  Devices devices;
  Fib fib;
  std::uint32_t a0 = devices.add("a0");
  std::uint32_t v1 = devices.add("v1", false);

  LinuxSample() {
    fib.add_address_routes(kLoopbackIfindex, P("127.0.0.1/8"));
    fib.add_address_routes(a0, P("10.200.1.2/24"));
    fib.add_address_routes(v1, P("192.168.50.1/24"));
    const auto via = [&](std::string_view dst, std::string_view gw) {
      return Route{.destination = P(dst), .gateway = A(gw), .ifindex = a0};
    };
    must(fib.add_route(via("0.0.0.0/0", "10.200.1.1")));
    Route tos = via("10.0.0.0/24", "10.200.1.1");
    tos.tos = 0x10;
    tos.metric = 7;
    must(fib.add_route(tos));
    Route m5 = via("10.0.0.0/24", "10.200.1.1");
    m5.metric = 5;
    must(fib.add_route(m5));
    must(fib.add_route(via("10.0.0.0/16", "10.200.1.1")));
    must(fib.add_route(via("10.0.0.0/8", "10.200.1.1")));
    Route statik = via("10.9.1.0/24", "10.200.1.1");
    statik.protocol = route_protocol::kStatic;
    statik.metric = 100;
    must(fib.add_route(statik));
    must(fib.add_route(Route{.destination = P("10.9.2.0/24"), .type = RouteType::kBlackhole}));
    must(fib.add_route(Route{.destination = P("10.9.3.0/24"), .type = RouteType::kUnreachable}));
    must(fib.add_route(Route{.destination = P("10.9.4.0/24"), .type = RouteType::kProhibit}));
    must(fib.add_route(Route{.destination = P("10.9.5.0/24"), .type = RouteType::kThrow}));
    Route onlink = via("10.9.6.0/24", "10.77.0.1");
    onlink.onlink = true;
    must(fib.add_route(onlink));
    must(fib.add_route(Route{.destination = P("10.9.7.0/24"),
                             .ifindex = a0,
                             .scope = RouteScope::kLink,
                             .preferred_source = A("10.200.1.2")}));
    Route mtu = via("10.9.9.1/32", "10.200.1.1");
    mtu.mtu = 1400;
    must(fib.add_route(mtu));
    must(fib.add_route(
        Route{.destination = P("10.9.10.0/24"), .type = RouteType::kBlackhole, .metric = 5}));
    must(fib.add_route(
        Route{.destination = P("192.168.51.2/32"), .ifindex = v1, .scope = RouteScope::kLink}));
    Route t100 = via("10.9.8.0/24", "10.200.1.1");
    t100.table = 100;
    must(fib.add_route(t100));
    must(fib.add_route(Route{.destination = P("0.0.0.0/0"),
                             .type = RouteType::kUnreachable,
                             .metric = 4278198272u,
                             .table = 100}));
  }
};

TEST(RouteViews, LinuxMainTable) {
  const LinuxSample s;
  EXPECT_EQ(ip_route_show(s.fib, kMainTable, s.devices.view()),
            "default via 10.200.1.1 dev a0 \n"
            "10.0.0.0/24 tos 0x10 via 10.200.1.1 dev a0 metric 7 \n"
            "10.0.0.0/24 via 10.200.1.1 dev a0 metric 5 \n"
            "10.0.0.0/16 via 10.200.1.1 dev a0 \n"
            "10.0.0.0/8 via 10.200.1.1 dev a0 \n"
            "10.9.1.0/24 via 10.200.1.1 dev a0 proto static metric 100 \n"
            "blackhole 10.9.2.0/24 \n"
            "unreachable 10.9.3.0/24 \n"
            "prohibit 10.9.4.0/24 \n"
            "throw 10.9.5.0/24 \n"
            "10.9.6.0/24 via 10.77.0.1 dev a0 onlink \n"
            "10.9.7.0/24 dev a0 scope link src 10.200.1.2 \n"
            "10.9.9.1 via 10.200.1.1 dev a0 mtu 1400 \n"
            "blackhole 10.9.10.0/24 metric 5 \n"
            "10.200.1.0/24 dev a0 proto kernel scope link src 10.200.1.2 \n"
            "192.168.50.0/24 dev v1 proto kernel scope link src 192.168.50.1 linkdown \n"
            "192.168.51.2 dev v1 scope link linkdown \n");
}

TEST(RouteViews, LinuxLocalTable) {
  const LinuxSample s;
  EXPECT_EQ(ip_route_show(s.fib, kLocalTable, s.devices.view()),
            "local 10.200.1.2 dev a0 proto kernel scope host src 10.200.1.2 \n"
            "broadcast 10.200.1.255 dev a0 proto kernel scope link src 10.200.1.2 \n"
            "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 \n"
            "local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 \n"
            "broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 \n"
            "local 192.168.50.1 dev v1 proto kernel scope host src 192.168.50.1 \n"
            "broadcast 192.168.50.255 dev v1 proto kernel scope link src 192.168.50.1 "
            "linkdown \n");
}

TEST(RouteViews, OtherTableAndTableAll) {
  const LinuxSample s;
  EXPECT_EQ(ip_route_show(s.fib, 100, s.devices.view()),
            "unreachable default metric 4278198272 \n"
            "10.9.8.0/24 via 10.200.1.1 dev a0 \n");
  EXPECT_EQ(ip_route_show(s.fib, 7, s.devices.view()), "");  // no such table: nothing
  const std::string all = ip_route_show(s.fib, kAllTables, s.devices.view());
  EXPECT_EQ(all.substr(0, all.find("default via")),
            "unreachable default table 100 metric 4278198272 \n"
            "10.9.8.0/24 via 10.200.1.1 dev a0 table 100 \n");
  EXPECT_NE(all.find("192.168.51.2 dev v1 scope link linkdown \n"
                     "local 10.200.1.2 dev a0 table local proto kernel scope host src 10.200.1.2 \n"
                     "broadcast 10.200.1.255 dev a0 table local proto kernel scope link src "
                     "10.200.1.2 \n"),
            std::string::npos)
      << all;
}

TEST(RouteViews, LinuxRouteN) {
  const LinuxSample s;
  EXPECT_EQ(route_n(s.fib, s.devices.view()),
            "Kernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
            "0.0.0.0         10.200.1.1      0.0.0.0         UG    0      0        0 a0\n"
            "10.0.0.0        10.200.1.1      255.255.255.0   UG    7      0        0 a0\n"
            "10.0.0.0        10.200.1.1      255.255.255.0   UG    5      0        0 a0\n"
            "10.0.0.0        10.200.1.1      255.255.0.0     UG    0      0        0 a0\n"
            "10.0.0.0        10.200.1.1      255.0.0.0       UG    0      0        0 a0\n"
            "10.9.1.0        10.200.1.1      255.255.255.0   UG    100    0        0 a0\n"
            "10.9.2.0        0.0.0.0         255.255.255.0   U     0      0        0 *\n"
            "10.9.3.0        -               255.255.255.0   !     0      -        0 -\n"
            "10.9.4.0        -               255.255.255.0   !     0      -        0 -\n"
            "10.9.5.0        0.0.0.0         255.255.255.0   U     0      0        0 *\n"
            "10.9.6.0        10.77.0.1       255.255.255.0   UG    0      0        0 a0\n"
            "10.9.7.0        0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.9.1        10.200.1.1      255.255.255.255 UGH   0      0        0 a0\n"
            "10.9.10.0       0.0.0.0         255.255.255.0   U     5      0        0 *\n"
            "10.200.1.0      0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "192.168.50.0    0.0.0.0         255.255.255.0   U     0      0        0 v1\n"
            "192.168.51.2    0.0.0.0         255.255.255.255 UH    0      0        0 v1\n");
}

// The kernel pads every /proc/net/route line to 127 characters (seq_setwidth/seq_pad).
std::string padded(std::string_view line) {
  std::string out(line);
  out.resize(127, ' ');
  return out + "\n";
}

TEST(RouteViews, CalicoNodeTable) {
  // calico.md §1.3 (issue #8953) plus a VXLAN route and blackhole (proto 80, onlink) and a
  // cross-subnet BIRD route, rebuilt in a namespace with devices of these names.
  Devices devices;
  Fib fib;
  const auto eth0 = devices.add("eth0");
  const auto tunl0 = devices.add("tunl0");
  const auto vxlan = devices.add("vxlan.calico");
  const auto cali = devices.add("cali08d091557e9");
  fib.add_address_routes(kLoopbackIfindex, P("127.0.0.1/8"));
  fib.add_address_routes(eth0, P("10.100.99.21/24"));
  fib.add_address_routes(tunl0, P("10.96.66.192/32"));
  fib.add_address_routes(vxlan, P("10.96.66.193/32"));
  must(fib.add_route(Route{.destination = P("0.0.0.0/0"),
                           .gateway = A("10.100.99.1"),
                           .ifindex = eth0,
                           .protocol = 16,
                           .metric = 100,
                           .preferred_source = A("10.100.99.21")}));
  must(fib.add_route(Route{.destination = P("10.96.5.128/26"),
                           .gateway = A("10.100.99.22"),
                           .ifindex = tunl0,
                           .protocol = route_protocol::kBird,
                           .onlink = true}));
  must(fib.add_route(Route{.destination = P("10.96.66.192/26"),
                           .type = RouteType::kBlackhole,
                           .protocol = route_protocol::kBird}));
  must(fib.add_route(
      Route{.destination = P("10.96.66.195/32"), .ifindex = cali, .scope = RouteScope::kLink}));
  must(fib.add_route(Route{.destination = P("10.96.7.0/26"),
                           .gateway = A("10.96.7.0"),
                           .ifindex = vxlan,
                           .protocol = route_protocol::kFelix,
                           .onlink = true}));
  must(fib.add_route(Route{.destination = P("10.96.66.0/26"),
                           .type = RouteType::kBlackhole,
                           .protocol = route_protocol::kFelix}));
  // No device given: the kernel takes it from the connected route to the gateway.
  must(fib.add_route(Route{.destination = P("10.42.139.128/26"),
                           .gateway = A("10.100.99.23"),
                           .protocol = route_protocol::kBird}));

  const IfNames names = devices.view();
  EXPECT_EQ(ip_route_show(fib, kMainTable, names),
            "default via 10.100.99.1 dev eth0 proto dhcp src 10.100.99.21 metric 100 \n"
            "10.42.139.128/26 via 10.100.99.23 dev eth0 proto bird \n"
            "10.96.5.128/26 via 10.100.99.22 dev tunl0 proto bird onlink \n"
            "10.96.7.0/26 via 10.96.7.0 dev vxlan.calico proto 80 onlink \n"
            "blackhole 10.96.66.0/26 proto 80 \n"
            "blackhole 10.96.66.192/26 proto bird \n"
            "10.96.66.195 dev cali08d091557e9 scope link \n"
            "10.100.99.0/24 dev eth0 proto kernel scope link src 10.100.99.21 \n");
  EXPECT_EQ(ip_route_show(fib, kLocalTable, names),
            "local 10.96.66.192 dev tunl0 proto kernel scope host src 10.96.66.192 \n"
            "local 10.96.66.193 dev vxlan.calico proto kernel scope host src 10.96.66.193 \n"
            "local 10.100.99.21 dev eth0 proto kernel scope host src 10.100.99.21 \n"
            "broadcast 10.100.99.255 dev eth0 proto kernel scope link src 10.100.99.21 \n"
            "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 \n"
            "local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 \n"
            "broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 \n");
  EXPECT_EQ(route_n(fib, names),
            "Kernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
            "0.0.0.0         10.100.99.1     0.0.0.0         UG    100    0        0 eth0\n"
            "10.42.139.128   10.100.99.23    255.255.255.192 UG    0      0        0 eth0\n"
            "10.96.5.128     10.100.99.22    255.255.255.192 UG    0      0        0 tunl0\n"
            "10.96.7.0       10.96.7.0       255.255.255.192 UG    0      0        0 vxlan.calico\n"
            "10.96.66.0      0.0.0.0         255.255.255.192 U     0      0        0 *\n"
            "10.96.66.192    0.0.0.0         255.255.255.192 U     0      0        0 *\n"
            "10.96.66.195    0.0.0.0         255.255.255.255 UH    0      0        0 "
            "cali08d091557e9\n"
            "10.100.99.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0\n");
  const std::string proc = proc_net_route(fib, names);
  EXPECT_EQ(
      proc,
      padded(
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT") +
          padded("eth0\t00000000\t0163640A\t0003\t0\t0\t100\t00000000\t0\t0\t0") +
          padded("eth0\t808B2A0A\t1763640A\t0003\t0\t0\t0\tC0FFFFFF\t0\t0\t0") +
          padded("tunl0\t8005600A\t1663640A\t0003\t0\t0\t0\tC0FFFFFF\t0\t0\t0") +
          padded("vxlan.calico\t0007600A\t0007600A\t0003\t0\t0\t0\tC0FFFFFF\t0\t0\t0") +
          padded("*\t0042600A\t00000000\t0001\t0\t0\t0\tC0FFFFFF\t0\t0\t0") +
          padded("*\tC042600A\t00000000\t0001\t0\t0\t0\tC0FFFFFF\t0\t0\t0") +
          padded("cali08d091557e9\tC342600A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0") +
          padded("eth0\t0063640A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0"));
  std::istringstream lines(proc);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(line.size(), 127u) << line;
}

TEST(RouteViews, NamesTypesScopesAndTableOrder) {
  // Protocol and dsfield names, types other than unicast in table main, scope host without
  // `linkdown`, a metric above INT_MAX (route -n prints it through %d), and the `table all`
  // order (id % 256, newest first within a bucket: 356 before 100).
  Devices devices;
  Fib fib;
  const auto a0 = devices.add("a0");
  const auto v1 = devices.add("v1", false);
  fib.add_address_routes(kLoopbackIfindex, P("127.0.0.1/8"));
  fib.add_address_routes(a0, P("10.200.1.2/24"));
  const auto dev = [&](std::string_view dst, std::uint32_t ifindex) {
    return Route{.destination = P(dst), .ifindex = ifindex, .scope = RouteScope::kLink};
  };
  Route r = dev("10.9.11.0/24", a0);
  r.protocol = 42;
  must(fib.add_route(r));
  r = dev("10.9.12.0/24", a0);
  r.protocol = 80;
  must(fib.add_route(r));
  r = dev("10.9.13.0/24", a0);
  r.protocol = route_protocol::kUnspec;
  must(fib.add_route(r));
  r = dev("10.9.16.0/24", a0);
  r.protocol = 99;
  r.scope = RouteScope::kHost;
  must(fib.add_route(r));
  must(fib.add_route(Route{.destination = P("10.9.18.1/32"), .type = RouteType::kUnreachable}));
  must(fib.add_route(
      Route{.destination = P("10.9.18.2/32"), .type = RouteType::kProhibit, .metric = 3}));
  must(fib.add_route(Route{.destination = P("10.9.19.0/24"),
                           .gateway = A("10.200.1.1"),
                           .ifindex = v1,
                           .onlink = true}));
  r = dev("10.9.30.0/24", a0);
  r.tos = 0x20;
  must(fib.add_route(r));
  r.tos = 0x04;
  must(fib.add_route(r));
  must(fib.add_route(Route{.destination = P("10.9.41.0/24"),
                           .type = RouteType::kLocal,
                           .ifindex = a0,
                           .scope = RouteScope::kHost}));
  must(fib.add_route(Route{.destination = P("10.9.43.0/24"),
                           .type = RouteType::kBroadcast,
                           .ifindex = a0,
                           .scope = RouteScope::kLink}));
  must(fib.add_route(Route{.destination = P("224.1.0.0/16"),
                           .type = RouteType::kMulticast,
                           .ifindex = a0,
                           .scope = RouteScope::kLink}));
  r = dev("10.9.95.0/24", a0);
  r.metric = 4278198272u;
  must(fib.add_route(r));
  r = dev("10.9.96.0/24", v1);
  r.scope = RouteScope::kHost;
  must(fib.add_route(r));
  for (const auto& [table, dst] : std::vector<std::pair<std::uint32_t, std::string_view>>{
           {100, "10.50.0.0/16"},
           {1000, "10.51.0.0/16"},
           {1, "10.52.0.0/16"},
           {356, "10.53.0.0/16"},
           {kDefaultTable, "10.54.0.0/16"}}) {
    r = dev(dst, a0);
    r.table = table;
    must(fib.add_route(r));
  }

  const IfNames names = devices.view();
  const std::string main_text =
      "10.9.11.0/24 dev a0 proto babel scope link \n"
      "10.9.12.0/24 dev a0 proto 80 scope link \n"
      "10.9.13.0/24 dev a0 proto unspec scope link \n"
      "10.9.16.0/24 dev a0 proto openr scope host \n"
      "unreachable 10.9.18.1 \n"
      "prohibit 10.9.18.2 metric 3 \n"
      "10.9.19.0/24 via 10.200.1.1 dev v1 onlink linkdown \n"
      "10.9.30.0/24 tos CS1 dev a0 scope link \n"
      "10.9.30.0/24 tos 0x04 dev a0 scope link \n"
      "local 10.9.41.0/24 dev a0 scope host \n"
      "broadcast 10.9.43.0/24 dev a0 scope link \n"
      "10.9.95.0/24 dev a0 scope link metric 4278198272 \n"
      "10.9.96.0/24 dev v1 scope host \n"
      "10.200.1.0/24 dev a0 proto kernel scope link src 10.200.1.2 \n"
      "multicast 224.1.0.0/16 dev a0 scope link \n";
  EXPECT_EQ(ip_route_show(fib, kMainTable, names), main_text);
  EXPECT_EQ(ip_route_show(fib, kAllTables, names),
            "10.52.0.0/16 dev a0 table 1 scope link \n"
            "10.53.0.0/16 dev a0 table 356 scope link \n"
            "10.50.0.0/16 dev a0 table 100 scope link \n"
            "10.51.0.0/16 dev a0 table 1000 scope link \n"
            "10.54.0.0/16 dev a0 table default scope link \n" +
                main_text +
                "local 10.200.1.2 dev a0 table local proto kernel scope host src 10.200.1.2 \n"
                "broadcast 10.200.1.255 dev a0 table local proto kernel scope link src "
                "10.200.1.2 \n"
                "local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n"
                "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n"
                "broadcast 127.255.255.255 dev lo table local proto kernel scope link src "
                "127.0.0.1 \n");
  EXPECT_EQ(route_n(fib, names),
            "Kernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
            "10.9.11.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.12.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.13.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.16.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.18.1       -               255.255.255.255 !H    0      -        0 -\n"
            "10.9.18.2       -               255.255.255.255 !H    3      -        0 -\n"
            "10.9.19.0       10.200.1.1      255.255.255.0   UG    0      0        0 v1\n"
            "10.9.30.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.30.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.41.0       0.0.0.0         255.255.255.0   U     0      0        0 a0\n"
            "10.9.95.0       0.0.0.0         255.255.255.0   U     -16769024 0        0 a0\n"
            "10.9.96.0       0.0.0.0         255.255.255.0   U     0      0        0 v1\n"
            "10.200.1.0      0.0.0.0         255.255.255.0   U     0      0        0 a0\n");
}

TEST(RouteViews, LinuxRules) {
  // linux.md §1.5 (its ipproto/dport rule 605 is not modelled). Rule 99 is added without a
  // priority after rule 100: it gets the second rule's priority - 1.
  Devices devices;
  devices.add("a0");
  Fib fib;
  const auto add = [&](Rule r) { must(fib.add_rule(std::move(r))); };
  add(Rule{.priority = 100, .from = P("10.200.1.0/24"), .table = 100});
  Rule to_rule{.to = P("10.9.0.0/16"), .iif = "a0", .table = 100};
  to_rule.priority = fib.default_rule_priority();
  add(to_rule);
  add(Rule{.priority = 200, .fwmark = FwMark{0x1, 0xff}, .table = 100});
  add(Rule{.priority = 300, .invert = true, .from = P("10.200.1.5/32"), .table = kMainTable});
  add(Rule{.priority = 400, .oif = "a0", .table = 100});
  add(Rule{.priority = 600, .from = P("10.1.1.1/32"), .action = RuleAction::kBlackhole});
  add(Rule{.priority = 601, .from = P("10.1.1.2/32"), .action = RuleAction::kUnreachable});
  add(Rule{.priority = 603,
           .from = P("10.1.1.4/32"),
           .action = RuleAction::kGoto,
           .goto_target = 32766});
  add(Rule{.priority = 604,
           .from = P("10.1.1.5/32"),
           .table = kMainTable,
           .suppress_prefixlength = 0});
  EXPECT_EQ(ip_rule_show(fib, devices.view()),
            "0:\tfrom all lookup local\n"
            "99:\tfrom all to 10.9.0.0/16 iif a0 lookup 100\n"
            "100:\tfrom 10.200.1.0/24 lookup 100\n"
            "200:\tfrom all fwmark 0x1/0xff lookup 100\n"
            "300:\tnot from 10.200.1.5 lookup main\n"
            "400:\tfrom all oif a0 lookup 100\n"
            "600:\tfrom 10.1.1.1 blackhole\n"
            "601:\tfrom 10.1.1.2 unreachable\n"
            "603:\tfrom 10.1.1.4 goto 32766\n"
            "604:\tfrom 10.1.1.5 lookup main suppress_prefixlength 0\n"
            "32766:\tfrom all lookup main\n"
            "32767:\tfrom all lookup default\n");
}

TEST(RouteViews, RuleDetails) {
  // Every selector and action form, as `ip rule` printed them for the same `ip rule add`s.
  Devices devices;
  devices.add("a0");
  devices.add("v1");
  Fib fib;
  const auto add = [&](Rule r) { must(fib.add_rule(std::move(r))); };
  add(Rule{.priority = 58, .action = RuleAction::kGoto, .goto_target = 70});
  // Before rule 70 exists the goto is unresolved.
  EXPECT_NE(ip_rule_show(fib, devices.view()).find("58:\tfrom all goto 70 [unresolved]\n"),
            std::string::npos);
  add(Rule{.priority = 602, .from = P("10.1.1.3/32"), .action = RuleAction::kProhibit});
  add(Rule{.priority = 606, .invert = true, .fwmark = FwMark{0x100000, 0x100000}, .table = 1});
  add(Rule{.priority = 609, .iif = "lo", .tos = 0x10, .table = 7});
  add(Rule{.priority = 610, .iif = "nonexist", .oif = "nonexist2", .table = 7});
  add(Rule{.priority = 611, .to = P("10.0.0.0/8"), .table = kDefaultTable});
  add(Rule{.priority = 612, .from = P("0.0.0.0/0"), .table = kLocalTable});
  add(Rule{.priority = 613, .action = RuleAction::kNop});
  add(Rule{.priority = 617,
           .from = P("10.1.1.8/32"),
           .to = P("10.1.1.9/32"),
           .fwmark = FwMark{0x3, 0x7},
           .iif = "a0",
           .oif = "v1",
           .tos = 0x08,
           .table = 100,
           .suppress_prefixlength = 8});
  add(Rule{.priority = 702, .tos = 0x1c, .table = 5});
  add(Rule{.priority = 703, .from = P("10.1.1.7/24"), .table = 5});
  add(Rule{.priority = 704, .from = P("1.2.3.4/0"), .table = 5});
  add(Rule{.priority = 710, .fwmark = FwMark{0, 0x100000}, .table = 5});
  add(Rule{.priority = 711, .fwmark = FwMark::exact(0), .table = 5});
  add(Rule{.priority = 712, .fwmark = FwMark{0, 0xffffffff}, .table = 5});
  add(Rule{.priority = 713, .fwmark = FwMark{0xabc, 0}, .table = 5});
  add(Rule{.priority = 714, .fwmark = FwMark::exact(0x10), .table = kMainTable});
  add(Rule{.priority = 715, .table = kUnspecTable});  // `lookup 0`: a fresh table, 1
  add(Rule{.priority = 716, .table = kUnspecTable});  // and then 2
  add(Rule{.priority = 70,
           .from = P("10.1.1.4/32"),
           .action = RuleAction::kGoto,
           .goto_target = 32766});
  EXPECT_EQ(ip_rule_show(fib, devices.view()),
            "0:\tfrom all lookup local\n"
            "58:\tfrom all goto 70\n"
            "70:\tfrom 10.1.1.4 goto 32766\n"
            "602:\tfrom 10.1.1.3 prohibit\n"
            "606:\tnot from all fwmark 0x100000/0x100000 lookup 1\n"
            "609:\tfrom all tos 0x10 iif lo lookup 7\n"
            "610:\tfrom all iif nonexist [detached] oif nonexist2 [detached] lookup 7\n"
            "611:\tfrom all to 10.0.0.0/8 lookup default\n"
            "612:\tfrom all lookup local\n"
            "613:\tfrom all nop\n"
            "617:\tfrom 10.1.1.8 to 10.1.1.9 tos 0x08 fwmark 0x3/0x7 iif a0 oif v1 lookup 100 "
            "suppress_prefixlength 8\n"
            "702:\tfrom all tos 0x1c lookup 5\n"
            "703:\tfrom 10.1.1.7/24 lookup 5\n"
            "704:\tfrom all lookup 5\n"
            "710:\tfrom all fwmark 0/0x100000 lookup 5\n"
            "711:\tfrom all lookup 5\n"
            "712:\tfrom all fwmark 0 lookup 5\n"
            "713:\tfrom all fwmark 0xabc/0 lookup 5\n"
            "714:\tfrom all fwmark 0x10 lookup main\n"
            "715:\tfrom all lookup 1\n"
            "716:\tfrom all lookup 2\n"
            "32766:\tfrom all lookup main\n"
            "32767:\tfrom all lookup default\n");
}

TEST(RouteViews, FreshNamespace) {
  // `ip netns add`: no routes (lo gets 127.0.0.1 only when it comes up), three rules.
  const Fib fib;
  const Devices devices;
  EXPECT_EQ(ip_route_show(fib, kMainTable, devices.view()), "");
  EXPECT_EQ(ip_route_show(fib, kLocalTable, devices.view()), "");
  EXPECT_EQ(ip_route_show(fib, kAllTables, devices.view()), "");
  EXPECT_EQ(ip_rule_show(fib),
            "0:\tfrom all lookup local\n"
            "32766:\tfrom all lookup main\n"
            "32767:\tfrom all lookup default\n");
  EXPECT_EQ(route_n(fib, devices.view()),
            "Kernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n");
}

TEST(RouteViews, AddressOnDownDevice) {
  // `ip addr add 10.220.0.1/24 dev b0` while b0 is down: only the local route; the prefix and
  // broadcast routes come with `ip link set b0 up`.
  Devices devices;
  const auto b0 = devices.add("b0");
  Fib fib;
  fib.add_address_routes(b0, P("10.220.0.1/24"), AddressRouteOptions{.device_up = false});
  EXPECT_EQ(ip_route_show(fib, kAllTables, devices.view()),
            "local 10.220.0.1 dev b0 table local proto kernel scope host src 10.220.0.1 \n");
  fib.add_address_routes(b0, P("10.220.0.1/24"));
  EXPECT_EQ(ip_route_show(fib, kAllTables, devices.view()),
            "10.220.0.0/24 dev b0 proto kernel scope link src 10.220.0.1 \n"
            "local 10.220.0.1 dev b0 table local proto kernel scope host src 10.220.0.1 \n"
            "broadcast 10.220.0.255 dev b0 table local proto kernel scope link src 10.220.0.1 \n");
}

TEST(RouteViews, UnknownDeviceAndNoCallbacks) {
  Fib fib;
  fib.add_address_routes(9, P("10.1.0.1/32"));
  EXPECT_EQ(ip_route_show(fib, kLocalTable, IfNames{}),
            "local 10.1.0.1 dev if9 proto kernel scope host src 10.1.0.1 \n");
}

}  // namespace
}  // namespace calisim::dataplane
