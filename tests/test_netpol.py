"""NetworkPolicy: the reference truth tables (upstream e2e and the documentation), each semantic point, `reach`, lint."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from tui import cli
from tui.k8s.cluster import build_cluster
from tui.load import LoadError, load
from tui.model.topology import KubeObject
from tui.netpol import NetpolError, NetpolIndex, PolicyError, evaluate, lint, matrix, parse_policy, policies_for, selected_pods
from tui.netpol.command import add_parser, cmd_reach
from tui.sim.query import QueryError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "netpol"
INDEX = yaml.safe_load((DATA / "index.yaml").read_text())["scenarios"]
TOPO09 = ROOT / "topologies" / "09-network-policy.yaml"


def _expected(s: dict) -> dict:
    return yaml.safe_load((DATA / s["dir"] / "expected.yaml").read_text())


@pytest.mark.parametrize("scenario", INDEX, ids=[s["id"] for s in INDEX])
def test_reference_scenario_every_cell(scenario):
    exp = _expected(scenario)
    ix = NetpolIndex(build_cluster(load([str(DATA / scenario["dir"] / "resources.yaml")]).topology))
    wrong = []
    for probe in exp["probes"]:
        table = matrix(ix, probe["port"], probe["protocol"])
        for e in exp["reachability"]:
            if (e["port"], e["protocol"].upper()) != (probe["port"], probe["protocol"].upper()):
                continue
            v = table[(e["from"], e["to"])]
            assert v.to_dict()["reason"]  # the explanation agrees with the decision (checked inside)
            if v.allowed != e["allowed"]:
                wrong.append(f"{e['from']}->{e['to']}:{e['port']}/{e['protocol']} want {e['allowed']}: {v.reason}")
    assert len(exp["reachability"]) == scenario["entries"]
    assert not wrong, wrong[:5]


def test_reference_cells_are_all_counted():
    assert sum(s["entries"] for s in INDEX) == sum(len(_expected(s)["reachability"]) for s in INDEX) == 648


# -- the command ---------------------------------------------------------------------------------


def reach(*argv) -> tuple[str, object]:
    p = argparse.ArgumentParser(prog="kubenet-tui")
    add_parser(p.add_subparsers(dest="command"), argparse.RawDescriptionHelpFormatter, cli._files_arg)
    args = p.parse_args(["reach", *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cmd_reach(args, cli._load, cli._emit, QueryError) == 0
    text = out.getvalue()
    return text, (json.loads(text) if "json" in argv else None)


@pytest.mark.parametrize("sid", ["np-02-default-deny-all", "np-13-named-port-ingress", "np-34-docs-or-selector"])
def test_reach_json_matches_the_reference(sid):
    s = next(s for s in INDEX if s["id"] == sid)
    exp = _expected(s)
    got = {}
    for probe in exp["probes"]:
        _, data = reach("-f", str(DATA / s["dir"] / "resources.yaml"), "--port", str(probe["port"]), "--proto", probe["protocol"], "-o", "json")
        for e in data:
            assert set(e) >= {"from", "to", "port", "protocol", "allowed", "egress", "ingress"}
            got[(e["from"], e["to"], e["port"], e["protocol"])] = e["allowed"]
    want = {(e["from"], e["to"], e["port"], e["protocol"].upper()): e["allowed"] for e in exp["reachability"]}
    assert {k: got.get(k) for k in want} == want


def test_reach_text_truth_table_and_a_pair():
    f = str(DATA / "scenarios" / "np-01-default-deny-ingress" / "resources.yaml")
    text, _ = reach("-f", f, "--port", "80")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("from \\ to"))
    cols = header.split()[3:]
    assert cols[-9:] == ["x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c"]
    row = next(line for line in lines if line.startswith("y/a "))
    marks = row.split()[1:]
    assert marks[-9:] == ["X", "X", "X", ".", ".", ".", ".", ".", "."]
    pair, _ = reach("-f", f, "--port", "80", "--from", "y/a", "--to", "x/b")
    assert "DENIED" in pair and "isolated by x/deny-ingress" in pair and "it has no ingress rule" in pair
    _, data = reach("-f", f, "--port", "80", "--to", "x/b", "-o", "json")
    assert {e["to"] for e in data} == {"x/b"} and len(data) == 11  # 9 pods and kubeadm's 2 CoreDNS pods


@pytest.mark.parametrize("argv, message", [
    (["--from", "x/q"], 'no pod "x/q" (did you mean'),
    (["--to", "q"], 'no pod "default/q"'),
    (["--port", "0"], "--port 0: out of range 1-65535"),
    (["--port", "http"], "--port http: a port is a number"),
    (["--proto", "ICMP"], "--proto ICMP: NetworkPolicy knows TCP, UDP and SCTP"),
    (["--to", "10.96.0.10"], "Service kube-system/kube-dns: policies see the connection after kube-proxy's DNAT"),
])
def test_reach_errors_are_clear(argv, message):
    f = str(DATA / "scenarios" / "np-01-default-deny-ingress" / "resources.yaml")
    args = ["-f", f, "--port", "80"] + argv if "--port" not in argv else ["-f", f] + argv
    with pytest.raises(QueryError) as e:
        reach(*args)
    assert message in str(e.value)


# -- semantics, on the upstream e2e cluster: namespaces x, y, z with pods a, b, c ---------------------

BASE = [f"apiVersion: v1\nkind: Node\nmetadata: {{name: node-{i}}}\nspec: {{podCIDR: 10.244.{i}.0/24}}\n"
        f"status: {{addresses: [{{type: InternalIP, address: 192.168.1.1{i}}}]}}" for i in (1, 2, 3)]
BASE += ["apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {ns: x}}", "apiVersion: v1\nkind: Namespace\nmetadata: {name: y, labels: {ns: y, user: alice}}",
         "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}"]  # z: only the automatic kubernetes.io/metadata.name label
PORTS = "[{name: serve-80-tcp, containerPort: 80}, {name: serve-81-tcp, containerPort: 81}, {name: serve-80-udp, containerPort: 80, protocol: UDP}]"
BASE += [f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {p}, namespace: {ns}, labels: {{pod: {p}}}}}\n"
         f"spec: {{nodeName: node-{i}, containers: [{{name: c, image: agnhost, ports: {PORTS}}}]}}\nstatus: {{podIP: 10.244.{i}.1{j}}}"
         for i, ns in enumerate("xyz", 1) for j, p in enumerate("abc")]


def ix_of(*docs: str) -> NetpolIndex:
    text = "\n---\n".join(BASE + list(docs)) + "\n"
    return NetpolIndex(build_cluster(load(["t.yaml"], {"t.yaml": text}).topology))


def np(name: str, spec: str, ns: str = "x") -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}"


def ok(ix, src, dst, port=80, proto="TCP") -> bool:
    return evaluate(ix, src, dst, port, proto).allowed


def test_policy_types_defaults():
    ix = ix_of(np("e", "  podSelector: {matchLabels: {pod: a}}\n  egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]"))
    assert ix.policy("x/e").policy_types == ("Ingress", "Egress")  # egress rules present: Egress too
    assert ok(ix, "x/a", "x/b") and not ok(ix, "x/a", "y/a") and not ok(ix, "x/b", "x/a")  # and Ingress, with no rule
    ix = ix_of(np("e", "  podSelector: {}\n  egress: []"))
    assert ix.policy("x/e").policy_types == ("Ingress",)  # egress: [] alone is no egress policy
    assert ok(ix, "x/a", "y/a") and not ok(ix, "y/a", "x/a")
    ix = ix_of(np("e", "  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{from: [{podSelector: {}}]}]"))
    assert ok(ix, "y/a", "x/a") and not ok(ix, "x/a", "x/b")  # the ingress rules are ignored: no Ingress type


def test_no_rules_allow_nothing_an_empty_rule_or_peer_list_allows_all():
    deny = ix_of(np("p", "  podSelector: {}\n  ingress: []"))
    assert not ok(deny, "y/a", "x/a") and not ok(deny, "203.0.113.9", "x/a")
    for rules in ("[{}]", "[{from: []}]", "[{from: [], ports: []}]"):
        ix = ix_of(np("p", f"  podSelector: {{}}\n  ingress: {rules}"))
        assert ok(ix, "y/a", "x/a") and ok(ix, "203.0.113.9", "x/a", 9999, "UDP")


def test_and_in_one_element_or_in_two():
    both = "  podSelector: {matchLabels: {pod: a}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {user: alice}}, podSelector: {matchLabels: {pod: b}}}]}]"
    either = "  podSelector: {matchLabels: {pod: a}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {user: alice}}}, {podSelector: {matchLabels: {pod: b}}}]}]"
    ix = ix_of(np("and", both))
    assert [s for s in ("x/b", "y/a", "y/b", "z/b") if ok(ix, s, "x/a")] == ["y/b"]
    ix = ix_of(np("or", either))
    assert [s for s in ("x/b", "x/c", "y/a", "y/b", "z/b") if ok(ix, s, "x/a")] == ["x/b", "y/a", "y/b"]


def test_selectors_namespace_name_label_and_expressions():
    ix = ix_of(np("p", "  podSelector: {matchLabels: {pod: a}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]}]"))
    assert ok(ix, "z/c", "x/a") and not ok(ix, "y/c", "x/a")
    ix = ix_of(np("p", "  podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [b, c]}]}\n  ingress:\n  - from:\n"
                  "    - namespaceSelector: {matchExpressions: [{key: ns, operator: Exists}]}\n"
                  "      podSelector: {matchExpressions: [{key: pod, operator: In, values: [c]}, {key: role, operator: DoesNotExist}]}"))
    assert [p.name for p in selected_pods(ix, "x/p")] == ["a"]
    assert ok(ix, "y/c", "x/a") and not ok(ix, "z/c", "x/a") and not ok(ix, "y/b", "x/a") and ok(ix, "z/c", "x/b")


def test_ipblock_except_pods_and_outside():
    ix = ix_of(np("p", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n"
                  "  egress: [{to: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24, 10.244.1.12/32]}}]}]"))
    assert ok(ix, "x/a", "x/b") and not ok(ix, "x/a", "x/c") and not ok(ix, "x/a", "y/b") and ok(ix, "x/a", "z/b")
    assert not ok(ix, "x/a", "8.8.8.8")
    ix = ix_of(np("p", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n"
                  "  egress: [{to: [{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.11/32]}}]}]"),
               np("q", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 10.244.1.11/32}}]}]"))
    v = evaluate(ix, "x/a", "x/b", 80)
    assert v.allowed and [(e["policy"], e["rule"]) for e in v.egress] == [("x/q", 0)]  # the except of one, the cidr of another
    ix = ix_of(np("p", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]"))
    assert ok(ix, "203.0.113.7", "x/a") and not ok(ix, "198.51.100.7", "x/a") and not ok(ix, "y/a", "x/a")


def test_end_port_range_and_protocol_only_ports():
    ix = ix_of(np("p", "  podSelector: {}\n  ingress: [{ports: [{port: 80, endPort: 82}, {protocol: UDP}]}]"))
    assert [p for p in (79, 80, 81, 82, 83) if ok(ix, "y/a", "x/a", p)] == [80, 81, 82]
    assert ok(ix, "y/a", "x/a", 5353, "UDP") and not ok(ix, "y/a", "x/a", 80, "SCTP")


def test_named_ports_resolve_against_the_destination_pod():
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: y, labels: {pod: web}}\n"
           "spec: {nodeName: node-2, containers: [{name: c, image: nginx, ports: [{name: serve-80-tcp, containerPort: 8080}]}]}")
    ix = ix_of(pod, np("p", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: serve-80-tcp}]}]"))
    assert ok(ix, "x/a", "y/b", 80) and not ok(ix, "x/a", "y/b", 8080)  # y/b names port 80 so
    assert ok(ix, "x/a", "y/web", 8080) and not ok(ix, "x/a", "y/web", 80)  # y/web names port 8080 so
    assert not ok(ix, "x/a", "8.8.8.8", 80)  # an address has no named ports
    ix = ix_of(np("p", "  podSelector: {}\n  ingress: [{ports: [{port: serve-80-udp}]}]"))
    assert not ok(ix, "y/a", "x/a", 80, "UDP")  # protocol defaults to TCP: the UDP port of that name does not match
    ix = ix_of(np("p", "  podSelector: {}\n  ingress: [{ports: [{port: serve-80-udp, protocol: UDP}]}]"))
    assert ok(ix, "y/a", "x/a", 80, "UDP") and not ok(ix, "y/a", "x/a", 80, "TCP")


def test_sctp_is_not_tcp():
    ix = ix_of(np("p", "  podSelector: {}\n  ingress: [{ports: [{port: 81, protocol: SCTP}]}]"))
    assert ok(ix, "y/a", "x/a", 81, "SCTP") and not ok(ix, "y/a", "x/a", 81, "TCP") and not ok(ix, "y/a", "x/a", 81, "UDP")


def test_a_connection_needs_egress_and_ingress():
    deny_out = np("out", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]")
    allow_in = np("in", "  podSelector: {}\n  ingress: [{}]", ns="y")
    v = evaluate(ix_of(deny_out, allow_in), "x/a", "y/b", 80)
    assert not v.allowed and not v.egress_allowed and v.ingress_allowed
    assert v.egress == [{"policy": "x/out", "rule": None, "effect": "isolated",
                         "why": "selects x/a for egress; it has no egress rule, so it allows nothing"}]
    assert v.ingress[0]["policy"] == "y/in" and v.ingress[0]["rule"] == 0 and v.ingress[0]["effect"] == "allowed"
    assert v.reason.startswith("egress of x/a: isolated by x/out, no rule allows y/b:80")
    v = evaluate(ix_of(np("in", "  podSelector: {}\n  ingress: []", ns="y")), "x/a", "y/b", 80)
    assert v.egress_allowed and not v.ingress_allowed and v.reason == "ingress of y/b: isolated by y/in, no rule allows x/a:80"
    v = evaluate(ix_of(), "x/a", "y/b", 80)
    assert v.allowed and "not isolated" in v.reason and v.egress[0]["policy"] is None


HOSTNET = ("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: x, labels: {{pod: {name}}}}}\n"
           "spec: {{nodeName: {node}, hostNetwork: true, containers: [{{name: c, image: agnhost}}]}}")


def test_hostnetwork_pods_are_node_traffic():
    deny = np("deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress: [{from: [{podSelector: {}}]}]")
    ix = ix_of(HOSTNET.format(name="h1", node="node-1"), HOSTNET.format(name="h2", node="node-2"), deny)
    assert [p.name for p in selected_pods(ix, "x/deny")] == ["a", "b", "c"]  # never the hostNetwork pods
    assert policies_for(ix, "x/h1") == {"ingress": [], "egress": []}
    assert ok(ix, "y/a", "x/h2") and ok(ix, "x/h2", "y/a")  # not isolated either way
    assert ok(ix, "x/h1", "x/a")  # from x/a's own node: always allowed
    v = evaluate(ix, "x/h2", "x/a", 80)  # another node: podSelector {} matches pods, not node traffic
    assert not v.allowed and "not node traffic" in v.ingress[0]["why"]
    assert ok(ix, "x/a", "x/h1") and not ok(ix, "x/a", "x/h2")  # egress to its own node only
    ix = ix_of(HOSTNET.format(name="h2", node="node-2"), np("p", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 192.168.1.0/24}}]}]"))
    assert ok(ix, "x/h2", "x/a") and ok(ix, "192.168.1.13", "x/a")


def test_node_addresses_and_loopback():
    ix = ix_of(np("deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]"))
    assert ok(ix, "192.168.1.11", "x/a") and not ok(ix, "192.168.1.12", "x/a")
    assert "own node" in evaluate(ix, "192.168.1.11", "x/b", 80).ingress[0]["why"]
    assert ok(ix, "x/a", "x/a") and "loopback" in evaluate(ix, "x/a", "x/a", 80).reason
    assert ok(ix, "10.244.1.10", "10.244.1.10")  # pods by address
    with pytest.raises(NetpolError, match='no pod "default/nope"'):
        evaluate(ix, "nope", "x/a", 80)
    with pytest.raises(NetpolError, match="TCP, UDP and SCTP"):
        evaluate(ix, "x/a", "x/b", 80, "ICMP")


@pytest.mark.parametrize("spec, path", [
    ("  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]", "spec.ingress[0].from[0].ipBlock.cidr"),
    ("  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]", "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16}, podSelector: {}}]}]", "spec.ingress[0].from[0]"),
    ("  podSelector: {}\n  ingress: [{from: [{}]}]", "spec.ingress[0].from[0]"),
    ("  podSelector: {}\n  egress: [{ports: [{port: http, endPort: 90}]}]", "spec.egress[0].ports[0].endPort"),
    ("  podSelector: {}\n  egress: [{ports: [{port: 90, endPort: 80}]}]", "spec.egress[0].ports[0].endPort"),
    ("  podSelector: {}\n  egress: [{ports: [{port: 80, protocol: ICMP}]}]", "spec.egress[0].ports[0].protocol"),
    ("  podSelector: {}\n  policyTypes: [ingress]", "spec.policyTypes[0]"),
    ("  podSelector: {matchExpressions: [{key: a, operator: In}]}", "spec.podSelector.matchExpressions[0].values"),
])
def test_policies_the_api_server_refuses(spec, path):
    doc = np("bad", spec)
    with pytest.raises(LoadError) as e:  # the loader refuses it, located
        ix_of(doc)
    assert any(p.path == path for p in e.value.problems)
    body = yaml.safe_load(doc)  # and the core parser, given such an object by other means, refuses it at the same path
    with pytest.raises(PolicyError) as pe:
        parse_policy(KubeObject("networking.k8s.io/v1", "NetworkPolicy", "bad", "x", body))
    assert pe.value.path == path and "x/bad" in str(pe.value)


def test_reach_refuses_an_invalid_policy(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("\n---\n".join(BASE + [np("bad", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: nope}}]}]")]) + "\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["reach", "-f", str(f), "--port", "80"])
    err = capsys.readouterr().err
    assert e.value.code == 1 and "Traceback" not in err
    assert re.search(r"bad\.yaml:\d+:\d+: error: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: ", err)


# -- lint -------------------------------------------------------------------------------------------------


def messages(ix) -> list[tuple[str, str]]:
    return [(i.path, i.message) for i in lint(ix.cluster)]


def test_lint_dns_blocked_by_egress_isolation():
    deny = np("deny", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]")
    out = messages(ix_of(deny))
    assert len(out) == 1 and out[0][0] == "spec.policyTypes"
    assert "isolates x/a for egress and no egress rule allows DNS (UDP 53 and TCP 53)" in out[0][1]
    udp = np("dns", "  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: 53, protocol: UDP}]}]")
    out = messages(ix_of(deny, udp))
    assert len(out) == 2 and all("no egress rule allows TCP 53" in m for _, m in out)  # deny and dns both isolate x/a
    both = np("dns", "  podSelector: {}\n  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], "
              "ports: [{port: 53, protocol: UDP}, {port: 53}]}]")
    assert messages(ix_of(deny, both)) == []
    other = np("dns", "  podSelector: {}\n  egress: [{to: [{podSelector: {matchLabels: {k8s-app: kube-dns}}}]}]")
    assert len(messages(ix_of(deny, other))) == 2  # kube-dns pods are in kube-system, not x


def test_lint_selectors_and_named_ports():
    ix = ix_of(HOSTNET.format(name="h", node="node-1"),
               np("none", "  podSelector: {matchLabels: {pod: q}}"), np("host", "  podSelector: {matchLabels: {pod: h}}"),
               np("empty-ns", "  podSelector: {}", ns="default"),
               np("nsel", "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ghosts}}}, {namespaceSelector: {}}]}]"),
               np("ports", "  podSelector: {}\n  ingress: [{ports: [{port: serve-80-tcp}, {port: serve-99-tcp}, {port: serve-80-udp}]}]"),
               np("eports", "  podSelector: {}\n  egress: [{to: [{podSelector: {}}], ports: [{port: metrics}]}]", ns="y"))
    got = {(i.obj.name, i.path): i.message for i in lint(ix.cluster)}
    assert "selects no pod of namespace x" in got[("none", "spec.podSelector")]
    assert "matches only hostNetwork pods (x/h)" in got[("host", "spec.podSelector")]
    assert "namespace default has no pods" in got[("empty-ns", "spec.podSelector")]
    assert "matches no namespace" in got[("nsel", "spec.ingress[0].from[0].namespaceSelector")]
    assert ("nsel", "spec.ingress[0].from[1].namespaceSelector") not in got
    assert 'named port "serve-99-tcp" (TCP)' in got[("ports", "spec.ingress[0].ports[1].port")]
    assert "set protocol: UDP" in got[("ports", "spec.ingress[0].ports[2].port")]
    assert ("ports", "spec.ingress[0].ports[0].port") not in got
    assert 'named port "metrics" (TCP): no pod its peers match' in got[("eports", "spec.egress[0].ports[0].port")]
    item = next(i for i in lint(ix.cluster) if i.obj.name == "none")
    assert str(item).startswith("t.yaml:") and ": warning: spec.podSelector: NetworkPolicy x/none: " in str(item)
    assert item.problem.to_dict()["severity"] == "warning"


def test_lint_reports_refused_policies_as_errors():
    topo = load(["t.yaml"], {"t.yaml": "\n---\n".join(BASE) + "\n"}).topology
    body = yaml.safe_load(np("bad", "  podSelector: {}\n  egress: [{ports: [{port: 0}]}]"))
    bad = KubeObject("networking.k8s.io/v1", "NetworkPolicy", "bad", "x", body)  # not through the loader, which refuses it
    items = lint(build_cluster(dataclasses.replace(topo, objects=topo.objects + (bad,))))
    assert [(i.severity, i.path) for i in items] == [("error", "spec.egress[0].ports[0].port")]


# -- the bundled topology ------------------------------------------------------------------------------------


def test_topology_09_default_deny_and_allow_lists():
    cluster = build_cluster(load([str(TOPO09)]).topology)
    ix = NetpolIndex(cluster)
    assert ok(ix, "default/client", "shop/frontend", 80) and not ok(ix, "default/client", "shop/backend", 8080)
    assert ok(ix, "shop/frontend", "shop/backend", 8080) and not ok(ix, "shop/frontend", "shop/db", 5432)
    assert ok(ix, "shop/backend", "shop/db", 5432) and not ok(ix, "shop/db", "shop/backend", 8080)
    dns = [p for p in cluster.pods if p.labels.get("k8s-app") == "kube-dns"]
    assert dns and all(ok(ix, "shop/db", p, 53, proto) for p in dns for proto in ("UDP", "TCP"))
    assert not ok(ix, "shop/db", "default/client", 53, "UDP")
    assert lint(cluster) == []
    text = TOPO09.read_text()
    start = text.index("metadata: {name: allow-dns")
    without_dns = text[:start] + "metadata: {name: allow-dns, namespace: shop}\nspec: {podSelector: {matchLabels: {app: none}}}\n" \
        + text[text.index("---", start):]
    items = lint(build_cluster(load(["09.yaml"], {"09.yaml": without_dns}).topology))
    assert any("no egress rule allows DNS" in i.message for i in items)
    assert any(i.obj.name == "allow-dns" and i.path == "spec.podSelector" for i in items)
