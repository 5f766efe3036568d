"""The Python API end to end: clusters from YAML, files and the builder; pings; views as text
and as data; faults; convergence over time; errors; the GIL.

Expected values come from the lab as the C++ tests pin it (tests/calico/cluster_views_test.cpp,
cluster_runtime_test.cpp): hi at 192.168.136.5 on user-controller, hello on user-worker, IPIP
between 203.248.23.214 and .215, ttl=62 pod to pod.
"""

import contextlib
import doctest
import gc
import io
import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import calisim

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HELLO = "default/hello-776c774f98-894tt"
HI = "default/hi"


@pytest.fixture
def lab():
    """The built-in lab at 15 s: calico-node up on both nodes, BGP Established, pods running."""
    c = calisim.Cluster.lab()
    c.run_until(15)
    yield c
    c.finish()


# ---- building ---------------------------------------------------------------------------------


def test_lab_ping_crosses_two_hosts(lab):
    p = lab.ping(HELLO, HI, count=3)
    assert p.finished
    assert p.command == "ping -c 3 192.168.136.5"
    assert (p.transmitted, p.received) == (3, 3)
    assert p.ttls == [62, 62, 62]
    assert p.lines[0] == "PING 192.168.136.5 (192.168.136.5) 56(84) bytes of data."
    assert sum(" ttl=62 " in line for line in p.lines) == 3
    assert "3 packets transmitted, 3 received, 0% packet loss" in p.output
    # Waiting ran the simulation: three echoes a second apart, then the exit.
    assert 17 <= lab.now < 19
    # From the worker node to the pod: one forwarding host.
    assert lab.ping("user-worker", "192.168.136.5", count=1).ttls == [63]


def test_the_readme_example_runs():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) < 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().count(" ttl=62 ") == 3
    assert "3 [62, 62, 62]" in out.getvalue()


def test_ping_without_waiting_fills_in_as_the_simulation_runs(lab):
    p = lab.ping(HI, HELLO, count=2, interval=0.5, wait=False)
    assert lab.now == 15
    assert not p.finished and p.received == 0
    lab.step(0.25)
    assert p.received == 1 and not p.finished
    p.wait()
    assert p.finished and p.received == 2 and p.ttls == [62, 62]
    assert [q.index for q in lab.pings()][-1] == p.index
    # The scenario's own ping (traffic at 10 s) is there too.
    assert lab.pings()[0].command == "ping -c 5 192.168.136.5"


def test_from_file_and_from_yaml_build_the_same_cluster():
    path = EXAMPLES / "vxlan-always.yaml"
    a = calisim.Cluster.from_file(path)
    b = calisim.Cluster.from_yaml(path.read_text(), filename="vxlan-always.yaml")
    assert a.name == b.name == "vxlan-always"
    assert a.nodes == ["node-1", "node-2", "node-3"]
    assert a.duration == 30.0
    a.run_until(5)
    b.run_until(5)
    assert a.view("node-1", "ip route") == b.view("node-1", "ip route")
    vxlan = [r for r in a.routes("node-1") if r["dev"] == "vxlan.calico"]
    assert len(vxlan) == 2 and all(r["onlink"] and r["gateway"] for r in vxlan)
    assert any(r["type"] == "blackhole" and r["protocol"] == "80" for r in a.routes("node-1"))


