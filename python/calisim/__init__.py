"""calisim: Kubernetes networking as Project Calico v3.28 does it, simulated packet by packet.

A cross-node ping on the built-in two-node lab (IPIP, BGP mesh)::

    import calisim

    with calisim.Cluster.lab() as c:
        c.run_until(15)                                  # calico-node up, BGP Established
        p = c.ping("default/hello-776c774f98-894tt", "default/hi", count=3)
        print(p.output)                                  # iputils' lines: ttl=62
        print(c.view("user-controller", "ip route"))

What is here:

* ``Cluster`` -- built from YAML text (``Cluster.from_yaml``), a file (``from_file``), the
  built-in lab (``lab``) or a ``ScenarioBuilder``; ``run``/``run_until``/``step``, ``ping``,
  ``inject`` and its shorthands (``link_down``...), ``reachability`` (a NumPy bool matrix),
  ``convergence``, ``bgp_series`` (NumPy arrays over time), ``view`` (any view as text) and
  views as data (``routes``, ``bgp_peers``, ``workload_endpoints``, ``ipam_blocks``).
* ``ScenarioBuilder`` and ``nic`` -- a scenario written in Python, as YAML.
* ``views`` -- the parsers behind the views as data.
* ``SimulationError`` -- calisim's errors that are not ValueError, KeyError or OSError.

The engine is the C++ extension ``calisim._core``; every call into it releases the GIL.
"""

from . import views
from ._core import SimulationError, __version__
from ._core import check_scenario, lab_yaml, parse_duration, parse_percentage, parse_rate
from ._core import scale_yaml, supported_commands
from .builder import Nic, ScenarioBuilder, nic
from .cluster import BgpSeries, Cluster, PingResult, Reachability

__all__ = [
    "BgpSeries",
    "Cluster",
    "Nic",
    "PingResult",
    "Reachability",
    "ScenarioBuilder",
    "SimulationError",
    "__version__",
    "check_scenario",
    "lab_yaml",
    "nic",
    "parse_duration",
    "parse_percentage",
    "parse_rate",
    "scale_yaml",
    "supported_commands",
    "views",
]
