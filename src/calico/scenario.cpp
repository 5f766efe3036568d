// The scenario file as a whole: split into documents, dispatch each by apiVersion and kind, then
// check what the documents say about each other and assemble the Scenario.

#include <calisim/calico/scenario.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <calisim/calico/quantity.hpp>

#include "calico/scenario_parse.hpp"

namespace calisim::calico {

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += column > 0 ? fmt::format(":{}:{}", line, column) : fmt::format(":{}", line);
  }
  out += ": ";
  if (severity == Severity::kWarning) out += "warning: ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

namespace scenario {

std::string Interface::segment(std::string_view owner) const {
  if (!subnet.empty()) return subnet;
  return fmt::format("{}/{}", owner, name);
}

std::string_view to_string(NodeRole role) {
  return role == NodeRole::kControlPlane ? "control-plane" : "worker";
}

std::string_view to_string(EncapsulationMode mode) {
  switch (mode) {
    case EncapsulationMode::kNever: return "Never";
    case EncapsulationMode::kAlways: return "Always";
    case EncapsulationMode::kCrossSubnet: return "CrossSubnet";
  }
  return "Never";
}

std::string_view to_string(EventAction action) {
  switch (action) {
    case EventAction::kLinkDown: return "linkDown";
    case EventAction::kLinkUp: return "linkUp";
    case EventAction::kNodeCrash: return "nodeCrash";
    case EventAction::kNodeRestart: return "nodeRestart";
    case EventAction::kSetLoss: return "setLoss";
    case EventAction::kSetDelay: return "setDelay";
    case EventAction::kSetRate: return "setRate";
    case EventAction::kSetMtu: return "setMtu";
    case EventAction::kSetFabricMtu: return "setFabricMtu";
    case EventAction::kBlockProtocol: return "blockProtocol";
    case EventAction::kUnblockProtocol: return "unblockProtocol";
  }
  return "";
}

const EnvVar* CalicoNodeSettings::find(std::string_view name) const {
  for (const auto& v : env) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

const Interface* Node::find_interface(std::string_view interface_name) const {
  for (const auto& i : interfaces) {
    if (i.name == interface_name) return &i;
  }
  return nullptr;
}

const Interface* Router::find_interface(std::string_view interface_name) const {
  for (const auto& i : interfaces) {
    if (i.name == interface_name) return &i;
  }
  return nullptr;
}

std::string Endpoint::to_string() const {
  switch (kind) {
    case Kind::kPod: return fmt::format("{}/{}", namespace_name, name);
    case Kind::kNode: return fmt::format("node:{}", name);
    case Kind::kAddress: return address.to_string();
  }
  return "";
}

}  // namespace scenario

const scenario::Node* Scenario::find_node(std::string_view node_name) const {
  for (const auto& n : nodes) {
    if (n.name == node_name) return &n;
  }
  return nullptr;
}

const scenario::Router* Scenario::find_router(std::string_view router_name) const {
  for (const auto& r : routers) {
    if (r.name == router_name) return &r;
  }
  return nullptr;
}

const scenario::Subnet* Scenario::find_subnet(std::string_view subnet_name) const {
  for (const auto& s : subnets) {
    if (s.name == subnet_name) return &s;
  }
  return nullptr;
}

const scenario::Pod* Scenario::find_pod(std::string_view namespace_name,
                                        std::string_view pod_name) const {
  for (const auto& p : pods) {
    if (p.namespace_name == namespace_name && p.name == pod_name) return &p;
  }
  return nullptr;
}

const scenario::IpPool* Scenario::find_pool(std::string_view pool_name) const {
  for (const auto& p : ip_pools) {
    if (p.name == pool_name) return &p;
  }
  return nullptr;
}

scenario::FelixSettings Scenario::felix_for(std::string_view node) const {
  scenario::FelixSettings out;
  for (const auto& c : felix_configurations) {
    if (c.name == "default") out.merge(c.spec);
  }
  const std::string node_config = fmt::format("node.{}", node);
  for (const auto& c : felix_configurations) {
    if (c.name == node_config) out.merge(c.spec);
  }
  if (const auto* n = find_node(node)) out.merge(n->calico_node.felix);
  return out;
}

scenario::BgpConfiguration Scenario::bgp_for(std::string_view node) const {
  scenario::BgpConfiguration out;
  out.name = "default";
  for (const auto& c : bgp_configurations) {
    if (c.name == "default") out = c;
  }
  const std::string node_config = fmt::format("node.{}", node);
  for (const auto& c : bgp_configurations) {
    if (c.name != node_config) continue;
    // Per-node configurations carry the node-level settings only (Calico's reference marks the
    // mesh, AS number and service addresses "only valid on the global default").
    if (c.log_severity_screen) out.log_severity_screen = c.log_severity_screen;
    if (c.listen_port) out.listen_port = c.listen_port;
    if (c.bind_mode) out.bind_mode = c.bind_mode;
    if (!c.ignored_interfaces.empty()) out.ignored_interfaces = c.ignored_interfaces;
    out.name = c.name;
    out.where = c.where;
  }
  return out;
}

std::vector<Diagnostic> ScenarioParse::errors() const {
  std::vector<Diagnostic> out;
  for (const auto& d : diagnostics) {
    if (d.severity == Severity::kError) out.push_back(d);
  }
  return out;
}

std::string ScenarioParse::error_text() const {
  std::string out;
  for (const auto& d : diagnostics) {
    if (d.severity != Severity::kError) continue;
    if (!out.empty()) out += '\n';
    out += d.to_string();
  }
  return out;
}

namespace detail {

const Ref* Metadata::annotation(std::string_view key) const {
  for (const auto& r : annotation_refs) {
    if (r.name == key) return &r;
  }
  return nullptr;
}

std::optional<Metadata> read_metadata(Draft& draft, const MapView& parent, bool namespaced,
                                      bool name_required) {
  Ctx& ctx = draft.ctx;
  auto field = name_required ? parent.require("metadata") : parent.get("metadata");
  Metadata meta;
  meta.path = join_path(parent.self().path, "metadata");
  meta.where = parent.key_where("metadata");
  if (!field) {
    if (name_required) return std::nullopt;
    return meta;
  }
  meta.where = field->where;
  MapView map(ctx, *field,
              {"name", "generateName", "namespace", "labels", "annotations", "uid",
               "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
               "deletionGracePeriodSeconds", "ownerReferences", "finalizers", "managedFields",
               "selfLink"});
  if (!map.ok()) return std::nullopt;
  if (auto f = map.get("generateName")) {
    ctx.error(map.key_where("generateName"), f->path,
              "generateName is not supported: give metadata.name (a scenario names everything)");
  }
  if (auto f = name_required ? map.require("name") : map.get("name")) {
    meta.name = read_string(ctx, *f);
    meta.name_where = f->where;
    if (meta.name && name_required) {
      if (auto problem = check_dns_subdomain(*meta.name); !problem.empty()) {
        ctx.error(f->where, f->path, fmt::format("name {} {}", in_quotes(*meta.name), problem));
        meta.name.reset();
      }
    }
  }
  if (auto f = map.get("namespace")) {
    if (!namespaced) {
      ctx.warning(map.key_where("namespace"), f->path,
                  "this kind is cluster-scoped: metadata.namespace is ignored");
    } else if (auto ns = read_string(ctx, *f)) {
      meta.namespace_name = *ns;
      meta.namespace_where = f->where;
    }
  }
  if (auto f = map.get("labels")) {
    if (auto l = read_labels(ctx, *f)) meta.labels = *l;
  }
  if (auto f = map.get("annotations")) {
    MapView annotations(ctx, *f, {}, true);
    for (const auto& e : annotations.entries()) {
      std::string value;
      if (!e.value.node.IsNull()) {
        auto v = read_string(ctx, e.value);
        if (!v) continue;
        value = *v;
      }
      meta.annotations[e.key] = value;
      meta.annotation_refs.push_back(Ref{e.key, e.value.path, e.value.where});
    }
  }
  if (name_required && !meta.name) return std::nullopt;
  return meta;
}

namespace {

struct KindInfo {
  std::string_view api_version;
  std::string_view kind;
  enum class Reader { kTopology, kCalico, kKubernetes, kList } reader;
};

const std::vector<KindInfo>& kinds() {
  using R = KindInfo::Reader;
  static const std::vector<KindInfo> table{
      {"calisim.io/v1", "Topology", R::kTopology},
      {"projectcalico.org/v3", "IPPool", R::kCalico},
      {"projectcalico.org/v3", "BGPConfiguration", R::kCalico},
      {"projectcalico.org/v3", "BGPPeer", R::kCalico},
      {"projectcalico.org/v3", "Node", R::kCalico},
      {"projectcalico.org/v3", "FelixConfiguration", R::kCalico},
      {"projectcalico.org/v3", "IPAMConfiguration", R::kCalico},
      {"projectcalico.org/v3", "IPPoolList", R::kList},
      {"projectcalico.org/v3", "BGPConfigurationList", R::kList},
      {"projectcalico.org/v3", "BGPPeerList", R::kList},
      {"projectcalico.org/v3", "NodeList", R::kList},
      {"projectcalico.org/v3", "FelixConfigurationList", R::kList},
      {"crd.projectcalico.org/v1", "IPPool", R::kCalico},
      {"crd.projectcalico.org/v1", "BGPConfiguration", R::kCalico},
      {"crd.projectcalico.org/v1", "BGPPeer", R::kCalico},
      {"crd.projectcalico.org/v1", "FelixConfiguration", R::kCalico},
      {"crd.projectcalico.org/v1", "IPAMConfig", R::kCalico},
      {"v1", "Namespace", R::kKubernetes},
      {"v1", "Pod", R::kKubernetes},
      {"v1", "List", R::kList},
      {"apps/v1", "Deployment", R::kKubernetes},
      {"apps/v1", "ReplicaSet", R::kKubernetes},
  };
  return table;
}

// Kinds people will try that calisim does not read yet: a clear "not supported" beats a guess.
const std::vector<std::pair<std::string_view, std::string_view>>& unsupported_kinds() {
  static const std::vector<std::pair<std::string_view, std::string_view>> table{
      {"v1", "Service"}, {"v1", "Endpoints"}, {"v1", "ConfigMap"}, {"v1", "Secret"},
      {"v1", "ServiceAccount"}, {"v1", "Node"}, {"apps/v1", "DaemonSet"},
      {"apps/v1", "StatefulSet"}, {"batch/v1", "Job"}, {"batch/v1", "CronJob"},
      {"networking.k8s.io/v1", "NetworkPolicy"}, {"discovery.k8s.io/v1", "EndpointSlice"},
      {"projectcalico.org/v3", "NetworkPolicy"}, {"projectcalico.org/v3", "GlobalNetworkPolicy"},
      {"projectcalico.org/v3", "HostEndpoint"}, {"projectcalico.org/v3", "NetworkSet"},
      {"projectcalico.org/v3", "GlobalNetworkSet"}, {"projectcalico.org/v3", "Profile"},
      {"projectcalico.org/v3", "WorkloadEndpoint"}, {"projectcalico.org/v3", "Tier"},
      {"projectcalico.org/v3", "IPReservation"}, {"projectcalico.org/v3", "BGPFilter"},
      {"projectcalico.org/v3", "KubeControllersConfiguration"},
      {"crd.projectcalico.org/v1", "NetworkPolicy"},
      {"crd.projectcalico.org/v1", "GlobalNetworkPolicy"},
  };
  return table;
}

}  // namespace

void read_document(Draft& draft, const Field& document) {
  Ctx& ctx = draft.ctx;
  if (!document.node.IsMap()) {
    ctx.error(document.where, document.path,
              fmt::format("a document must be a mapping with apiVersion and kind, got {}",
                          describe(document.node)));
    return;
  }
  // Peek at apiVersion and kind before reading strictly: they decide which fields are allowed.
  std::string api_version;
  std::string kind;
  Location api_where = document.where;
  Location kind_where = document.where;
  for (const auto& pair : document.node) {
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    if (!key.IsScalar() || !value.IsScalar()) continue;
    if (key.Scalar() == "apiVersion") {
      api_version = value.Scalar();
      api_where = ctx.locate(value);
    } else if (key.Scalar() == "kind") {
      kind = value.Scalar();
      kind_where = ctx.locate(value);
    }
  }
  const std::string api_path = join_path(document.path, "apiVersion");
  const std::string kind_path = join_path(document.path, "kind");
  if (api_version.empty() || kind.empty()) {
    if (api_version.empty()) ctx.error(document.where, api_path, "required field is missing");
    if (kind.empty()) ctx.error(document.where, kind_path, "required field is missing");
    return;
  }

  const KindInfo* info = nullptr;
  std::vector<std::string_view> api_versions;
  std::vector<std::string_view> kinds_here;
  for (const auto& k : kinds()) {
    if (std::find(api_versions.begin(), api_versions.end(), k.api_version) == api_versions.end()) {
      api_versions.push_back(k.api_version);
    }
    if (k.api_version == api_version) {
      kinds_here.push_back(k.kind);
      if (k.kind == kind) info = &k;
    }
  }
  if (info == nullptr) {
    for (const auto& [api, k] : unsupported_kinds()) {
      if (api == api_version && k == kind) {
        ctx.error(kind_where, kind_path,
                  fmt::format("{} ({}) is not supported by calisim yet", kind, api_version));
        return;
      }
    }
    if (kinds_here.empty()) {
      std::string hint = did_you_mean(api_version, api_versions);
      for (const auto& k : kinds()) {
        if (hint.empty() && k.kind == kind) hint = fmt::format(" ({} is {})", kind, k.api_version);
      }
      ctx.error(api_where, api_path, fmt::format("unknown apiVersion {}{}", in_quotes(api_version), hint));
      return;
    }
    std::string hint = did_you_mean(kind, kinds_here);
    for (const auto& k : kinds()) {
      if (hint.empty() && k.kind == kind) {
        hint = fmt::format(" ({} is {})", kind, k.api_version);
      }
    }
    ctx.error(kind_where, kind_path,
              fmt::format("unknown kind {} for apiVersion {}{}", in_quotes(kind), api_version, hint));
    return;
  }

  using R = KindInfo::Reader;
  switch (info->reader) {
    case R::kTopology: {
      MapView map(ctx, document, {"apiVersion", "kind", "metadata", "spec"});
      if (map.ok()) read_topology(draft, map);
      return;
    }
    case R::kList: {
      MapView map(ctx, document, {"apiVersion", "kind", "metadata", "items"});
      if (!map.ok()) return;
      auto items_field = map.require("items");
      if (!items_field) return;
      if (auto items = read_list(ctx, *items_field)) {
        for (const auto& item : *items) read_document(draft, item);
      }
      return;
    }
    case R::kCalico: {
      MapView map(ctx, document, {"apiVersion", "kind", "metadata", "spec", "status"});
      if (map.ok()) read_calico_resource(draft, map, kind);
      return;
    }
    case R::kKubernetes: {
      MapView map(ctx, document, {"apiVersion", "kind", "metadata", "spec", "status"});
      if (map.ok()) read_kubernetes_object(draft, map, kind);
      return;
    }
  }
}

namespace {

struct Chunk {
  std::string text;
  int first_line = 0;  // 0-based line of the file where the chunk starts
};

// Splits a multi-document stream at its "---" lines so that each document is parsed on its own:
// a syntax error in one does not hide the problems of the others.
std::vector<Chunk> split_documents(std::string_view text) {
  std::vector<Chunk> chunks(1);
  int line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    const std::string_view content = text.substr(pos, next - pos);
    const bool marker = content.starts_with("---") &&
                        (content.size() == 3 || content[3] == ' ' || content[3] == '\t' ||
                         content[3] == '\n' || content[3] == '\r');
    if (marker && line > 0) chunks.push_back(Chunk{"", line});
    chunks.back().text.append(content);
    ++line;
    pos = next;
  }
  return chunks;
}

}  // namespace
}  // namespace detail

