"""A scenario written in Python: a small builder that produces the scenario YAML.

The builder does not model anything itself. It writes the same multi-document YAML a person
would write (a ``calisim.io/v1 Topology``, ``projectcalico.org/v3 IPPool`` documents, ``v1
Namespace`` and ``v1 Pod`` documents), and calisim's C++ parser checks it exactly as it checks a
file: a mistake raises ``ValueError`` with the place in the generated text (see ``to_yaml()``).
``examples/README.md`` is the reference for every field.

    b = ScenarioBuilder("two-nodes", duration=30)
    b.subnet("lab", "10.0.0.0/24")
    b.node("node-1", nic("eth0", "10.0.0.11/24", "lab"), role="control-plane",
           gateway="10.0.0.1")
    b.node("node-2", nic("eth0", "10.0.0.12/24", "lab"), gateway="10.0.0.1")
    b.pool("pods", "10.244.0.0/16", ipip="Always")
    b.pod("a", node="node-1").pod("b", node="node-2")
    cluster = b.build()

Times and durations are seconds (int or float) or Go's syntax ("50us", "1m30s"); rates are
bit/s (int) or tc's syntax ("1Gbit"); loss is a probability (0.01) or netem's "1%".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["Nic", "ScenarioBuilder", "nic", "to_yaml_documents"]

Seconds = Union[int, float, str]

# Kubernetes' own namespaces: every cluster has them, a pod elsewhere needs a Namespace document.
_BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
_ENCAPSULATION_MODES = ("Never", "Always", "CrossSubnet")


@dataclass(frozen=True)
class Nic:
    """One network interface of a node or router.

    ``address`` is the address with its prefix length as ``ip addr`` shows it
    ("10.0.0.11/24"). ``subnet`` names the builder's subnet the NIC is plugged into; None leaves
    it alone on a segment of its own (as VirtualBox's NAT network). ``mtu`` defaults to the
    subnet's.
    """

    name: str
    address: str
    subnet: Optional[str] = None
    mtu: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name, "address": self.address}
        if self.subnet is not None:
            d["subnet"] = self.subnet
        if self.mtu is not None:
            d["mtu"] = self.mtu
        return d


def nic(name: str, address: str, subnet: Optional[str] = None, mtu: Optional[int] = None) -> Nic:
    """Shorthand for ``Nic(name, address, subnet, mtu)``."""
    return Nic(name, address, subnet, mtu)


def _go_duration(value: Seconds) -> str:
    """Seconds (or text already in Go's syntax) as Go's duration text: 30 -> "30s",
    0.05 -> "50ms"."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"want seconds (a number) or a duration such as '20ms', not {value!r}")
    if value < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    ns = round(value * 1_000_000_000)
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def _rate(value: Union[int, str]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"want bit/s (an int) or a rate such as '10Mbit', not {value!r}")
    return f"{value}bit"


def _percentage(value: Union[float, str]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"want a probability in [0, 1] or a percentage such as '1%', not {value!r}")
    return f"{value * 100:.10g}%"


def _camel(action: str) -> str:
    """link_down -> linkDown; linkDown stays."""
    head, *rest = action.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


# ---- a small YAML writer: block style, every string double-quoted (JSON's escapes are YAML's)

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} into a scenario")


def _key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _emit(value: Any, indent: int, out: List[str]) -> None:
    pad = "  " * indent
    if isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(v, (Mapping, list)) and v:
                out.append(f"{pad}{_key(str(k))}:")
                _emit(v, indent + 1 if isinstance(v, Mapping) else indent, out)
            else:
                empty = "{}" if isinstance(v, Mapping) else "[]" if isinstance(v, list) else None
                out.append(f"{pad}{_key(str(k))}: {empty if empty else _scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (Mapping, list)) and item:
                sub: List[str] = []
                _emit(item, indent + 1, sub)
                # The first line of the item goes after the dash.
                out.append(f"{pad}- {sub[0].lstrip()}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_scalar(item)}")
    else:
        out.append(pad + _scalar(value))


def to_yaml_documents(documents: Sequence[Mapping[str, Any]]) -> str:
    """Dicts as one multi-document YAML text, the form scenario files have."""
    parts = []
    for doc in documents:
        lines: List[str] = []
        _emit(doc, 0, lines)
        parts.append("\n".join(lines) + "\n")
    return "---\n".join(parts)


class ScenarioBuilder:
    """Builds a scenario in code; ``to_yaml()`` gives its text, ``build()`` a running Cluster.

    Every method returns the builder, so calls chain. Nothing is checked here beyond Python
    types: the C++ parser checks the result as it checks a file.
    """

    def __init__(self, name: str = "cluster", *, seed: int = 1, duration: Seconds = 60) -> None:
        """``name`` is the scenario's name (the run directory's name under ``calisim run``);
        ``seed`` drives every random choice; ``duration`` is what ``run()`` simulates."""
        self.name = name
        self.seed = seed
        self.duration = duration
        self._subnets: List[Dict[str, Any]] = []
        self._nodes: List[Dict[str, Any]] = []
        self._routers: List[Dict[str, Any]] = []
        self._env: Dict[str, str] = {}
        self._traffic: List[Dict[str, Any]] = []
        self._events: List[Dict[str, Any]] = []
        self._pools: List[Dict[str, Any]] = []
        self._pods: List[Dict[str, Any]] = []
        self._extra: List[Dict[str, Any]] = []

    # ---- topology

    def subnet(
        self,
        name: str,
        cidr: str,
        *,
        rate: Optional[Union[int, str]] = None,
        delay: Optional[Seconds] = None,
        mtu: Optional[int] = None,
        loss: Optional[Union[float, str]] = None,
        queue: Optional[int] = None,
    ) -> "ScenarioBuilder":
        """An L2 segment and its IPv4 network (host bits zero). Link defaults: 1Gbit, 50us,
        MTU 1500, no loss, a queue of 1000 packets per port."""
        link: Dict[str, Any] = {}
        if rate is not None:
            link["rate"] = _rate(rate)
        if delay is not None:
            link["delay"] = _go_duration(delay)
        if mtu is not None:
            link["mtu"] = mtu
        if loss is not None:
            link["loss"] = _percentage(loss)
        if queue is not None:
            link["queue"] = queue
        s: Dict[str, Any] = {"name": name, "cidr": cidr}
        if link:
            s["link"] = link
        self._subnets.append(s)
        return self

    def _machine(self, name: str, interfaces: Sequence[Union[Nic, tuple, Mapping[str, Any]]],
                 gateway: Optional[str], routes: Optional[Sequence[tuple]]) -> Dict[str, Any]:
        nics = []
        for i in interfaces:
            if isinstance(i, Nic):
                nics.append(i.to_dict())
            elif isinstance(i, tuple):
                nics.append(Nic(*i).to_dict())
            elif isinstance(i, Mapping):
                nics.append(dict(i))
            else:
                raise TypeError(f"{name}: an interface is a Nic, a tuple or a dict, not {i!r}")
        m: Dict[str, Any] = {"name": name, "interfaces": nics}
        if gateway is not None:
            m["defaultGateway"] = gateway
        if routes:
            m["routes"] = [{"to": to, "via": via} for to, via in routes]
        return m

    def node(
        self,
        name: str,
        *interfaces: Union[Nic, tuple, Mapping[str, Any]],
        role: str = "worker",
        gateway: Optional[str] = None,
        routes: Optional[Sequence[tuple]] = None,
        labels: Optional[Mapping[str, str]] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> "ScenarioBuilder":
        """A Kubernetes node running calico-node. ``interfaces`` in ifindex order (Nic, a tuple
        ``(name, address[, subnet[, mtu]])`` or a dict); ``role`` "control-plane" or "worker";
        ``gateway`` the default route's next hop; ``routes`` static ``(to, via)`` pairs;
        ``env`` this node's calico-node environment, laid over the cluster's.

        Give nodes a gateway (it need not exist as a machine): as on Linux, the host answers a
        pod's ARP for 169.254.1.1 by proxy ARP only when it has a route for it (Calico issue
        #3270), so without one pods on the node reach nothing."""
        m = self._machine(name, interfaces, gateway, routes)
        m = {"name": name, "role": role, **{k: v for k, v in m.items() if k != "name"}}
        if labels:
            m["labels"] = dict(labels)
        if env:
            m["calicoNode"] = {"env": {k: str(v) for k, v in env.items()}}
        self._nodes.append(m)
        return self

    def router(
        self,
        name: str,
        *interfaces: Union[Nic, tuple, Mapping[str, Any]],
        gateway: Optional[str] = None,
        routes: Optional[Sequence[tuple]] = None,
    ) -> "ScenarioBuilder":
        """A plain Linux router (ip_forward=1) joining subnets; every interface needs a subnet."""
        self._routers.append(self._machine(name, interfaces, gateway, routes))
        return self

    def env(self, **variables: Any) -> "ScenarioBuilder":
        """calico-node's environment for every node (spec.calicoNode.env), laid over the stock
        manifest's: ``env(IP_AUTODETECTION_METHOD="cidr=10.0.0.0/24",
        CALICO_NETWORKING_BACKEND="vxlan")``. Values are written as strings."""
        self._env.update({k: str(v) for k, v in variables.items()})
        return self

    # ---- Calico and Kubernetes resources

    def pool(
        self,
        name: str,
        cidr: str,
        *,
        ipip: str = "Never",
        vxlan: str = "Never",
        block_size: int = 26,
        nat_outgoing: bool = True,
        node_selector: str = "all()",
    ) -> "ScenarioBuilder":
        """An IPPool (projectcalico.org/v3). ``ipip`` and ``vxlan`` are the pool's ipipMode and
        vxlanMode: "Never", "Always" or "CrossSubnet" (not both enabled). With no pool at all,
        calico-node creates its default pool from the CALICO_IPV4POOL_* environment (IPIP
        Always on 192.168.0.0/16). VXLAN without BGP also wants
        ``env(CALICO_NETWORKING_BACKEND="vxlan")``."""
        for field, mode in (("ipip", ipip), ("vxlan", vxlan)):
            if mode not in _ENCAPSULATION_MODES:
                raise ValueError(f"pool {name}: {field}={mode!r} (want one of "
                                 f"{', '.join(_ENCAPSULATION_MODES)})")
        self._pools.append({
            "apiVersion": "projectcalico.org/v3",
            "kind": "IPPool",
            "metadata": {"name": name},
            "spec": {
                "cidr": cidr,
                "blockSize": block_size,
                "ipipMode": ipip,
                "vxlanMode": vxlan,
                "natOutgoing": nat_outgoing,
                "nodeSelector": node_selector,
            },
        })
        return self

    def pod(
        self,
        name: str,
        node: Optional[str] = None,
        *,
        namespace: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        create_at: Optional[Seconds] = None,
        delete_at: Optional[Seconds] = None,
    ) -> "ScenarioBuilder":
        """A Pod (v1). ``name`` may be "namespace/name"; ``node`` is spec.nodeName (None: the
        scheduler places it). A namespace other than Kubernetes' own gets its Namespace
        document. ``create_at``/``delete_at`` are calisim's lifecycle annotations."""
        if "/" in name:
            if namespace is not None:
                raise ValueError(f"pod {name!r}: give the namespace in the name or as namespace=, "
                                 "not both")
            namespace, name = name.split("/", 1)
        metadata: Dict[str, Any] = {"name": name, "namespace": namespace or "default"}
        if labels:
            metadata["labels"] = dict(labels)
        annotations = {}
        if create_at is not None:
            annotations["calisim.io/create-at"] = _go_duration(create_at)
        if delete_at is not None:
            annotations["calisim.io/delete-at"] = _go_duration(delete_at)
        if annotations:
            metadata["annotations"] = annotations
        spec: Dict[str, Any] = {}
        if node is not None:
            spec["nodeName"] = node
        self._pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
        return self

    def resource(self, document: Mapping[str, Any]) -> "ScenarioBuilder":
        """Any other document as a dict (a BGPConfiguration, a BGPPeer, a Deployment, ...),
        written as given."""
        self._extra.append(dict(document))
        return self

    # ---- traffic and events

    def ping(
        self,
        source: str,
        destination: str,
        *,
        at: Seconds,
        count: int = 5,
        interval: Optional[Seconds] = None,
        size: Optional[int] = None,
    ) -> "ScenarioBuilder":
        """A ping in the scenario's traffic at time ``at``. Endpoints: "namespace/pod",
        "node:NAME", or (destination only) an IPv4 address."""
        ping: Dict[str, Any] = {"from": source, "to": destination, "count": count}
        if interval is not None:
            ping["interval"] = _go_duration(interval)
        if size is not None:
            ping["size"] = size
        self._traffic.append({"at": _go_duration(at), "ping": ping})
        return self

    def event(self, action: str, *, at: Seconds, **params: Any) -> "ScenarioBuilder":
        """A fault or repair at time ``at``, with the scenario's action names (``linkDown`` or
        ``link_down``) and parameters (node, interface, subnet, loss, delay, rate, mtu,
        protocol); see Cluster.inject for the actions."""
        e: Dict[str, Any] = {"at": _go_duration(at), "action": _camel(action)}
        for key, value in params.items():
            if key == "loss":
                value = _percentage(value)
            elif key == "delay":
                value = _go_duration(value)
            elif key == "rate":
                value = _rate(value)
            e[key] = value
        self._events.append(e)
        return self

    # ---- output

    def documents(self) -> List[Dict[str, Any]]:
        """The scenario as a list of dicts, one per YAML document."""
        spec: Dict[str, Any] = {"seed": self.seed, "duration": _go_duration(self.duration)}
        if self._subnets:
            spec["subnets"] = self._subnets
        if self._env:
            spec["calicoNode"] = {"env": self._env}
        spec["nodes"] = self._nodes
        if self._routers:
            spec["routers"] = self._routers
        if self._traffic:
            spec["traffic"] = self._traffic
        if self._events:
            spec["events"] = self._events
        docs: List[Dict[str, Any]] = [{
            "apiVersion": "calisim.io/v1",
            "kind": "Topology",
            "metadata": {"name": self.name},
            "spec": spec,
        }]
        docs.extend(self._pools)
        namespaces = []
        for p in self._pods:
            ns = p["metadata"]["namespace"]
            if ns not in _BUILTIN_NAMESPACES and ns not in namespaces:
                namespaces.append(ns)
        docs.extend({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                    for ns in namespaces)
        docs.extend(self._pods)
        docs.extend(self._extra)
        return docs

    def to_yaml(self) -> str:
        """The scenario file's text."""
        return to_yaml_documents(self.documents())

    def build(self, *, run_dir: Any = None, capture: bool = True) -> "Any":
        """The running cluster (calisim.Cluster) at time 0; see Cluster.from_yaml."""
        from .cluster import Cluster

        return Cluster.from_yaml(self.to_yaml(), filename=f"{self.name}.yaml", run_dir=run_dir,
                                 capture=capture)
