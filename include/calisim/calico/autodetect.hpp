#pragma once
// calico/node's IPv4 autodetection (IP_AUTODETECTION_METHOD), ported from Calico v3.28
// node/pkg/lifecycle/startup/autodetection: first-found, interface=REGEX[,REGEX],
// skip-interface=REGEX[,REGEX], cidr=CIDR[,CIDR], can-reach=DEST.
//
// Faithful details that decide which address a node gets:
// - Interfaces are walked in *reverse* ifindex order (interfaces.go GetInterfaces: "Loop in
//   reverse order to maintain behavior with older versions"), so with enp0s3 (ifindex 2) and
//   enp0s8 (ifindex 3) first-found picks enp0s8.
// - Down interfaces are not skipped (net.Interfaces lists them with their addresses).
// - An address counts when Go's IP.IsGlobalUnicast holds: not 0.0.0.0, 127/8, 169.254/16,
//   multicast or 255.255.255.255 (private ranges do count).
// - Regexes are unanchored (regexp.MatchString); several are joined as "(a)|(b)".
// - can-reach connects a UDP socket to DEST:80 and takes the local address the route gives, then
//   finds which interface holds it (reachaddr.go ReachDestination).
// The result keeps the interface's prefix length (10.0.0.5/24), which CrossSubnet relies on.

#include <string>
#include <string_view>
#include <vector>

#include <calisim/dataplane/namespace.hpp>
#include <calisim/sim/result.hpp>
#include <calisim/wire/address.hpp>

namespace calisim::calico {

struct DetectedAddress {
  std::string interface;
  wire::Ipv4Address address;
  std::uint8_t prefix_length = 32;
  std::string to_cidr() const;  // "203.248.23.214/25"
};

// autodetection_linux.go DEFAULT_INTERFACES_TO_EXCLUDE.
const std::vector<std::string>& default_interfaces_to_exclude();

// `method` as IP_AUTODETECTION_METHOD spells it; "" means first-found. Errors say what calico/node
// logs ("Unable to auto-detect an IPv4 address: no valid IPv4 addresses found on the host
// interfaces") or that the method is invalid.
Result<DetectedAddress> autodetect_ipv4(const dataplane::Namespace& host, std::string_view method);

}  // namespace calisim::calico
