// Felix's settings from two places: FelixConfiguration resources (the v3 API's field names) and
// FELIX_<PARAMETER> environment variables (Felix's own parameter names, felix/config/
// config_params.go, matched without regard to case as Felix does). The environment wins.

#include <charconv>
#include <cmath>
#include <regex>
#include <variant>

#include <fmt/format.h>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

using scenario::FelixSettings;

// Every spec field of FelixConfiguration (api/pkg/apis/projectcalico/v3/felixconfig.go). A field
// here that calisim does not model is accepted with a warning; one not here is an error.
constexpr std::string_view kFelixConfigurationFields =
    "nodeSelector useInternalDataplaneDriver dataplaneDriver dataplaneWatchdogTimeout ipv6Support "
    "routeRefreshInterval interfaceRefreshInterval iptablesRefreshInterval "
    "iptablesPostWriteCheckInterval iptablesLockProbeInterval featureDetectOverride featureGates "
    "ipsetsRefreshInterval maxIpsetSize iptablesBackend xdpRefreshInterval netlinkTimeout "
    "metadataAddr metadataPort openstackRegion interfacePrefix interfaceExclude chainInsertMode "
    "defaultEndpointToHostAction iptablesFilterAllowAction iptablesMangleAllowAction "
    "iptablesFilterDenyAction logPrefix logActionRateLimit logActionRateLimitBurst logFilePath "
    "logSeverityFile logSeverityScreen logSeveritySys logDebugFilenameRegex ipipEnabled ipipMTU "
    "vxlanEnabled vxlanMTU vxlanMTUV6 vxlanPort vxlanVNI allowVXLANPacketsFromWorkloads "
    "allowIPIPPacketsFromWorkloads reportingInterval reportingTTL endpointReportingEnabled "
    "endpointReportingDelay endpointStatusPathPrefix iptablesMarkMask disableConntrackInvalidCheck "
    "healthEnabled healthHost healthPort healthTimeoutOverrides prometheusMetricsEnabled "
    "prometheusMetricsHost prometheusMetricsPort prometheusGoMetricsEnabled "
    "prometheusProcessMetricsEnabled prometheusWireGuardMetricsEnabled prometheusMetricsCAFile "
    "prometheusMetricsCertFile prometheusMetricsKeyFile prometheusMetricsClientAuth "
    "failsafeInboundHostPorts failsafeOutboundHostPorts kubeNodePortRanges policySyncPathPrefix "
    "usageReportingEnabled usageReportingInitialDelay usageReportingInterval natPortRange "
    "natOutgoingAddress natOutgoingExclusions deviceRouteSourceAddress "
    "deviceRouteSourceAddressIPv6 deviceRouteProtocol removeExternalRoutes programClusterRoutes "
    "ipForwarding externalNodesList debugMemoryProfilePath debugDisableLogDropping "
    "debugSimulateCalcGraphHangAfter debugSimulateDataplaneHangAfter "
    "debugSimulateDataplaneApplyDelay debugHost debugPort iptablesNATOutgoingInterfaceFilter "
    "sidecarAccelerationEnabled xdpEnabled genericXDPEnabled nftablesMode nftablesFlowTableOffload "
    "nftablesFlowTableDataIfacePattern nftablesRefreshInterval nftablesFilterAllowAction "
    "nftablesMangleAllowAction nftablesFilterDenyAction nftablesMarkMask bpfEnabled "
    "bpfOverlayHostSourceIP bpfDisableUnprivileged bpfJITHardening bpfLogLevel "
    "bpfConntrackLogLevel bpfConntrackMode bpfConntrackTimeouts bpfIPFragTimeout bpfLogFilters "
    "bpfCTLBLogFilter bpfDataIfacePattern bpfL3IfacePattern bpfConnectTimeLoadBalancingEnabled "
    "bpfConnectTimeLoadBalancing bpfHostNetworkedNATWithoutCTLB bpfExternalServiceMode "
    "bpfDSROptoutCIDRs bpfExtToServiceConnmark bpfKubeProxyIptablesCleanupEnabled "
    "bpfKubeProxyMinSyncPeriod bpfKubeProxyHealthzPort bpfPSNATPorts bpfMapSizeNATFrontend "
    "bpfMapSizeNATBackend bpfMapSizeNATAffinity bpfMapSizeRoute bpfMapSizeConntrack "
    "bpfMapSizePerCpuConntrack bpfMapSizeConntrackScaling bpfMapSizeConntrackCleanupQueue "
    "bpfMapSizeIPSets bpfMapSizeIfState bpfHostConntrackBypass bpfIPFragmentReassemblyEnabled "
    "bpfEnforceRPF bpfPolicyDebugEnabled bpfForceTrackPacketsFromIfaces bpfDisableGROForIfaces "
    "bpfExcludeCIDRsFromNAT bpfExportBufferSizeMB istioAmbientMode istioDSCPMark cgroupV2Path "
    "flowLogsPolicyEvaluationMode bpfRedirectToPeer bpfAttachType flowLogsFlushInterval "
    "flowLogsCollectorDebugTrace flowLogsGoldmaneServer flowLogsLocalReporter bpfProfiling "
    "routeSource routeTableRanges routeTableRange routeSyncDisabled ipv4NormalRoutePriority "
    "ipv4ElevatedRoutePriority ipv6NormalRoutePriority ipv6ElevatedRoutePriority "
    "liveMigrationRouteConvergenceTime wireguardEnabled wireguardEnabledV6 "
    "wireguardThreadingEnabled wireguardListeningPort wireguardListeningPortV6 "
    "wireguardRoutingRulePriority wireguardInterfaceName wireguardInterfaceNameV6 wireguardMTU "
    "wireguardMTUV6 wireguardHostEncryptionEnabled wireguardKeepAlive awsSrcDstCheck "
    "serviceLoopPrevention workloadSourceSpoofing mtuIfacePattern floatingIPs "
    "localSubnetL2Reachability localSubnetL2ReachabilityRefreshInterval "
    "windowsManageFirewallRules goGCThreshold goMemoryLimitMB goMaxProcs requireMTUFile "
    "bpfMaglevMaxEndpointsPerService bpfMaglevMaxServices";