ScenarioParse check_scenario(std::string_view text, std::string_view file_name) {
  detail::Ctx ctx{std::string(file_name)};
  detail::Draft draft(ctx);
  draft.out.file = std::string(file_name);
  for (const auto& chunk : detail::split_documents(text)) {
    ctx.set_line_offset(chunk.first_line);
    YAML::Node doc;
    try {
      doc = YAML::Load(chunk.text);
    } catch (const YAML::Exception& e) {
      ctx.error(ctx.locate(e.mark), "", fmt::format("YAML syntax error: {}", e.msg));
      draft.failed_documents = true;
      continue;
    }
    if (doc.IsNull()) continue;  // an empty document: only comments, or a trailing "---"
    try {
      detail::read_document(draft, detail::Field{doc, "", ctx.locate(doc)});
    } catch (const YAML::Exception& e) {
      // yaml-cpp throws on malformed trees we do not expect to reach; never lose the report.
      ctx.error(ctx.locate(e.mark), "", fmt::format("cannot read this document: {}", e.msg));
      draft.failed_documents = true;
    }
  }
  ctx.set_line_offset(0);
  detail::assemble(draft);

  ScenarioParse result;
  const bool ok = ctx.error_count() == 0;
  result.diagnostics = ctx.take();
  if (ok) {
    draft.out.warnings = result.diagnostics;
    result.scenario = std::move(draft.out);
  }
  return result;
}

Result<Scenario> parse_scenario(std::string_view text, std::string_view file_name) {
  auto parsed = check_scenario(text, file_name);
  if (!parsed.ok()) return make_error(Errc::kInvalidArgument, parsed.error_text());
  return std::move(*parsed.scenario);
}

Result<Scenario> load_scenario(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::kIo, fmt::format("{}: cannot open the scenario file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::kIo, fmt::format("{}: cannot read the scenario file", path.string()));
  return parse_scenario(text.str(), path.string());
}

}  // namespace calisim::calico
