// Cluster::command: what a user types on a node or in a pod, parsed as the tools parse it and
// answered from the running cluster. calicoctl takes its options in any order (docopt); ip takes
// its options before the object and matches objects and verbs by prefix (iproute2 ip/ip.c
// `matches`: "r" is route, "ru" rule, "a" address, "n" neighbour, "l" link).

#include <calisim/calico/cluster.hpp>

#include <algorithm>
#include <cctype>
#include <variant>

#include <fmt/format.h>

#include <calisim/calico/calicoctl_views.hpp>
#include <calisim/calico/ipam_views.hpp>
#include <calisim/dataplane/views.hpp>

#include "birdcl.hpp"

namespace calisim::calico {
namespace {

// ---- the commands, parsed ------------------------------------------------------------------

enum class Kind { kIpPool, kNode, kBgpPeer, kBgpConfig, kWorkloadEndpoint };

struct CalicoctlGet {
  Kind kind = Kind::kIpPool;
  bool wide = false;
  bool all_namespaces = false;
  std::string namespace_name;
};

struct CalicoctlIpamShow {
  bool show_blocks = false;
  bool show_borrowed = false;
  bool show_configuration = false;
  std::optional<wire::Ipv4Address> ip;
};

struct CalicoctlNodeStatus {};

enum class IpObject { kRoute, kRule, kLink, kAddress, kNeighbour };

struct IpCommand {
  IpObject object = IpObject::kRoute;
  std::uint32_t table = dataplane::kMainTable;
  std::optional<wire::Ipv4Address> get;  // `ip route get ADDR`
};

struct RouteN {};

using ParsedCommand = std::variant<CalicoctlGet, CalicoctlIpamShow, CalicoctlNodeStatus, IpCommand,
                                   RouteN, BirdclCommand>;

constexpr std::string_view kSupported =
    "  calicoctl ipam show [--show-blocks] [--show-borrowed] [--show-configuration] [--ip=IP]\n"
    "  calicoctl node status\n"
    "  calicoctl get ippool|node|bgppeer|bgpconfig [-o wide]\n"
    "  calicoctl get workloadendpoint [-A | -n NAMESPACE] [-o wide]\n"
    "  birdcl show protocols [NAME]\n"
    "  birdcl show route [all] [for ADDRESS | PREFIX] [protocol NAME] [export NAME] [primary]\n"
    "  ip route [show] [table main|local|N]\n"
    "  ip route get ADDRESS\n"
    "  ip rule [show]\n"
    "  ip -br link [show]\n"
    "  ip -br addr [show]\n"
    "  ip neigh [show]\n"
    "  route -n\n";

// The list for error messages: without its last newline (the caller ends the line).
std::string_view supported_list() {
  return kSupported.substr(0, kSupported.size() - 1);
}

Error invalid(std::string message) {
  return Error{Errc::kInvalidArgument, std::move(message)};
}

// Words split at blanks; '...' and "..." group (the shell's quoting, which users carry over).
Result<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0)
    return std::unexpected(invalid(fmt::format("unterminated {} in \"{}\"", quote, line)));
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// calicoctl's resource names, case-insensitive (libcalicoctl resourcemgr/*.go: each resource
// registers its singular, plural and short forms).
std::optional<Kind> calicoctl_kind(std::string_view word) {
  const std::string w = lower(word);
  for (std::string_view n : {"ippool", "ippools", "ipp", "ipps", "pool", "pools"}) {
    if (w == n) return Kind::kIpPool;
  }
  for (std::string_view n : {"node", "nodes", "no", "nos"}) {
    if (w == n) return Kind::kNode;
  }
  for (std::string_view n : {"bgppeer", "bgppeers", "bgpp", "bgpps", "bp", "bps"}) {
    if (w == n) return Kind::kBgpPeer;
  }
  for (std::string_view n : {"bgpconfiguration", "bgpconfigurations", "bgpconfig", "bgpconfigs"}) {
    if (w == n) return Kind::kBgpConfig;
  }
  for (std::string_view n : {"workloadendpoint", "workloadendpoints", "wep", "weps"}) {
    if (w == n) return Kind::kWorkloadEndpoint;
  }
  return std::nullopt;
}

// An option's value: "--output=wide", "--output wide", "-o wide", "-owide".
struct OptionValue {
  bool matched = false;
  std::string value;
};

Result<OptionValue> option_value(const std::vector<std::string>& words, std::size_t& i,
                                 std::string_view shorts, std::string_view longs,
                                 std::string_view command) {
  const std::string& w = words[i];
  std::optional<std::string> inline_value;
  if (w == shorts || w == longs) {
    if (i + 1 >= words.size()) {
      return std::unexpected(invalid(fmt::format("{}: {} needs a value", command, w)));
    }
    return OptionValue{true, words[++i]};
  }
  if (w.starts_with(std::string(longs) + "="))
    inline_value = w.substr(longs.size() + 1);
  else if (w.size() > shorts.size() && w.starts_with(shorts))
    inline_value = w.substr(shorts.size());
  if (!inline_value) return OptionValue{};
  return OptionValue{true, *inline_value};
}

Result<ParsedCommand> parse_calicoctl(const std::vector<std::string>& words,
                                      std::string_view line) {
  if (words.size() >= 3 && words[1] == "ipam" && words[2] == "show") {
    CalicoctlIpamShow show;
    for (std::size_t i = 3; i < words.size(); ++i) {
      const std::string& w = words[i];
      if (w == "--show-blocks") {
        show.show_blocks = true;
      } else if (w == "--show-borrowed") {
        show.show_borrowed = true;
      } else if (w == "--show-configuration") {
        show.show_configuration = true;
      } else if (w == "--ip" || w.starts_with("--ip=")) {
        std::string text;
        if (w == "--ip") {
          if (i + 1 >= words.size()) {
            return std::unexpected(invalid("calicoctl ipam show: --ip needs an address"));
          }
          text = words[++i];
        } else {
          text = w.substr(5);
        }
        auto a = wire::Ipv4Address::parse(text);
        if (!a) {
          return std::unexpected(invalid(fmt::format(
              "calicoctl ipam show: --ip={}: not an IPv4 address (calisim models IPv4 only)",
              text)));
        }
        show.ip = *a;
      } else {
        return std::unexpected(invalid(fmt::format(
            "calicoctl ipam show: unknown option \"{}\" (it takes --show-blocks, --show-borrowed, "
            "--show-configuration, --ip=IP)",
            w)));
      }
    }
    return show;
  }
  if (words.size() >= 3 && words[1] == "node" && words[2] == "status") {
    if (words.size() > 3) {
      return std::unexpected(invalid(
          fmt::format("calicoctl node status: unexpected \"{}\" (it takes no options)", words[3])));
    }
    return CalicoctlNodeStatus{};
  }
  if (words.size() >= 2 && words[1] == "get") {
    CalicoctlGet get;
    bool have_kind = false;
    for (std::size_t i = 2; i < words.size(); ++i) {
      const std::string& w = words[i];
      auto output = option_value(words, i, "-o", "--output", "calicoctl get");
      if (!output) return std::unexpected(output.error());
      if (output->matched) {
        if (output->value == "wide") {
          get.wide = true;
        } else if (output->value == "ps") {
          get.wide = false;
        } else {
          return std::unexpected(invalid(fmt::format(
              "calicoctl get: output format \"{}\" is not supported by calisim (ps or wide)",
              output->value)));
        }
        continue;
      }
      auto ns = option_value(words, i, "-n", "--namespace", "calicoctl get");
      if (!ns) return std::unexpected(ns.error());
      if (ns->matched) {
        get.namespace_name = ns->value;
        continue;
      }
      if (w == "-A" || w == "--all-namespaces") {
        get.all_namespaces = true;
        continue;
      }
      if (w.starts_with("-")) {
        return std::unexpected(invalid(fmt::format(
            "calicoctl get: unknown option \"{}\" (it takes -o wide, -A, -n NAMESPACE)", w)));
      }
      if (have_kind) {
        return std::unexpected(invalid(fmt::format(
            "calicoctl get: naming resources (\"{}\") is not supported by calisim; list them all",
            w)));
      }
      auto kind = calicoctl_kind(w);
      if (!kind) {
        return std::unexpected(invalid(fmt::format(
            "calicoctl get: unknown resource type \"{}\" (calisim has ippool, node, bgppeer, "
            "bgpconfig, workloadendpoint)",
            w)));
      }
      get.kind = *kind;
      have_kind = true;
    }
    if (!have_kind) {
      return std::unexpected(invalid(
          "calicoctl get: which resource? (ippool, node, bgppeer, bgpconfig, workloadendpoint)"));
    }
    if (get.kind != Kind::kWorkloadEndpoint &&
        (get.all_namespaces || !get.namespace_name.empty())) {
      return std::unexpected(invalid(fmt::format(
          "calicoctl get {}: the resource is not namespaced (-A and -n are for workloadendpoint)",
          words[2])));
    }
    if (get.all_namespaces && !get.namespace_name.empty()) {
      // calicoctl refuses the pair too.
      return std::unexpected(invalid("calicoctl get: -A and -n cannot be used together"));
    }
    return get;
  }
  return std::unexpected(
      invalid(fmt::format("unknown command \"{}\"; calisim knows:\n{}", line, supported_list())));
}

// iproute2's matches(): the word is a prefix of the keyword.
bool matches(std::string_view word, std::string_view keyword) {
  return !word.empty() && keyword.starts_with(word);
}

Result<ParsedCommand> parse_ip(const std::vector<std::string>& words, std::string_view line) {
  std::size_t i = 1;
  bool brief = false;
  for (; i < words.size() && words[i].starts_with("-"); ++i) {
    const std::string& w = words[i];
    if (w == "-br" || w == "-brief") {
      brief = true;
    } else if (w == "-4") {
      // IPv4 is all there is.
    } else {
      return std::unexpected(invalid(
          fmt::format("ip: option \"{}\" is not supported by calisim (it has -br and -4)", w)));
    }
  }
  if (i >= words.size()) {
    return std::unexpected(invalid("ip: which object? (route, rule, link, addr, neigh)"));
  }
  IpCommand cmd;
  const std::string& object = words[i++];
  // ip/ip.c's table order decides the short forms.
  if (matches(object, "address")) {
    cmd.object = IpObject::kAddress;
  } else if (matches(object, "route")) {
    cmd.object = IpObject::kRoute;
  } else if (matches(object, "rule")) {
    cmd.object = IpObject::kRule;
  } else if (matches(object, "neighbour") || matches(object, "neighbor")) {
    cmd.object = IpObject::kNeighbour;
  } else if (matches(object, "link")) {
    cmd.object = IpObject::kLink;
  } else {
    return std::unexpected(invalid(fmt::format(
        "ip: object \"{}\" is not supported by calisim (route, rule, link, addr, neigh)", object)));
  }
  if ((cmd.object == IpObject::kAddress || cmd.object == IpObject::kLink) && !brief) {
    return std::unexpected(invalid(
        fmt::format("\"{}\": calisim prints addresses and links in the brief form only (ip -br {})",
                    line, cmd.object == IpObject::kAddress ? "addr" : "link")));
  }
  if (cmd.object == IpObject::kRoute && i < words.size() && matches(words[i], "get")) {
    if (i + 1 >= words.size()) return std::unexpected(invalid("ip route get: which address?"));
    auto address = wire::Ipv4Address::parse(words[i + 1]);
    if (!address) {
      return std::unexpected(invalid(fmt::format(
          "ip route get: \"{}\" is not an IPv4 address (calisim is IPv4 only)", words[i + 1])));
    }
    if (i + 2 < words.size()) {
      return std::unexpected(
          invalid(fmt::format("\"{}\": calisim does not support \"{}\" here", line, words[i + 2])));
    }
    cmd.get = *address;
    return cmd;
  }
  if (i < words.size() &&
      (matches(words[i], "show") || matches(words[i], "list") || words[i] == "ls")) {
    ++i;
  }
  while (i < words.size()) {
    const std::string& w = words[i];
    if (cmd.object == IpObject::kRoute && (w == "table" || w == "tab")) {
      if (i + 1 >= words.size())
        return std::unexpected(invalid("ip route: table needs a name or number"));
      const std::string& t = words[i + 1];
      if (t == "main") {
        cmd.table = dataplane::kMainTable;
      } else if (t == "local") {
        cmd.table = dataplane::kLocalTable;
      } else {
        std::uint32_t n = 0;
        bool ok = !t.empty() && t.size() <= 10;
        for (char c : t) {
          if (c < '0' || c > '9')
            ok = false;
          else
            n = n * 10 + static_cast<std::uint32_t>(c - '0');
        }
        if (!ok || n == 0) {
          // iproute2: `Error: argument "x" is wrong: table id value is invalid`.
          return std::unexpected(invalid(fmt::format(
              "ip route: table \"{}\" is not a table (main, local or a number 1..4294967295)", t)));
        }
        cmd.table = n;
      }
      i += 2;
      continue;
    }
    return std::unexpected(
        invalid(fmt::format("\"{}\": calisim does not support \"{}\" here", line, w)));
  }
  return cmd;
}

Result<ParsedCommand> parse_command(std::string_view line) {
  auto words = split_words(line);
  if (!words) return std::unexpected(words.error());
  if (words->empty())
    return std::unexpected(
        invalid(fmt::format("no command; calisim knows:\n{}", supported_list())));
  const std::string& tool = words->front();
  if (tool == "calicoctl") return parse_calicoctl(*words, line);
  if (tool == "ip") return parse_ip(*words, line);
  if (tool == "birdcl" || tool == "birdc") {
    auto bird = parse_birdcl(*words);
    if (!bird) return std::unexpected(bird.error());
    return *bird;
  }
  if (tool == "route") {
    if (words->size() == 2 && (*words)[1] == "-n") return RouteN{};
    return std::unexpected(invalid(
        fmt::format("\"{}\": calisim has `route -n` (without -n, route resolves names)", line)));
  }
  return std::unexpected(
      invalid(fmt::format("unknown command \"{}\"; calisim knows:\n{}", line, supported_list())));
}

std::string_view encap_name(scenario::EncapsulationMode m) {
  switch (m) {
    case scenario::EncapsulationMode::kAlways:
      return "Always";
    case scenario::EncapsulationMode::kCrossSubnet:
      return "CrossSubnet";
    case scenario::EncapsulationMode::kNever:
      break;
  }
  return "Never";
}

}  // namespace

