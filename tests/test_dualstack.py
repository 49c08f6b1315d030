"""Dual-stack clusters: two pod CIDRs and two service CIDRs, as kube-apiserver's flags take them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui.load import LoadError, load
from tui.sim.network import compile_topology
from tui.sim.query import trace

TOPO = """apiVersion: kubenet/v1
kind: Topology
metadata: {name: ds}
cluster:
  podCIDR: 10.244.0.0/16,fd00:10:244::/56
  serviceCIDR: 10.96.0.0/12,fd00:10:96::/112
---
apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: n1, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {nodeName: n2, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: single}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


@pytest.fixture(scope="module")
def net():
    return compile_topology(load(["ds.yaml"], texts={"ds.yaml": TOPO}).topology)


def test_both_families_are_read_and_carved_per_node(net):
    cfg = net.topology.cluster
    assert [str(c) for c in cfg.pod_cidrs] == ["10.244.0.0/16", "fd00:10:244::/56"]
    assert [str(c) for c in cfg.service_cidrs] == ["10.96.0.0/12", "fd00:10:96::/112"]
    assert {n: str(c) for n, c in net.cluster.pod_cidrs6.items()} == {"n1": "fd00:10:244::/64", "n2": "fd00:10:244:1::/64"}
    client = net.namespaces["default/client"]
    assert [str(a) for a in client.devices["eth0"].addresses] == ["10.244.0.2/24", "fd00:10:244::2/64"]
    assert "default via fd00:10:244::1 dev eth0 metric 1024" in [r.ip_route() for r in client.tables.main.routes()]
    assert "fd00:10:244:1::/64 via fd00::ffff:0:0:c0a8:640c dev eth0 metric 1024" in [
        r.ip_route() for r in net.namespaces["n1"].tables.main.routes()]


def test_services_get_a_cluster_ip_per_family_as_their_policy_asks(net):
    svcs = {s.name: s for s in net.cluster.services}
    assert [str(ip) for ip in svcs["web"].cluster_ips] == ["10.96.0.12", "fd00:10:96::b"]
    assert [str(ip) for ip in svcs["single"].cluster_ips] == ["10.96.0.11"]
    assert sorted(str(e) for e in net.cluster.endpoints[("default/web", "")]) == ["10.244.1.2:80", "[fd00:10:244:1::2]:80"]


def test_ipv6_pod_to_pod_crosses_nodes(net):
    t = trace(net, "client", "[fd00:10:244:1::2]:80")
    assert t.delivered and t.delivered_to == "default/web"
    assert t.hops[0].packet.src.exploded.startswith("fd00:0010:0244:0000")
    assert t.reply.delivered


def test_ipv6_service_is_dnated_to_an_ipv6_endpoint(net):
    t = trace(net, "client", "[fd00:10:96::b]:80")
    assert t.delivered and t.delivered_to == "default/web"
    assert t.hops[-1].packet.dst.exploded == "fd00:0010:0244:0001:0000:0000:0000:0002"
    assert t.reply.hops[-1].packet.src.compressed == "fd00:10:96::b"


@pytest.mark.parametrize("value, message", [
    ("10.244.0.0/16,10.245.0.0/16", "a dual-stack pair is one IPv4 and one IPv6 CIDR, not two IPv4 ones"),
    ("10.244.0.0/16,fd00::/56,fd01::/56", "at most two CIDRs"),
])
def test_bad_cidr_lists_are_located_errors(value, message):
    text = TOPO.replace("podCIDR: 10.244.0.0/16,fd00:10:244::/56", f"podCIDR: {value}")
    with pytest.raises(LoadError) as e:
        load(["ds.yaml"], texts={"ds.yaml": text})
    assert any(p.path == "cluster.podCIDR" and message in p.message and p.mark.line == 5 for p in e.value.problems)


def test_require_dual_stack_on_a_single_stack_cluster_is_refused(tmp_path):
    text = TOPO.replace(",fd00:10:244::/56", "").replace(",fd00:10:96::/112", "").replace("PreferDualStack", "RequireDualStack")
    (tmp_path / "s.yaml").write_text(text)
    p = subprocess.run([sys.executable, "-m", "tui", "check", "-f", str(tmp_path / "s.yaml")], capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert f"{tmp_path / 's.yaml'}:30:19:" in p.stderr and "spec.ipFamilyPolicy: RequireDualStack needs a dual-stack cluster" in p.stderr


@pytest.mark.parametrize("cni", ["flannel", "cilium"])
def test_ipv6_service_to_a_pod_on_the_other_node_through_the_overlay(cni):
    text = TOPO.replace("  serviceCIDR: 10.96.0.0/12,fd00:10:96::/112\n", f"  serviceCIDR: 10.96.0.0/12,fd00:10:96::/112\n  cni: {cni}\n")
    n = compile_topology(load(["ds.yaml"], texts={"ds.yaml": text}).topology)
    t = trace(n, "client", "[fd00:10:96::b]:80")
    assert t.delivered and t.delivered_to == "default/web"
    outer = [h for h in t.hops if h.encapsulated is not None]
    assert outer and outer[0].packet.dport == 8472 and outer[0].encapsulated.dst.version == 6
    assert t.reply.delivered and t.reply.hops[-1].packet.src.compressed == "fd00:10:96::b"
    assert any("[fd00:10:96::b]:80" in rw for h in t.reply.hops for rw in h.rewrites)
