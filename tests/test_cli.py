"""The command line, as a user runs it: check, routes and trace, in text and JSON, and its errors.

Every test runs ``python -m tui`` (the same entry point as the ``kubenet-tui``
script) in a subprocess. Exit codes: 0 answered, 1 bad input or an unknown
name, 2 a usage error; never a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tui

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"
SWITCH = str(TOPOLOGIES / "01-switch.yaml")
ROUTER = str(TOPOLOGIES / "02-router-gateway.yaml")
DOCKER = str(TOPOLOGIES / "03-docker-bridge.yaml")
NAMESPACES = str(TOPOLOGIES / "03-namespaces-by-hand.yaml")
FORMAT = re.compile(r"^.+:\d+:\d+: error: \S.*: .+$")
ROUTE_N_HEADER = "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface"


def kn(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert "Traceback" not in p.stdout + p.stderr, p.stdout + p.stderr
    return p


def ok(*args: str) -> str:
    p = kn(*args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def ok_json(*args: str):
    return json.loads(ok(*args, "-o", "json"))


# -- check -------------------------------------------------------------------------------------

def test_check_text():
    p = kn("check", "-f", SWITCH)
    assert p.returncode == 0
    assert p.stdout == "ok: topology switch (1 networks, 2 hosts) from 1 file\n"
    assert p.stderr == ""


def test_check_json():
    data = ok_json("check", "-f", DOCKER)
    assert data == {
        "ok": True, "topology": "docker-bridge", "files": [DOCKER],
        "networks": 1, "hosts": 3, "namespaces": 0, "containers": 2, "objects": 0, "warnings": [],
    }


def test_check_repeated_f_and_directory(tmp_path: Path):
    d = tmp_path / "manifests"
    d.mkdir()
    (d / "b.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n")
    (d / "a.json").write_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]}')
    data = ok_json("check", "-f", SWITCH, "-f", str(d))
    assert data["files"] == [SWITCH, str(d / "a.json"), str(d / "b.yaml")]
    assert (data["topology"], data["hosts"], data["objects"]) == ("switch", 2, 2)


def test_check_bad_file_exits_1_with_located_errors(tmp_path: Path):
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: kubenet/v1\nkind: Topology\nhosts:\n- name: a\n  interfaces: [{name: eth0, adress: 10.0.0.1/24}]\n")
    for output in ("text", "json"):
        p = kn("check", "-f", str(f), "-o", output)
        assert p.returncode == 1
        if output == "text":
            assert p.stdout == ""
        else:  # -o json also gives the errors as data on stdout
            data = json.loads(p.stdout)
            assert data["ok"] is False
            assert data["errors"] == [{"file": str(f), "line": 5, "col": 29, "severity": "error", "path": "hosts[0].interfaces[0].adress",
                                       "message": 'unknown field "adress" (did you mean "address"?)'}]
        lines = p.stderr.splitlines()
        assert lines == [f'{f}:5:29: error: hosts[0].interfaces[0].adress: unknown field "adress" (did you mean "address"?)', "1 error"]
        assert FORMAT.match(lines[0])


def test_check_warnings_go_to_stderr(tmp_path: Path):
    f = tmp_path / "crd.yaml"
    f.write_text("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\n")
    p = kn("check", "-f", str(f))
    assert p.returncode == 0
    assert p.stdout.startswith("ok: ")
    assert p.stderr.startswith(f"{f}:2:7: note: kind: ")


# -- routes ------------------------------------------------------------------------------------

def test_routes_ip_format():
    out = ok("routes", "-f", ROUTER, "laptop")
    assert out.splitlines() == [
        "default via 192.168.1.1 dev wlp0s20f3 metric 600",
        "192.168.1.0/24 dev wlp0s20f3 proto kernel scope link src 192.168.1.10 metric 600",
    ]


def test_routes_lookups_text():
    out = ok("routes", "-f", ROUTER, "system-b", "--lookup", "192.168.2.10", "--lookup", "8.8.8.8")
    assert out.splitlines() == [
        "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11",
        "192.168.2.0/24 via 192.168.1.1 dev eth0",
        "",
        "$ ip route get 192.168.2.10",
        "192.168.2.10 via 192.168.1.1 dev eth0 src 192.168.1.11",
        "  (matched: 192.168.2.0/24 via 192.168.1.1 dev eth0)",
        "",
        "$ ip route get 8.8.8.8",
        "RTNETLINK answers: Network is unreachable",
    ]


def test_routes_route_n_format():
    out = ok("routes", "-f", ROUTER, "laptop", "--format", "route")
    assert out.splitlines() == [
        "Kernel IP routing table",
        ROUTE_N_HEADER,
        "0.0.0.0         192.168.1.1     0.0.0.0         UG    600    0        0 wlp0s20f3",
        "192.168.1.0     0.0.0.0         255.255.255.0   U     600    0        0 wlp0s20f3",
    ]


def test_routes_route_names_format():
    lines = ok("routes", "-f", ROUTER, "laptop", "--format", "route-names").splitlines()
    assert lines[1] == ROUTE_N_HEADER
    assert lines[2].split() == ["default", "_gateway", "0.0.0.0", "UG", "600", "0", "0", "wlp0s20f3"]


ROUTE_KEYS = {"to", "via", "dev", "metric", "proto", "scope"}


def test_routes_json_shape():
    data = ok_json("routes", "-f", ROUTER, "system-b", "--lookup", "192.168.2.10", "--lookup", "8.8.8.8")
    assert set(data) == {"target", "routes", "lookups"}
    assert data["target"] == "system-b"
    assert isinstance(data["routes"], list) and len(data["routes"]) == 2
    for r in data["routes"]:
        assert ROUTE_KEYS <= set(r), r
        assert isinstance(r["metric"], int)
    assert [{k: r[k] for k in ROUTE_KEYS} for r in data["routes"]] == [
        {"to": "192.168.1.0/24", "via": None, "dev": "eth0", "metric": 0, "proto": "kernel", "scope": "link"},
        {"to": "192.168.2.0/24", "via": "192.168.1.1", "dev": "eth0", "metric": 0, "proto": "boot", "scope": "global"},
    ]
    assert [lk["ip"] for lk in data["lookups"]] == ["192.168.2.10", "8.8.8.8"]
    found, missing = data["lookups"]
    assert {"ip", "route"} <= set(found) and {"ip", "route"} <= set(missing)
    assert {k: found["route"][k] for k in ROUTE_KEYS} == {
        "to": "192.168.2.0/24", "via": "192.168.1.1", "dev": "eth0", "metric": 0, "proto": "boot", "scope": "global"}
    assert missing["route"] is None


def test_routes_json_default_route():
    data = ok_json("routes", "-f", ROUTER, "laptop", "--lookup", "8.8.8.8")
    default = data["routes"][0]
    assert (default["to"], default["via"], default["dev"], default["metric"]) == ("0.0.0.0/0", "192.168.1.1", "wlp0s20f3", 600)
    assert data["lookups"][0]["route"]["to"] == "0.0.0.0/0"


def test_routes_of_a_container_and_a_namespace():
    assert ok("routes", "-f", DOCKER, "container-a").splitlines() == [
        "default via 172.17.0.1 dev eth0",
        "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2",
    ]
    assert "default via 192.168.15.5 dev veth-red" in ok("routes", "-f", NAMESPACES, "red").splitlines()


def test_routes_target_by_address():
    assert ok_json("routes", "-f", ROUTER, "192.168.2.10")["target"] == "system-c"


# -- trace -------------------------------------------------------------------------------------

def test_trace_text_delivered_with_reply():
    out = ok("trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b")
    lines = out.splitlines()
    assert lines[0] == "trace tcp from system-a to system-b: TCP 192.168.1.10:40000 -> 192.168.1.11:80 ttl 64"
    assert "  1  system-a [host]  (sent here) -> eth0" in lines
    assert "  2  switch [switch]  system-a eth0 -> system-b eth0" in lines
    assert "DELIVERED to system-b (192.168.1.11:80)" in lines
    assert "reply:" in lines
    assert lines[-1] == "DELIVERED to system-a (192.168.1.10:40000)"
    assert "None" not in out


def test_trace_text_nat_and_icmp():
    out = ok("trace", "-f", ROUTER, "--from", "laptop", "--to", "8.8.8.8", "--proto", "icmp")
    assert "       iptables nat -A POSTROUTING -s 192.168.0.0/16 -o eth2 -j MASQUERADE" in out
    assert "       rewrite* src 192.168.1.10 -> 203.0.113.2 (MASQUERADE)" in out
    assert "DELIVERED to dns-google (8.8.8.8)" in out
    assert "rewrite* dst 203.0.113.2 -> 192.168.1.10 (conntrack: reply of a NATed connection)" in out


def test_trace_text_dropped():
    p = kn("trace", "-f", ROUTER, "--from", "system-b", "--to", "8.8.8.8")
    assert p.returncode == 0  # an answer, even if the packet is dropped
    assert p.stdout.splitlines()[-1] == "DROPPED: no route to 8.8.8.8 in system-b (Network is unreachable)"
    assert "None" not in p.stdout
    assert "reply:" not in p.stdout


PACKET_KEYS = {"proto", "src", "dst", "sport", "dport", "ttl"}
HOP_KEYS = {"node", "in", "out", "decision", "packet"}


def _check_trace_shape(t: dict) -> None:
    assert {"verdict", "reason", "hops", "reply"} <= set(t)
    assert t["verdict"] in ("delivered", "dropped")
    assert isinstance(t["hops"], list) and t["hops"]
    for hop in t["hops"]:
        assert HOP_KEYS <= set(hop), hop
        assert isinstance(hop["node"], str)
        assert PACKET_KEYS <= set(hop["packet"]), hop["packet"]
    if t["reply"] is not None:
        _check_trace_shape(t["reply"])


def test_trace_json_delivered():
    t = ok_json("trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b", "--port", "443")
    _check_trace_shape(t)
    assert (t["verdict"], t["reason"]) == ("delivered", None)
    assert [h["node"] for h in t["hops"]] == ["system-a", "switch", "system-b"]
    first, last = t["hops"][0], t["hops"][-1]
    assert (first["in"], first["out"]) == (None, "eth0")
    assert (last["in"], last["out"]) == ("eth0", None)
    assert first["decision"] == "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10"
    assert {k: first["packet"][k] for k in PACKET_KEYS} == {
        "proto": "tcp", "src": "192.168.1.10", "dst": "192.168.1.11", "sport": 40000, "dport": 443, "ttl": 64}
    reply = t["reply"]
    assert reply["verdict"] == "delivered"
    assert [h["node"] for h in reply["hops"]] == ["system-b", "switch", "system-a"]
    assert {k: reply["hops"][0]["packet"][k] for k in ("src", "dst", "sport", "dport")} == {
        "src": "192.168.1.11", "dst": "192.168.1.10", "sport": 443, "dport": 40000}


def test_trace_json_dropped():
    t = ok_json("trace", "-f", ROUTER, "--from", "system-b", "--to", "8.8.8.8")
    _check_trace_shape(t)
    assert t["verdict"] == "dropped"
    assert "Network is unreachable" in t["reason"]
    assert t["reply"] is None
    assert t["hops"][0]["packet"]["src"] is None


def test_trace_json_port_in_destination_and_udp():
    t = ok_json("trace", "-f", DOCKER, "--from", "container-a", "--to", "server:53", "--proto", "udp")
    _check_trace_shape(t)
    assert t["verdict"] == "delivered"
    assert t["hops"][0]["packet"]["proto"] == "udp" and t["hops"][0]["packet"]["dport"] == 53
    assert t["hops"][-1]["node"] == "server"
    assert t["hops"][-1]["packet"]["src"] == "192.168.1.10"  # masqueraded behind docker-host


def test_trace_without_f_uses_the_bundled_topology():
    t = ok_json("trace", "--from", "laptop", "--to", "docker-host:8080")
    assert t["verdict"] == "delivered"
    assert t["delivered_to"] == "web"


# -- help, version ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["check"], ["routes"], ["trace"], ["export"]])
def test_help_has_examples(command: list[str]):
    out = ok(*command, "--help")
    assert "examples:" in out
    assert "usage: kubenet-tui" in out
    assert "kubenet-tui " + (command[0] if command else "") in out.split("examples:", 1)[1]


def test_version():
    assert ok("--version") == f"kubenet-tui {tui.__version__}\n"


def test_console_script_version():
    script = Path(sys.executable).parent / "kubenet-tui"
    if not script.exists():
        pytest.skip("the kubenet-tui script is not installed beside this python")
    p = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stdout) == (0, f"kubenet-tui {tui.__version__}\n")


# -- usage errors (2) and unknown names (1) ----------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["check", "--bogus"], "unrecognized arguments: --bogus"),
    (["trace", "-f", SWITCH, "--to", "system-b"], "the following arguments are required: --from"),
    (["routes", "-f", SWITCH], "the following arguments are required: TARGET"),
    (["trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b", "--proto", "gre"], "invalid choice: 'gre'"),
    (["trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b", "--port", "http"], "invalid int value: 'http'"),
    (["trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b", "--port", "70000"], "--port 70000 is out of range 1-65535"),
    (["routes", "-f", SWITCH, "system-a", "-o", "xml"], "invalid choice: 'xml'"),
    (["--bogus"], "unknown option --bogus"),
])
def test_usage_errors_exit_2(args: list[str], message: str):
    p = kn(*args)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    assert message in p.stderr
    assert "error:" in p.stderr


@pytest.mark.parametrize("args, message", [
    (["routes", "-f", SWITCH, "sytem-a"], 'no host, container or namespace "sytem-a" (did you mean "system-a"?)'),
    (["trace", "-f", SWITCH, "--from", "systema", "--to", "system-b"], 'no host, container or namespace "systema" (did you mean "system-a"?)'),
    (["trace", "-f", DOCKER, "--from", "container-a", "--to", "sever:80"], 'no host, container or namespace "sever" (did you mean "server"?)'),
    (["routes", "-f", SWITCH, "system-a", "--lookup", "nope"], '--lookup: "nope" is not an IP address'),
    (["trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b:99999"], "port 99999 is out of range 1-65535"),
    (["trace", "-f", SWITCH, "--from", "system-a", "--to", "system-b", "--proto", "icmp", "--port", "80"], "ICMP has no ports"),
])
def test_unknown_names_exit_1(args: list[str], message: str):
    p = kn(*args)
    assert p.returncode == 1, p.stderr
    assert p.stdout == ""
    assert p.stderr == f"kubenet-tui {args[0]}: error: {message}\n"


@pytest.mark.parametrize("command", [["routes", "system-a"], ["trace", "--from", "system-a", "--to", "system-b"]])
def test_queries_on_a_bad_file_exit_1_with_located_errors(tmp_path: Path, command: list[str]):
    f = tmp_path / "t.yaml"
    f.write_text("apiVersion: kubenet/v1\nkind: Topology\nhosts:\n- name: system-a\n  interfaces: [{name: eth0, address: 10.0.0.1}]\n")
    p = kn(command[0], "-f", str(f), *command[1:])
    assert p.returncode == 1
    assert p.stdout == ""
    first = p.stderr.splitlines()[0]
    assert FORMAT.match(first) and first.startswith(f"{f}:5:")
