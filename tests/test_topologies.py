"""The bundled topologies: each loads cleanly, and the flows each one teaches end as Linux would end them."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from functools import cache
from pathlib import Path

import pytest

from tui.cli import main
from tui.load import load
from tui.sim.network import compile_topology
from tui.sim.query import trace
from tui.sim.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"
FILES = sorted(p for ext in ("*.yaml", "*.yml", "*.json") for p in TOPOLOGIES.glob(ext))


def test_there_are_topologies():
    names = {p.name for p in FILES}
    assert {"default.yaml", "01-switch.yaml", "02-router-gateway.yaml", "03-docker-bridge.yaml", "03-namespaces-by-hand.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_topology_loads_without_errors_or_warnings(path):
    loaded = load([str(path)])
    assert loaded.warnings == []
    net = compile_topology(loaded.topology)
    assert net.route_problems == []
    assert net.namespaces


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_topology_opens_with_comments_of_what_it_teaches(path):
    lines = path.read_text().splitlines()
    assert lines[0].startswith("#")


def _try_commands(path: Path) -> list[list[str]]:
    """The ``kubenet-tui COMMAND ...`` lines of a file's header comment."""
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s+kubenet-tui\s+(check|routes|trace|iptables|ipvs|resolve|http|reach)\b(.*)", line)
        if m:
            rest = m.group(2).split("#")[0].split("  (")[0]
            out.append([m.group(1)] + shlex.split(rest))
    return out


TRY = [(p.name, argv) for p in FILES for argv in _try_commands(p)]


@pytest.mark.parametrize("name, argv", TRY, ids=[" ".join([n] + a) for n, a in TRY])
def test_commands_in_the_header_run(name, argv, monkeypatch):
    monkeypatch.chdir(ROOT)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    assert out.getvalue().strip()


# -- traces ------------------------------------------------------------------------------------


@cache
def network(name: str):
    return compile_topology(load([str(TOPOLOGIES / name)]).topology)


def run(name: str, src: str, dst: str, proto: str = "tcp", port: int | None = None, ttl: int = 64) -> Trace:
    return trace(network(name), src, dst, proto, port, ttl)


def nodes(t: Trace) -> list[str]:
    return [h.node for h in t.hops]


def hop(t: Trace, node: str):
    found = [h for h in t.hops if h.node == node]
    assert len(found) == 1, f"{node} appears {len(found)} times in {nodes(t)}"
    return found[0]


def final(t: Trace):
    return t.hops[-1].packet


# 01 - two systems on one switch


def test_01_system_a_to_system_b_and_back():
    t = run("01-switch.yaml", "system-a", "system-b")
    assert t.verdict == "delivered" and t.reason is None
    assert t.delivered_to == "system-b"
    assert nodes(t) == ["system-a", "switch", "system-b"]
    assert str(final(t).src) == "192.168.1.10" and str(final(t).dst) == "192.168.1.11"
    assert hop(t, "system-a").decision == "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10"
    assert hop(t, "system-a").out == "eth0"
    assert final(t).ttl == 64  # no router on the way
    assert all(not h.rewrites for h in t.hops)
    r = t.reply
    assert r is not None and r.verdict == "delivered" and r.delivered_to == "system-a"
    assert nodes(r) == ["system-b", "switch", "system-a"]
    assert (final(r).sport, final(r).dport) == (final(t).dport, final(t).sport)


def test_01_arp_resolves_the_peer_mac():
    t = run("01-switch.yaml", "system-a", "system-b")
    net = network("01-switch.yaml")
    a, b = net.device("system-a", "eth0"), net.device("system-b", "eth0")
    assert (final(t).src_mac, final(t).dst_mac) == (a.mac, b.mac)
    assert any("ARP: 192.168.1.11 is at" in n for n in hop(t, "system-a").notes)


def test_01_nobody_has_the_address_no_arp_reply():
    t = run("01-switch.yaml", "system-a", "192.168.1.99", "icmp")
    assert t.verdict == "dropped"
    assert "no ARP reply" in t.reason and "192.168.1.99" in t.reason
    assert nodes(t) == ["system-a"]
    assert t.reply is None


def test_01_other_network_no_route():
    t = run("01-switch.yaml", "system-a", "10.0.0.1")
    assert t.verdict == "dropped"
    assert "no route" in t.reason and "10.0.0.1" in t.reason and "Network is unreachable" in t.reason
    assert nodes(t) == ["system-a"]


def test_01_udp_gets_no_reply():
    t = run("01-switch.yaml", "system-a", "system-b", "udp", 53)
    assert t.delivered and t.reply is None
    assert final(t).dport == 53


# 02 - a router and a default gateway