// Felix's parameters (felix/config/config_params.go): what FELIX_<NAME> can set.
constexpr std::string_view kFelixParameters =
    "UseInternalDataplaneDriver DataplaneDriver DataplaneWatchdogTimeout WireguardEnabled "
    "WireguardEnabledV6 WireguardListeningPort WireguardListeningPortV6 "
    "WireguardRoutingRulePriority WireguardInterfaceName WireguardInterfaceNameV6 WireguardMTU "
    "WireguardMTUV6 WireguardHostEncryptionEnabled WireguardPersistentKeepAlive "
    "WireguardThreadingEnabled NFTablesMode NFTablesFlowTableOffload "
    "NFTablesFlowTableDataIfacePattern BPFEnabled BPFOverlayHostSourceIP BPFDisableUnprivileged "
    "BPFJITHardening BPFLogLevel BPFConntrackLogLevel BPFConntrackCleanupMode "
    "BPFConntrackTimeouts BPFIPFragTimeout BPFLogFilters BPFCTLBLogFilter BPFDataIfacePattern "
    "BPFL3IfacePattern BPFConnectTimeLoadBalancingEnabled BPFConnectTimeLoadBalancing "
    "BPFHostNetworkedNATWithoutCTLB BPFExternalServiceMode BPFDSROptoutCIDRs "
    "BPFKubeProxyIptablesCleanupEnabled BPFKubeProxyMinSyncPeriod BPFKubeProxyHealthzPort "
    "BPFExtToServiceConnmark BPFPSNATPorts BPFMapSizeNATFrontend BPFMapSizeNATBackend "
    "BPFMapSizeNATAffinity BPFMapSizeRoute BPFMapSizeConntrack BPFMapSizePerCPUConntrack "
    "BPFMapSizeConntrackScaling BPFMapSizeConntrackCleanupQueue BPFMapSizeIPSets "
    "BPFMapSizeIfState BPFHostConntrackBypass BPFIPFragmentReassemblyEnabled BPFEnforceRPF "
    "BPFPolicyDebugEnabled BPFForceTrackPacketsFromIfaces BPFDisableGROForIfaces "
    "BPFExcludeCIDRsFromNAT BPFRedirectToPeer BPFAttachType BPFExportBufferSizeMB BPFProfiling "
    "IstioAmbientMode IstioDSCPMark CgroupV2Path DebugBPFCgroupV2 DatastoreType FelixHostname "
    "EtcdAddr EtcdScheme EtcdKeyFile EtcdCertFile EtcdCaFile EtcdEndpoints TyphaAddr "
    "TyphaK8sServiceName TyphaK8sNamespace TyphaReadTimeout TyphaWriteTimeout TyphaKeyFile "
    "TyphaCertFile TyphaCAFile TyphaCN TyphaURISAN Ipv6Support IptablesBackend "
    "RouteRefreshInterval InterfaceRefreshInterval DeviceRouteSourceAddress "
    "DeviceRouteSourceAddressIPv6 DeviceRouteProtocol RemoveExternalRoutes ProgramClusterRoutes "
    "IPForwarding IptablesRefreshInterval IptablesPostWriteCheckIntervalSecs "
    "IptablesLockProbeIntervalMillis FeatureDetectOverride FeatureGates IpsetsRefreshInterval "
    "MaxIpsetSize XDPRefreshInterval PolicySyncPathPrefix NetlinkTimeoutSecs MetadataAddr "
    "MetadataPort OpenstackRegion InterfacePrefix InterfaceExclude ChainInsertMode "
    "DefaultEndpointToHostAction IptablesFilterAllowAction IptablesMangleAllowAction "
    "IptablesFilterDenyAction LogPrefix LogActionRateLimit LogActionRateLimitBurst LogFilePath "
    "LogSeverityFile LogSeverityScreen LogSeveritySys LogDebugFilenameRegex VXLANEnabled "
    "VXLANPort VXLANVNI VXLANMTU VXLANMTUV6 IPv4VXLANTunnelAddr IPv6VXLANTunnelAddr "
    "VXLANTunnelMACAddr VXLANTunnelMACAddrV6 IpInIpEnabled IpInIpMtu IpInIpTunnelAddr "
    "FloatingIPs LocalSubnetL2Reachability LocalSubnetL2ReachabilityRefreshInterval "
    "WindowsManageFirewallRules AllowVXLANPacketsFromWorkloads AllowIPIPPacketsFromWorkloads "
    "AWSSrcDstCheck ServiceLoopPrevention WorkloadSourceSpoofing ReportingIntervalSecs "
    "ReportingTTLSecs EndpointReportingEnabled EndpointReportingDelaySecs "
    "EndpointStatusPathPrefix IptablesMarkMask DisableConntrackInvalidCheck HealthEnabled "
    "HealthPort HealthHost HealthTimeoutOverrides PrometheusMetricsEnabled PrometheusMetricsHost "
    "PrometheusMetricsPort PrometheusGoMetricsEnabled PrometheusProcessMetricsEnabled "
    "PrometheusWireGuardMetricsEnabled PrometheusMetricsCAFile PrometheusMetricsCertFile "
    "PrometheusMetricsKeyFile PrometheusMetricsClientAuth FailsafeInboundHostPorts "
    "FailsafeOutboundHostPorts FlowLogsFlushInterval FlowLogsCollectorDebugTrace "
    "FlowLogsGoldmaneServer FlowLogsLocalReporter FlowLogsPolicyEvaluationMode KubeNodePortRanges "
    "NATPortRange NATOutgoingAddress NATOutgoingExclusions UsageReportingEnabled "
    "UsageReportingInitialDelaySecs UsageReportingIntervalSecs ClusterGUID ClusterType "
    "CalicoVersion ExternalNodesCIDRList DebugMemoryProfilePath DebugCPUProfilePath "
    "DebugDisableLogDropping DebugSimulateCalcGraphHangAfter DebugSimulateDataplaneHangAfter "
    "DebugSimulateDataplaneApplyDelay DebugPanicAfter DebugSimulateDataRace DebugHost DebugPort "
    "RouteSource RouteTableRange RouteTableRanges RouteSyncDisabled IPv4NormalRoutePriority "
    "IPv4ElevatedRoutePriority IPv6NormalRoutePriority IPv6ElevatedRoutePriority "
    "LiveMigrationRouteConvergenceTime IptablesNATOutgoingInterfaceFilter "
    "SidecarAccelerationEnabled XDPEnabled GenericXDPEnabled Variant GoGCThreshold "
    "GoMemoryLimitMB GoMaxProcs MTUIfacePattern NftablesRefreshInterval "
    "NftablesFilterAllowAction NftablesMangleAllowAction NftablesFilterDenyAction "
    "NftablesMarkMask RequireMTUFile BPFMaglevMaxEndpointsPerService BPFMaglevMaxServices";

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

