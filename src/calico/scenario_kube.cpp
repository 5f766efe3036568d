// Kubernetes objects: Namespace, Pod, and the controllers that make pods (Deployment,
// ReplicaSet), expanded the way Kubernetes names their pods; then a deterministic scheduler for
// pods without spec.nodeName.

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include <calisim/calico/quantity.hpp>
#include <calisim/sim/random.hpp>

#include "calico/scenario_parse.hpp"

namespace calisim::calico::detail {
namespace {

// k8s.io/apimachinery/pkg/util/rand: no vowels, no 0, 1 or 3, so generated names spell nothing.
constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
// names.SimpleNameGenerator: a generated name keeps at most 63 - 5 characters of its base.
constexpr std::size_t kMaxGeneratedBase = 58;

constexpr std::string_view kCreateAt = "calisim.io/create-at";
constexpr std::string_view kDeleteAt = "calisim.io/delete-at";
constexpr std::string_view kTemplateHash = "calisim.io/pod-template-hash";
constexpr std::string_view kNameSuffixes = "calisim.io/pod-name-suffixes";

const std::vector<std::string_view> kCalisimAnnotations{kCreateAt, kDeleteAt, kTemplateHash,
                                                        kNameSuffixes};

// Every PodSpec field (k8s.io/api/core/v1); calisim reads nodeName, nodeSelector and
// hostNetwork, and accepts the rest (containers, volumes, tolerations, ...) without reading them.
const std::vector<std::string_view> kPodSpecFields{
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers", "dnsConfig",
    "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC",
    "hostNetwork", "hostPID", "hostUsers", "hostname", "imagePullSecrets", "initContainers",
    "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy", "priority",
    "priorityClassName", "readinessGates", "resourceClaims", "resources", "restartPolicy",
    "runtimeClassName", "schedulerName", "schedulingGates", "securityContext", "serviceAccount",
    "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace", "subdomain",
    "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints", "volumes"};

bool in_alphabet(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return kAlphanums.find(c) != std::string_view::npos; });
}

// rand.SafeEncodeString: each byte to alphanums[b % 27]. Kubernetes encodes the decimal text of
// an FNV-32a hash of the pod template, so hashes are 1..10 characters of "bcdf456789".
std::string safe_encode(std::string_view s) {
  std::string out;
  for (char c : s) out += kAlphanums[static_cast<unsigned char>(c) % kAlphanums.size()];
  return out;
}

std::string random_suffix(RandomStream& random) {
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphanums[random.uniform(kAlphanums.size())];
  return out;
}

std::string generated_name(std::string_view base, std::string_view suffix) {
  return fmt::format("{}{}", base.substr(0, std::min(base.size(), kMaxGeneratedBase)), suffix);
}

// metav1.LabelSelector.
struct LabelSelector {
  struct Requirement {
    std::string key;
    std::string op;  // In, NotIn, Exists, DoesNotExist
    std::vector<std::string> values;
  };
  Labels match_labels;
  std::vector<Requirement> expressions;

  bool matches(const Labels& labels) const {
    for (const auto& [k, v] : match_labels) {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) return false;
    }
    for (const auto& r : expressions) {
      auto it = labels.find(r.key);
      const bool has = it != labels.end();
      const bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
      if (r.op == "In" && !listed) return false;
      if (r.op == "NotIn" && listed) return false;
      if (r.op == "Exists" && !has) return false;
      if (r.op == "DoesNotExist" && has) return false;
    }
    return true;
  }
  bool empty() const { return match_labels.empty() && expressions.empty(); }
};

