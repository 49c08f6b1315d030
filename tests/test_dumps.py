"""A real cluster's dump (`kubectl get -A -o yaml|json` over most kinds) loads as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.k8s.cluster import build_cluster
from tui.load import load
from tui.sim.network import compile_topology
from tui.sim.query import trace

DUMPS = Path(__file__).resolve().parent / "data" / "dumps"
YAML = DUMPS / "kind-dump.yaml"


@pytest.mark.parametrize("name", ["kind-dump.yaml", "kind-dump.json"])
def test_a_real_dump_loads_with_notes_for_the_kinds_not_simulated(name):
    loaded = load([str(DUMPS / name)])
    notes = [w for w in loaded.warnings if w.severity == "note"]
    skipped = {w.message.split(" is not used")[0].split(" are not used")[0] for w in notes}
    assert "rbac.authorization.k8s.io/v1 ClusterRole" in skipped
    assert "v1 Event" in skipped and "events.k8s.io/v1 Event" in skipped and "v1 ComponentStatus" in skipped
    assert "v1 ConfigMap" in skipped  # kube-root-ca.crt; CoreDNS's own ConfigMap is used, so not noted
    assert all(w.severity == "note" for w in loaded.warnings)
    assert all(n.mark.line > 1 and n.path == "kind" for n in notes)


def test_controllers_already_present_in_the_dump_add_no_pods():
    cluster = build_cluster(load([str(YAML)]).topology)
    names = sorted(f"{p.namespace}/{p.name}" for p in cluster.pods)
    assert len(names) == 16 and len(set(names)) == 16
    assert "shop/web-6d4cf56db6-x7k2p" in names and "shop/api-0" in names
    assert not any(n.startswith("shop/web-") and n not in ("shop/web-6d4cf56db6-x7k2p", "shop/web-6d4cf56db6-q9r4t") for n in names)
    web = next(s for s in cluster.services if s.key == "shop/web")
    assert sorted(str(e) for e in cluster.endpoints[("shop/web", "http")]) == ["10.244.1.2:8080", "10.244.2.2:8080"]
    assert web.ports[0].node_port == 31380


def test_a_pod_reaches_a_service_on_another_node_in_the_dump():
    net = compile_topology(load([str(YAML)]).topology)
    t = trace(net, "shop/api-0", "svc/web.shop", endpoint="10.244.2.2:8080")
    assert t.delivered and t.delivered_to == "shop/web-6d4cf56db6-q9r4t"
    assert t.reply is not None and t.reply.delivered and t.reply.hops[-1].packet.src.exploded == "10.96.45.12"


def test_a_bare_dump_with_other_ranges_has_them_inferred(tmp_path):
    text = YAML.read_text().replace("10.244.", "10.42.").replace("10.96.", "10.43.")
    (tmp_path / "k3s.yaml").write_text(text)
    topo = load([str(tmp_path / "k3s.yaml")]).topology
    assert (str(topo.cluster.pod_cidr), str(topo.cluster.service_cidr)) == ("10.42.0.0/16", "10.43.0.0/16")
    assert str(topo.cluster.dns_cluster_ip) == "10.43.0.10" and topo.cluster.node_cidr_mask_size == 24
    t = trace(compile_topology(topo), "shop/api-0", "svc/web.shop")
    assert t.delivered


def test_a_declared_cluster_section_makes_objects_outside_it_errors(tmp_path):
    text = YAML.read_text().replace("10.244.", "10.42.")
    topo = "apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDR: 10.244.0.0/16}\n---\n"
    (tmp_path / "d.yaml").write_text(topo + text)
    p = subprocess.run([sys.executable, "-m", "tui", "check", "-f", str(tmp_path / "d.yaml")], capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "spec.podCIDR: 10.42.0.0/24 is not inside the cluster's pod CIDR 10.244.0.0/16" in p.stderr


def test_cordoned_or_tainted_nodes_get_no_scheduled_pods(tmp_path):
    (tmp_path / "t.yaml").write_text("""
apiVersion: v1
kind: Node
metadata: {name: cp}
spec: {taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]}
---
apiVersion: v1
kind: Node
metadata: {name: w1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      tolerations: [{operator: Exists}]
      containers: [{name: c, image: agent}]
""")
    cluster = build_cluster(load([str(tmp_path / "t.yaml")]).topology)
    web = [p.node for p in cluster.pods if p.name.startswith("web-")]
    agents = sorted(p.node for p in cluster.pods if p.name.startswith("agent-"))
    assert web == ["w1", "w1", "w1"]
    assert agents == ["cp", "w1"]  # tolerates everything, so it runs on the control plane too


def test_namespaces_are_built_in_declared_or_implied_and_labelled_with_their_name():
    cluster = build_cluster(load([str(YAML)]).topology)
    assert list(cluster.namespaces) == ["default", "kube-node-lease", "kube-public", "kube-system", "local-path-storage", "shop"]
    assert cluster.namespaces["shop"] == {"kubernetes.io/metadata.name": "shop"}


def test_an_object_in_an_undeclared_namespace_is_refused_when_namespaces_are_declared(tmp_path):
    (tmp_path / "n.yaml").write_text("""apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shpo}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: q, namespace: kube-system}
spec: {containers: [{name: c, image: nginx}]}
""")
    p = subprocess.run([sys.executable, "-m", "tui", "check", "-f", str(tmp_path / "n.yaml")], capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert f"{tmp_path / 'n.yaml'}:7:32: error: metadata.namespace: namespace \"shpo\" not found (did you mean \"shop\"?)" in p.stderr
    assert p.stderr.count("error:") == 1  # kube-system always exists
