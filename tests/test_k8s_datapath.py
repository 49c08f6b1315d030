"""The cluster's data path: pods on nodes, the bridge CNI, kube-proxy's DNAT, and the replies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.load import load
from tui.sim.network import compile_topology
from tui.sim.query import QueryError, trace

ROOT = Path(__file__).resolve().parent.parent
TWO = ROOT / "topologies" / "04-two-node-cluster.yaml"


@pytest.fixture(scope="module")
def net():
    return compile_topology(load([str(TWO)]).topology)


def test_pods_get_namespaces_addresses_and_routes_from_their_node(net):
    assert net.namespaces["default/client"].kind == "pod"
    client = net.namespaces["default/client"]
    assert [str(a) for a in client.devices["eth0"].addresses] == ["10.244.1.2/24"]
    assert [r.ip_route() for r in client.tables.main.routes()] == [
        "default via 10.244.1.1 dev eth0", "10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.2"]
    node = [r.ip_route() for r in net.namespaces["node-1"].tables.main.routes()]
    assert "10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1" in node
    assert "10.244.2.0/24 via 192.168.1.12 dev eth0" in node  # host-gw: the other node's pods via its IP
    assert net.namespaces["node-1"].forwarding and net.namespaces["node-1"].bridge_netfilter


def test_pod_to_pod_on_another_node_is_routed_without_nat(net):
    t = trace(net, "client", "web-b:80")
    assert t.delivered and t.delivered_to == "default/web-b"
    assert [h.node for h in t.hops] == ["default/client", "node-1/cni0", "node-1", "lan", "node-2", "node-2/cni0", "default/web-b"]
    assert all(not h.rewrites for h in t.hops)
    assert t.hops[-1].packet.src.exploded == "10.244.1.2"


def test_pod_to_service_is_dnated_by_kube_proxy_and_the_reply_undone(net):
    t = trace(net, "default/client", "svc/web")
    assert t.delivered and t.delivered_to in ("default/web-a", "default/web-b")
    node1 = t.hops[2]
    assert node1.node == "node-1"
    assert any("-j KUBE-SERVICES" in r for r in node1.rules)
    assert any(r.startswith("nat -A KUBE-SVC-") and "default/web:http ->" in r for r in node1.rules)
    assert any("-j DNAT --to-destination" in r for r in node1.rules)
    assert node1.rewrites[0].startswith("dst 10.96.0.20:80 -> 10.244.")
    reply_last = t.reply.hops[-1]
    assert t.reply.delivered and reply_last.node == "default/client"
    assert str(reply_last.packet.src) == "10.96.0.20" and reply_last.packet.sport == 80  # the client sees the Service answer


def test_both_endpoints_are_reachable_and_choice_is_deterministic(tmp_path):
    text = TWO.read_text()
    chosen = set()
    for seed in range(12):
        n = compile_topology(load([str(TWO)]).topology, seed=seed)
        chosen.add(trace(n, "client", "svc/web").delivered_to)
    assert chosen == {"default/web-a", "default/web-b"}
    n = compile_topology(load(["t.yaml"], texts={"t.yaml": text}).topology, seed=3)
    assert trace(n, "client", "svc/web").to_dict() == trace(n, "client", "svc/web").to_dict()


def test_same_node_service_reply_is_un_dnated_on_the_bridge():
    for seed in range(12):
        n = compile_topology(load([str(TWO)]).topology, seed=seed)
        t = trace(n, "client", "svc/web")
        if t.delivered_to == "default/web-a":
            break
    else:
        pytest.fail("web-a never chosen")
    assert [h.node for h in t.reply.hops] == ["default/web-a", "node-1/cni0", "default/client"]
    assert str(t.reply.hops[-1].packet.src) == "10.96.0.20"
    assert any("conntrack on the bridge" in r for r in t.reply.hops[1].rewrites)


def test_service_without_endpoints_is_rejected_with_the_reason():
    extra = "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: none}\nspec: {selector: {app: nobody}, clusterIP: 10.96.0.30, ports: [{port: 80}]}\n"
    n = compile_topology(load(["t.yaml"], texts={"t.yaml": TWO.read_text() + extra}).topology)
    t = trace(n, "client", "svc/none")
    assert t.verdict == "dropped" and t.reason.startswith("no endpoints: Service default/none")


def test_unknown_service_and_headless_are_clear_errors(net):
    with pytest.raises(QueryError, match='no Service "default/wbe"'):
        trace(net, "client", "svc/wbe")


def test_iptables_command_prints_the_nodes_nat_table():
    p = subprocess.run([sys.executable, "-m", "tui", "iptables", "-f", str(TWO), "node-2"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("*nat\n:PREROUTING ACCEPT [0:0]")
    assert '-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVC-' in p.stdout
    assert p.stdout.rstrip().endswith("COMMIT")
    bad = subprocess.run([sys.executable, "-m", "tui", "iptables", "-f", str(TWO), "node-3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and 'no node "node-3" (did you mean' in bad.stderr


def test_a_bare_pod_dump_gets_a_node_and_addresses():
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: x}}\nspec: {containers: [{name: c, image: i}]}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: i}]}\n")
    n = compile_topology(load(["p.yaml"], texts={"p.yaml": text}).topology)
    assert "node-1" in n.namespaces and {"default/a", "default/b"} <= set(n.namespaces)
    t = trace(n, "a", "b", "icmp")
    assert t.delivered and t.reply.delivered
