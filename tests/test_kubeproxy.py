"""kube-proxy's iptables rules: chain names and rule text as upstream writes them.

The reference cases in tests/data/kubeproxy come from upstream kube-proxy's own
tests (pkg/proxy/iptables/proxier_test.go) and public cluster dumps.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
import yaml

from tui.k8s.cluster import build_cluster
from tui.k8s.kubeproxy import filter_rules, iptables_save, nat_rules, sep_chain, svc_chain
from tui.load import load
from tui.load.iptables import RuleError, parse_rule
from tui.sim.netfilter import MatchContext, kube_proxy_reason, matches
from tui.sim.network import compile_topology
from tui.sim.packet import Packet
from tui.sim.query import trace
from tui.sim.trace import Walker

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


# -- traffic policies and session affinity ---------------------------------------------------

POLICIES = yaml.safe_load((DATA / "policies.yaml").read_text())["cases"]
SHARED_CHAINS = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES")


def policy_world(s: dict, endpoints: list[dict], extra_spec: dict | None = None):
    """One node (node-1, upstream's testHostname), the Service, and an EndpointSlice whose endpoints may name a node."""
    ports = [{**({"name": p["name"]} if p.get("name") else {}), "port": p["port"], "protocol": p["protocol"],
              **({"nodePort": p["nodePort"]} if "nodePort" in p and s.get("type", "ClusterIP") != "ClusterIP" else {})}
             for p in s["ports"]]
    spec = {"type": s.get("type", "ClusterIP"), "clusterIP": s["clusterIP"], "ports": ports}
    for key in ("externalTrafficPolicy", "internalTrafficPolicy", "sessionAffinity"):
        if key in s:
            spec[key] = s[key]
    if "timeoutSeconds" in s:
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": s["timeoutSeconds"]}}
    spec.update(extra_spec or {})
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": s["name"], "namespace": s["namespace"]}, "spec": spec}
    if "loadBalancerIP" in s:
        svc["status"] = {"loadBalancer": {"ingress": [{"ip": s["loadBalancerIP"]}]}}
    docs = [
        {"apiVersion": "kubenet/v1", "kind": "Topology", "metadata": {"name": "kp"},
         "cluster": {"podCIDR": "10.0.0.0/8", "serviceCIDR": "172.30.0.0/16"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.99.0.0/24"},
         "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.11"}]}},
        svc,
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": f"{s['name']}-abcde", "namespace": s["namespace"], "labels": {"kubernetes.io/service-name": s["name"]}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": [e["ip"]], "conditions": {"ready": True}, **({"nodeName": e["node"]} if "node" in e else {})}
                       for e in endpoints],
         "ports": [{**({"name": p["name"]} if p.get("name") else {}), "port": endpoints[0]["port"] if endpoints else 80,
                    "protocol": p["protocol"]} for p in s["ports"]]},
    ]
    return build_cluster(load(["w.yaml"], texts={"w.yaml": yaml.safe_dump_all(docs, sort_keys=False)}).topology)


def chain_rules(rules: list[str], chain: str, service: str) -> list[str]:
    out = [r for r in rules if r.split()[1] == chain]
    if chain in SHARED_CHAINS:  # other Services (default/kubernetes) write there too
        out = [r for r in out if f"{service}:" in r or f"{service} " in r or r.endswith(service)]
    return out


@pytest.mark.parametrize("case", POLICIES, ids=[c["id"] for c in POLICIES])
def test_traffic_policy_and_affinity_rules_equal_upstreams(case):
    s = case["service"]
    cluster = policy_world(s, case["endpoints"])
    chains, nat = nat_rules(cluster, "node-1")
    service = f"{s['namespace']}/{s['name']}"
    for chain, want in case["expected_nat_rules"].items():
        assert chain_rules(nat, chain, service) == want, chain  # the whole chain, in upstream's order
        assert chain in chains
    for chain in case.get("absent_chains", []):
        assert chain not in chains and not any(chain in r for r in nat)
    _, flt = filter_rules(cluster, "node-1")
    for chain, want in case["expected_filter_rules"].items():
        assert chain_rules(flt, chain, service) == want, chain