def test_02_laptop_to_system_c_through_the_router():
    t = run("02-router-gateway.yaml", "laptop", "system-c")
    assert t.verdict == "delivered" and t.delivered_to == "system-c"
    assert nodes(t) == ["laptop", "lan-1", "router", "lan-2", "system-c"]
    assert hop(t, "laptop").decision == "default via 192.168.1.1 dev wlp0s20f3 metric 600"
    router = hop(t, "router")
    assert (router.in_, router.out) == ("eth0", "eth1")
    assert router.decision == "192.168.2.0/24 dev eth1 proto kernel scope link src 192.168.2.1"
    assert router.rewrites == []  # the MASQUERADE rule is for -o eth2 only
    assert final(t).ttl == 63
    assert str(final(t).src) == "192.168.1.10"
    r = t.reply
    assert r.verdict == "delivered" and r.delivered_to == "laptop"
    assert nodes(r) == ["system-c", "lan-2", "router", "lan-1", "laptop"]
    assert final(r).ttl == 63


def test_02_laptop_pings_the_internet_masqueraded():
    t = run("02-router-gateway.yaml", "laptop", "8.8.8.8", "icmp")
    assert t.verdict == "delivered" and t.delivered_to == "dns-google"
    assert nodes(t) == ["laptop", "lan-1", "router", "uplink", "isp-router", "internet", "dns-google"]
    router = hop(t, "router")
    assert router.out == "eth2"
    assert router.rewrites == ["src 192.168.1.10 -> 203.0.113.2 (MASQUERADE)"]
    assert "nat -A POSTROUTING -s 192.168.0.0/16 -o eth2 -j MASQUERADE" in router.rules
    assert str(router.packet.src) == "203.0.113.2"
    assert str(final(t).src) == "203.0.113.2" and str(final(t).dst) == "8.8.8.8"
    assert final(t).ttl == 62
    assert str(t.packet.src) == "192.168.1.10"  # the packet as sent
    r = t.reply
    assert r.verdict == "delivered" and r.delivered_to == "laptop"
    assert nodes(r) == ["dns-google", "internet", "isp-router", "uplink", "router", "lan-1", "laptop"]
    rr = hop(r, "router")
    assert len(rr.rewrites) == 1
    assert rr.rewrites[0].startswith("dst 203.0.113.2 -> 192.168.1.10 (conntrack")
    assert str(final(r).dst) == "192.168.1.10" and str(final(r).src) == "8.8.8.8"


def test_02_system_b_has_no_default_route():
    t = run("02-router-gateway.yaml", "system-b", "8.8.8.8")
    assert t.verdict == "dropped"
    assert "no route to 8.8.8.8 in system-b" in t.reason
    assert nodes(t) == ["system-b"]


def test_02_system_b_reaches_lan_2_by_its_route():
    t = run("02-router-gateway.yaml", "system-b", "system-c")
    assert t.delivered
    assert hop(t, "system-b").decision == "192.168.2.0/24 via 192.168.1.1 dev eth0"
    # system-c answers through its default route, so the reply comes back too
    assert t.reply.delivered and t.reply.delivered_to == "system-b"


def test_02_ttl_1_expires_at_the_router():
    t = run("02-router-gateway.yaml", "laptop", "system-c", ttl=1)
    assert t.verdict == "dropped"
    assert "TTL exceeded" in t.reason and "router" in t.reason
    assert nodes(t) == ["laptop", "lan-1", "router"]


def test_02_ttl_2_arrives_with_ttl_1():
    t = run("02-router-gateway.yaml", "laptop", "system-c", ttl=2)
    assert t.delivered and final(t).ttl == 1


def test_02_router_addresses_are_its_own():
    t = run("02-router-gateway.yaml", "laptop", "192.168.2.1", "icmp")
    # the router answers for its eth1 address on eth0 (a host's addresses belong to the host)
    assert t.delivered and t.delivered_to == "router"
    assert nodes(t) == ["laptop", "lan-1", "router"]


# 03 - the Docker bridge


def test_03_container_to_container_over_docker0():
    t = run("03-docker-bridge.yaml", "container-a", "container-b")
    assert t.verdict == "delivered" and t.delivered_to == "container-b"
    assert nodes(t) == ["container-a", "docker-host/docker0", "container-b"]
    assert str(t.packet.src) == "172.17.0.2" and str(final(t).dst) == "172.17.0.3"
    assert hop(t, "container-a").decision == "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2"
    bridge = hop(t, "docker-host/docker0")
    assert bridge.kind == "bridge"
    assert "filter -A FORWARD -i docker0 -o docker0 -j ACCEPT" in bridge.rules
    assert all(not h.rewrites for h in t.hops)
    assert final(t).ttl == 64  # bridged, not routed
    assert t.reply.delivered and nodes(t.reply) == ["container-b", "docker-host/docker0", "container-a"]