std::optional<LabelSelector> read_label_selector(Ctx& ctx, const Field& field) {
  MapView map(ctx, field, {"matchLabels", "matchExpressions"});
  if (!map.ok()) return std::nullopt;
  LabelSelector selector;
  bool ok = true;
  if (auto f = map.get("matchLabels")) {
    if (auto l = read_labels(ctx, *f)) selector.match_labels = *l; else ok = false;
  }
  if (auto f = map.get("matchExpressions")) {
    if (auto items = read_list(ctx, *f)) {
      for (const auto& item : *items) {
        MapView e(ctx, item, {"key", "operator", "values"});
        if (!e.ok()) {
          ok = false;
          continue;
        }
        LabelSelector::Requirement r;
        auto key = e.require("key");
        auto op = e.require("operator");
        if (!key || !op) {
          ok = false;
          continue;
        }
        if (auto k = read_string(ctx, *key)) r.key = *k; else ok = false;
        const std::vector<std::string_view> ops{"In", "NotIn", "Exists", "DoesNotExist"};
        auto i = read_choice(ctx, *op, ops, "a selector operator");
        if (!i) {
          ok = false;
          continue;
        }
        r.op = std::string(ops[*i]);
        if (auto v = e.get("values")) {
          if (auto l = read_string_list(ctx, *v)) r.values = *l; else ok = false;
        }
        const bool wants_values = r.op == "In" || r.op == "NotIn";
        if (wants_values && r.values.empty()) {
          ctx.error(item.where, join_path(item.path, "values"),
                    fmt::format("operator {} needs at least one value", r.op));
          ok = false;
        } else if (!wants_values && !r.values.empty()) {
          ctx.error(item.where, join_path(item.path, "values"),
                    fmt::format("operator {} takes no values", r.op));
          ok = false;
        }
        selector.expressions.push_back(std::move(r));
      }
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return selector;
}

std::optional<Duration> annotation_time(Ctx& ctx, const Metadata& meta, std::string_view key) {
  const Ref* ref = meta.annotation(key);
  if (ref == nullptr) return std::nullopt;
  const std::string& text = meta.annotations.at(std::string(key));
  auto d = parse_duration(text);
  if (!d) {
    ctx.error(ref->where, ref->path, d.error().message);
    return std::nullopt;
  }
  if (*d < Duration::zero()) {
    ctx.error(ref->where, ref->path, fmt::format("{} is negative", in_quotes(text)));
    return std::nullopt;
  }
  return *d;
}

// Warns about calisim.io annotations that are misspelt or do not apply to this kind of object.
void check_calisim_annotations(Ctx& ctx, const Metadata& meta,
                               const std::vector<std::string_view>& applicable,
                               std::string_view kind) {
  for (const auto& ref : meta.annotation_refs) {
    if (!ref.name.starts_with("calisim.io/")) continue;
    if (std::find(applicable.begin(), applicable.end(), ref.name) != applicable.end()) continue;
    if (std::find(kCalisimAnnotations.begin(), kCalisimAnnotations.end(), ref.name) !=
        kCalisimAnnotations.end()) {
      ctx.warning(ref.where, ref.path,
                  fmt::format("{} does not apply to a {}; ignored", ref.name, kind));
    } else {
      ctx.warning(ref.where, ref.path,
                  fmt::format("unknown calisim annotation {}{}", in_quotes(ref.name),
                              did_you_mean(ref.name, applicable)));
    }
  }
}

// Reads a PodSpec's nodeName, nodeSelector and hostNetwork into `pod`.
void read_pod_spec(Ctx& ctx, const Field& spec_field, PodDraft& pod) {
  MapView spec(ctx, spec_field, kPodSpecFields, false);
  if (auto f = spec.get("nodeName")) {
    if (auto n = read_string(ctx, *f)) {
      pod.pod.node = *n;
      pod.node_name = Ref{*n, f->path, f->where};
    }
  }
  if (auto f = spec.get("nodeSelector")) {
    if (auto l = read_labels(ctx, *f)) pod.pod.node_selector = *l;
    pod.node_selector_path = f->path;
    pod.node_selector_where = f->where;
  }
  if (auto f = spec.get("hostNetwork")) {
    if (auto b = read_bool(ctx, *f)) pod.pod.host_network = *b;
  }
}

void read_namespace(Draft& draft, const MapView& document) {
  auto meta = read_metadata(draft, document, false);
  if (!meta || !meta->name) return;
  if (auto problem = check_dns_label(*meta->name); !problem.empty()) {
    draft.ctx.error(meta->name_where, join_path(meta->path, "name"),
                    fmt::format("namespace name {} {}", in_quotes(*meta->name), problem));
    return;
  }
  if (auto spec = document.get("spec")) MapView(draft.ctx, *spec, {"finalizers"});
  for (const auto& ns : draft.namespaces) {
    if (ns.name == *meta->name) {
      draft.ctx.error(meta->name_where, join_path(meta->path, "name"),
                      fmt::format("namespace {} is defined twice (first on line {})",
                                  in_quotes(*meta->name), ns.where.line));
      return;
    }
  }
  draft.namespaces.push_back(scenario::Namespace{*meta->name, meta->labels, meta->name_where});
}

void read_pod(Draft& draft, const MapView& document) {
  Ctx& ctx = draft.ctx;
  auto meta = read_metadata(draft, document, true);
  if (!meta || !meta->name) return;
  PodDraft pod;
  pod.order = draft.next_order++;
  pod.pod.name = *meta->name;
  pod.pod.namespace_name = meta->namespace_name.value_or("default");
  pod.namespace_ref = Ref{pod.pod.namespace_name, join_path(meta->path, "namespace"),
                          meta->namespace_name ? meta->namespace_where : meta->where};
  pod.pod.labels = meta->labels;
  pod.pod.annotations = meta->annotations;
  pod.pod.where = document.self().where;
  bool ok = true;
  if (auto problem = check_dns_subdomain(*meta->name); !problem.empty()) {
    ctx.error(meta->name_where, join_path(meta->path, "name"),
              fmt::format("pod name {} {}", in_quotes(*meta->name), problem));
    ok = false;
  }
  check_calisim_annotations(ctx, *meta, {kCreateAt, kDeleteAt}, "Pod");
  if (meta->annotation(kCreateAt)) {
    if (auto t = annotation_time(ctx, *meta, kCreateAt)) pod.pod.create_at = *t; else ok = false;
  }
  if (meta->annotation(kDeleteAt)) {
    if (auto t = annotation_time(ctx, *meta, kDeleteAt)) {
      pod.pod.delete_at = *t;
      if (*t <= pod.pod.create_at) {
        const Ref* ref = meta->annotation(kDeleteAt);
        ctx.error(ref->where, ref->path,
                  fmt::format("the pod is deleted at {} but created at {}: delete-at must be later",
                              format_duration(*t), format_duration(pod.pod.create_at)));
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (auto spec = document.get("spec")) read_pod_spec(ctx, *spec, pod);
  if (ok) {
    draft.pods.push_back(std::move(pod));
  } else {
    draft.rejected_pods.insert(pod.pod.key());
  }
}

void read_workload(Draft& draft, const MapView& document, scenario::WorkloadKind kind) {
  Ctx& ctx = draft.ctx;
  const bool deployment = kind == scenario::WorkloadKind::kDeployment;
  const std::string_view kind_name = deployment ? "Deployment" : "ReplicaSet";
  auto meta = read_metadata(draft, document, true);
  if (!meta || !meta->name) return;
  WorkloadDraft w;
  w.workload.kind = kind;
  w.workload.name = *meta->name;
  w.workload.namespace_name = meta->namespace_name.value_or("default");
  w.workload.where = document.self().where;
  draft.workload_kinds[fmt::format("{}/{}", w.workload.namespace_name, w.workload.name)] = kind_name;
  bool ok = true;
  if (auto problem = check_dns_subdomain(*meta->name); !problem.empty()) {
    ctx.error(meta->name_where, join_path(meta->path, "name"),
              fmt::format("{} name {} {}", kind_name, in_quotes(*meta->name), problem));
    ok = false;
  }
  std::vector<std::string_view> applicable{kCreateAt, kNameSuffixes};
  if (deployment) applicable.push_back(kTemplateHash);
  check_calisim_annotations(ctx, *meta, applicable, kind_name);

  PodDraft& pod = w.pod_template;
  pod.order = draft.next_order++;
  pod.pod.namespace_name = w.workload.namespace_name;
  pod.namespace_ref = Ref{w.workload.namespace_name, join_path(meta->path, "namespace"),
                          meta->namespace_name ? meta->namespace_where : meta->where};
  pod.pod.where = document.self().where;
  if (meta->annotation(kCreateAt)) {
    if (auto t = annotation_time(ctx, *meta, kCreateAt)) pod.pod.create_at = *t; else ok = false;
  }
  if (const Ref* ref = meta->annotation(kTemplateHash); ref != nullptr && deployment) {
    const std::string& hash = meta->annotations.at(std::string(kTemplateHash));
    if (hash.empty() || hash.size() > 10 || !in_alphabet(hash)) {
      ctx.error(ref->where, ref->path,
                fmt::format("{} is not a pod-template-hash (1 to 10 of \"{}\")", in_quotes(hash),
                            kAlphanums));
      ok = false;
    } else {
      w.template_hash = hash;
    }
  }
  if (const Ref* ref = meta->annotation(kNameSuffixes)) {
    w.suffixes_where = ref->where;
    w.suffixes_path = ref->path;
    const std::string& text = meta->annotations.at(std::string(kNameSuffixes));
    std::size_t start = 0;
    while (start <= text.size()) {
      auto comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string suffix = text.substr(start, comma - start);
      suffix.erase(0, suffix.find_first_not_of(' '));
      suffix.erase(suffix.find_last_not_of(' ') + 1);
      if (suffix.size() != 5 || !in_alphabet(suffix)) {
        ctx.error(ref->where, ref->path,
                  fmt::format("{} is not a pod name suffix (5 of \"{}\")", in_quotes(suffix), kAlphanums));
        ok = false;
      }
      w.suffixes.push_back(suffix);
      start = comma + 1;
    }
  }

  auto spec_field = document.require("spec");
  if (!spec_field) return;
  std::vector<std::string_view> spec_fields{"replicas", "selector", "template", "minReadySeconds"};
  if (deployment) {
    for (auto f : {"strategy", "revisionHistoryLimit", "progressDeadlineSeconds", "paused"}) {
      spec_fields.push_back(f);
    }
  }
  MapView spec(ctx, *spec_field, spec_fields, false);
  if (!spec.ok()) return;
  if (auto f = spec.get("replicas")) {
    if (auto v = read_int(ctx, *f, 0, 10'000)) w.workload.replicas = static_cast<int>(*v); else ok = false;
  }
  if (w.suffixes.size() > static_cast<std::size_t>(w.workload.replicas)) {
    ctx.error(w.suffixes_where, w.suffixes_path,
              fmt::format("{} suffixes for {} replica(s)", w.suffixes.size(), w.workload.replicas));
    ok = false;
  }
  std::optional<LabelSelector> selector;
  Location selector_where;
  std::string selector_path;
  if (auto f = spec.require("selector")) {
    selector = read_label_selector(ctx, *f);
    selector_where = f->where;
    selector_path = f->path;
    if (selector && selector->empty()) {
      ctx.error(f->where, f->path, "an empty selector would select every pod; give matchLabels");
      ok = false;
    }
  } else {
    ok = false;
  }
  auto template_field = spec.require("template");
  if (!template_field) return;
  MapView tmpl(ctx, *template_field, {"metadata", "spec"});
  if (!tmpl.ok()) return;
  if (auto tmeta = read_metadata(draft, tmpl, true, false)) {
    pod.pod.labels = tmeta->labels;
    pod.pod.annotations = tmeta->annotations;
    if (selector && !selector->empty() && !selector->matches(pod.pod.labels)) {
      ctx.error(tmeta->where, join_path(tmeta->path, "labels"),
                fmt::format("the template's labels do not match {}: `selector` does not match "
                            "template `labels`",
                            selector_path));
      ok = false;
    }
    for (const auto& ref : tmeta->annotation_refs) {
      if (ref.name.starts_with("calisim.io/")) {
        ctx.warning(ref.where, ref.path,
                    fmt::format("put {} on the {}'s own metadata; ignored in the template",
                                ref.name, kind_name));
      }
    }
  } else {
    ok = false;
  }
  if (auto f = tmpl.get("spec")) read_pod_spec(ctx, *f, pod);
  if (ok) draft.workloads.push_back(std::move(w));
}

struct Candidate {
  const scenario::Node* node;
  bool control_plane;
  std::size_t live_pods;
};

std::string describe_selector(const Labels& selector) {
  std::string out;
  for (const auto& [k, v] : selector) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}={}", k, v);
  }
  return "{" + out + "}";
}

bool labels_match(const Labels& selector, const Labels& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

void read_kubernetes_object(Draft& draft, const MapView& document, std::string_view kind) {
  if (kind == "Namespace") {
    read_namespace(draft, document);
  } else if (kind == "Pod") {
    read_pod(draft, document);
  } else if (kind == "Deployment") {
    read_workload(draft, document, scenario::WorkloadKind::kDeployment);
  } else {
    read_workload(draft, document, scenario::WorkloadKind::kReplicaSet);
  }
}

void expand_pods(Draft& draft) {
  Ctx& ctx = draft.ctx;
  Scenario& out = draft.out;
  std::vector<std::string> namespace_names;
  for (const auto& ns : out.namespaces) namespace_names.push_back(ns.name);
  auto namespace_exists = [&](const Ref& ref) {
    if (std::find(namespace_names.begin(), namespace_names.end(), ref.name) != namespace_names.end()) {
      return true;
    }
    ctx.error(ref.where, ref.path,
              fmt::format("namespace {} does not exist (add a Namespace document){}", in_quotes(ref.name),
                          did_you_mean(ref.name, namespace_names)));
    return false;
  };

  // Every pod with its place in creation order.
  struct Pending {
    PodDraft draft;
    std::size_t index = 0;  // within its workload
    scenario::Workload* workload = nullptr;
  };
  std::vector<Pending> pending;
  std::set<std::string> taken;  // "<ns>/<name>" of every pod, for generated-name collisions
  for (auto& p : draft.pods) {
    if (!namespace_exists(p.namespace_ref)) {
      draft.rejected_pods.insert(p.pod.key());
      continue;
    }
    taken.insert(p.pod.key());
    pending.push_back(Pending{p, 0, nullptr});
  }

  out.workloads.clear();
  out.workloads.reserve(draft.workloads.size());
  for (auto& w : draft.workloads) {
    if (!namespace_exists(w.pod_template.namespace_ref)) continue;
    out.workloads.push_back(w.workload);
    scenario::Workload& workload = out.workloads.back();
    const bool deployment = workload.kind == scenario::WorkloadKind::kDeployment;
    // One stream per controller: adding a Deployment never renames another's pods, and pinning
    // a name consumes the same draws as generating it.
    RandomStream random(out.seed, fmt::format("k8s-names/{}/{}/{}",
                                              deployment ? "deployment" : "replicaset",
                                              workload.namespace_name, workload.name));
    std::string base = workload.name;
    if (deployment) {
      const std::string drawn = safe_encode(std::to_string(random.next_u32()));
      workload.pod_template_hash = w.template_hash.value_or(drawn);
      workload.replica_set = fmt::format("{}-{}", workload.name, workload.pod_template_hash);
      base = workload.replica_set;
    } else {
      workload.replica_set = workload.name;
    }
    for (int i = 0; i < workload.replicas; ++i) {
      const auto index = static_cast<std::size_t>(i);
      std::string name;
      if (index < w.suffixes.size()) {
        random_suffix(random);
        name = generated_name(base + "-", w.suffixes[index]);
        if (taken.contains(fmt::format("{}/{}", workload.namespace_name, name))) {
          ctx.error(w.suffixes_where, w.suffixes_path,
                    fmt::format("pod {}/{} already exists", workload.namespace_name, name));
          continue;
        }
      } else {
        // The API server refuses a generated name that exists; the controller draws again.
        do {
          name = generated_name(base + "-", random_suffix(random));
        } while (taken.contains(fmt::format("{}/{}", workload.namespace_name, name)));
      }
      PodDraft pod = w.pod_template;
      pod.pod.name = name;
      pod.pod.owner = fmt::format("ReplicaSet/{}", workload.replica_set);
      if (deployment) pod.pod.labels["pod-template-hash"] = workload.pod_template_hash;
      taken.insert(pod.pod.key());
      pending.push_back(Pending{std::move(pod), index, &workload});
    }
  }

  std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    return std::tie(a.draft.pod.create_at, a.draft.order, a.index) <
           std::tie(b.draft.pod.create_at, b.draft.order, b.index);
  });

  std::vector<std::string> node_names;
  for (const auto& n : out.nodes) node_names.push_back(n.name);

  out.pods.clear();
  std::map<std::string, Location> first_seen;
  for (auto& p : pending) {
    scenario::Pod& pod = p.draft.pod;
    // A name may be reused once the pod that had it is gone, as in Kubernetes.
    bool clash = false;
    for (const auto& other : out.pods) {
      if (other.key() != pod.key()) continue;
      const bool overlap = !other.delete_at || *other.delete_at > pod.create_at;
      if (overlap) {
        ctx.error(pod.where, "",
                  fmt::format("pod {} already exists at {} (defined on line {})", pod.key(),
                              format_duration(pod.create_at), other.where.line));
        clash = true;
        break;
      }
    }
    if (clash) continue;

    if (p.draft.node_name) {
      const Ref& ref = *p.draft.node_name;
      const scenario::Node* node = out.find_node(ref.name);
      if (node == nullptr) {
        ctx.error(ref.where, ref.path,
                  fmt::format("no node named {}{}", in_quotes(ref.name), did_you_mean(ref.name, node_names)));
        draft.rejected_pods.insert(pod.key());
        continue;
      }
      if (!labels_match(pod.node_selector, node->labels)) {
        ctx.error(p.draft.node_selector_where, p.draft.node_selector_path,
                  fmt::format("node {} does not match nodeSelector {}: the kubelet would reject "
                              "the pod",
                              node->name, describe_selector(pod.node_selector)));
        draft.rejected_pods.insert(pod.key());
        continue;
      }
    } else {
      // calisim's scheduler: among the nodes the nodeSelector allows, workers before control-plane
      // nodes, then the fewest pods alive at this moment, then the name.
      std::vector<Candidate> candidates;
      for (const auto& node : out.nodes) {
        if (!labels_match(pod.node_selector, node.labels)) continue;
        std::size_t live = 0;
        for (const auto& other : out.pods) {
          if (other.node == node.name && other.alive_at(pod.create_at)) ++live;
        }
        candidates.push_back(Candidate{&node, node.role == scenario::NodeRole::kControlPlane, live});
      }
      if (candidates.empty()) {
        const Location at = p.draft.node_selector_where.line != 0 ? p.draft.node_selector_where : pod.where;
        ctx.error(at, p.draft.node_selector_path,
                  fmt::format("no node matches nodeSelector {}: pod {} would stay Pending",
                              describe_selector(pod.node_selector), pod.key()));
        draft.rejected_pods.insert(pod.key());
        continue;
      }
      const auto best = std::min_element(candidates.begin(), candidates.end(),
                                         [](const Candidate& a, const Candidate& b) {
                                           return std::tie(a.control_plane, a.live_pods, a.node->name) <
                                                  std::tie(b.control_plane, b.live_pods, b.node->name);
                                         });
      pod.node = best->node->name;
      pod.scheduled = true;
    }
    if (p.workload != nullptr) p.workload->pods.push_back(pod.name);
    out.pods.push_back(pod);
  }
}

}  // namespace calisim::calico::detail