def test_affinity_timeout_comes_from_session_affinity_config_and_defaults_to_three_hours():
    base = {"namespace": "default", "name": "web", "clusterIP": "172.30.0.20", "sessionAffinity": "ClientIP",
            "ports": [{"name": "", "port": 80, "protocol": "TCP"}]}
    eps = [{"ip": "10.0.0.5", "port": 8080}, {"ip": "10.0.0.6", "port": 8080}]
    _, rules = nat_rules(policy_world({**base, "timeoutSeconds": 600}, eps), "node-1")
    checks = [r for r in rules if "--rcheck" in r]
    assert len(checks) == 2 and all("--rcheck --seconds 600 --reap -j KUBE-SEP-" in r for r in checks)
    _, rules = nat_rules(policy_world(base, eps), "node-1")
    assert sum("--rcheck --seconds 10800 --reap" in r for r in rules) == 2
    svc = svc_chain("default/web", "tcp")
    body = [r for r in rules if r.startswith(f"-A {svc} ")]
    assert ["--rcheck" in r for r in body[1:]] == [True, True, False, False]  # checks before the probability split
    dnat = [r for r in rules if "-j DNAT" in r and "default/web" in r]
    assert len(dnat) == 2
    for r in dnat:  # each endpoint's DNAT remembers the client under its own chain's name
        m = re.fullmatch(r"-A (KUBE-SEP-\w+) -m comment --comment default/web -m recent --name (KUBE-SEP-\w+) --set "
                         r"-m tcp -p tcp -j DNAT --to-destination 10\.0\.0\.[56]:8080", r)
        assert m and m.group(1) == m.group(2), r
    _, rules = nat_rules(policy_world({k: v for k, v in base.items() if k != "sessionAffinity"}, eps), "node-1")
    assert not any("-m recent" in r for r in rules)