def test_03_container_to_server_masqueraded():
    t = run("03-docker-bridge.yaml", "container-a", "server:80")
    assert t.verdict == "delivered" and t.delivered_to == "server"
    assert nodes(t) == ["container-a", "docker-host/docker0", "docker-host", "lan", "server"]
    assert hop(t, "container-a").decision == "default via 172.17.0.1 dev eth0"
    host = hop(t, "docker-host")
    assert (host.in_, host.out) == ("docker0", "eth0")
    assert host.rewrites == ["src 172.17.0.2:40000 -> 192.168.1.10:40000 (MASQUERADE)"]
    assert "filter -A FORWARD -i docker0 ! -o docker0 -j ACCEPT" in host.rules
    assert "nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in host.rules
    assert str(final(t).src) == "192.168.1.10" and final(t).dport == 80
    r = t.reply
    assert r.verdict == "delivered" and r.delivered_to == "container-a"
    assert nodes(r) == ["server", "lan", "docker-host", "docker-host/docker0", "container-a"]
    rh = hop(r, "docker-host")
    assert rh.rewrites == ["dst 192.168.1.10:40000 -> 172.17.0.2:40000 (conntrack: reply of a NATed connection)"]
    assert "filter -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT" in rh.rules
    assert str(final(r).dst) == "172.17.0.2" and str(final(r).src) == "192.168.1.20"


def test_03_server_has_no_route_to_the_container_network():
    # server has only its connected route 192.168.0.0/16 (no default route), so
    # 172.17.0.2 is "Network is unreachable" before a packet leaves.
    net = network("03-docker-bridge.yaml")
    assert [r.ip_route() for r in net.namespaces["server"].tables.main.routes()] == [
        "192.168.0.0/16 dev eth0 proto kernel scope link src 192.168.1.20",
    ]
    t = run("03-docker-bridge.yaml", "server", "172.17.0.2")
    assert t.verdict == "dropped"
    assert "no route to 172.17.0.2 in server" in t.reason
    assert nodes(t) == ["server"]


def test_03_neighbour_is_stopped_by_forward_policy_drop():
    t = run("03-docker-bridge.yaml", "neighbour", "container-a")
    assert t.verdict == "dropped"
    assert t.reason == "dropped by iptables in docker-host: the FORWARD chain's policy DROP"
    assert nodes(t) == ["neighbour", "lan", "docker-host"]
    host = hop(t, "docker-host")
    assert host.decision == "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1"
    assert "filter -P FORWARD DROP" in host.rules
    assert t.reply is None


def test_03_neighbour_reaches_the_docker_host_itself():
    t = run("03-docker-bridge.yaml", "neighbour", "docker-host:22")
    assert t.delivered and t.delivered_to == "docker-host"
    assert nodes(t) == ["neighbour", "lan", "docker-host"]


# 04 - network namespaces by hand


def test_04_red_to_blue_over_the_bridge():
    t = run("03-namespaces-by-hand.yaml", "red", "blue", "icmp")
    assert t.verdict == "delivered" and t.delivered_to == "blue"
    assert nodes(t) == ["red", "host/v-net-0", "blue"]
    assert hop(t, "host/v-net-0").in_ == "veth-red-br (red veth-red)"
    assert hop(t, "host/v-net-0").out == "veth-blue-br (blue veth-blue)"
    assert all(not h.rewrites for h in t.hops)
    assert t.reply.delivered and nodes(t.reply) == ["blue", "host/v-net-0", "red"]


def test_04_red_to_lan_server_masqueraded():
    t = run("03-namespaces-by-hand.yaml", "red", "lan-server:443")
    assert t.verdict == "delivered" and t.delivered_to == "lan-server"
    assert nodes(t) == ["red", "host/v-net-0", "host", "lan", "lan-server"]
    host = hop(t, "host")
    assert (host.in_, host.out) == ("v-net-0", "eth0")
    assert host.rewrites == ["src 192.168.15.1:40000 -> 192.168.1.2:40000 (MASQUERADE)"]
    assert str(final(t).src) == "192.168.1.2" and final(t).dport == 443 and final(t).ttl == 63
    r = t.reply
    assert r.delivered and r.delivered_to == "red"
    assert nodes(r) == ["lan-server", "lan", "host", "host/v-net-0", "red"]
    assert hop(r, "host").rewrites[0].startswith("dst 192.168.1.2:40000 -> 192.168.15.1:40000 (conntrack")


# default - the small office


def test_default_laptop_to_web_is_not_reachable_from_the_lan():
    # web (172.17.0.2) is on docker-host's private bridge and publishes no port;
    # the router has no route to 172.17.0.0/16, so it sends the packet to its
    # default gateway (MASQUERADEd out eth2), and the ISP has no route for it.
    t = run("default.yaml", "laptop", "web:80")
    assert t.verdict == "dropped"
    assert "no route to 172.17.0.2 in isp" in t.reason
    assert nodes(t) == ["laptop", "office-lan", "router", "internet", "isp"]
    assert hop(t, "router").rewrites == ["src 192.168.1.10:40000 -> 203.0.113.2:40000 (MASQUERADE)"]


