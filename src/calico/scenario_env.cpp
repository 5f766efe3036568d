// calico-node's environment: the variables the DaemonSet sets, and what calico-node's startup
// (node/pkg/lifecycle/startup/startup.go) does with them.

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

using scenario::EnvSource;
using scenario::EnvVar;

constexpr std::string_view kPoolPrefix = "CALICO_IPV4POOL_";

// Variables calico-node (or its manifest) uses that calisim keeps but does not read.
const std::vector<std::string_view>& known_unmodelled() {
  static const std::vector<std::string_view> names{
      "NODENAME", "HOSTNAME", "DATASTORE_TYPE", "WAIT_FOR_DATASTORE", "CALICO_DISABLE_FILE_LOGGING",
      "CALICO_STARTUP_LOGLEVEL", "CALICO_ROUTER_ID", "DISABLE_NODE_IP_CHECK",
      "CALICO_K8S_NODE_REF", "KUBERNETES_NODE_NAME", "KUBECONFIG", "KUBERNETES_SERVICE_HOST",
      "KUBERNETES_SERVICE_PORT", "AUTODETECT_POLL_INTERVAL", "USE_POD_CIDR", "CALICO_MANAGE_CNI",
      "CALICO_NODENAME_FILE", "BGP_LOGSEVERITYSCREEN", "CALICO_IPV6POOL_CIDR",
      "CALICO_IPV6POOL_BLOCK_SIZE", "CALICO_IPV6POOL_VXLAN", "CALICO_IPV6POOL_NAT_OUTGOING",
      "CALICO_IPV6POOL_NODE_SELECTOR", "CALICO_IPV6POOL_DISABLE_BGP_EXPORT", "IP6",
      "IP6_AUTODETECTION_METHOD", "CALICO_NETWORKING_BACKEND", "CLUSTER_TYPE", "IP",
      "IP_AUTODETECTION_METHOD", "AS", "NO_DEFAULT_POOLS", "CALICO_IPV4POOL_CIDR",
      "CALICO_IPV4POOL_BLOCK_SIZE", "CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN",
      "CALICO_IPV4POOL_NAT_OUTGOING", "CALICO_IPV4POOL_NODE_SELECTOR",
      "CALICO_IPV4POOL_DISABLE_BGP_EXPORT"};
  return names;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

// Calico splits its lists on regexp `\s*,\s*`.
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = s.find(',', start);
    out.push_back(trim(s.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string env_path(std::string_view prefix, const EnvVar& var) { return join_path(prefix, var.name); }

// Go's regexp (RE2) and ECMAScript agree on the patterns people write for interface names; a
// pattern std::regex cannot compile would not compile in Go either.
bool valid_regex(const std::string& pattern) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

std::optional<scenario::IpAutodetection> parse_autodetection(Ctx& ctx, const EnvVar& var,
                                                             bool report, std::string_view path) {
  using scenario::AutodetectionMethod;
  scenario::IpAutodetection out;
  const std::string& v = var.value;
  auto fail = [&](std::string message) -> std::optional<scenario::IpAutodetection> {
    if (report) ctx.error(var.where, env_path(path, var), std::move(message));
    return std::nullopt;
  };
  auto patterns = [&](std::string_view rest) -> bool {
    out.interface_patterns = split_list(rest);
    for (const auto& p : out.interface_patterns) {
      if (p.empty() || !valid_regex(p)) {
        fail(fmt::format("{} is not a valid regular expression in {}", in_quotes(p), in_quotes(v)));
        return false;
      }
    }
    return true;
  };
  if (v.empty() || v == "first-found") return out;
  if (v.starts_with("interface=")) {
    out.method = AutodetectionMethod::kInterface;
    if (!patterns(std::string_view(v).substr(10))) return std::nullopt;
    return out;
  }
  if (v.starts_with("skip-interface=")) {
    out.method = AutodetectionMethod::kSkipInterface;
    if (!patterns(std::string_view(v).substr(15))) return std::nullopt;
    return out;
  }
  if (v.starts_with("can-reach=")) {
    out.method = AutodetectionMethod::kCanReach;
    out.destination = trim(std::string_view(v).substr(10));
    if (out.destination.empty()) return fail("can-reach= needs a destination, as in can-reach=8.8.8.8");
    return out;
  }
  if (v.starts_with("cidr=")) {
    out.method = AutodetectionMethod::kCidr;
    for (const auto& c : split_list(std::string_view(v).substr(5))) {
      auto prefix = wire::Ipv4Prefix::parse(c);
      if (!prefix || c.find('/') == std::string::npos) {
        return fail(fmt::format("{} in {} is not an IPv4 CIDR", in_quotes(c), in_quotes(v)));
      }
      out.cidrs.push_back(wire::Ipv4Prefix(prefix->network(), prefix->length()));
    }
    return out;
  }
  if (v.starts_with("kubernetes-internal-ip")) {
    out.method = AutodetectionMethod::kKubernetesInternalIp;
    return out;
  }
  const std::vector<std::string_view> methods{"first-found", "interface=", "skip-interface=",
                                              "can-reach=", "cidr=", "kubernetes-internal-ip"};
  const auto eq = v.find('=');
  const std::string head = eq == std::string::npos ? v : v.substr(0, eq + 1);
  return fail(fmt::format("{} is not an autodetection method (want first-found, interface=REGEX, "
                          "skip-interface=REGEX, can-reach=DESTINATION, cidr=CIDR or "
                          "kubernetes-internal-ip){}",
                          in_quotes(v), did_you_mean(head, methods)));
}

// createIPPool's reading of CALICO_IPV4POOL_IPIP / _VXLAN (case-insensitive).
std::optional<scenario::EncapsulationMode> parse_pool_mode(std::string_view value) {
  const std::string v = lower(value);
  if (v.empty() || v == "off" || v == "never") return scenario::EncapsulationMode::kNever;
  if (v == "crosssubnet" || v == "cross-subnet") return scenario::EncapsulationMode::kCrossSubnet;
  if (v == "always") return scenario::EncapsulationMode::kAlways;
  return std::nullopt;
}

// evaluateENVBool: false, 0, no, n, f (any case) are false; anything else set is true.
bool env_bool(std::string_view value) {
  const std::string v = lower(value);
  return !(v == "false" || v == "0" || v == "no" || v == "n" || v == "f");
}

const EnvVar* find_env(const std::vector<EnvVar>& env, std::string_view name) {
  for (const auto& v : env) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

}  // namespace

std::vector<EnvVar> manifest_env() {
  // The calico-node container of manifests/calico.yaml at v3.28.0 (veth_mtu "0" feeds the MTUs,
  // calico_backend "bird" the backend; NODENAME comes from spec.nodeName).
  auto m = [](std::string name, std::string value) {
    return EnvVar{std::move(name), std::move(value), EnvSource::kManifest, {}};
  };
  return {
      m("DATASTORE_TYPE", "kubernetes"),
      m("WAIT_FOR_DATASTORE", "true"),
      m("CALICO_NETWORKING_BACKEND", "bird"),
      m("CLUSTER_TYPE", "k8s,bgp"),
      m("IP", "autodetect"),
      m("CALICO_IPV4POOL_IPIP", "Always"),
      m("CALICO_IPV4POOL_VXLAN", "Never"),
      m("CALICO_IPV6POOL_VXLAN", "Never"),
      m("FELIX_IPINIPMTU", "0"),
      m("FELIX_VXLANMTU", "0"),
      m("FELIX_WIREGUARDMTU", "0"),
      m("CALICO_DISABLE_FILE_LOGGING", "true"),
      m("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
      m("FELIX_IPV6SUPPORT", "false"),
      m("FELIX_HEALTHENABLED", "true"),
  };
}

std::vector<EnvVar> read_env(Ctx& ctx, const Field& env, EnvSource source) {
  std::vector<EnvVar> out;
  auto add = [&](std::string name, std::string value, Location where, const std::string& path) {
    if (!valid_env_name(name)) {
      ctx.error(where, path, fmt::format("{} is not an environment variable name", in_quotes(name)));
      return;
    }
    for (auto& existing : out) {
      if (existing.name == name) {
        // The Kubernetes list form allows repeats; the last one wins, as in a container.
        ctx.warning(where, path,
                    fmt::format("{} is set again (line {}); the last value wins", name,
                                existing.where.line));
        existing.value = std::move(value);
        existing.where = where;
        return;
      }
    }
    out.push_back(EnvVar{std::move(name), std::move(value), source, where});
  };
  if (env.node.IsSequence()) {
    // The manifest's form: [{name: IP, value: autodetect}, ...].
    auto items = read_list(ctx, env);
    if (!items) return out;
    for (const auto& item : *items) {
      MapView map(ctx, item, {"name", "value", "valueFrom"});
      if (!map.ok()) continue;
      if (auto f = map.get("valueFrom")) {
        ctx.error(map.key_where("valueFrom"), f->path,
                  "valueFrom is not supported: a scenario has no ConfigMaps or Secrets; give value");
        continue;
      }
      auto name_field = map.require("name");
      if (!name_field) continue;
      auto name = read_string(ctx, *name_field);
      if (!name) continue;
      std::string value;
      if (auto f = map.get("value")) {
        if (auto v = read_string(ctx, *f)) value = *v;
      }
      add(*name, value, name_field->where, join_path(env.path, *name));
    }
    return out;
  }
  MapView map(ctx, env, {}, true);
  for (const auto& e : map.entries()) {
    std::string value;
    if (!e.value.node.IsNull()) {
      if (auto v = read_string(ctx, e.value)) value = *v;
      else continue;
    }
    add(e.key, value, e.value.where, e.value.path);
  }
  return out;
}

void overlay_env(std::vector<EnvVar>& base, const std::vector<EnvVar>& over) {
  for (const auto& v : over) {
    auto it = std::find_if(base.begin(), base.end(), [&](const EnvVar& b) { return b.name == v.name; });
    if (it != base.end()) {
      *it = v;
    } else {
      base.push_back(v);
    }
  }
}

scenario::CalicoNodeSettings interpret_env(Ctx& ctx, const std::vector<EnvVar>& env,
                                           EnvSource report_source, std::string_view path) {
  using scenario::NetworkingBackend;
  using scenario::NodeIpMode;
  scenario::CalicoNodeSettings out;
  out.env = env;
  for (const auto& var : env) {
    const bool report = var.source == report_source;
    const std::string at = env_path(path, var);
    const std::string& v = var.value;
    if (var.name == "IP") {
      if (v.empty()) {
        out.ip_mode = NodeIpMode::kAutodetectIfUnset;
      } else if (v == "autodetect") {
        out.ip_mode = NodeIpMode::kAutodetect;
      } else if (v == "none") {
        out.ip_mode = NodeIpMode::kNone;
      } else if (auto p = wire::Ipv4Prefix::parse(v)) {
        out.ip_mode = NodeIpMode::kFixed;
        out.ip = *p;
        out.ip_has_length = v.find('/') != std::string::npos;
      } else if (report) {
        ctx.error(var.where, at,
                  fmt::format("{} is not an IPv4 address (want autodetect, none, or a.b.c.d[/len])",
                              in_quotes(v)));
      }
    } else if (var.name == "IP_AUTODETECTION_METHOD") {
      if (auto m = parse_autodetection(ctx, var, report, path)) out.ip_autodetection = *m;
    } else if (var.name == "AS") {
      if (v.empty()) continue;
      if (auto asn = parse_as_number(v)) {
        out.as_number = *asn;
      } else if (report) {
        ctx.error(var.where, at,
                  fmt::format("{} is not an AS number (want 1..4294967295 or asdot a.b)", in_quotes(v)));
      }
    } else if (var.name == "CALICO_NETWORKING_BACKEND") {
      const std::vector<std::string_view> backends{"bird", "vxlan", "none"};
      if (v.empty() || v == "bird") {
        out.networking_backend = NetworkingBackend::kBird;
      } else if (v == "vxlan") {
        out.networking_backend = NetworkingBackend::kVxlan;
      } else if (v == "none") {
        out.networking_backend = NetworkingBackend::kNone;
      } else if (report) {
        ctx.error(var.where, at,
                  fmt::format("{} is not a networking backend (want bird, vxlan or none){}",
                              in_quotes(v), did_you_mean(v, backends)));
      }
    } else if (var.name == "CLUSTER_TYPE") {
      out.cluster_type = v.empty() ? std::vector<std::string>{} : split_list(v);
    } else if (var.name.starts_with("FELIX_")) {
      apply_felix_env(ctx, var, out.felix, report, path);
    } else if (var.name == "IP6" || var.name == "IP6_AUTODETECTION_METHOD") {
      if (report && !v.empty() && v != "none") {
        ctx.warning(var.where, at, "calisim models IPv4 only; IPv6 settings are kept but not used");
      }
    } else if (std::find(known_unmodelled().begin(), known_unmodelled().end(), var.name) ==
               known_unmodelled().end()) {
      if (report) {
        ctx.warning(var.where, at,
                    fmt::format("calico-node does not read {}; kept, but it changes nothing{}",
                                var.name, did_you_mean(var.name, known_unmodelled())));
      }
    }
  }
  return out;
}

void check_node_pool_env(Ctx& ctx, const std::vector<EnvVar>& env, std::string_view path) {
  for (const auto& var : env) {
    if (var.name.starts_with(kPoolPrefix) || var.name == "NO_DEFAULT_POOLS") {
      ctx.warning(var.where, env_path(path, var),
                  fmt::format("{} is ignored here: the default pool is created once for the "
                              "cluster, from spec.calicoNode.env",
                              var.name));
    }
  }
}

std::optional<scenario::IpPool> default_pool_from_env(
    Ctx& ctx, const std::vector<EnvVar>& env, bool pools_in_file,
    const std::vector<wire::Ipv4Prefix>& host_addresses, std::string_view path) {
  using scenario::EncapsulationMode;
  const auto get = [&](std::string_view name) { return find_env(env, name); };
  const auto written = [&](const EnvVar* v) { return v != nullptr && v->source == EnvSource::kGlobal; };
  auto error = [&](const EnvVar* v, std::string message) {
    if (written(v)) ctx.error(v->where, env_path(path, *v), std::move(message));
  };

  scenario::IpPool pool;
  pool.name = "default-ipv4-ippool";
  pool.from_environment = true;
  pool.nat_outgoing = true;
  bool ok = true;

  const EnvVar* cidr = get("CALICO_IPV4POOL_CIDR");
  const EnvVar* block = get("CALICO_IPV4POOL_BLOCK_SIZE");
  const EnvVar* ipip = get("CALICO_IPV4POOL_IPIP");
  const EnvVar* vxlan = get("CALICO_IPV4POOL_VXLAN");
  const EnvVar* nat = get("CALICO_IPV4POOL_NAT_OUTGOING");
  const EnvVar* selector = get("CALICO_IPV4POOL_NODE_SELECTOR");
  const EnvVar* export_off = get("CALICO_IPV4POOL_DISABLE_BGP_EXPORT");
  const EnvVar* no_pools = get("NO_DEFAULT_POOLS");

  // Check every value as calico-node would, even when the pool will not be made from them.
  if (block != nullptr && !block->value.empty()) {
    int size = 0;
    const auto& v = block->value;
    const bool digits = !v.empty() && v.size() <= 3 &&
                        std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) size = std::stoi(v);
    if (!digits || size < 20 || size > 32) {
      error(block, fmt::format("{} is not an IPv4 block size (want 20..32)", in_quotes(v)));
      ok = false;
    } else {
      pool.block_size = size;
    }
  }
  for (const EnvVar* mode_var : {ipip, vxlan}) {
    if (mode_var == nullptr) continue;
    auto mode = parse_pool_mode(mode_var->value);
    if (!mode) {
      const std::vector<std::string_view> modes{"Always", "CrossSubnet", "Never"};
      error(mode_var, fmt::format("{} is not {} mode (want Always, CrossSubnet or Never){}",
                                  in_quotes(mode_var->value), mode_var == ipip ? "an IPIP" : "a VXLAN",
                                  did_you_mean(mode_var->value, modes)));
      ok = false;
      continue;
    }
    (mode_var == ipip ? pool.ipip_mode : pool.vxlan_mode) = *mode;
  }
  if (pool.ipip_mode != EncapsulationMode::kNever && pool.vxlan_mode != EncapsulationMode::kNever) {
    error(written(vxlan) ? vxlan : ipip,
          "CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN cannot both be enabled: Calico refuses "
          "the pool");
    ok = false;
  }
  if (nat != nullptr) pool.nat_outgoing = env_bool(nat->value);
  if (export_off != nullptr) pool.disable_bgp_export = env_bool(export_off->value);
  if (selector != nullptr && !selector->value.empty()) pool.node_selector = selector->value;

  std::optional<wire::Ipv4Prefix> parsed_cidr;
  if (cidr != nullptr && !cidr->value.empty() && cidr->value != "none") {
    auto p = wire::Ipv4Prefix::parse(cidr->value);
    if (!p || cidr->value.find('/') == std::string::npos) {
      error(cidr, fmt::format("{} is not an IPv4 CIDR", in_quotes(cidr->value)));
      ok = false;
    } else {
      parsed_cidr = wire::Ipv4Prefix(p->network(), p->length());
      if (p->network() != p->address() && written(cidr)) {
        ctx.warning(cidr->where, env_path(path, *cidr),
                    fmt::format("{} has host bits set; calico-node uses {}", in_quotes(cidr->value),
                                parsed_cidr->to_string()));
      }
      if (parsed_cidr->length() > pool.block_size) {
        error(cidr, fmt::format("pool {} is smaller than its /{} blocks", parsed_cidr->to_string(),
                                pool.block_size));
        ok = false;
      }
    }
  }

  const bool no_default = no_pools != nullptr && lower(no_pools->value) == "true";
  if (no_default && cidr != nullptr && !cidr->value.empty()) {
    error(cidr, "NO_DEFAULT_POOLS is true and CALICO_IPV4POOL_CIDR is set: calico-node refuses to "
                "start with both");
    return std::nullopt;
  }
  if (pools_in_file) {
    for (const auto* v : {cidr, block, ipip, vxlan, nat, selector, export_off}) {
      if (written(v)) {
        ctx.warning(v->where, env_path(path, *v),
                    fmt::format("{} is ignored: the file has IPPool resources, and calico-node "
                                "creates its default pool only when there is none",
                                v->name));
      }
    }
    return std::nullopt;
  }
  if (no_default || (cidr != nullptr && cidr->value == "none") || !ok) return std::nullopt;

  if (parsed_cidr) {
    pool.cidr = *parsed_cidr;
    pool.where = cidr->where;
  } else {
    // GetDefaultIPv4Pool: 192.168.0.0/16 unless it holds one of the host's addresses, then the
    // first of 172.16.0.0/16 ... 172.31.0.0/16 that does not.
    auto overlaps = [&](const wire::Ipv4Prefix& candidate) {
      return std::any_of(host_addresses.begin(), host_addresses.end(),
                         [&](const wire::Ipv4Prefix& a) { return candidate.contains(a.address()); });
    };
    pool.cidr = wire::Ipv4Prefix(wire::Ipv4Address(192, 168, 0, 0), 16);
    if (overlaps(pool.cidr)) {
      for (int second = 16; second <= 31; ++second) {
        const wire::Ipv4Prefix candidate(
            wire::Ipv4Address(172, static_cast<std::uint8_t>(second), 0, 0), 16);
        if (!overlaps(candidate)) {
          pool.cidr = candidate;
          break;
        }
      }
    }
  }
  return pool;
}

}  // namespace calisim::calico::detail
