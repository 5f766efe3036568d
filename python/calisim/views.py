"""Views as data: the text calisim prints, read back into lists of dicts.

calisim's views print exactly what the real tools print (``ip route``, ``calicoctl node
status``, ``calicoctl get ... -o wide``). These functions parse that text, so the data a notebook
gets is, by construction, what a person reading the terminal would see. They take the text, not
a cluster, and work as well on output saved from a real node.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

__all__ = [
    "parse_ip_route",
    "parse_node_status",
    "parse_table",
    "parse_workload_endpoints",
]

# Route types `ip route` prints before the destination (every type but unicast).
_ROUTE_TYPES = {"local", "broadcast", "blackhole", "unreachable", "prohibit", "throw", "multicast"}
# Keywords followed by a value, and how the value is kept.
_ROUTE_FIELDS = {
    "via": "gateway",
    "dev": "dev",
    "table": "table",
    "proto": "protocol",
    "scope": "scope",
    "src": "src",
    "metric": "metric",
    "tos": "tos",
    "mtu": "mtu",
}


def _prefix(text: str) -> str:
    """`default` -> 0.0.0.0/0, a bare address -> a /32: every destination as a prefix."""
    if text == "default":
        return "0.0.0.0/0"
    return text if "/" in text else text + "/32"


def parse_ip_route(text: str) -> List[Dict[str, Any]]:
    """Routes from ``ip route`` (iproute2) output, one dict per line, in the kernel's order.

    Each dict has ``type`` ("unicast", "blackhole", ...), ``dst`` (always a prefix:
    ``default`` becomes "0.0.0.0/0", a host "a.b.c.d/32"), ``gateway``, ``dev``, ``protocol``
    ("kernel", "bird", "80", or "boot" when ``ip route`` prints none, as it does for routes
    added by ``ip route add`` and the CNI plugin's pod routes), ``scope`` ("global" when none is
    printed), ``src``, ``table`` (None: the table shown), ``metric`` (int, 0 when none),
    ``mtu`` (int or None), ``onlink`` and ``linkdown`` (bool) and ``flags`` (every flag word).

    >>> r = parse_ip_route("192.168.153.192/26 via 203.248.23.215 dev tunl0 proto bird onlink")
    >>> r[0]["gateway"], r[0]["dev"], r[0]["protocol"], r[0]["onlink"]
    ('203.248.23.215', 'tunl0', 'bird', True)
    """
    routes = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        route: Dict[str, Any] = {
            "type": "unicast",
            "dst": None,
            "gateway": None,
            "dev": None,
            "protocol": "boot",
            "scope": "global",
            "src": None,
            "table": None,
            "metric": 0,
            "tos": None,
            "mtu": None,
            "onlink": False,
            "linkdown": False,
            "flags": [],
        }
        i = 0
        if words[0] in _ROUTE_TYPES:
            route["type"] = words[0]
            i = 1
        if i >= len(words):
            raise ValueError(f"ip route: no destination in {line!r}")
        route["dst"] = _prefix(words[i])
        i += 1
        while i < len(words):
            word = words[i]
            if word in _ROUTE_FIELDS:
                if i + 1 >= len(words):
                    raise ValueError(f"ip route: {word!r} without a value in {line!r}")
                value: Any = words[i + 1]
                if word in ("metric", "mtu"):
                    value = int(value)
                route[_ROUTE_FIELDS[word]] = value
                i += 2
            else:
                route["flags"].append(word)
                i += 1
        route["onlink"] = "onlink" in route["flags"]
        route["linkdown"] = "linkdown" in route["flags"]
        routes.append(route)
    return routes


def parse_node_status(text: str) -> List[Dict[str, str]]:
    """The IPv4 BGP peers of ``calicoctl node status``, one dict per table row.

    Keys: ``peer_address``, ``peer_type`` ("node-to-node mesh", "node specific", "global"),
    ``state`` (BIRD's protocol state: "up", "start", ...), ``since`` (as printed: "00:00:01" or
    a date) and ``info`` ("Established", "Active Socket: Connection refused", ...). An empty
    list when calico-node is not running or the node has no peers.
    """
    peers: List[Dict[str, str]] = []
    section = None
    for line in text.splitlines():
        if line.startswith("IPv4 BGP status"):
            section = "v4"
            continue
        if line.startswith("IPv6 BGP status"):
            section = "v6"
            continue
        if section != "v4" or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "PEER ADDRESS":
            continue
        if len(cells) != 5:
            raise ValueError(f"calicoctl node status: a row with {len(cells)} cells: {line!r}")
        peers.append(dict(zip(("peer_address", "peer_type", "state", "since", "info"), cells)))
    return peers


def parse_table(text: str) -> List[Dict[str, str]]:
    """A table printed by Go's tabwriter, as ``calicoctl get`` prints them.

    The header's words give the columns and where each starts (tabwriter pads every cell of a
    column to the same width, so a cell is the text between two column starts, and may be
    empty). Keys are the header words in lower case with spaces as underscores.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)]
    names = [header[s:].split("  ")[0].strip().lower().replace(" ", "_") for s in starts]
    rows = []
    for line in lines[1:]:
        row = {}
        for k, start in enumerate(starts):
            end: Optional[int] = starts[k + 1] if k + 1 < len(starts) else None
            row[names[k]] = line[start:end].strip()
        rows.append(row)
    return rows


def parse_workload_endpoints(text: str) -> List[Dict[str, Any]]:
    """``calicoctl get workloadendpoint -A -o wide`` as dicts.

    Keys are calicoctl's columns in lower case (``namespace``, ``workload``, ``node``,
    ``networks``, ``interface``, ``profiles``, ``nats``). ``networks`` and ``profiles``,
    comma lists in the table, become lists.
    """
    rows: List[Dict[str, Any]] = []
    for row in parse_table(text):
        for key in ("networks", "profiles"):
            if key in row:
                row[key] = [v for v in row[key].split(",") if v]
        rows.append(row)
    return rows