def test_default_laptop_to_docker_host_is_routed_without_nat():
    t = run("default.yaml", "laptop", "docker-host:80")
    assert t.delivered and t.delivered_to == "docker-host"
    assert nodes(t) == ["laptop", "office-lan", "router", "server-net", "docker-host"]
    assert all(not h.rewrites for h in t.hops)
    assert t.reply.delivered and t.reply.delivered_to == "laptop"


def test_default_web_pings_the_internet_through_two_nats():
    t = run("default.yaml", "web", "8.8.8.8", "icmp")
    assert t.verdict == "delivered" and t.delivered_to == "isp"
    assert nodes(t) == ["web", "docker-host/docker0", "docker-host", "server-net", "router", "internet", "isp"]
    assert hop(t, "docker-host").rewrites == ["src 172.17.0.2 -> 10.0.0.10 (MASQUERADE)"]
    assert hop(t, "router").rewrites == ["src 10.0.0.10 -> 203.0.113.2 (MASQUERADE)"]
    assert hop(t, "isp").decision == "local 8.8.8.8 dev lo-public table local proto kernel scope host src 8.8.8.8"
    assert str(final(t).src) == "203.0.113.2" and final(t).ttl == 62
    r = t.reply
    assert r.verdict == "delivered" and r.delivered_to == "web"
    assert nodes(r) == ["isp", "internet", "router", "server-net", "docker-host", "docker-host/docker0", "web"]
    assert hop(r, "router").rewrites[0].startswith("dst 203.0.113.2 -> 10.0.0.10 (conntrack")
    assert hop(r, "docker-host").rewrites[0].startswith("dst 10.0.0.10 -> 172.17.0.2 (conntrack")
    assert str(final(r).dst) == "172.17.0.2"


# -- forwarding, inline ----------------------------------------------------------------------------

TWO_LANS = """\
apiVersion: kubenet/v1
kind: Topology
metadata: {{name: two-lans}}
networks:
- {{name: net-1, cidr: 10.1.0.0/24}}
- {{name: net-2, cidr: 10.2.0.0/24}}
hosts:
- name: a
  interfaces:
  - {{name: eth0, network: net-1, address: 10.1.0.10/24}}
  routes:
  - {{to: default, via: 10.1.0.1}}
- name: r
  forwarding: {forwarding}
  interfaces:
  - {{name: eth0, network: net-1, address: 10.1.0.1/24}}
  - {{name: eth1, network: net-2, address: 10.2.0.1/24}}
- name: b
  interfaces:
  - {{name: eth0, network: net-2, address: 10.2.0.10/24}}
  routes:
  - {{to: default, via: 10.2.0.1}}
"""


def inline(text: str, name: str = "inline.yaml"):
    return compile_topology(load([name], texts={name: text}).topology)


def test_router_with_forwarding_off_drops():
    net = inline(TWO_LANS.format(forwarding="false"))
    t = trace(net, "a", "b")
    assert t.verdict == "dropped"
    assert "forwarding disabled" in t.reason and "10.2.0.10" in t.reason
    assert nodes(t) == ["a", "net-1", "r"]
    # its own addresses it still answers for, on any interface
    assert trace(net, "a", "10.2.0.1").delivered


def test_router_with_forwarding_on_forwards():
    net = inline(TWO_LANS.format(forwarding="true"))
    t = trace(net, "a", "b")
    assert t.delivered and nodes(t) == ["a", "net-1", "r", "net-2", "b"]
    assert t.reply.delivered


# -- determinism -----------------------------------------------------------------------------------

FLOWS = [
    ("01-switch.yaml", "system-a", "system-b", "tcp"),
    ("01-switch.yaml", "system-a", "192.168.1.99", "icmp"),
    ("02-router-gateway.yaml", "laptop", "8.8.8.8", "icmp"),
    ("03-docker-bridge.yaml", "container-a", "server:80", "tcp"),
    ("03-docker-bridge.yaml", "neighbour", "container-a", "tcp"),
    ("03-namespaces-by-hand.yaml", "red", "lan-server:443", "tcp"),
    ("default.yaml", "web", "8.8.8.8", "icmp"),
]


@pytest.mark.parametrize("name, src, dst, proto", FLOWS)
def test_the_same_trace_twice_is_identical(name, src, dst, proto):
    first = run(name, src, dst, proto).to_dict()
    again = run(name, src, dst, proto).to_dict()
    assert first == again
    # and on a network compiled afresh from the file
    fresh = compile_topology(load([str(TOPOLOGIES / name)]).topology)
    assert trace(fresh, src, dst, proto).to_dict() == first