std::string Cluster::supported_commands() {
  return std::string(kSupported);
}

Result<void> Cluster::check_command(std::string_view command_line) {
  auto parsed = parse_command(command_line);
  if (!parsed) return std::unexpected(parsed.error());
  return {};
}

std::string Cluster::calicoctl_get_ippools(bool wide) const {
  std::vector<views::IpPoolRow> rows;
  for (const auto& p : scenario().ip_pools) {
    views::IpPoolRow row;
    row.name = p.name;
    row.cidr = p.cidr.to_string();
    row.nat_outgoing = p.nat_outgoing;
    row.ipip_mode = std::string(encap_name(p.ipip_mode));
    row.vxlan_mode = std::string(encap_name(p.vxlan_mode));
    row.disabled = p.disabled;
    row.disable_bgp_export = p.disable_bgp_export;
    row.node_selector = p.node_selector;
    rows.push_back(std::move(row));
  }
  return views::calicoctl_get_ippools(rows, wide);
}

std::string Cluster::calicoctl_get_nodes(bool wide) const {
  std::vector<views::NodeRow> rows;
  for (const auto& n : scenario().nodes) {
    views::NodeRow row;
    row.name = n.name;
    // calico/node writes spec.bgp (the address it detected, with the interface's prefix length,
    // and AS when set) at start-up (node/pkg/lifecycle/startup/startup.go configureIPsAndSubnets,
    // configureASNumber); a node whose autodetection failed never gets one.
    const auto address = node_ip(n.name);
    row.has_bgp = address.has_value();
    if (address) row.ipv4_address = address->to_string();
    if (n.calico.as_number) {
      row.as_number = n.calico.as_number;
    } else if (n.calico_node.as_number) {
      row.as_number = n.calico_node.as_number;
    }
    rows.push_back(std::move(row));
  }
  std::optional<std::uint32_t> global_as;
  for (const auto& c : scenario().bgp_configurations) {
    if (c.name == "default") global_as = c.as_number;
  }
  return views::calicoctl_get_nodes(rows, wide, global_as);
}

