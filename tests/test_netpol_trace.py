"""NetworkPolicy in traces (tui.sim.policy): a refused connection is DROPPED where the CNI drops it, naming the
direction and the policy; an allowed one names the rules; DNS lookups are connections too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.load import load
from tui.sim.network import compile_topology
from tui.sim.query import trace

ROOT = Path(__file__).resolve().parent.parent
NP = ROOT / "topologies" / "09-network-policy.yaml"


def net_of(text: str | None = None, tmp_path=None):
    if text is None:
        return compile_topology(load([str(NP)]).topology)
    f = tmp_path / "np.yaml"
    f.write_text(text)
    return compile_topology(load([str(f)]).topology)


def notes(t) -> list[str]:
    return [n for h in t.hops for n in h.notes if n.startswith("policy:")]


def test_ingress_drop_names_direction_and_policy():
    t = trace(net_of(), "default/client", "svc/shop/backend", "tcp")
    assert t.verdict == "dropped"
    assert t.reason == ("policy (ingress of shop/backend: isolated by shop/default-deny, shop/backend, "
                        "no rule allows default/client:8080)")
    assert t.hops[-1].node == "node-2"  # Calico refuses it before the pod, on the server's node
    assert any("shop/default-deny: selects shop/backend for ingress" in n for n in notes(t))
    assert t.reply is None


def test_egress_drop_at_the_clients_node():
    t = trace(net_of(), "shop/frontend", "svc/shop/db", "tcp")
    assert t.verdict == "dropped" and t.reason.startswith("policy (egress of shop/frontend: isolated by ")
    assert "no rule allows shop/db:5432" in t.reason
    assert t.hops[-1].node == "node-1"  # never left the client's node


def test_allowed_connection_names_the_rules_and_the_reply_passes():
    t = trace(net_of(), "shop/frontend", "backend", "tcp")  # a name: the DNS lookup first
    assert t.delivered and t.delivered_to == "shop/backend"
    assert t.dns is not None and t.dns.exchange.delivered  # allow-dns lets the query reach CoreDNS
    n = notes(t)
    assert any(x.startswith("policy: egress allowed by shop/frontend rule 0") for x in n)
    assert any(x.startswith("policy: ingress allowed by shop/backend rule 0") for x in n)
    assert t.reply is not None and t.reply.delivered
    dns_notes = notes(t.dns.exchange)
    assert any("egress allowed by shop/allow-dns rule 0" in x for x in dns_notes)


def test_unselected_pods_are_open():
    t = trace(net_of(), "shop/backend", "default/client", "tcp", 80)
    assert t.verdict == "dropped" and "egress of shop/backend" in t.reason  # backend's egress is isolated
    t = trace(net_of(), "default/client", "shop/frontend", "tcp", 80)
    assert t.delivered and any("ingress allowed by shop/frontend rule 0" in x for x in notes(t))


def test_dns_blocked_by_egress_isolation(tmp_path):
    text = NP.read_text()
    start = text.index("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-dns")
    end = text.index("---", start)
    t = trace(net_of(text[:start] + text[end + 4:], tmp_path), "shop/frontend", "backend", "tcp")
    assert t.verdict == "dropped"
    assert "did not reach its nameserver: policy (egress of shop/frontend" in t.reason
    assert "kube-system/coredns" in t.reason and ":53/UDP" in t.reason


@pytest.mark.parametrize("cni", ["bridge", "flannel"])
def test_non_enforcing_cni_says_so(tmp_path, cni):
    t = trace(net_of(NP.read_text().replace("cni: calico", f"cni: {cni}"), tmp_path), "default/client", "shop/db", "tcp", 5432)
    assert t.verdict == "dropped" and f"the {cni} CNI plugin does not enforce NetworkPolicy" in t.reason


def test_no_policies_no_notes():
    t = trace(compile_topology(load([str(ROOT / "topologies" / "04-two-node-cluster.yaml")]).topology), "default/client",
              "svc/web", "tcp")
    assert t.delivered and not notes(t)


def test_calicos_own_networkpolicy_kind_is_not_a_kubernetes_one(tmp_path):
    text = NP.read_text().replace("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy",
                                  "apiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy")
    t = trace(net_of(text, tmp_path), "default/client", "shop/db", "tcp", 5432)
    assert t.delivered and not notes(t)


def test_check_warns_where_dns_is_blocked(tmp_path):
    text = NP.read_text()
    start = text.index("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-dns")
    end = text.index("---", start)
    f = tmp_path / "np.yaml"
    f.write_text(text[:start] + text[end + 4:])
    warnings = [w for w in load([str(f)]).warnings if "DNS" in w.message]
    lines = f.read_text().splitlines()
    assert len(warnings) == 3  # default-deny, frontend and backend isolate egress without DNS
    for w in warnings:
        assert w.path == "spec.policyTypes" and lines[w.mark.line - 1].lstrip().startswith("policyTypes:")


def test_policy_refuses_before_a_closed_port_would():
    t = trace(net_of(), "default/client", "shop/frontend:81", "tcp")  # frontend listens on 80 only
    assert t.verdict == "dropped" and t.reason.startswith("policy (ingress of shop/frontend: ")
    t = trace(net_of(), "shop/backend", "shop/frontend:53", "udp")
    assert t.verdict == "dropped" and "no rule allows shop/frontend:53/UDP" in t.reason
    assert t.hops[-1].node == "node-2"  # refused as it leaves the backend's node
