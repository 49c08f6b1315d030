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


WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: agent}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 10.0.0.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: InternalIP, address: 10.0.0.12}]}
"""


def test_workloads_expand_into_pods_named_as_their_controllers_name_them():
    from tui.k8s.cluster import build_cluster

    c = build_cluster(load(["w.yaml"], texts={"w.yaml": WORKLOADS}).topology)
    names = sorted(p.name for p in c.pods)
    web = [n for n in names if n.startswith("web-")]
    assert len(web) == 3 and len({n.rsplit("-", 1)[0] for n in web}) == 1  # one ReplicaSet web-<hash>
    assert all(len(n.split("-")[2]) == 5 and set(n.split("-")[1] + n.split("-")[2]) <= set("bcdfghjklmnpqrstvwxz2456789") for n in web)
    assert {"db-0", "db-1"} <= set(names)
    agents = [p for p in c.pods if p.name.startswith("agent-")]
    assert sorted(p.node for p in agents) == ["node-a", "node-b"]  # one per node
    assert names == sorted(p.name for p in build_cluster(load(["w.yaml"], texts={"w.yaml": WORKLOADS}).topology).pods)  # deterministic
    assert all(p.ip is not None and p.ip in c.pod_cidrs[p.node] for p in c.pods)


def test_api_server_allocates_cluster_ips_node_ports_and_default_kubernetes():
    from tui.k8s.cluster import build_cluster

    c = build_cluster(load(["w.yaml"], texts={"w.yaml": WORKLOADS}).topology)
    svcs = {s.key: s for s in c.services}
    assert str(svcs["default/kubernetes"].cluster_ip) == "10.96.0.1"
    assert [str(e) for e in c.endpoints_for(svcs["default/kubernetes"], svcs["default/kubernetes"].ports[0])] == ["10.0.0.11:6443"]
    assert str(svcs["default/web"].cluster_ip) == "10.96.0.11"
    assert svcs["default/web"].ports[0].node_port == 30000


def test_nodeport_from_another_node_is_dnated_masqueraded_and_answered():
    n = compile_topology(load(["w.yaml"], texts={"w.yaml": WORKLOADS}).topology)
    t = trace(n, "node-b", "10.0.0.11:30000")
    assert t.delivered and t.delivered_to.startswith("default/web-")
    node_a = next(h for h in t.hops if h.node == "node-a")
    assert any("KUBE-NODEPORTS" in r for r in node_a.rules) and any("MASQUERADE" in r for r in node_a.rules)
    assert any(r.startswith("src 10.0.0.12:40000 -> ") and "MASQUERADE" in r for r in node_a.rewrites)
    last = t.reply.hops[-1]
    assert t.reply.delivered and last.node == "node-b"
    assert (str(last.packet.src), last.packet.sport) == ("10.0.0.11", 30000)  # the client sees the NodePort answer


def test_endpoint_can_be_picked_and_a_wrong_one_is_refused(net):
    assert trace(net, "client", "svc/web", endpoint="10.244.1.3:80").delivered_to == "default/web-a"
    assert trace(net, "client", "svc/web", endpoint="10.244.2.2:80").delivered_to == "default/web-b"
    with pytest.raises(QueryError, match="not an endpoint"):
        trace(net, "client", "svc/web", endpoint="10.1.1.1:80")
    with pytest.raises(QueryError, match="met no Service"):
        trace(net, "client", "web-b:80", endpoint="10.244.2.2:80")


def test_flannel_carries_pod_traffic_inside_vxlan_and_unwraps_it_on_the_far_node():
    n = compile_topology(load([str(ROOT / "topologies" / "04-cni-flannel.yaml")]).topology)
    node1 = [r.ip_route() for r in n.namespaces["node-1"].tables.main.routes()]
    assert "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in node1
    assert n.namespaces["node-1"].devices["flannel.1"].vxlan == (1, 8472)
    t = trace(n, "client", "web-b:80")
    assert t.delivered and t.delivered_to == "default/web-b"
    outer = [h for h in t.hops if h.encapsulated is not None]
    assert [h.node for h in outer] == ["node-1", "lan", "node-2"]
    assert all(h.packet.proto == "udp" and h.packet.dport == 8472 for h in outer)
    assert {(str(h.packet.src), str(h.packet.dst)) for h in outer} == {("192.168.1.11", "192.168.1.12")}
    assert all(str(h.encapsulated.src) == "10.244.1.2" and str(h.encapsulated.dst) == "10.244.2.2" for h in outer)
    after = t.hops[t.hops.index(outer[-1]) + 1]
    assert (after.node, after.in_, after.out) == ("node-2", "flannel.1", "cni0")
    assert t.reply.delivered and any(h.encapsulated is not None for h in t.reply.hops)
    # the bridge plugin's trace of the same flow has no outer packet
    plain = trace(compile_topology(load([str(TWO)]).topology), "client", "web-b:80")
    assert not any(h.encapsulated is not None for h in plain.hops)


def test_load_balancer_forwards_its_external_ip_to_a_nodeport_and_back():
    n = compile_topology(load([str(ROOT / "topologies" / "06-loadbalancer.yaml")]).topology)
    svc = next(s for s in n.cluster.services if s.name == "web")
    assert str(svc.load_balancer_ip) == "192.168.1.241" and svc.ports[0].node_port == 30000
    t = trace(n, "laptop", "192.168.1.241:80")
    assert t.delivered and t.delivered_to.startswith("default/web-")
    lb = next(h for h in t.hops if h.node == "load-balancer")
    assert lb.rewrites[0].startswith("dst 192.168.1.241:80 -> 192.168.1.1") and ":30000 (DNAT)" in lb.rewrites[0]
    assert any("MASQUERADE" in r for r in lb.rewrites)
    node = t.hops[t.hops.index(lb) + 2]
    assert node.node in ("node-1", "node-2") and any("KUBE-NODEPORTS" in r for r in node.rules)
    last = t.reply.hops[-1]
    assert t.reply.delivered and last.node == "laptop" and (str(last.packet.src), last.packet.sport) == ("192.168.1.241", 80)
    # from inside the cluster kube-proxy's "loadbalancer IP" rule takes the packet before it leaves the node
    inside = trace(n, "client", "192.168.1.241:80")
    assert inside.delivered and all(h.node != "load-balancer" for h in inside.hops)
    assert any("loadbalancer IP" in r for h in inside.hops for r in h.rules)