def test_builder_cluster_pings_across_nodes():
    b = (calisim.ScenarioBuilder("built", duration=20)
         .subnet("fabric", "10.9.0.0/24", delay=0.0001)
         .env(IP_AUTODETECTION_METHOD="cidr=10.9.0.0/24")
         .node("n1", calisim.nic("eth0", "10.9.0.11/24", "fabric"), role="control-plane",
               gateway="10.9.0.1")
         .node("n2", ("eth0", "10.9.0.12/24", "fabric"), gateway="10.9.0.1")
         .pool("pods", "10.244.0.0/16", ipip="Always")
         .pod("apps/a", node="n1")
         .pod("b", node="n2", labels={"app": "b"}))
    text = b.to_yaml()
    assert 'kind: "Namespace"' in text and 'name: "apps"' in text  # added for apps/a
    assert 'ipipMode: "Always"' in text and 'delay: "100us"' in text
    assert [d for d in calisim.check_scenario(text, "built.yaml") if d["severity"] == "error"] == []
    c = b.build()
    assert c.nodes == ["n1", "n2"] and c.pods == ["apps/a", "default/b"]
    c.run_until(10)
    assert c.convergence()["converged"]
    assert c.node_ip("n2") == "10.9.0.12/24"
    p = c.ping("apps/a", "default/b", count=2)
    assert p.received == 2 and p.ttls == [62, 62]
    routes = c.routes("n1")
    tunnel = [r for r in routes if r["dev"] == "tunl0"]
    assert len(tunnel) == 1
    assert (tunnel[0]["gateway"], tunnel[0]["protocol"]) == ("10.9.0.12", "bird")
    own = {r["dst"] for r in routes if r["type"] == "blackhole"}
    assert {blk["cidr"] for blk in c.ipam_blocks()} == own | {tunnel[0]["dst"]}


def test_builder_mistakes_are_reported_by_the_parser_with_their_place():
    b = (calisim.ScenarioBuilder("bad")
         .subnet("lab", "10.0.0.0/24")
         .node("n1", ("eth0", "10.0.0.11/24", "labb")))
    with pytest.raises(ValueError) as e:
        b.build()
    assert 'bad.yaml:' in str(e.value)
    assert 'no subnet named "labb" (did you mean "lab"?)' in str(e.value)
    with pytest.raises(ValueError, match="ipip='Sometimes'"):
        calisim.ScenarioBuilder().pool("p", "10.0.0.0/16", ipip="Sometimes")


# ---- views ------------------------------------------------------------------------------------


def test_views_as_text(lab):
    assert lab.view("user-worker", "ip route") == (
        "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100 \n"
        "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15 \n"
        "192.168.136.0/26 via 203.248.23.214 dev tunl0 proto bird onlink \n"
        "blackhole 192.168.153.192/26 proto bird \n"
        "192.168.153.193 dev cali21c68c06609 scope link \n"
        "203.248.23.128/25 dev enp0s8 proto kernel scope link src 203.248.23.215 \n")
    status = lab.view("user-worker", "calicoctl node status")
    assert status.startswith("Calico process is running.\n")
    assert "| 203.248.23.214 | node-to-node mesh | up    |" in status
    assert "ip route" in calisim.supported_commands()


def test_views_as_data(lab):
    routes = lab.routes("user-controller")
    by_dst = {r["dst"]: r for r in routes}
    assert by_dst["0.0.0.0/0"]["gateway"] == "10.0.2.2"
    assert by_dst["0.0.0.0/0"]["metric"] == 100 and by_dst["0.0.0.0/0"]["protocol"] == "dhcp"
    assert by_dst["192.168.136.0/26"]["type"] == "blackhole"
    remote = by_dst["192.168.153.192/26"]
    assert (remote["gateway"], remote["dev"], remote["protocol"], remote["onlink"]) == (
        "203.248.23.215", "tunl0", "bird", True)
    assert by_dst["192.168.136.5/32"] == {
        "type": "unicast", "dst": "192.168.136.5/32", "gateway": None, "dev": "cali77d085837b5",
        "protocol": "boot", "scope": "link", "src": None, "table": None, "metric": 0,
        "tos": None, "mtu": None, "onlink": False, "linkdown": False, "flags": []}
    assert len(routes) == 9

    assert lab.bgp_peers("user-worker") == [{
        "peer_address": "203.248.23.214", "peer_type": "node-to-node mesh", "state": "up",
        "since": lab.bgp_peers("user-worker")[0]["since"], "info": "Established"}]

    weps = {w["workload"]: w for w in lab.workload_endpoints()}
    assert weps["hi"]["namespace"] == "default"
    assert weps["hi"]["node"] == "user-controller"
    assert weps["hi"]["networks"] == ["192.168.136.5/32"]
    assert weps["hi"]["interface"] == "cali77d085837b5"
    assert weps["hello-776c774f98-894tt"]["node"] == "user-worker"
    assert len(weps) == 5

    blocks = {b["cidr"]: b for b in lab.ipam_blocks()}
    assert set(blocks) == {"192.168.136.0/26", "192.168.153.192/26"}
    mine = blocks["192.168.136.0/26"]
    assert (mine["affinity"], mine["size"], mine["in_use"], mine["free"]) == (
        "user-controller", 64, 5, 59)
    hi = [a for a in mine["allocations"] if a["address"] == "192.168.136.5"][0]
    assert hi["attributes"]["pod"] == "hi" and hi["attributes"]["namespace"] == "default"
    assert hi["handle"].startswith("k8s-pod-network.")
    assert blocks["192.168.153.192/26"]["affinity"] == "user-worker"
    assert lab.ipam_pools()[0]["cidr"] == "192.168.0.0/16"
    assert lab.pod_ip("hi") == lab.pod_ip(HI) == "192.168.136.5"
    assert lab.node_ip("user-controller") == "203.248.23.214/25"


