"""The main job's captures, read by an independent pcapng reader written here in Python.

This checks calisim's bytes with code that shares nothing with the C++ writer: block framing,
interface description options, enhanced packet blocks, and the encapsulations inside them.
"""

import os
import struct
import subprocess
from pathlib import Path

import pytest

CALISIM = os.environ.get("CALISIM_BIN", str(Path(__file__).resolve().parents[2] / "build/test/calisim"))


def read_pcapng(path):
    data = Path(path).read_bytes()
    pos = 0
    interfaces = []
    packets = []
    while pos < len(data):
        block_type, total = struct.unpack_from("<II", data, pos)
        assert total % 4 == 0 and total >= 12, f"bad block length {total} at {pos}"
        (trailer,) = struct.unpack_from("<I", data, pos + total - 4)
        assert trailer == total, f"block at {pos}: trailing length {trailer} != {total}"
        body = data[pos + 8 : pos + total - 4]
        if block_type == 0x0A0D0D0A:
            magic, major, minor = struct.unpack_from("<IHH", body, 0)
            assert magic == 0x1A2B3C4D and (major, minor) == (1, 0)
        elif block_type == 1:
            link, _, snaplen = struct.unpack_from("<HHI", body, 0)
            opts = parse_options(body[8:])
            interfaces.append({"link": link, "name": opts[2][0].decode(), "tsresol": opts[9][0]})
        elif block_type == 6:
            if_id, ts_hi, ts_lo, cap, orig = struct.unpack_from("<IIIII", body, 0)
            frame = body[20 : 20 + cap]
            opts = parse_options(body[20 + ((cap + 3) & ~3) :])
            flags = struct.unpack("<I", opts[2][0])[0] if 2 in opts else 0
            packets.append({"if": if_id, "ts": (ts_hi << 32) | ts_lo, "frame": frame,
                            "orig": orig, "direction": flags & 3})
        pos += total
    assert pos == len(data)
    return interfaces, packets


def parse_options(raw):
    opts = {}
    pos = 0
    while pos + 4 <= len(raw):
        code, length = struct.unpack_from("<HH", raw, pos)
        if code == 0:
            break
        opts.setdefault(code, []).append(raw[pos + 4 : pos + 4 + length])
        pos += 4 + ((length + 3) & ~3)
    return opts


def ones_complement_ok(header):
    s = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The main job: `calisim run` (the built-in lab), simulated."""
    out = tmp_path_factory.mktemp("run")
    done = subprocess.run([CALISIM, "run", "--out", str(out), "--seed", "3"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(" ttl=62 ") == 5  # 5 echo replies, two forwarding hosts away
    assert "5 packets transmitted, 5 received, 0% packet loss" in done.stdout
    return out


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    done = subprocess.run([CALISIM, "demo", "--out", str(out), "--seed", "3"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ttl=62") == 20  # 5 echoes x (request, reply) x 2 modes
    return out


def test_ipip_capture(run_dir):
    interfaces, packets = read_pcapng(run_dir / "lab-ipip" / "capture.pcapng")
    names = {i["name"]: i for i in interfaces}
    assert names["user-worker/tunl0"]["link"] == 101  # raw IP
    assert names["user-worker/enp0s8"]["link"] == 1  # Ethernet
    assert "user-controller/hi/eth0" in names
    assert all(i["tsresol"] == b"\x09" for i in interfaces)
    assert [p["ts"] for p in packets] == sorted(p["ts"] for p in packets)
    assert {p["direction"] for p in packets} == {1, 2}
    # The worker's NIC carries BGP, ARP and the IPIP echoes: keep the IPIP ones.
    on_wire = [p for p in packets if interfaces[p["if"]]["name"] == "user-worker/enp0s8"
               and p["frame"][12:14] == b"\x08\x00" and p["frame"][14 + 9] == 4]
    assert len(on_wire) == 10  # 5 requests out, 5 replies in
    for p in on_wire:
        f = p["frame"]
        assert f[12:14] == b"\x08\x00"
        outer = f[14:34]
        assert outer[9] == 4 and ones_complement_ok(outer)
        inner = f[34:54]
        assert inner[9] == 1 and ones_complement_ok(inner)
        assert outer[8] == inner[8] == 63  # tunl0 inherits the inner TTL
        assert (outer[6] & 0x40) == (inner[6] & 0x40)  # and copies DF


def test_vxlan_capture(demo_dir):
    interfaces, packets = read_pcapng(demo_dir / "lab-vxlan" / "capture.pcapng")
    on_wire = [p for p in packets if interfaces[p["if"]]["name"].endswith("/enp0s8")]
    assert len(on_wire) == 20
    for p in on_wire:
        f = p["frame"]
        ip = f[14:34]
        assert ip[9] == 17 and ip[8] == 64 and ones_complement_ok(ip)
        sport, dport, length = struct.unpack_from("!HHH", f, 34)
        assert dport == 4789 and 32768 <= sport < 61000
        assert length == len(f) - 34
        vxlan = f[42:50]
        assert vxlan[0] == 0x08 and int.from_bytes(vxlan[4:7], "big") == 4096
        assert f[50 + 6] == 0x66  # inner source MAC: a VTEP MAC