using BoolMember = std::optional<bool> FelixSettings::*;
using IntMember = std::optional<int> FelixSettings::*;
using StringMember = std::optional<std::string> FelixSettings::*;
using DurationMember = std::optional<Duration> FelixSettings::*;
using AddressMember = std::optional<wire::Ipv4Address> FelixSettings::*;
using Member = std::variant<BoolMember, IntMember, StringMember, DurationMember, AddressMember>;

struct FelixField {
  std::string_view json;     // FelixConfiguration spec field
  std::string_view param;    // Felix parameter: FELIX_<PARAM upper-cased>
  Member member;
  std::vector<std::string_view> choices;  // a string with a fixed set of values (API spelling)
  std::int64_t min = 0;
  std::int64_t max = 0;
};

const std::vector<FelixField>& modelled() {
  using S = FelixSettings;
  static const std::vector<FelixField> fields{
      {"ipipEnabled", "IpInIpEnabled", BoolMember{&S::ipip_enabled}, {}, 0, 0},
      {"ipipMTU", "IpInIpMtu", IntMember{&S::ipip_mtu}, {}, 0, 65535},
      {"vxlanEnabled", "VXLANEnabled", BoolMember{&S::vxlan_enabled}, {}, 0, 0},
      {"vxlanMTU", "VXLANMTU", IntMember{&S::vxlan_mtu}, {}, 0, 65535},
      {"vxlanVNI", "VXLANVNI", IntMember{&S::vxlan_vni}, {}, 1, 16'777'215},
      {"vxlanPort", "VXLANPort", IntMember{&S::vxlan_port}, {}, 1, 65535},
      {"wireguardEnabled", "WireguardEnabled", BoolMember{&S::wireguard_enabled}, {}, 0, 0},
      {"wireguardMTU", "WireguardMTU", IntMember{&S::wireguard_mtu}, {}, 0, 65535},
      {"wireguardListeningPort", "WireguardListeningPort",
       IntMember{&S::wireguard_listening_port}, {}, 1, 65535},
      {"wireguardRoutingRulePriority", "WireguardRoutingRulePriority",
       IntMember{&S::wireguard_routing_rule_priority}, {}, 1, 32765},
      {"wireguardInterfaceName", "WireguardInterfaceName",
       StringMember{&S::wireguard_interface_name}, {}, 0, 0},
      {"mtuIfacePattern", "MTUIfacePattern", StringMember{&S::mtu_iface_pattern}, {}, 0, 0},
      {"routeRefreshInterval", "RouteRefreshInterval", DurationMember{&S::route_refresh_interval},
       {}, 0, 0},
      {"iptablesRefreshInterval", "IptablesRefreshInterval",
       DurationMember{&S::iptables_refresh_interval}, {}, 0, 0},
      {"interfacePrefix", "InterfacePrefix", StringMember{&S::interface_prefix}, {}, 0, 0},
      {"defaultEndpointToHostAction", "DefaultEndpointToHostAction",
       StringMember{&S::default_endpoint_to_host_action}, {"Drop", "Accept", "Return"}, 0, 0},
      {"chainInsertMode", "ChainInsertMode", StringMember{&S::chain_insert_mode},
       {"Insert", "Append"}, 0, 0},
      {"ipv6Support", "Ipv6Support", BoolMember{&S::ipv6_support}, {}, 0, 0},
      {"logSeverityScreen", "LogSeverityScreen", StringMember{&S::log_severity_screen},
       {"Trace", "Debug", "Info", "Warning", "Error", "Fatal"}, 0, 0},
      {"iptablesBackend", "IptablesBackend", StringMember{&S::iptables_backend},
       {"Legacy", "NFT", "Auto"}, 0, 0},
      {"natOutgoingAddress", "NATOutgoingAddress", AddressMember{&S::nat_outgoing_address}, {},
       0, 0},
      {"deviceRouteProtocol", "DeviceRouteProtocol", IntMember{&S::device_route_protocol}, {},
       0, 255},
      {"removeExternalRoutes", "RemoveExternalRoutes", BoolMember{&S::remove_external_routes},
       {}, 0, 0},
      {"bpfEnabled", "BPFEnabled", BoolMember{&S::bpf_enabled}, {}, 0, 0},
      {"healthEnabled", "HealthEnabled", BoolMember{&S::health_enabled}, {}, 0, 0},
      {"routeSource", "RouteSource", StringMember{&S::route_source},
       {"WorkloadIPs", "CalicoIPAM"}, 0, 0},
  };
  return fields;
}

