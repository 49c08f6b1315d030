"""A cluster's nodes are compiled when first asked for; the result is the network compiled all at once.

The eager reference is the old path: :func:`tui.k8s.datapath.augment` (every node whole) compiled by the
builder as a plain topology. Both must agree on every namespace (devices, addresses, routes, rules), on
who answers ARP for every address on every shared segment, and on who owns each address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest

import tui.sim.network as network_module
from tui.k8s.cluster import build_cluster
from tui.k8s.datapath import augment
from tui.load import load
from tui.sim.network import _Builder, compile_topology
from tui.sim.query import trace

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def always_lazy(monkeypatch):
    """Every implicit node left for later, however small the cluster (small ones are compiled whole)."""
    monkeypatch.setattr(network_module, "LAZY_NODES", 0)
CLUSTERS = sorted(p.name for p in (ROOT / "topologies").glob("*.yaml") if p.name.startswith(("04", "05", "06", "07", "08", "09")))


def _eager(topo):
    cluster = build_cluster(topo)
    full = augment(topo, cluster)
    b = _Builder(full, 0)
    for n in full.networks:
        b.segment(n.name, n.kind, None, n.cidr)
    for h in full.hosts:
        b.host(h)
    return b


def _ns_view(ns):
    devs = {d.name: (d.kind, tuple(map(str, d.addresses)), d.mac, d.segment, d.peer, d.master) for d in ns.devices.values()}
    routes = [r.ip_route() for t in ns.tables.tables.values() for r in t.routes()] if hasattr(ns.tables, "tables") else \
        [r.ip_route() for r in ns.tables.main.routes()]
    return ns.kind, ns.host, devs, routes, [r.text for r in ns.netfilter.rules()], ns.forwarding


def _generated(tmp_path, cni: str, services: int = 5) -> list[str]:
    """A generated dump (Node objects only: every node implicit) under a cluster section with ``cni``."""
    from tui.k8s.generate import Params, write

    dump = tmp_path / "dump.json"
    with open(dump, "w") as out:
        write(Params(nodes=4, pods_per_node=5, services=services, seed=1), out)
    extra = "  ipipMode: Always\n" if cni == "calico-ipip" else ""
    cfg = tmp_path / "cluster.yaml"
    cfg.write_text("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: gen}\ncluster:\n  podCIDR: 10.244.0.0/16\n"
                   f"  serviceCIDR: 10.96.0.0/12\n  cni: {cni.split('-')[0]}\n{extra}")
    return [str(cfg), str(dump)]


@pytest.mark.parametrize("name", CLUSTERS + ["gen:bridge", "gen:flannel", "gen:calico", "gen:calico-ipip", "gen:cilium"])
def test_lazy_compile_is_the_eager_compile(name, tmp_path):
    files = _generated(tmp_path, name[4:]) if name.startswith("gen:") else [str(ROOT / "topologies" / name)]
    topo = load(files).topology
    eager = _eager(topo)
    net = compile_topology(topo)
    implicit = [n for n in build_cluster(topo).nodes if topo.host(n) is None]
    assert (net.namespaces.pending() > 0) == bool(implicit), "the implicit nodes are left for later"
    assert set(net.namespaces) == set(eager.namespaces), "every name is known before any node is compiled"
    # ARP on the shared segments, asked before the nodes are compiled
    shared = [s for s in eager.segments.values() if s.kind != "bridge" and "/" not in s.name]
    addresses = {a.ip for ns in eager.namespaces.values() for d in ns.devices.values() for a in d.addresses}
    addresses |= {ipaddress.ip_address("203.0.113.77"), ipaddress.ip_address("10.96.0.10")}
    want_arp = {}
    for seg in shared:
        for ip in addresses:
            want_arp[(seg.name, ip)] = _eager_arp(eager, seg.name, ip)
    fresh = compile_topology(topo)
    for (seg, ip), want in want_arp.items():
        assert fresh.arp(seg, ip) == want, (seg, ip)
    fresh = compile_topology(topo)
    for ip in sorted(addresses, key=str):
        want = sorted(n.name for n in eager.namespaces.values() if ip in n.tables.addresses and not ip.is_loopback)
        assert sorted(fresh.owners(ip)) == want, ip
    # every namespace, compiled one by one
    for n in eager.namespaces:
        assert _ns_view(net.namespaces[n]) == _ns_view(eager.namespaces[n]), n
    assert net.namespaces.pending() == 0
    assert {s: sorted(v.members) for s, v in net.segments.items()} == {s: sorted(v.members) for s, v in eager.segments.items()}


def _eager_arp(b, segment, ip):
    from tui.sim.network import Network

    net = Network(b.topo, b.namespaces, b.segments, b.g, b.problems)
    return net.arp(segment, ip)


def test_a_trace_compiles_only_the_nodes_it_crosses(tmp_path):
    from tui.k8s.generate import Params, write

    f = tmp_path / "c.json"
    with open(f, "w") as out:
        write(Params(nodes=12, pods_per_node=4, services=6, seed=3), out)
    topo = load([str(f)]).topology
    net = compile_topology(topo)
    pods = [p for p in net.cluster.pods if not p.host_network and p.ip is not None]
    a = pods[0]
    b = next(p for p in pods if p.node != a.node)
    assert net.namespaces.pending() == len(net.namespaces) - len(net.namespaces.built())
    before = set(net.lazy.hosts)
    t = trace(net, f"{a.namespace}/{a.name}", str(b.ip), "tcp", 8080)
    compiled = before - set(net.lazy.hosts)
    assert compiled == {a.node, b.node}
    assert t.hops[0].node == f"{a.namespace}/{a.name}"
    whole = compile_topology(replace(topo))
    for n in list(whole.namespaces):
        whole.namespaces[n]
    t2 = trace(whole, f"{a.namespace}/{a.name}", str(b.ip), "tcp", 8080)
    def steps(tr):
        return [(h.node, h.in_, h.out, h.decision, h.rules, h.rewrites, h.notes) for h in tr.hops]

    assert steps(t) == steps(t2)
    assert steps(t.reply) == steps(t2.reply)
    assert (t.verdict, t.reason) == (t2.verdict, t2.reason) == ("delivered", None)


@pytest.mark.parametrize("name", ["05-nodeport.yaml", "06-loadbalancer.yaml", "07-coredns.yaml", "gen:bridge", "gen:calico"])
def test_a_nodes_kube_proxy_chains_are_kube_proxys_whole_table(name, tmp_path):
    """The per-Service chains written when first walked add up to the nat table kube-proxy writes."""
    from tui.k8s.kubeproxy import nat_rules

    files = _generated(tmp_path, name[4:]) if name.startswith("gen:") else [str(ROOT / "topologies" / name)]
    net = compile_topology(load(files).topology)
    for node in net.cluster.nodes:
        ns = net.namespaces[node]
        walked = [r.text for r in ns.netfilter.rules("nat") if r.family == 4]
        assert walked == nat_rules(net.cluster, node, 4)[1], node


def test_kube_proxy_rules_made_from_a_template_are_the_parsed_rules(tmp_path):
    """kube-proxy's cluster-IP, NodePort and no-endpoints rules are made from a first one's parse: field by
    field what parse_rule gives, and nothing more."""
    from dataclasses import replace as evolve

    from tui.k8s import datapath
    from tui.k8s.kubeproxy import filter_rules, nat_rules
    from tui.load.iptables import parse_rule

    lonely = tmp_path / "lonely.yaml"  # Services whose selectors match no pod: REJECTed in the filter table
    lonely.write_text("".join(f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: lonely-{i}, namespace: default}}\n"
                              f"spec: {{selector: {{app: nobody}}, ports: [{{port: {80 + i}, protocol: {proto}}}]}}\n"
                              for i, proto in enumerate(("TCP", "TCP", "UDP"))))
    net = compile_topology(load(_generated(tmp_path, "bridge", services=40) + [str(lonely)]).topology)
    node = next(iter(net.cluster.nodes))
    nat = [x for x in nat_rules(net.cluster, node, 4)[1] if datapath._CLUSTER_IP.match(x) or datapath._NODE_PORT.match(x)]
    assert len(nat) > 5 and any(datapath._NODE_PORT.match(x) for x in nat)
    rejects = [x for x in filter_rules(net.cluster, node, 4)[1] if datapath._NO_ENDPOINTS.match(x)]
    assert len(rejects) >= 3
    datapath._rule.cache_clear()
    datapath._TEMPLATES.clear()
    for table, lines in (("nat", nat), ("filter", rejects)):
        for line in lines:
            made = datapath._rule(line, table, 4)
            parsed = evolve(parse_rule(f"-t {table} {line}"), text=line, family=4)
            assert made == parsed and vars(made) == vars(parsed), line


def test_a_small_cluster_is_compiled_whole(monkeypatch, tmp_path):
    monkeypatch.setattr(network_module, "LAZY_NODES", 32)
    net = compile_topology(load(_generated(tmp_path, "flannel")).topology)
    assert net.namespaces.pending() == 0
    node = next(iter(net.cluster.nodes))
    assert any(n.kind == "pod" for n in net.topology.host(node).namespaces), "its topology lists the nodes whole"


def test_a_walk_reads_only_the_service_rules_its_destination_can_match(tmp_path):
    """KUBE-SERVICES and KUBE-NODEPORTS are walked through an index of (address, protocol, port): for every
    Service address, port and NodePort, and for addresses and ports no Service has, the verdict and the rules
    matched are those of the same rules walked one by one, and only the rules of the Service asked for are written."""
    from tui.sim.netfilter import Netfilter, Run
    from tui.sim.packet import Packet

    net = compile_topology(load(_generated(tmp_path, "bridge", services=60)).topology)
    cluster = net.cluster
    node = sorted(cluster.nodes)[0]
    nf = net.namespaces[node].netfilter
    runs = [r for r in nf._rules if type(r) is Run]
    assert {(r.table, r.chain) for r in runs} == {("nat", "KUBE-SERVICES"), ("nat", "KUBE-NODEPORTS")}
    src = ipaddress.ip_address("10.244.9.9")
    first = next(s for s in cluster.services if s.cluster_ip is not None and s.ports)
    v = nf.run("nat", "PREROUTING", Packet("tcp", src, first.cluster_ip, 40000, first.ports[0].port), _ctx(net, node))
    assert v.target == "DNAT" and sum(len(r._made) for r in runs) <= 2, "one Service port's rules written, not every one"

    whole = Netfilter(tuple(nf.rules()), nf._policies)  # the same rules, every one written, walked in turn
    node_ip = net.namespaces[node].primary_address(4)
    packets = [Packet("udp", src, ipaddress.ip_address("10.96.255.254"), 40000, 53), Packet("icmp", src, first.cluster_ip, 1, 1)]
    kinds = set()
    for s in cluster.services:
        for p in s.ports:
            proto = p.protocol.lower()
            for ip in filter(None, (s.cluster_ip, s.load_balancer_ip)):
                packets += [Packet(proto, src, ip, 40000, p.port), Packet(proto, src, ip, 40000, p.port + 1)]
            if p.node_port:
                packets.append(Packet(proto, src, node_ip, 40000, p.node_port))
            kinds.add(s.type)
    assert {"ClusterIP", "NodePort", "LoadBalancer"} <= kinds and len(packets) > 100
    for pkt in packets:
        for hook in ("PREROUTING", "OUTPUT"):
            lazy, eager = (x.run("nat", hook, pkt, _ctx(net, node)) for x in (nf, whole))
            assert (lazy.target, lazy.rule and lazy.rule.text, [r.text for r in lazy.matched]) == \
                   (eager.target, eager.rule and eager.rule.text, [r.text for r in eager.matched]), (hook, pkt)


def _ctx(net, node):
    from tui.sim.netfilter import MatchContext

    ns = net.namespaces[node]
    return MatchContext(None, None, "NEW", lambda ip: ip in ns.tables.addresses)


def test_a_services_endpoints_are_worked_out_when_first_asked_for(tmp_path):
    """The endpoints controller runs per Service, when one is asked for: loading a cluster runs it for none;
    asking for one Service's port runs it for that Service only; read whole, the endpoints are those of the
    controller run over every Service at once."""
    from tui.k8s import endpoints as endpoints_module

    topo = load(_generated(tmp_path, "bridge", services=30)).topology
    cluster = build_cluster(topo)
    eps = cluster.endpoints
    assert eps._done == {}
    svc = next(s for s in cluster.services if s.selector and s.ports)
    first = eps.get((svc.key, svc.ports[0].name))
    assert first and {k[0] for k in eps._done} == {svc.key}
    whole = endpoints_module._computed(cluster.services, endpoints_module._pod_index(cluster.pods))
    expected = {(s.key, p.name): whole.get((s.key, p.name), []) for s in cluster.services for p in s.ports}
    expected.update(eps._api)
    assert dict(eps.items()) == expected and list(eps) == list(expected)
    assert eps.get(("nowhere/none", "")) is None and ("nowhere/none", "") not in eps


def test_whether_a_port_has_a_ready_endpoint_is_answered_without_making_them(tmp_path):
    """kube-proxy asks every Service port whether it has a ready endpoint: the answer from the selected pods
    (named target ports resolved, pods not ready left out) is the answer the endpoints give."""
    extra = tmp_path / "edge.yaml"
    extra.write_text("""
