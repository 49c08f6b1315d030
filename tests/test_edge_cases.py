"""Unusual but valid inputs: each gets a faithful answer or a clear message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.load import LoadError, load
from tui.sim.network import compile_topology
from tui.sim.query import QueryError, trace

TOPO = Path(__file__).resolve().parent.parent / "topologies"


def net_of(text: str):
    return compile_topology(load(["t.yaml"], texts={"t.yaml": text}).topology)


def test_cilium_programs_run_on_the_nodes_only():
    n = compile_topology(load([str(TOPO / "04-cni-cilium.yaml")]).topology)
    t = trace(n, "internet", "10.96.0.20:80")
    assert not any("socket LB" in x for h in t.hops for x in h.notes + h.rewrites)  # the internet has no Cilium


DUAL = (TOPO / "04-dual-stack.yaml").read_text()


def test_dual_stack_pods_talk_ipv6_without_nat_under_the_bridge_plugin():
    t = trace(net_of(DUAL), "client", "[fd00:10:244:1::2]:80")
    assert t.delivered and not any("MASQUERADE" in rw for h in t.hops for rw in h.rewrites)
    assert str(t.hops[-1].packet.src) == "fd00:10:244::2"


def test_a_cilium_ipv6_nodeport_goes_to_an_ipv6_backend():
    text = DUAL.replace("  serviceCIDR: 10.96.0.0/12,fd00:10:96::/112\n", "  serviceCIDR: 10.96.0.0/12,fd00:10:96::/112\n  cni: cilium\n")
    text = text.replace("  ipFamilyPolicy: PreferDualStack\n", "  type: NodePort\n  ipFamilyPolicy: PreferDualStack\n")
    n = net_of(text)
    port = next(s for s in n.cluster.services if s.name == "web").ports[0].node_port
    node2 = n.cluster.nodes["n2"].internal_ip6
    t = trace(n, "n1", f"[{node2}]:{port}")
    assert t.delivered and t.hops[-1].packet.dst.version == 6
    assert any(r.startswith("bpf lb6_services") for h in t.hops for r in h.rules)


def test_a_pod_whose_dns_settings_kubelet_refuses_gives_a_clear_trace_error(tmp_path):
    (tmp_path / "p.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
                                     "spec: {dnsPolicy: None, containers: [{name: c, image: busybox}]}\n")
    p = subprocess.run([sys.executable, "-m", "tui", "trace", "-f", str(tmp_path / "p.yaml"), "--from", "a", "--to", "kubernetes.default"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "kubernetes.default cannot be resolved from default/a" in p.stderr and "dnsConfig" in p.stderr


def test_an_exhausted_pod_cidr_is_a_warning_and_the_nodes_pods_stay_pending():
    text = ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDR: 10.244.0.0/24, nodeCIDRMaskSize: 24}\n---\n"
            "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: b}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: b, containers: [{name: c, image: x}]}\n")
    loaded = load(["t.yaml"], texts={"t.yaml": text})
    assert [w.message.split(":")[0] for w in loaded.warnings if w.severity == "warning"] == ["node b gets no pod CIDR"]
    n = compile_topology(loaded.topology)
    assert next(p for p in n.cluster.pods if p.name == "p").ip is None and "default/p" not in n.namespaces


def test_an_ipv6_first_cluster_is_a_located_error():
    text = 'apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDR: "fd00::/56,10.244.0.0/16"}\n'
    with pytest.raises(LoadError) as e:
        load(["t.yaml"], texts={"t.yaml": text})
    assert any(p.path == "cluster.podCIDR" and "give the IPv4 CIDR first" in p.message for p in e.value.problems)


def test_a_container_named_internet_keeps_its_name_and_no_external_client_is_added():
    text = ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\nnetworks: [{name: lan, cidr: 192.168.1.0/24}]\n"
            "hosts:\n- name: dh\n  interfaces: [{name: eth0, network: lan, address: 192.168.1.5/24}]\n"
            "  docker: {}\n  containers: [{name: internet}]\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n")
    n = net_of(text)
    assert n.namespaces["internet"].kind == "container"


def test_a_host_network_pod_is_its_nodes_namespace():
    n = compile_topology(load([str(Path(__file__).parent / "data" / "dumps" / "kind-dump.yaml")]).topology)
    t = trace(n, "kube-system/etcd-kind-control-plane", "svc/web.shop")
    assert t.delivered and t.source == "kind-control-plane"
    with pytest.raises(QueryError):
        trace(n, "kube-system/no-such-pod", "svc/web.shop")