def test_internal_traffic_policy_local_sends_cluster_ip_traffic_to_this_nodes_endpoints_only():
    s = {"namespace": "default", "name": "web", "clusterIP": "172.30.0.20", "internalTrafficPolicy": "Local",
         "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    svl, svc = svc_chain("default/web:http", "tcp", "KUBE-SVL-"), svc_chain("default/web:http", "tcp")
    cluster = policy_world(s, [{"ip": "10.0.0.5", "port": 8080, "node": "node-1"}, {"ip": "10.0.0.6", "port": 8080, "node": "node-2"}])
    chains, rules = nat_rules(cluster, "node-1")
    assert f'-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 172.30.0.20 --dport 80 -j {svl}' in rules
    assert [r for r in rules if r.startswith(f"-A {svl} ")] == [
        f'-A {svl} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 172.30.0.20 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
        f'-A {svl} -m comment --comment "default/web:http -> 10.0.0.5:8080" -j {sep_chain("default/web:http", "tcp", "10.0.0.5:8080")}',
    ]
    assert svc not in chains and "10.0.0.6" not in "\n".join(rules)  # a ClusterIP Service needs no Cluster-policy chain here
    _, flt = filter_rules(cluster, "node-1")
    assert not any("default/web:http" in r for r in flt)
    # node-3 has none of the endpoints: the cluster IP is dropped there, not rejected
    chains, rules = nat_rules(cluster, "node-3")
    assert not any("default/web:http" in r for r in rules)
    _, flt = filter_rules(cluster, "node-3")
    assert '-A KUBE-SERVICES -m comment --comment "default/web:http has no local endpoints" -m tcp -p tcp -d 172.30.0.20 --dport 80 -j DROP' in flt


def test_external_traffic_policy_cluster_keeps_the_masquerade():
    s = {"namespace": "default", "name": "web", "type": "NodePort", "clusterIP": "172.30.0.20",
         "ports": [{"name": "", "port": 80, "protocol": "TCP", "nodePort": 30080}]}
    chains, rules = nat_rules(policy_world(s, [{"ip": "10.0.0.5", "port": 8080, "node": "node-2"}]), "node-1")
    ext, svc = svc_chain("default/web", "tcp", "KUBE-EXT-"), svc_chain("default/web", "tcp")
    assert [r for r in rules if r.startswith(f"-A {ext} ")] == [
        f'-A {ext} -m comment --comment "masquerade traffic for default/web external destinations" -j KUBE-MARK-MASQ',
        f"-A {ext} -j {svc}",
    ]
    assert not any(c.startswith("KUBE-SVL-") for c in chains)


# -- -m recent and --src-type: parsed, printed, evaluated ----------------------------------------

def test_recent_and_src_type_parse_and_print_as_iptables_does():
    r = parse_rule("-t nat -A KUBE-SVC-X -m comment --comment x -m recent --name KUBE-SEP-A --rcheck --seconds 10800 --reap -j KUBE-SEP-A")
    assert (r.recent_cmd, r.recent_name, r.recent_seconds, r.recent_reap, r.recent_dest) == ("rcheck", "KUBE-SEP-A", 10800, True, False)
    assert r.text == '-A KUBE-SVC-X -m comment --comment "x" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A'
    s = parse_rule("-t nat -A KUBE-SEP-A -p tcp -m recent --set --name KUBE-SEP-A --mask 255.255.255.0 --rdest -j DNAT --to-destination 10.0.0.5:80")
    assert (s.recent_cmd, str(s.recent_mask), s.recent_dest) == ("set", "255.255.255.0", True)
    assert "-m recent --set --name KUBE-SEP-A --mask 255.255.255.0 --rdest" in s.text
    t = parse_rule('-t nat -A KUBE-EXT-X -m comment --comment "route LOCAL traffic" -m addrtype --src-type LOCAL -j KUBE-SVC-X')
    assert t.src_type == "LOCAL" and "-m addrtype --src-type LOCAL -j KUBE-SVC-X" in t.text


@pytest.mark.parametrize("line, message", [
    ("-A X -m recent --name A -j ACCEPT", "you must specify one of"),
    ("-A X -m recent --set --rcheck -j ACCEPT", "only one of"),
    ("-A X -m recent --rcheck --reap -j ACCEPT", '"--seconds" with "--reap"'),
    ("-A X -m recent --set --seconds 5 -j ACCEPT", "--seconds works only with --rcheck or --update"),
    ("-A X -m recent --rcheck --seconds soon -j ACCEPT", "--seconds takes"),
    ("-A X -m recent --rcheck --hitcount 3 -j ACCEPT", "--hitcount is not simulated"),
    ("-A X -m addrtype --src-type UNICAST -j ACCEPT", "only --src-type LOCAL"),
])
def test_bad_recent_and_addrtype_options_are_refused(line, message):
    with pytest.raises(RuleError, match=re.escape(message)):
        parse_rule(line)


def _ctx(recent, now=0.0, local=()):
    return MatchContext(None, None, "NEW", lambda a: str(a) in local, recent=recent, now=now)


def test_recent_lists_remember_sources_for_their_seconds():
    check = parse_rule("-A X -m recent --name A --rcheck --seconds 60 --reap -j ACCEPT")
    setter = parse_rule("-A X -p tcp -m recent --name A --set -j ACCEPT")
    client = Packet("tcp", ipaddress.ip_address("10.0.0.2"), ipaddress.ip_address("10.96.0.20"), 40000, 80)
    other = client.with_(src=ipaddress.ip_address("10.0.0.3"))
    lists: dict = {}
    assert not matches(check, client, _ctx(lists), 0)  # never seen
    assert not matches(setter, client.with_(proto="udp"), _ctx(lists), 0) and lists["A"] == {}  # -p tcp fails first: nothing set
    assert matches(setter, client, _ctx(lists, now=100), 0)
    assert matches(check, client.with_(sport=40001), _ctx(lists, now=130), 0)  # another connection, same client
    assert not matches(check, other, _ctx(lists, now=130), 0)  # another client
    assert not matches(check, client, _ctx(lists, now=161), 0)  # older than --seconds ...
    assert lists["A"] == {}  # ... and --reap forgot it
    assert not matches(check, client, _ctx(None), 0)  # no lists kept: nothing remembered


def test_src_type_local_matches_the_namespaces_own_addresses():
    r = parse_rule("-t nat -A X -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
    pkt = Packet("tcp", ipaddress.ip_address("192.168.1.11"), ipaddress.ip_address("192.168.1.11"), 40000, 30080)
    assert matches(r, pkt, _ctx({}, local={"192.168.1.11"}), 0)
    assert not matches(r, pkt.with_(src=ipaddress.ip_address("192.168.1.50")), _ctx({}, local={"192.168.1.11"}), 0)


def test_kube_proxy_reason_names_the_policy():
    drop = parse_rule('-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/web has no local endpoints" -m addrtype --dst-type LOCAL '
                      "-m tcp -p tcp --dport 30080 -j DROP")
    assert kube_proxy_reason(drop, "node-2") == ("no local endpoints: Service default/web has externalTrafficPolicy: Local and no ready "
                                                 "endpoint on node-2, kube-proxy DROPs external traffic to it there")
    internal = parse_rule('-A KUBE-SERVICES -m comment --comment "default/web has no local endpoints" -d 10.96.0.20 -j DROP')
    assert "internalTrafficPolicy: Local" in kube_proxy_reason(internal, "node-2")
    reject = parse_rule('-A KUBE-SERVICES -m comment --comment "default/web has no endpoints" -d 10.96.0.20 -j REJECT')
    assert kube_proxy_reason(reject, "node-1").startswith("no endpoints: Service default/web has no ready endpoint")
    assert kube_proxy_reason(parse_rule("-A INPUT -j DROP"), "node-1") is None


# -- the walker: affinity across connections, Local policy on each node ------------------------------

CLUSTER = """
apiVersion: kubenet/v1
kind: Topology
metadata: {name: policies}
cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}
networks: [{name: lan, cidr: 192.168.1.0/24}]
hosts:
- {name: node-1, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.11/24}]}
- {name: node-2, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.12/24}]}
- {name: laptop, interfaces: [{name: eth0, network: lan, address: 192.168.1.50/24}]}
---
{apiVersion: v1, kind: Node, metadata: {name: node-1}, spec: {podCIDR: 10.244.1.0/24}}
---
{apiVersion: v1, kind: Node, metadata: {name: node-2}, spec: {podCIDR: 10.244.2.0/24}}
---
{apiVersion: v1, kind: Pod, metadata: {name: web-a, labels: {app: web, tier: sticky}}, spec: {nodeName: node-1, containers: [{name: c, image: nginx}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: sticky-b, labels: {tier: sticky}}, spec: {nodeName: node-2, containers: [{name: c, image: nginx}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: client}, spec: {nodeName: node-2, containers: [{name: c, image: curl}]}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, externalTrafficPolicy: POLICY, selector: {app: web}, ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec: {clusterIP: 10.96.0.30, sessionAffinity: AFFINITY, selector: {tier: sticky}, ports: [{port: 80}]}
"""


def policy_net(policy: str = "Local", affinity: str = "ClientIP"):
    text = CLUSTER.replace("POLICY", policy).replace("AFFINITY", affinity)
    return compile_topology(load(["c.yaml"], texts={"c.yaml": text}).topology)


def connections(net, walker_per_connection: bool = False) -> list[str]:
    walker = Walker(net)
    out = []
    for sport in range(40000, 40016):
        w = Walker(net) if walker_per_connection else walker
        t = w.trace("default/client", Packet("tcp", None, ipaddress.ip_address("10.96.0.30"), sport, 80))
        assert t.delivered, t.reason
        out.append(t.delivered_to)
    return out


def test_client_ip_affinity_keeps_a_client_on_one_endpoint_across_connections():
    net = policy_net(affinity="ClientIP")
    assert len(set(connections(net, walker_per_connection=True))) == 2  # nothing remembered: both endpoints get connections
    chosen = connections(net)
    assert len(set(chosen)) == 1 and chosen[0] in ("default/web-a", "default/sticky-b")  # one walker remembers the client
    t = Walker(net).trace("default/client", Packet("tcp", None, ipaddress.ip_address("10.96.0.30"), 41000, 80))
    node = next(h for h in t.hops if h.node == "node-2")
    assert any("-m recent --name KUBE-SEP-" in r and "--set" in r for r in node.rules)
    assert len(set(connections(policy_net(affinity="None")))) == 2  # without affinity the same walker spreads them


def test_external_traffic_policy_local_keeps_the_client_address_and_drops_where_no_endpoint_runs():
    net = policy_net("Local")
    t = trace(net, "laptop", "192.168.1.11:30080")  # node-1 runs web-a
    assert t.delivered and t.delivered_to == "default/web-a", t.reason
    assert str(t.hops[-1].packet.src) == "192.168.1.50"  # no SNAT: the pod sees the client
    node1 = next(h for h in t.hops if h.node == "node-1")
    assert any(r.startswith("nat -A KUBE-EXT-") and r.endswith("-j KUBE-SVL-" + r.split("KUBE-EXT-")[1].split()[0]) for r in node1.rules)
    assert t.reply.delivered and str(t.reply.hops[-1].packet.src) == "192.168.1.11"  # the reply un-DNATed on node-1
    t = trace(net, "laptop", "192.168.1.12:30080")  # node-2 runs no web pod
    assert not t.delivered and t.hops[-1].node == "node-2"
    assert "no local endpoints" in t.reason
    assert any('"default/web has no local endpoints"' in r and r.endswith("-j DROP") for r in t.hops[-1].rules)
    t = trace(net, "client", "192.168.1.12:30080")  # a pod is exempt: "pod traffic for ... external destinations"
    assert t.delivered and t.delivered_to == "default/web-a", t.reason
    t = trace(net, "node-2", "192.168.1.12:30080")  # the node itself: masqueraded and routed to any endpoint
    assert t.delivered and t.delivered_to == "default/web-a", t.reason
    assert any("masquerade LOCAL traffic" in r for r in t.hops[0].rules) and any("route LOCAL traffic" in r for r in t.hops[0].rules)


def test_external_traffic_policy_cluster_masquerades_nodeport_clients():
    t = trace(policy_net("Cluster"), "laptop", "192.168.1.12:30080")
    assert t.delivered and t.delivered_to == "default/web-a", t.reason
    node2 = next(h for h in t.hops if h.node == "node-2")
    assert any("masquerade traffic for default/web external destinations" in r for r in node2.rules)
    assert str(node2.packet.src) == "192.168.1.12"  # SNAT to node-2 on the way to node-1's pod


def test_the_rule_tokenizer_splits_as_the_shell_does():
    import random
    import shlex

    from tui.load.iptables import _split

    rng = random.Random(7)
    alphabet = ['a', 'b', ' ', '"', "'", '\\', '-', ':', '/', '#', '\t']
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        try:
            want = shlex.split(text)
        except ValueError:
            want = ValueError
        try:
            got = _split(text)
        except ValueError:
            got = ValueError
        assert got == want, text