std::string Cluster::calicoctl_get_bgppeers() const {
  std::vector<views::BgpPeerResourceRow> rows;
  for (const auto& p : scenario().bgp_peers) {
    views::BgpPeerResourceRow row;
    row.name = p.name;
    if (p.peer_ip) {
      row.peer_ip = p.peer_port ? fmt::format("{}:{}", *p.peer_ip, *p.peer_port)
                                : fmt::format("{}", *p.peer_ip);
    }
    row.node = p.node;
    row.node_selector = p.node_selector;
    row.as_number = p.as_number.value_or(0);
    rows.push_back(std::move(row));
  }
  return views::calicoctl_get_bgppeers(rows);
}

std::string Cluster::calicoctl_get_bgpconfigs() const {
  std::vector<views::BgpConfigRow> rows;
  // Only the resources the file has: a manifest install creates no BGPConfiguration (confd
  // falls back to its built-in defaults), so an empty list prints the heading alone.
  for (const auto& c : scenario().bgp_configurations) {
    if (c.where.line == 0) continue;
    views::BgpConfigRow row;
    row.name = c.name;
    row.log_severity = c.log_severity_screen.value_or("");
    row.node_to_node_mesh_enabled = c.node_to_node_mesh_enabled;
    row.as_number = c.as_number;
    rows.push_back(std::move(row));
  }
  return views::calicoctl_get_bgpconfigs(rows);
}