def test_a_crashed_node_has_no_peers_and_its_links_are_down(lab):
    lab.node_crash("user-controller")
    lab.step(1)
    assert lab.view("user-controller", "calicoctl node status") == "Calico process is not running.\n"
    assert lab.bgp_peers("user-controller") == []
    routes = lab.routes("user-controller")
    assert all(r["linkdown"] for r in routes if r["type"] == "unicast")
    assert lab.ping(HELLO, HI, count=1).received == 0


def test_view_parser_examples():
    result = doctest.testmod(calisim.views)
    assert result.attempted >= 2 and result.failed == 0


def test_view_parsers_on_their_own():
    table = ("NAME   PEERIP     NODE   ASN   \n"
             "peer   10.0.0.1   n1     65000 \n"
             "rr                       64512 \n\n")
    assert calisim.views.parse_table(table) == [
        {"name": "peer", "peerip": "10.0.0.1", "node": "n1", "asn": "65000"},
        {"name": "rr", "peerip": "", "node": "", "asn": "64512"}]
    assert calisim.views.parse_node_status("Calico process is not running.\n") == []
    (r,) = calisim.views.parse_ip_route("unreachable 10.1.0.0/16 metric 5 linkdown \n")
    assert (r["type"], r["dst"], r["metric"], r["linkdown"]) == (
        "unreachable", "10.1.0.0/16", 5, True)


# ---- faults, reachability, convergence -------------------------------------------------------


def test_a_pulled_cable_splits_the_reachability_matrix(lab):
    pods, ok = lab.reachability()
    assert len(pods) == 5 and HELLO in pods and HI in pods
    assert ok.dtype == np.bool_ and ok.shape == (5, 5) and ok.all()

    lab.link_down("user-controller", "enp0s8")
    split = lab.reachability()
    h = split.pods.index(HELLO)
    assert split.pods == pods
    assert int(split.ok.sum()) == 25 - 8
    assert not split.ok[h, np.arange(5) != h].any()
    assert not split.ok[np.arange(5) != h, h].any()
    assert len(split.unreachable()) == 8 and (HELLO, HI) in split.unreachable()

    lab.inject("link_up", node="user-controller", interface="enp0s8")
    # The controller's ARP for the worker gave up while the cable was out (three probes, then
    # FAILED, queued packets dropped); a second later it asks again and everything answers.
    lab.step(3)
    assert lab.reachability().ok.all()