const FelixField* find_by_json(std::string_view json) {
  for (const auto& f : modelled()) {
    if (f.json == json) return &f;
  }
  return nullptr;
}

const FelixField* find_by_param(std::string_view param_lower) {
  for (const auto& f : modelled()) {
    if (lower(f.param) == param_lower) return &f;
  }
  return nullptr;
}

void note_bpf(Ctx& ctx, Location where, const std::string& path, bool enabled) {
  if (enabled) {
    ctx.warning(where, path,
                "calisim simulates Felix's iptables dataplane; the eBPF dataplane is not modelled");
  }
}

// Felix's BoolParam: true, 1, yes, y, t and false, 0, no, n, f, any case.
std::optional<bool> env_bool(std::string_view value) {
  const std::string v = lower(value);
  if (v == "true" || v == "1" || v == "yes" || v == "y" || v == "t") return true;
  if (v == "false" || v == "0" || v == "no" || v == "n" || v == "f") return false;
  return std::nullopt;
}

// Felix's "seconds" parameters: a decimal number of seconds ("90", "1.5").
std::optional<Duration> env_seconds(std::string_view value) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || !(seconds >= 0) ||
      seconds > 9.2e9) {
    return std::nullopt;
  }
  return Duration::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

bool valid_regex(const std::string& pattern) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

}  // namespace

