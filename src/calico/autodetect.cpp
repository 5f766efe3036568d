#include <calisim/calico/autodetect.hpp>

#include <regex>

#include <fmt/format.h>

namespace calisim::calico {
namespace {

struct Candidate {
  std::string interface;
  wire::Ipv4Prefix cidr;  // address with its prefix length (host bits kept)
};

// Go net.IP.IsGlobalUnicast for an IPv4 address.
bool is_global_unicast(wire::Ipv4Address a) {
  const std::uint32_t v = a.value();
  if (v == 0 || v == 0xffffffffu) return false;
  if ((v >> 24) == 127) return false;            // loopback
  if ((v >> 16) == ((169u << 8) | 254u)) return false;  // link-local
  if ((v >> 28) == 0xe) return false;            // multicast
  return true;
}

// `\s*,\s*`-separated list, as Calico splits the method's argument.
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  for (auto& item : out) {
    const auto b = item.find_first_not_of(" \t\n\r\f\v");
    const auto e = item.find_last_not_of(" \t\n\r\f\v");
    item = b == std::string::npos ? std::string() : item.substr(b, e - b + 1);
  }
  return out;
}

Result<std::optional<std::regex>> join_regexes(const std::vector<std::string>& list) {
  if (list.empty()) return std::optional<std::regex>{};
  std::string joined = "(";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) joined += ")|(";
    joined += list[i];
  }
  joined += ")";
  try {
    return std::optional<std::regex>(std::regex(joined, std::regex::ECMAScript));
  } catch (const std::regex_error& e) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("Invalid interface regex {}: {}", joined, e.what()));
  }
}

// GetInterfaces: reverse ifindex order, include/exclude by unanchored regex, IPv4 addresses.
Result<std::vector<Candidate>> interfaces(const dataplane::Namespace& host,
                                          const std::vector<std::string>& include,
                                          const std::vector<std::string>& exclude) {
  auto incl = join_regexes(include);
  if (!incl) return std::unexpected(incl.error());
  auto excl = join_regexes(exclude);
  if (!excl) return std::unexpected(excl.error());
  std::vector<Candidate> out;
  const auto& devices = host.devices();
  for (auto it = devices.rbegin(); it != devices.rend(); ++it) {
    const auto& name = (*it)->name();
    const bool in = !*incl || std::regex_search(name, **incl);
    const bool out_ = *excl && std::regex_search(name, **excl);
    if (!in || out_) continue;
    for (const auto& a : host.addresses()) {
      if (a.ifindex == (*it)->ifindex()) out.push_back(Candidate{name, a.prefix});
    }
  }
  return out;
}

Result<DetectedAddress> filtered_enumeration(const dataplane::Namespace& host,
                                             const std::vector<std::string>& include,
                                             const std::vector<std::string>& exclude,
                                             const std::vector<wire::Ipv4Prefix>& cidrs) {
  auto list = interfaces(host, include, exclude);
  if (!list) return std::unexpected(list.error());
  if (list->empty()) return make_error(Errc::kNotFound, "no valid host interfaces found");
  for (const Candidate& c : *list) {
    if (!is_global_unicast(c.cidr.address())) continue;
    bool match = cidrs.empty();
    for (const auto& cidr : cidrs) match = match || cidr.contains(c.cidr.address());
    if (match) return DetectedAddress{c.interface, c.cidr.address(), c.cidr.length()};
  }
  return make_error(Errc::kNotFound, "no valid IPv4 addresses found on the host interfaces");
}

Result<DetectedAddress> with_context(Result<DetectedAddress> r, std::string_view context) {
  if (r) return r;
  return make_error(r.error().code, fmt::format("Unable to auto-detect an IPv4 address{}: {}",
                                                context, r.error().message));
}

}  // namespace

std::string DetectedAddress::to_cidr() const {
  return fmt::format("{}/{}", address, prefix_length);
}

const std::vector<std::string>& default_interfaces_to_exclude() {
  static const std::vector<std::string> list = {
      "^docker.*",  "^cbr.*",     "^dummy.*",        "^podman.*",         "^virbr.*",
      "^lxcbr.*",   "^veth.*",    "^lo",             "^br-.*",            "^cali.*",
      "^tunl.*",    "^flannel.*", "^kube-ipvs.*",    "^cni.*",            "^vxlan\\.calico.*",
      "^vxlan-v6\\.calico.*",     "^wireguard\\.cali.*", "^wg-v6\\.cali.*", "^nodelocaldns.*",
  };
  return list;
}

Result<DetectedAddress> autodetect_ipv4(const dataplane::Namespace& host, std::string_view method) {
  if (method.empty() || method == "first-found") {
    return with_context(filtered_enumeration(host, {}, default_interfaces_to_exclude(), {}), "");
  }
  auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (method.starts_with(prefix)) return method.substr(prefix.size());
    return std::nullopt;
  };
  if (auto arg = after("interface=")) {
    const auto regexes = split_list(*arg);
    return with_context(filtered_enumeration(host, regexes, {}, {}),
                        fmt::format(" using interface regexes [{}]", fmt::join(regexes, " ")));
  }
  if (auto arg = after("skip-interface=")) {
    auto exclude = default_interfaces_to_exclude();
    for (auto& r : split_list(*arg)) exclude.push_back(r);
    return with_context(filtered_enumeration(host, {}, exclude, {}),
                        fmt::format(" while excluding [{}]", *arg));
  }
  if (auto arg = after("cidr=")) {
    std::vector<wire::Ipv4Prefix> cidrs;
    for (const auto& text : split_list(*arg)) {
      auto p = wire::Ipv4Prefix::parse(text);
      if (!p) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("Invalid CIDR \"{}\" for IP autodetection method: {}", text,
                                      method));
      }
      cidrs.push_back(*p);
    }
    return with_context(filtered_enumeration(host, {}, {}, cidrs),
                        fmt::format(" using interface cidr {}", *arg));
  }
  if (auto arg = after("can-reach=")) {
    auto dest = wire::Ipv4Address::parse(*arg);
    if (!dest) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("Unable to auto-detect IPv4 address by connecting to {}: "
                                    "dial udp4: lookup {}: no such host",
                                    *arg, *arg));
    }
    auto source = host.source_for(*dest);
    if (!source) {
      return make_error(Errc::kNotFound,
                        fmt::format("Unable to auto-detect IPv4 address by connecting to {}: "
                                    "dial udp4 {}:80: connect: {}",
                                    *arg, *arg, source.error().message));
    }
    auto list = interfaces(host, {}, {});
    if (!list) return std::unexpected(list.error());
    for (const Candidate& c : *list) {
      if (c.cidr.address() == *source) {
        return DetectedAddress{c.interface, c.cidr.address(), c.cidr.length()};
      }
    }
    return make_error(Errc::kNotFound,
                      fmt::format("autodetected IPv4 address does not match any addresses found "
                                  "on local interfaces: {}",
                                  *source));
  }
  return make_error(Errc::kInvalidArgument,
                    fmt::format("Invalid IP autodetection method: {}", method));
}

}  // namespace calisim::calico