def test_inject_by_scenario_names_and_at_a_later_time(lab):
    lab.inject("setLoss", subnet="lab", loss="100%")
    assert lab.ping(HELLO, HI, count=2).received == 0
    lab.set_loss("lab", 0.0)
    assert lab.ping(HELLO, HI, count=1).received == 1
    lab.block_protocol("lab", "ipip")
    assert lab.ping(HELLO, HI, count=1).received == 0
    lab.inject("unblockProtocol", subnet="lab", protocol=4)
    assert lab.ping(HELLO, HI, count=1).received == 1
    # A PMTU black hole: the fabric carries 1450, the NICs still say 1500. Full-size IPIP
    # packets (1480 inside, 1500 outside) vanish; small ones pass.
    lab.set_fabric_mtu("lab", 1450)
    assert lab.ping(HELLO, HI, count=1, size=1452).received == 0
    assert lab.ping(HELLO, HI, count=1, size=1000).received == 1
    lab.inject("setFabricMtu", subnet="lab", mtu=1500)
    assert lab.ping(HELLO, HI, count=1, size=1452).received == 1
    # A fault for now has happened when inject returns.
    lab.link_down("user-worker", "enp0s8")
    assert "enp0s8           LOWERLAYERDOWN" in lab.view("user-worker", "ip -br link")
    lab.link_up("user-worker", "enp0s8")
    assert "enp0s8           UP" in lab.view("user-worker", "ip -br link")
    lab.step(3)
    # A fault scheduled for later happens then, not now.
    later = lab.now + 5
    lab.inject("linkDown", node="user-worker", interface="enp0s8", at=later)
    assert lab.ping(HELLO, HI, count=1).received == 1
    lab.run_until(later + 0.1)
    assert lab.ping(HELLO, HI, count=1).received == 0


def test_convergence_and_bgp_series():
    c = calisim.Cluster.lab()
    assert c.convergence() == {"sessions": 2, "established": 0, "routes_expected": 2,
                               "routes_installed": 0, "converged": False}
    s = c.bgp_series(10, 0.5)
    assert s.time.dtype == np.float64 and s.established.dtype == np.int64
    assert len(s.time) == 21 and s.time[0] == 0 and s.time[-1] == 10
    assert s.established[0] == 0 and s.established[-1] == 2
    assert (np.diff(s.established) >= 0).all()
    assert (s.sessions == 2).all()
    assert s.routes_installed[-1] == s.routes_expected[-1] == 2
    assert c.now == 10 and c.convergence()["converged"]
    first = s.time[np.argmax(s.established == 2)]
    assert 0 < first < 10
    with pytest.raises(ValueError, match="before now"):
        c.bgp_series(5)


def test_run_until_converged_and_scale_yaml():
    text = calisim.scale_yaml(nodes=4, pods_per_node=1, encapsulation="vxlan")
    c = calisim.Cluster.from_yaml(text)
    assert len(c.nodes) == 4 and len(c.pods) == 4
    at = c.run_until_converged(60)
    assert at is not None and 0 < at <= 60 and c.now == pytest.approx(at)


# ---- errors -----------------------------------------------------------------------------------

BROKEN = """\
apiVersion: calisim.io/v1
kind: Topology
metadata: {name: broken}
spec:
  subnets:
  - {name: lab, cidr: 203.248.23.128/25}
  nodes:
  - name: a
    interfaces:
    - {name: eth0, address: 203.248.23.314/25, subnet: lab}
  - name: b
    interfaces:
    - {name: eth0, address: 203.248.23.215/25, subnet: labb}
"""


def test_scenario_errors_are_value_errors_listing_every_problem():
    with pytest.raises(ValueError) as e:
        calisim.Cluster.from_yaml(BROKEN, filename="broken.yaml")
    message = str(e.value)
    diagnostics = calisim.check_scenario(BROKEN, "broken.yaml")
    expected = [d["text"] for d in diagnostics if d["severity"] == "error"]
    assert len(expected) == 2
    assert message == "\n".join(expected)
    assert 'broken.yaml:10:' in message and '"203.248.23.314/25" is not an IPv4 prefix' in message
    assert 'no subnet named "labb" (did you mean "lab"?)' in message
    assert e.value.code == "invalid argument"


