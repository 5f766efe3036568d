"""calisim.Cluster: a simulated Calico cluster for scripts and notebooks.

The simulation is driven explicitly: nothing moves until ``run()``, ``run_until(t)``,
``step(dt)``, a waiting ``ping()`` or ``reachability()`` runs it. Times are seconds of
simulated time (floats), counted from 0 when the cluster is built.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Union

import numpy as np

from . import _core
from .views import parse_ip_route, parse_node_status, parse_workload_endpoints

__all__ = ["BgpSeries", "Cluster", "PingResult", "Reachability"]

PathLike = Union[str, "os.PathLike[str]"]
# When a fault happens: simulated seconds or Go's syntax ("25s"); None is now.
When = Optional[Union[float, str]]

# iputils' ping waits this long for replies that are still out after the last request (-W).
_PING_LINGER_S = 10.0
# How far a waiting ping() runs the simulation at a time.
_PING_POLL_S = 0.1


class PingResult:
    """One ping run on the cluster: its output and counters, read live.

    Every attribute reads the ping's state at the moment it is read: a ping started with
    ``wait=False`` fills in as the simulation runs (``finished`` tells when it exited).
    ``Cluster.ping()`` waits by default, so its result is complete.
    """

    def __init__(self, core: _core.Cluster, index: int) -> None:
        self._core = core
        self.index = index

    def _state(self) -> Dict[str, Any]:
        return self._core.ping_run(self.index)

    @property
    def source(self) -> str:
        """Where ping ran: "namespace/pod", or a node or router name."""
        return self._state()["source"]

    @property
    def destination(self) -> str:
        """What it pinged, as given."""
        return self._state()["destination"]

    @property
    def command(self) -> str:
        """The command line, as a person would type it: "ping -c 5 192.168.136.5"."""
        return self._state()["command"]

    @property
    def lines(self) -> List[str]:
        """Everything ping printed so far, one line per entry (iputils' format)."""
        return self._state()["lines"]

    @property
    def output(self) -> str:
        """The lines as one text."""
        return "\n".join(self.lines) + "\n"

    @property
    def transmitted(self) -> int:
        """Echo requests sent so far."""
        return self._state()["transmitted"]

    @property
    def received(self) -> int:
        """Echo replies received so far."""
        return self._state()["received"]

    @property
    def ttls(self) -> List[int]:
        """The TTL of each reply, in order of arrival (62 pod to pod across two hosts)."""
        return self._state()["ttls"]

    @property
    def finished(self) -> bool:
        """True once ping printed its statistics (or failed to start)."""
        return self._state()["finished"]

    def wait(self, timeout: Optional[float] = None) -> "PingResult":
        """Runs the simulation until this ping exits, or for at most ``timeout`` seconds of
        simulated time (None: until it exits; every ping does, after its count). Returns self."""
        core = self._core
        deadline = math.inf if timeout is None else core.now + timeout
        while not self.finished and core.now < deadline:
            core.step(min(_PING_POLL_S, deadline - core.now))
        return self

    def __repr__(self) -> str:
        s = self._state()
        return (f"<PingResult {s['command']!r} from {s['source']}: {s['transmitted']} sent, "
                f"{s['received']} received{'' if s['finished'] else ', running'}>")


class Reachability(NamedTuple):
    """Every running pod pinging every other: ``ok[i, j]`` is True when ``pods[i]`` got a reply
    from ``pods[j]`` (the diagonal is True). Unpacks as ``pods, ok = cluster.reachability()``."""

    pods: List[str]
    ok: np.ndarray

    def unreachable(self) -> List[tuple]:
        """The (source, destination) pod pairs without a reply."""
        return [(self.pods[i], self.pods[j]) for i, j in zip(*np.nonzero(~self.ok))]


class BgpSeries(NamedTuple):
    """The control plane sampled over time (``Cluster.bgp_series``): NumPy arrays of equal
    length, ready for ``plt.step(s.time, s.established)``."""

    time: np.ndarray              # seconds (float64)
    established: np.ndarray       # BGP sessions Established (int64)
    sessions: np.ndarray          # BGP sessions configured
    routes_installed: np.ndarray  # routes for other nodes' blocks present on the nodes
    routes_expected: np.ndarray   # routes that should be there when converged


class Cluster:
    """A running simulated Calico cluster.

    Build one with ``Cluster.from_yaml(text)``, ``Cluster.from_file(path)``, ``Cluster.lab()``
    or ``ScenarioBuilder(...).build()``. With ``run_dir`` the run writes ``capture.pcapng``
    (unless ``capture=False``), ``events.jsonl`` and, at ``finish()``, ``summary.json`` into that
    directory; without it nothing is written. Use it as a context manager to finish it:

        with calisim.Cluster.lab(run_dir="out") as c:
            c.run_until(15)
            print(c.ping("default/hello-776c774f98-894tt", "default/hi").output)

    Errors from the simulator keep its message: ValueError (a bad argument or scenario),
    KeyError (an unknown node, pod, interface or subnet), OSError (a file),
    calisim.SimulationError (anything else).
    """

    def __init__(self, core: _core.Cluster) -> None:
        """Wraps a ``calisim._core.Cluster``; use the constructors below instead."""
        self._core = core
        self._info = core.scenario_info()

    # ---- building

    @classmethod
    def from_yaml(cls, text: str, *, filename: str = "scenario.yaml",
                  run_dir: Optional[PathLike] = None, capture: bool = True) -> "Cluster":
        """A cluster from scenario YAML text (the format of examples/*.yaml). ``filename``
        names the text in error messages."""
        return cls(_core.Cluster.from_yaml(text, filename, _path(run_dir), capture))

    @classmethod
    def from_file(cls, path: PathLike, *, run_dir: Optional[PathLike] = None,
                  capture: bool = True) -> "Cluster":
        """A cluster from a scenario file."""
        return cls(_core.Cluster.from_file(os.fspath(path), _path(run_dir), capture))

    @classmethod
    def lab(cls, *, run_dir: Optional[PathLike] = None, capture: bool = True) -> "Cluster":
        """The built-in lab (examples/lab-ipip.yaml): user-controller and user-worker on one
        /25, IPIP, the node-to-node mesh, pods on both nodes."""
        return cls.from_yaml(_core.lab_yaml(), filename="lab-ipip.yaml", run_dir=run_dir,
                             capture=capture)

    # ---- what it is

    @property
    def core(self) -> _core.Cluster:
        """The C++ cluster underneath (calisim._core.Cluster)."""
        return self._core

    @property
    def name(self) -> str:
        """The scenario's name (metadata.name of its Topology)."""
        return self._info["name"]

    @property
    def duration(self) -> float:
        """The scenario's duration in seconds: where ``run()`` stops."""
        return self._info["duration"]

    @property
    def seed(self) -> int:
        """The scenario's seed: every random choice of the run derives from it."""
        return self._info["seed"]

    @property
    def nodes(self) -> List[str]:
        """Node names, in file order."""
        return list(self._info["nodes"])

    @property
    def routers(self) -> List[str]:
        """Router names, in file order."""
        return list(self._info["routers"])

    @property
    def subnets(self) -> List[Dict[str, str]]:
        """[{'name', 'cidr'}] in file order."""
        return [dict(s) for s in self._info["subnets"]]

    @property
    def pods(self) -> List[str]:
        """Every pod of the scenario, "namespace/name", in creation order (running or not)."""
        return list(self._info["pods"])

    @property
    def warnings(self) -> List[str]:
        """The scenario's warnings, with file, line and field."""
        return list(self._info["warnings"])

    @property
    def now(self) -> float:
        """Simulated time now, in seconds."""
        return self._core.now

    @property
    def run_dir(self) -> Optional[Path]:
        """The run directory, or None."""
        return self._core.run_dir

    @property
    def capture_path(self) -> Optional[Path]:
        """``run_dir/capture.pcapng`` when the run captures, else None. Complete after
        ``finish()``."""
        d = self._core.run_dir
        return d / "capture.pcapng" if d is not None and self._core.capture else None

    @property
    def finished(self) -> bool:
        """True once ``finish()`` ran (directly or at the end of a ``with`` block)."""
        return self._core.finished

    # ---- running

    def run(self) -> "Cluster":
        """Runs to the end of the scenario's duration. Returns self."""
        self._core.run()
        return self

    def run_until(self, seconds: float) -> "Cluster":
        """Runs until simulated time ``seconds``. Returns self."""
        self._core.run_until(seconds)
        return self

    def step(self, seconds: float) -> "Cluster":
        """Runs ``seconds`` further. Returns self."""
        self._core.step(seconds)
        return self

    def run_until_converged(self, limit: float, step: float = 0.01) -> Optional[float]:
        """Runs until the control plane converged (every BGP session Established, every route
        installed), checking every ``step`` s, or until ``limit``; the time it converged or None."""
        return self._core.run_until_converged(limit, step)

    # ---- acting on it

    def ping(self, source: str, destination: str, count: int = 5, *, interval: float = 1.0,
             size: int = 56, wait: bool = True) -> PingResult:
        """``ping -c count`` from ``source`` to ``destination``, starting now.

        Endpoints: "namespace/pod", a node or router name (or "node:NAME"), and for the
        destination also an IPv4 address. With ``wait`` (the default) the simulation runs until
        ping exits (about ``count * interval`` s, up to 10 s more when replies are missing), so
        the result is complete and ``now`` has moved on. With ``wait=False`` it returns at once
        and the result fills in as the simulation runs.
        """
        index = self._core.ping(source, destination, count, interval, size)
        result = PingResult(self._core, index)
        if wait:
            result.wait((count - 1) * interval + _PING_LINGER_S + 1.0)
        return result

    def pings(self) -> List[PingResult]:
        """Every ping of the run so far: the scenario's traffic and ``ping()``'s."""
        return [PingResult(self._core, p["index"]) for p in self._core.pings()]

    def inject(self, action: str, **params: Any) -> None:
        """A fault or repair, with the scenario's event names (``linkDown`` or ``link_down``):

        ================================  =============================================
        linkDown, linkUp                  node (or router), interface
        nodeCrash, nodeRestart            node
        setLoss                           subnet, loss (0.01 or "1%")
        setDelay                          subnet, delay (seconds or "20ms")
        setRate                           subnet, rate (bit/s or "10Mbit")
        setMtu                            mtu, and subnet or node + interface
        setFabricMtu                      subnet, mtu: what the fabric carries (the NICs
                                          keep theirs; bigger frames vanish silently)
        blockProtocol, unblockProtocol    subnet, protocol ("ipip", "vxlan", "bgp",
                                          "udp/4789", a protocol number, ...)
        ================================  =============================================

        It takes effect now, or at simulated time ``at=`` (seconds or "25s") if later.
        """
        self._core.inject(action, **params)

    def link_down(self, node: str, interface: str, *, at: When = None) -> None:
        """Pulls ``node``'s cable on ``interface`` (linkDown)."""
        self.inject("linkDown", node=node, interface=interface, **_at(at))

    def link_up(self, node: str, interface: str, *, at: When = None) -> None:
        """Plugs it back in (linkUp)."""
        self.inject("linkUp", node=node, interface=interface, **_at(at))

    def node_crash(self, node: str, *, at: When = None) -> None:
        """The node stops: nothing in or out, calico-node and BIRD gone (nodeCrash)."""
        self.inject("nodeCrash", node=node, **_at(at))

    def node_restart(self, node: str, *, at: When = None) -> None:
        """The node boots again and calico-node starts (nodeRestart)."""
        self.inject("nodeRestart", node=node, **_at(at))

    def set_loss(self, subnet: str, loss: Union[float, str], *, at: When = None) -> None:
        """Frame loss on every port of a subnet (setLoss)."""
        self.inject("setLoss", subnet=subnet, loss=loss, **_at(at))

    def set_delay(self, subnet: str, delay: Union[float, str], *, at: When = None) -> None:
        """One-way delay on a subnet (setDelay)."""
        self.inject("setDelay", subnet=subnet, delay=delay, **_at(at))

    def set_rate(self, subnet: str, rate: Union[int, str], *, at: When = None) -> None:
        """Port rate on a subnet (setRate)."""
        self.inject("setRate", subnet=subnet, rate=rate, **_at(at))

    def set_mtu(self, mtu: int, *, subnet: Optional[str] = None, node: Optional[str] = None,
                interface: Optional[str] = None, at: When = None) -> None:
        """The MTU of one NIC (node + interface) or of every NIC on a subnet (setMtu)."""
        where = {k: v for k, v in (("subnet", subnet), ("node", node), ("interface", interface))
                 if v is not None}
        self.inject("setMtu", mtu=mtu, **where, **_at(at))

    def set_fabric_mtu(self, subnet: str, mtu: int, *, at: When = None) -> None:
        """What a subnet's wires and switches carry from now on; larger frames are dropped
        without an ICMP error, the NICs keep their MTU (setFabricMtu: a PMTU black hole)."""
        self.inject("setFabricMtu", subnet=subnet, mtu=mtu, **_at(at))

    def block_protocol(self, subnet: str, protocol: Union[str, int], *, at: When = None) -> None:
        """The fabric of a subnet drops a protocol (blockProtocol)."""
        self.inject("blockProtocol", subnet=subnet, protocol=protocol, **_at(at))

    def unblock_protocol(self, subnet: str, protocol: Union[str, int], *, at: When = None) -> None:
        """And lets it through again (unblockProtocol)."""
        self.inject("unblockProtocol", subnet=subnet, protocol=protocol, **_at(at))

    # ---- measuring

    def reachability(self, wait: float = 2.0) -> Reachability:
        """Every running pod pings every other once, all at once; the simulation runs ``wait``
        seconds further. Returns (pods, ok) with ok a square NumPy bool matrix."""
        pods, ok = self._core.reachability(wait)
        return Reachability(pods, np.array(ok, dtype=bool).reshape(len(pods), len(pods)))

    def convergence(self) -> Dict[str, Any]:
        """{'sessions', 'established', 'routes_expected', 'routes_installed', 'converged'} now."""
        return self._core.convergence()

    def bgp_series(self, until: float, step: float = 1.0) -> BgpSeries:
        """Runs the simulation from now to ``until`` and samples ``convergence()`` every
        ``step`` seconds (now included, ``until`` included). Returns NumPy arrays."""
        if not step > 0 or not math.isfinite(step):
            raise ValueError(f"bgp_series: step must be a positive number of seconds, not {step!r}")
        start = self.now
        if until < start:
            raise ValueError(f"bgp_series: until={until} s is before now ({start} s)")
        n = int(math.floor((until - start) / step + 1e-9)) + 1
        times = [start + k * step for k in range(n)]
        if times[-1] < until - 1e-9:
            times.append(until)
        rows = []
        for t in times:
            self._core.run_until(t)
            c = self._core.convergence()
            rows.append((c["established"], c["sessions"], c["routes_installed"],
                         c["routes_expected"]))
        data = np.array(rows, dtype=np.int64).reshape(len(times), 4)
        return BgpSeries(np.array(times, dtype=np.float64), data[:, 0], data[:, 1], data[:, 2],
                         data[:, 3])

    # ---- looking at it

    def view(self, where: str, command: str) -> str:
        """What ``command`` prints on a node, a router or in a pod ("namespace/name"), now:
        ``calicoctl node status``, ``calicoctl ipam show --show-blocks``, ``calicoctl get
        workloadendpoint -A -o wide``, ``ip route``, ``ip -br addr``, ``route -n``, ...
        (``calisim.supported_commands()`` lists them)."""
        return self._core.command(where, command)

    def routes(self, where: str, table: Union[str, int, None] = None) -> List[Dict[str, Any]]:
        """The routes of a node, router or pod as dicts, parsed from ``ip route`` (or
        ``ip route show table TABLE``); see ``calisim.views.parse_ip_route`` for the keys."""
        command = "ip route" if table is None else f"ip route show table {table}"
        return parse_ip_route(self.view(where, command))

    def bgp_peers(self, node: str) -> List[Dict[str, str]]:
        """``node``'s BGP peers as ``calicoctl node status`` lists them: peer_address,
        peer_type, state, since, info."""
        return parse_node_status(self.view(node, "calicoctl node status"))

    def workload_endpoints(self) -> List[Dict[str, Any]]:
        """Every workload endpoint (``calicoctl get workloadendpoint -A -o wide``): namespace,
        workload, node, networks (list), interface, profiles (list), ..."""
        return parse_workload_endpoints(
            self.view(self.nodes[0], "calicoctl get workloadendpoint -A -o wide"))

    def ipam_blocks(self) -> List[Dict[str, Any]]:
        """Every IPAM block, read from calisim's IPAM (not parsed from a view): cidr, name,
        affinity (node or None), size, in_use, free, allocations [{address, ordinal, handle,
        attributes}]."""
        return self._core.ipam_blocks()

    def ipam_pools(self) -> List[Dict[str, Any]]:
        """The pools IPAM allocates from: name, cidr, block_size, node_selector, disabled."""
        return self._core.ipam_pools()

    def node_ip(self, node: str) -> str:
        """The address calico-node uses on ``node``: "a.b.c.d/len"."""
        return self._core.node_ip(node)

    def pod_ip(self, pod: str) -> str:
        """A running pod's IPv4 address ("namespace/name", or a name in "default")."""
        return self._core.pod_ip(pod)

    # ---- the end

    def finish(self) -> None:
        """Closes the run directory's files (the capture is complete afterwards) and writes
        summary.json. Views still work afterwards; running does not. Idempotent."""
        self._core.finish()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()

    def __repr__(self) -> str:
        return (f"<calisim.Cluster {self.name!r}: {len(self._info['nodes'])} nodes, "
                f"t={self.now:.6f} s{', finished' if self.finished else ''}>")


def _at(at: When) -> Dict[str, Any]:
    """inject()'s `at` keyword, only when given (absent: now)."""
    return {} if at is None else {"at": at}


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)
