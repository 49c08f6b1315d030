"""Each CNI plugin changes the data path, visibly in the trace, on the same two-node workload."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.load import load
from tui.sim.network import compile_topology
from tui.sim.query import trace

TOPO = Path(__file__).resolve().parent.parent / "topologies"
FILES = {"bridge": "04-two-node-cluster.yaml", "flannel": "04-cni-flannel.yaml", "calico": "04-cni-calico.yaml",
         "calico-ipip": "04-cni-calico-ipip.yaml", "cilium": "04-cni-cilium.yaml"}


def net(cni: str):
    return compile_topology(load([str(TOPO / FILES[cni])]).topology)


def routes(n, ns: str) -> list[str]:
    return [r.ip_route() for r in n.namespaces[ns].tables.main.routes()]


@pytest.mark.parametrize("cni", list(FILES))
def test_pod_to_service_to_a_pod_on_the_other_node_under_every_cni(cni):
    t = trace(net(cni), "client", "svc/web", endpoint="10.244.2.2:80")
    assert t.delivered and t.delivered_to == "default/web-b"
    assert t.hops[-1].packet.dst.exploded == "10.244.2.2" and t.hops[-1].packet.src.exploded == "10.244.1.2"
    assert t.reply is not None and t.reply.delivered and t.reply.delivered_to == "default/client"
    assert t.reply.hops[-1].packet.src.exploded == "10.96.0.20"  # the client sees the Service answer


def test_the_same_trace_differs_per_cni_where_the_plugins_differ():
    nodes = {cni: [h.node for h in trace(net(cni), "client", "svc/web", endpoint="10.244.2.2:80").hops] for cni in FILES}
    assert nodes["bridge"] == ["default/client", "node-1/cni0", "node-1", "lan", "node-2", "node-2/cni0", "default/web-b"]
    assert nodes["calico"] == ["default/client", "node-1", "lan", "node-2", "default/web-b"]  # routed veths, no bridge
    assert nodes["flannel"].count("node-1") == 2 and "flannel.1" not in nodes["flannel"]  # the outer packet starts on node-1
    assert nodes["calico-ipip"] == ["default/client", "node-1", "node-1", "lan", "node-2", "node-2", "default/web-b"]
    assert nodes["cilium"] == ["default/client", "node-1", "node-1", "lan", "node-2", "node-2", "default/web-b"]


def test_calico_routes_each_pod_with_a_32_and_learns_the_other_block_by_bgp():
    n = net("calico")
    node = routes(n, "node-1")
    assert "blackhole 10.244.1.0/24 proto bird" in node
    assert "10.244.2.0/24 via 192.168.1.12 dev eth0 proto bird" in node
    cali = [r for r in node if r.startswith("10.244.1.2 dev cali")]
    assert len(cali) == 1 and cali[0].endswith("scope link") and len(cali[0].split()[2]) == 15
    assert routes(n, "default/client") == ["default via 169.254.1.1 dev eth0", "169.254.1.1 dev eth0 scope link"]
    first = trace(n, "client", "web-b").hops[0]
    assert any("proxy ARP" in note for note in first.notes)
    assert not any(k == "bridge" for k in (h.kind for h in trace(n, "client", "web-b").hops))


def test_calico_ipip_wraps_pod_traffic_in_an_outer_ip_header():
    n = net("calico-ipip")
    assert "10.244.2.0/24 via 192.168.1.12 dev tunl0 proto bird onlink" in routes(n, "node-1")
    t = trace(n, "client", "web-b")
    outer = [h for h in t.hops if h.encapsulated is not None]
    assert outer and all(h.packet.proto == "ipip" for h in outer)
    assert (outer[0].packet.src.exploded, outer[0].packet.dst.exploded) == ("192.168.1.11", "192.168.1.12")
    assert outer[0].encapsulated.dst.exploded == "10.244.2.2"
    assert any("IPIP decapsulation" in note for h in t.hops for note in h.notes)


def test_cilium_translates_at_the_socket_and_writes_no_kube_proxy_rules():
    n = net("cilium")
    assert not [r for r in n.namespaces["node-1"].netfilter.rules() if "KUBE-" in r.text]
    t = trace(n, "client", "svc/web", endpoint="10.244.2.2:80")
    first = t.hops[0]
    assert "dst 10.96.0.20:80 -> 10.244.2.2:80 (eBPF socket LB)" in first.rewrites
    assert first.packet.dst.exploded == "10.244.2.2"  # the VIP never leaves the pod
    assert not any("KUBE-" in r for h in t.hops for r in h.rules)
    assert any("socket LB" in rw for rw in t.reply.hops[-1].rewrites)
    vx = [h for h in t.hops if h.encapsulated is not None]
    assert vx and vx[0].packet.dport == 8472


def test_cilium_nodeport_is_translated_by_bpf_host_and_snated_for_a_remote_backend(tmp_path):
    text = (TOPO / FILES["cilium"]).read_text().replace("spec:\n  selector: {app: web}", "spec:\n  type: NodePort\n  selector: {app: web}")
    assert "type: NodePort" in text
    (tmp_path / "np.yaml").write_text(text)
    n = compile_topology(load([str(tmp_path / "np.yaml")]).topology)
    port = next(s for s in n.cluster.services if s.name == "web").ports[0].node_port
    t = trace(n, "internet", f"192.168.1.11:{port}", endpoint="10.244.2.2:80")
    assert t.delivered and t.delivered_to == "default/web-b"
    rw = [r for h in t.hops for r in h.rewrites]
    assert f"dst 192.168.1.11:{port} -> 10.244.2.2:80 (eBPF NodePort DNAT)" in rw
    assert any(r.startswith("src 203.0.113.10:40000 -> 192.168.1.11:40000 (eBPF NodePort SNAT") for r in rw)
    assert t.reply.delivered and t.reply.delivered_to == "internet"
    assert t.reply.hops[-1].packet.src.exploded == "192.168.1.11" and t.reply.hops[-1].packet.sport == port


@pytest.mark.parametrize("cni", ["bridge", "calico"])
def test_the_internet_reaches_a_nodeport_through_the_gateway(cni, tmp_path):
    text = (TOPO / FILES[cni]).read_text().replace("spec:\n  selector: {app: web}", "spec:\n  type: NodePort\n  selector: {app: web}")
    (tmp_path / "np.yaml").write_text(text)
    n = compile_topology(load([str(tmp_path / "np.yaml")]).topology)
    assert [str(a) for a in n.namespaces["gateway"].devices["wan0"].addresses] == ["203.0.113.1/24"]
    port = next(s for s in n.cluster.services if s.name == "web").ports[0].node_port
    t = trace(n, "internet", f"192.168.1.11:{port}", endpoint="10.244.2.2:80")
    assert t.delivered and [h.node for h in t.hops][:4] == ["internet", "internet", "gateway", "lan"]
    assert any("(MASQUERADE)" in r for h in t.hops for r in h.rewrites)  # externalTrafficPolicy Cluster
    assert t.reply.delivered_to == "internet"


def test_a_port_nobody_listens_on_is_dropped_as_closed():
    t = trace(net("bridge"), "client", "web-b:8080")
    assert not t.delivered
    assert t.reason.startswith("port closed: nothing listens on TCP port 8080 in default/web-b (its containers declare 80/TCP)")


def test_the_skb_mark_stays_on_its_host():
    # node-1 marks the connection for masquerade; node-2 must not masquerade it again
    t = trace(net("bridge"), "node-1", "svc/web", endpoint="10.244.2.2:80")
    assert t.delivered and t.hops[-1].packet.src.exploded == "192.168.1.11"
    assert not any("MASQUERADE" in r for h in t.hops if h.node == "node-2" for r in h.rewrites)
    assert t.reply.hops[-1].packet.src.exploded == "10.96.0.20"  # un-DNATed at local delivery