FelixSettings read_felix_spec(Ctx& ctx, const Field& spec_field) {
  FelixSettings out;
  static const std::vector<std::string_view> all_fields = words(kFelixConfigurationFields);
  MapView spec(ctx, spec_field, all_fields, false);
  for (const auto& e : spec.entries()) {
    const FelixField* field = find_by_json(e.key);
    if (field == nullptr) {
      ctx.warning(e.key_where, e.value.path,
                  fmt::format("{} is not modelled by calisim; ignored", e.key));
      continue;
    }
    if (e.value.node.IsNull()) continue;
    const Field& value = e.value;
    std::visit(
        [&](auto member) {
          using M = decltype(member);
          if constexpr (std::is_same_v<M, BoolMember>) {
            if (auto v = read_bool(ctx, value)) {
              out.*member = *v;
              if (member == &FelixSettings::bpf_enabled) note_bpf(ctx, value.where, value.path, *v);
            }
          } else if constexpr (std::is_same_v<M, IntMember>) {
            if (auto v = read_int(ctx, value, field->min, field->max)) out.*member = static_cast<int>(*v);
          } else if constexpr (std::is_same_v<M, StringMember>) {
            if (!field->choices.empty()) {
              if (auto i = read_choice(ctx, value, field->choices, fmt::format("a {} value", e.key))) {
                out.*member = std::string(field->choices[*i]);
              }
            } else if (auto v = read_string(ctx, value)) {
              if (member == &FelixSettings::mtu_iface_pattern && !valid_regex(*v)) {
                ctx.error(value.where, value.path,
                          fmt::format("{} is not a valid regular expression", in_quotes(*v)));
              } else {
                out.*member = *v;
              }
            }
          } else if constexpr (std::is_same_v<M, DurationMember>) {
            if (auto v = read_duration(ctx, value)) out.*member = *v;
          } else {
            if (auto v = read_address(ctx, value)) out.*member = *v;
          }
        },
        field->member);
  }
  return out;
}