apiVersion: v1
kind: Namespace
metadata: {name: edge}
---
apiVersion: v1
kind: Pod
metadata: {name: named, namespace: edge, labels: {app: edge}}
spec: {nodeName: node-0001, containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
status: {podIP: 10.128.200.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sleepy, namespace: edge, labels: {app: sleepy}}
spec: {nodeName: node-0001, containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
status: {podIP: 10.128.200.3, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: edge}
spec: {selector: {app: edge}, ports: [{name: web, port: 80, targetPort: web}, {name: api, port: 81, targetPort: api},
       {name: udp, port: 82, targetPort: web, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: sleepy, namespace: edge}
spec: {selector: {app: sleepy}, ports: [{port: 80}]}
""")
    cluster = build_cluster(load(_generated(tmp_path, "bridge", services=30) + [str(extra)]).topology)
    fresh = build_cluster(load(_generated(tmp_path, "bridge", services=30) + [str(extra)]).topology)
    asked = {(s.key, p.name): fresh.endpoints.has_ready(s, p, 4) for s in cluster.services for p in s.ports}
    truth = {(s.key, p.name): any(e.ready and e.ip.version == 4 for e in cluster.endpoints_for(s, p))
             for s in cluster.services for p in s.ports}
    assert asked == truth
    assert (asked[("edge/edge", "web")], asked[("edge/edge", "api")], asked[("edge/edge", "udp")], asked[("edge/sleepy", "")]) \
        == (True, False, False, False)
    assert fresh.endpoints._done == {} or all(k[0] == "default/kubernetes" for k in fresh.endpoints._done)