Result<std::string> Cluster::command(std::string_view where, std::string_view command_line) const {
  auto parsed = parse_command(command_line);
  if (!parsed) return std::unexpected(parsed.error());
  const dataplane::Namespace* ns = find_namespace(where);
  if (ns == nullptr) {
    return std::unexpected(invalid(fmt::format(
        "\"{}\": no such node, router or running pod (a pod is namespace/name)", where)));
  }
  const bool on_node = scenario().find_node(where) != nullptr;
  if (const auto* get = std::get_if<CalicoctlGet>(&*parsed)) {
    switch (get->kind) {
      case Kind::kIpPool:
        return calicoctl_get_ippools(get->wide);
      case Kind::kNode:
        return calicoctl_get_nodes(get->wide);
      case Kind::kBgpPeer:
        return calicoctl_get_bgppeers();
      case Kind::kBgpConfig:
        return calicoctl_get_bgpconfigs();
      case Kind::kWorkloadEndpoint:
        return calicoctl_get_workloadendpoints(get->all_namespaces, get->wide, get->namespace_name);
    }
  }
  if (const auto* show = std::get_if<CalicoctlIpamShow>(&*parsed)) {
    // show.go: --ip first, then --show-borrowed, then --show-configuration, else the table.
    if (show->ip) return calicoctl_ipam_show_ip(ipam(), *show->ip);
    if (show->show_borrowed) return calicoctl_ipam_show_borrowed(ipam());
    if (show->show_configuration) return calicoctl_ipam_show_configuration(ipam());
    return calicoctl_ipam_show(show->show_blocks);
  }
  if (std::holds_alternative<CalicoctlNodeStatus>(*parsed)) {
    if (!on_node) {
      return std::unexpected(invalid(fmt::format(
          "calicoctl node status: \"{}\" is not a node (it reads the node's BIRD socket)", where)));
    }
    return calicoctl_node_status(where);
  }
  if (const auto* bird = std::get_if<BirdclCommand>(&*parsed)) {
    if (!on_node) {
      return std::unexpected(invalid(fmt::format(
          "birdcl: \"{}\" is not a node (BIRD runs in calico-node, on the node)", where)));
    }
    return run_birdcl(bgp_speaker(where), now(), *bird);
  }
  if (std::holds_alternative<RouteN>(*parsed)) return dataplane::views::route_n(*ns);
  const auto& ip = std::get<IpCommand>(*parsed);
  switch (ip.object) {
    case IpObject::kRoute:
      if (ip.get) return dataplane::views::ip_route_get(*ns, *ip.get);
      return dataplane::views::ip_route(*ns, ip.table);
    case IpObject::kRule:
      return dataplane::views::ip_rule(*ns);
    case IpObject::kLink:
      return dataplane::views::ip_br_link(*ns);
    case IpObject::kAddress:
      return dataplane::views::ip_br_addr(*ns);
    case IpObject::kNeighbour:
      return dataplane::views::ip_neigh(*ns);
  }
  return std::unexpected(invalid("unreachable"));
}

}  // namespace calisim::calico
