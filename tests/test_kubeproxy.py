"""kube-proxy's iptables rules: chain names and rule text as upstream writes them.

The reference cases in tests/data/kubeproxy come from upstream kube-proxy's own
tests (pkg/proxy/iptables/proxier_test.go) and public cluster dumps.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tui.k8s.cluster import build_cluster
from tui.k8s.kubeproxy import iptables_save, nat_rules, sep_chain, svc_chain
from tui.load import load

DATA = Path(__file__).resolve().parent / "data" / "kubeproxy"
CASES = yaml.safe_load((DATA / "cases.yaml").read_text())["cases"]
RULESETS = yaml.safe_load((DATA / "rulesets.yaml").read_text())["rule_sets"]


def world(ns, name, cip, ports, endpoints, stype="ClusterIP"):
    docs = [
        {"apiVersion": "kubenet/v1", "kind": "Topology", "metadata": {"name": "kp"},
         "cluster": {"podCIDR": "10.0.0.0/8", "serviceCIDR": "172.30.0.0/16"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.99.0.0/24"},
         "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.11"}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
         "spec": {"type": stype, "clusterIP": cip, "ports": [{**({"name": p["name"]} if p["name"] else {}), "port": p["port"],
                                                               "protocol": p["protocol"], "targetPort": p["target"],
                                                               **({"nodePort": p["nodePort"]} if "nodePort" in p else {})} for p in ports]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": f"{name}-abcde", "namespace": ns, "labels": {"kubernetes.io/service-name": name}},
         "addressType": "IPv4", "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip, _ in endpoints],
         "ports": [{**({"name": p["name"]} if p["name"] else {}), "port": p["target"], "protocol": p["protocol"]} for p in ports]},
    ]
    text = yaml.safe_dump_all(docs, sort_keys=False)
    return build_cluster(load(["w.yaml"], texts={"w.yaml": text}).topology)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_chain_names_are_upstreams(case):
    proto = case["protocol"].lower()
    spn = case["service_port_name_string"]
    assert svc_chain(spn, proto) == case["expected_svc_chain"]
    assert sep_chain(spn, proto, case["endpoint"]) == case["expected_sep_chain"]
    for prefix, name in case["expected_other_chains"].items():
        assert svc_chain(spn, proto, prefix + "-") == name


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_chain_names_in_the_nodes_rules(case):
    ns, name = case["service"].split("/")
    ip, port = case["endpoint"].rsplit(":", 1)
    cluster = world(ns, name, "172.30.0.50", [{"name": case["port_name"], "port": 80, "protocol": case["protocol"], "target": int(port)}],
                    [(ip, int(port))])
    text = iptables_save(cluster, "node-1")
    assert f"-j {case['expected_svc_chain']}" in text
    assert f":{case['expected_sep_chain']} - [0:0]" in text


@pytest.mark.parametrize("rs", RULESETS, ids=[r["id"] for r in RULESETS])
def test_rule_sets_equal_upstreams(rs):
    s = rs["inputs"]["service"]
    eps = [(e.rsplit(":", 1)[0], int(e.rsplit(":", 1)[1])) for e in rs["inputs"]["endpoints"]]
    cluster = world(s["namespace"], s["name"], s["clusterIP"],
                    [{"name": q["name"], "port": q["port"], "protocol": q["protocol"], "target": eps[0][1]} for q in s["ports"]], eps)
    _, rules = nat_rules(cluster, "node-1")
    norm = lambda line: re.sub(r"\s+", " ", line.strip())  # noqa: E731
    for chain, expected in rs["expected_nat_rules"].items():
        got = [norm(r) for r in rules if r.split()[1] == chain and "KUBE-NODEPORTS" not in r]
        want = [norm(r) for r in expected if "KUBE-NODEPORTS" not in r]
        assert [g for g in got if g in want] == want, chain  # present, and in upstream's order


def test_probability_split_over_three_endpoints_and_nodeport_chain():
    cluster = world("default", "web", "172.30.0.20", [{"name": "", "port": 80, "protocol": "TCP", "target": 8080, "nodePort": 30080}],
                    [("10.244.1.2", 8080), ("10.244.1.3", 8080), ("10.244.1.4", 8080)], stype="NodePort")
    _, rules = nat_rules(cluster, "node-1")
    svc = svc_chain("default/web", "tcp")
    stats = [re.search(r"--probability (\S+)", r) for r in rules if r.startswith(f"-A {svc} ") and "KUBE-SEP" in r]
    assert [m.group(1) if m else None for m in stats] == ["0.3333333333", "0.5000000000", None]
    ext = svc_chain("default/web", "tcp", "KUBE-EXT-")
    assert f"-A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp --dport 30080 -j {ext}" in rules
    assert rules.index(f"-A {ext} -j {svc}") > rules.index(
        f'-A {ext} -m comment --comment "masquerade traffic for default/web external destinations" -j KUBE-MARK-MASQ')
    # The nodeports jump stays the last rule of KUBE-SERVICES.
    services = [r for r in rules if r.startswith("-A KUBE-SERVICES ")]
    assert "KUBE-NODEPORTS" in services[-1]


def test_endpoints_from_selectors_resolve_named_ports_and_skip_unready_pods():
    text = """
apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.244.1.2}
---
apiVersion: v1
kind: Pod
metadata: {name: b, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]}
status: {podIP: 10.244.1.3, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, labels: {app: other}}
spec: {nodeName: n1}
status: {podIP: 10.244.1.4}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, clusterIP: 10.96.0.20, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: none}
spec: {selector: {app: nobody}, clusterIP: 10.96.0.30, ports: [{port: 80}]}
"""
    cluster = build_cluster(load(["p.yaml"], texts={"p.yaml": text}).topology)
    web = next(s for s in cluster.services if s.name == "web")
    eps = cluster.endpoints_for(web, web.ports[0])
    assert [(str(e), e.ready) for e in eps] == [("10.244.1.2:8080", True), ("10.244.1.3:9090", False)]
    save = iptables_save(cluster, "n1", ("filter", "nat"))
    assert "--to-destination 10.244.1.2:8080" in save and "10.244.1.3:9090" not in save  # unready: no KUBE-SEP
    assert '"default/none has no endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j REJECT' in save
