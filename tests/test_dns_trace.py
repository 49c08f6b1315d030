"""A trace to a name: the pod's resolver, the query's walk to CoreDNS and back, then the connection."""

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
EXT = """apiVersion: kubenet/v1
kind: Topology
metadata: {name: ext}
cluster:
  dns:
    upstream:
      records: ["example.com. 300 IN A 93.184.216.34"]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: example.com}
"""


@pytest.fixture(scope="module")
def net():
    return compile_topology(load([str(TWO)]).topology)


def test_every_cluster_gets_kubeadms_coredns(net):
    dns = [s for s in net.cluster.services if s.cluster_ip == net.topology.cluster.dns_cluster_ip]
    assert [s.key for s in dns] == ["kube-system/kube-dns"]
    pods = [p for p in net.cluster.pods if p.namespace == "kube-system"]
    assert len(pods) == 2 and all(p.name.startswith("coredns-") for p in pods)
    assert sorted(str(e) for e in net.cluster.endpoints[("kube-system/kube-dns", "dns")]) == sorted(f"{p.ip}:53" for p in pods)


def test_a_name_is_resolved_through_kube_proxy_to_coredns_then_connected(net):
    t = trace(net, "client", "web")
    d = t.dns
    assert d is not None and d.tries == [("web.default.svc.cluster.local.", "NOERROR", ["web.default.svc.cluster.local. 30 IN A 10.96.0.20"])]
    assert d.kept == 0 and str(d.address) == "10.96.0.20"
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in d.resolv_conf and "ndots:5" in d.resolv_conf
    ex = d.exchange
    assert ex.delivered and ex.delivered_to.startswith("kube-system/coredns-")
    assert ex.packet.proto == "udp" and str(ex.packet.dst) == "10.96.0.10" and ex.packet.dport == 53
    assert any(rw.startswith("dst 10.96.0.10:53 -> ") and rw.endswith("(DNAT)") for h in ex.hops for rw in h.rewrites)
    assert ex.reply is not None and ex.reply.delivered and str(ex.reply.hops[-1].packet.src) == "10.96.0.10"
    assert t.delivered and t.delivered_to in ("default/web-a", "default/web-b") and str(t.packet.dst) == "10.96.0.20"


def test_the_search_list_is_tried_in_order_for_a_name_with_fewer_dots_than_ndots(net):
    t = trace(net, "client", "web.default.svc.cluster.local:80")
    assert [q for q, _, _ in t.dns.tries] == ["web.default.svc.cluster.local.default.svc.cluster.local.",
                                              "web.default.svc.cluster.local.svc.cluster.local.",
                                              "web.default.svc.cluster.local.cluster.local.", "web.default.svc.cluster.local."]
    assert [rc for _, rc, _ in t.dns.tries] == ["NXDOMAIN"] * 3 + ["NOERROR"] and t.dns.kept == 3
    assert t.delivered


def test_a_pod_name_does_not_resolve_and_the_trace_says_why(net):
    t = trace(net, "client", "web-b.default")
    assert not t.delivered and t.hops == []
    assert t.reason.startswith("DNS: web-b.default does not resolve (NXDOMAIN after 4 tries)")
    assert "there is a pod named web-b, but a pod gets no <pod>.<namespace>.svc name" in t.reason
    assert "A Service named web-b selecting it would make this name" in t.reason


def test_names_of_hosts_and_pods_still_win_and_nodes_do_not_resolve(net):
    assert trace(net, "client", "web-b").dns is None  # the simulator's own name for a pod
    with pytest.raises(QueryError):
        trace(net, "node-1", "web")  # nodes use their own resolver, not the cluster's: give an address


def test_externalname_is_followed_upstream_and_the_pod_is_masqueraded_out():
    n = compile_topology(load(["e.yaml"], texts={"e.yaml": EXT}).topology)
    t = trace(n, "client", "ext:443")
    assert [a for _, _, ans in t.dns.tries for a in ans] == ["ext.default.svc.cluster.local. 30 IN CNAME example.com.",
                                                            "example.com. 300 IN A 93.184.216.34"]
    assert t.delivered and t.delivered_to == "internet"
    assert any(rw.endswith("(MASQUERADE)") and "10.244." in rw for h in t.hops for rw in h.rewrites)  # the CNI's masquerade
    assert t.reply.delivered and t.reply.delivered_to == "default/client"


def test_the_cli_prints_the_resolver_then_the_connection():
    p = subprocess.run([sys.executable, "-m", "tui", "trace", "-f", str(TWO), "--from", "client", "--to", "web"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "dns: web (A) from the pod's resolv.conf: search default.svc.cluster.local" in out
    assert "  try 1  web.default.svc.cluster.local. A: NOERROR  <- kept" in out
    assert out.index("query: DELIVERED to kube-system/coredns-") < out.index("answer: DELIVERED to default/client") < out.index("DELIVERED to default/web-")