void apply_felix_env(Ctx& ctx, const scenario::EnvVar& var, FelixSettings& felix, bool report,
                     std::string_view path) {
  const std::string name = lower(std::string_view(var.name).substr(6));  // after FELIX_
  const std::string at = join_path(path, var.name);
  const FelixField* field = find_by_param(name);
  if (field == nullptr) {
    if (!report) return;
    static const std::vector<std::string_view> params = words(kFelixParameters);
    for (const auto& p : params) {
      if (lower(p) == name) {
        ctx.warning(var.where, at,
                    fmt::format("Felix's {} is not modelled by calisim; ignored", p));
        return;
      }
    }
    std::vector<std::string> env_names;
    for (const auto& p : params) {
      std::string upper = "FELIX_";
      for (char c : p) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
      env_names.push_back(upper);
    }
    ctx.warning(var.where, at,
                fmt::format("Felix has no parameter {}; Felix ignores it{}", var.name.substr(6),
                            did_you_mean(var.name, env_names)));
    return;
  }
  const std::string& v = var.value;
  auto bad = [&](std::string want) {
    if (report) ctx.error(var.where, at, fmt::format("{} is not {}", in_quotes(v), want));
  };
  std::visit(
      [&](auto member) {
        using M = decltype(member);
        if constexpr (std::is_same_v<M, BoolMember>) {
          if (auto b = env_bool(v)) {
            felix.*member = *b;
            if (report && member == &FelixSettings::bpf_enabled) note_bpf(ctx, var.where, at, *b);
          } else {
            bad("a boolean (want true or false)");
          }
        } else if constexpr (std::is_same_v<M, IntMember>) {
          std::int64_t n = 0;
          const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec != std::errc() || end != v.data() + v.size() || v.empty()) {
            bad("an integer");
          } else if (n < field->min || n > field->max) {
            bad(fmt::format("in range ({}..{})", field->min, field->max));
          } else {
            felix.*member = static_cast<int>(n);
          }
        } else if constexpr (std::is_same_v<M, StringMember>) {
          if (!field->choices.empty()) {
            // Felix's oneof parameters ignore case: ACCEPT, Accept and accept are one value.
            for (const auto& c : field->choices) {
              if (lower(c) == lower(v)) {
                felix.*member = std::string(c);
                return;
              }
            }
            bad(fmt::format("a {} value (want {})", field->param, list_choices(field->choices)));
          } else if (member == &FelixSettings::mtu_iface_pattern && !valid_regex(v)) {
            bad("a valid regular expression");
          } else {
            felix.*member = v;
          }
        } else if constexpr (std::is_same_v<M, DurationMember>) {
          if (auto d = env_seconds(v)) {
            felix.*member = *d;
          } else {
            bad("a number of seconds");
          }
        } else {
          if (auto a = wire::Ipv4Address::parse(v)) {
            felix.*member = *a;
          } else {
            bad("an IPv4 address");
          }
        }
      },
      field->member);
}

}  // namespace calisim::calico::detail

namespace calisim::calico::scenario {

void FelixSettings::merge(const FelixSettings& over) {
  for (const auto& field : detail::modelled()) {
    std::visit(
        [&](auto member) {
          if ((over.*member).has_value()) this->*member = over.*member;
        },
        field.member);
  }
}

}  // namespace calisim::calico::scenario