def test_errors_keep_the_message_and_have_the_right_type(lab, tmp_path):
    with pytest.raises(OSError) as e:
        calisim.Cluster.from_file(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(e.value)

    with pytest.raises(KeyError) as e:
        lab.ping("default/nope", HI)
    assert e.value.args[0] == "no running pod 'default/nope'" and e.value.code == "not found"
    with pytest.raises(KeyError) as e:
        lab.link_down("user-nobody", "enp0s8")
    assert e.value.args[0] == "no node or router 'user-nobody'"
    with pytest.raises(KeyError) as e:
        lab.link_down("user-controller", "eth9")
    assert e.value.args[0] == "user-controller has no NIC 'eth9'"
    with pytest.raises(KeyError) as e:
        lab.set_delay("nowhere", "20ms")
    assert e.value.args[0] == "no subnet 'nowhere'"

    with pytest.raises(ValueError) as e:
        lab.view("user-worker", "calicoctl get wep -A -n default")
    assert str(e.value) == "calicoctl get: -A and -n cannot be used together"
    with pytest.raises(ValueError, match="^ping: bad number of packets to transmit.$"):
        lab.ping(HELLO, HI, count=0)
    with pytest.raises(ValueError, match=r"linkDown takes node and interface \(and at\), not sub"):
        lab.inject("linkDown", node="user-worker", interface="enp0s8", subnet="lab")
    with pytest.raises(ValueError, match="^inject: setLoss needs subnet and loss$"):
        lab.inject("setLoss", subnet="lab")
    with pytest.raises(ValueError, match='"meltdown" is not an event action'):
        lab.inject("meltdown")
    with pytest.raises(ValueError, match="is not a protocol"):
        lab.block_protocol("lab", "carrier-pigeon")
    with pytest.raises(ValueError, match="inject: loss: 2 is not a probability"):
        lab.set_loss("lab", 2.0)
    with pytest.raises(ValueError, match="run_until: -1 is not a number of seconds"):
        lab.run_until(-1)
    with pytest.raises(TypeError):
        lab.set_rate("lab", 1.5)

    lab.finish()
    with pytest.raises(calisim.SimulationError) as e:
        lab.run_until(20)
    assert isinstance(e.value, RuntimeError) and e.value.code == "unavailable"
    assert "the cluster is finished" in str(e.value)
    assert lab.view("user-worker", "ip route")  # views still work


# ---- run directory, threads ---------------------------------------------------------------


def test_run_directory_capture_and_context_manager(tmp_path):
    with calisim.Cluster.lab(run_dir=tmp_path) as c:
        assert c.capture_path == tmp_path / "capture.pcapng"
        c.run()
        assert c.now == 30
    assert c.finished
    data = c.capture_path.read_bytes()
    assert data[:4] == b"\x0a\x0d\x0d\x0a" and len(data) > 10_000
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["scenario"] == "lab-ipip"
    assert summary["pings"][0]["received"] == 5
    assert (tmp_path / "events.jsonl").stat().st_size > 0
    assert calisim.Cluster.lab().capture_path is None
    assert calisim.Cluster.lab(run_dir=tmp_path / "x", capture=False).capture_path is None


def test_a_dropped_cluster_still_completes_its_run_directory(tmp_path):
    c = calisim.Cluster.lab(run_dir=tmp_path)
    c.run_until(12)
    assert not (tmp_path / "summary.json").exists()
    del c
    gc.collect()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["simulated_seconds"] == 12
    assert (tmp_path / "capture.pcapng").stat().st_size > 0


def test_run_releases_the_gil():
    """Python keeps running in this thread while another thread's run() is inside C++."""
    c = calisim.Cluster.from_yaml(calisim.scale_yaml(nodes=100, pods_per_node=1))
    span = {}

    def work():
        span["start"] = time.monotonic()
        c.run_until(40)
        span["end"] = time.monotonic()

    ticks = []
    t = threading.Thread(target=work)
    t.start()
    while t.is_alive():
        ticks.append(time.monotonic())
    t.join()
    assert c.now == 40 and c.convergence()["converged"]
    assert span["end"] - span["start"] > 0.2, "the run is too short to tell"
    # Ticks strictly inside the run: impossible if run_until held the GIL throughout.
    inside = [x for x in ticks if span["start"] + 0.05 < x < span["end"] - 0.05]
    assert len(inside) > 100
