"""Pilot tests of the dashboard's NetworkPolicy parts: the tree's policies, a policy's and a pod's details, the
reachability matrix (`p`) checked against the core's, the forms, and what an edit (undo, redo) flips in the matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from tui.app.app import create_app
from tui.app.screens.main import MainScreen
from tui.app.screens.matrix import FLIPPED, MatrixScreen
from tui.app.widgets.topology_tree import Item, TopologyTree
from tui.edit import netpol as np
from tui.load import load
from tui.netpol import NetpolIndex, matrix

ROOT = Path(__file__).resolve().parent.parent
TOPO = ROOT / "topologies"
CLIENT, BACKEND, FRONTEND, DB = "default/client", "shop/backend", "shop/frontend", "shop/db"


def app_for(name="09-network-policy.yaml"):
    return create_app([name], animate_traces=False, test_mode=True)


def labels(app) -> list[str]:
    tree = app.main.query_one(TopologyTree)
    out: list[str] = []

    def walk(node) -> None:
        out.append(node.label.plain)
        for child in node.children:
            walk(child)

    walk(tree.root)
    return out


async def select(pilot, kind, name=None, index=None):
    tree = pilot.app.main.query_one(TopologyTree)
    node = next(n for n in tree._nodes_of_kind(tree.root, kind) if (name is None or n.data.name == name) and (index is None or n.data.index == index))
    tree.move_cursor(node)
    await pilot.pause()
    return node


async def add(pilot, kind):
    await pilot.press("a")
    await pilot.pause()
    index = [key for key, _ in pilot.app.screen.choices].index(kind)
    await pilot.press(*["down"] * index, "enter")
    await pilot.pause()


def text(app, selector) -> str:
    return str(app.screen.query_one(selector).render())


def error(app, field) -> str:
    return text(app, f"#e-{field}")


def core_table(app, port=80, proto="TCP") -> dict:
    """The core's answer on the dashboard's model: {(source, destination): allowed}."""
    return {k: v.allowed for k, v in matrix(NetpolIndex(app.main.net.cluster, strict=False), port, proto).items()}


def shown_table(app) -> dict:
    """The matrix screen's cells: {(source, destination): allowed}, as drawn."""
    screen = app.screen
    table = screen.query_one(DataTable)
    pods = screen.pods
    return {(pods[r], pods[c]): table.get_cell_at((r + 1, c + 1)).plain.strip() == "." for r in range(len(pods)) for c in range(len(pods))}


def said(app) -> list[str]:
    return [n.message for n in app._notifications]


def policy(app, ns, name) -> dict | None:
    return next((o.body for o in app.workspace.loaded.topology.objects if o.kind == "NetworkPolicy" and (o.namespace, o.name) == (ns, name)), None)


async def test_the_tree_lists_the_policies_and_their_rules(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = labels(app)
        at = tree.index("NetworkPolicies (5) 3 of 6 pods isolated")
        assert tree[at + 1:at + 14] == [
            "▦ shop/default-deny Ingress, Egress · all pods",
            "⊘ ingress: no rule allows nothing",
            "⊘ egress: no rule allows nothing",
            "▦ shop/allow-dns Egress · all pods",
            "⇢ to pods k8s-app=kube-dns in namespaces kubernetes.io/metadata.name=kube-system UDP/53, TCP/53",
            "▦ shop/frontend Ingress, Egress · app=frontend",
            "⇠ from anywhere TCP/http",
            "⇢ to pods app=backend in shop TCP/8080",
            "▦ shop/backend Ingress, Egress · app=backend",
            "⇠ from pods app=frontend in shop TCP/api",
            "⇢ to pods app=db in shop TCP/5432",
            "▦ shop/db Ingress · app=db",
            "⇠ from pods app=backend in shop TCP/postgres"]
        await pilot.press("slash", *"postgres")  # the filter keeps the policy whose rule says it
        await pilot.pause()
        assert "▦ shop/db Ingress · app=db" in labels(app) and "▦ shop/frontend Ingress, Egress · app=frontend" not in labels(app)
    app = app_for("04-two-node-cluster.yaml")  # no policy: no group, no p
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not any(t.startswith("NetworkPolicies") for t in labels(app))
        assert app.main.check_action("matrix", ()) is False
        assert "Policy matrix" not in [c.title for c in app.get_system_commands(app.screen)]
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.main.check_action("matrix", ()) is True
        assert "Policy matrix" in [c.title for c in app.get_system_commands(app.screen)]


async def test_a_policy_shows_the_pods_it_isolates_and_the_peers_each_rule_admits(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, "netpol", BACKEND)
        pane = app.main.query_one("RoutesPane")
        assert pane.border_title == "NetworkPolicy" and pane.border_subtitle == "shop/backend · NetworkPolicy" and pane.has_class("-tall")
        body = text(app, "#routes-body")
        assert body.startswith("NetworkPolicy shop/backend  podSelector app=backend in shop · policyTypes Ingress, Egress\n")
        assert "ingress  isolates 1 pod: shop/backend\n⇠ rule 0  from pods app=frontend in shop; on TCP/api\n" \
               "    pods app=frontend in shop → shop/frontend\n    named ports: api = shop/backend:8080\n" in body
        assert "egress  isolates 1 pod: shop/backend\n⇢ rule 0  to pods app=db in shop; on TCP/5432\n    pods app=db in shop → shop/db\n" in body
        await select(pilot, "netpol-egress", "shop/allow-dns", 0)
        body = text(app, "#routes-body")
        assert "ingress  not isolated by this policy (policyTypes has no Ingress)" in body
        assert "egress  isolates 3 pods: shop/backend, shop/db, shop/frontend" in body
        coredns = sorted(f"kube-system/{p.name}" for p in app.main.net.cluster.pods if p.name.startswith("coredns"))
        assert f"pods k8s-app=kube-dns in namespaces kubernetes.io/metadata.name=kube-system → {', '.join(coredns)}" in body
        await select(pilot, "netpol-ingress", "shop/default-deny")  # the "no rule" line
        assert "no ingress rule: allows nothing" in text(app, "#routes-body")
        await select(pilot, "object", "NetworkPolicy/shop/db")  # the object list's entry says the same
        assert pane.border_title == "NetworkPolicy" and "isolates 1 pod: shop/db" in text(app, "#routes-body")
        await select(pilot, "host", "node-1")
        assert pane.border_title == "Routes" and not pane.has_class("-tall")


async def test_a_pod_shows_the_policies_that_isolate_it_wherever_it_is_in_the_tree(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, "namespace", BACKEND)
        extra = text(app, "#routes-extra")
        assert "default via 169.254.1.1 dev eth0" in text(app, "#routes-body")  # the routes stay
        assert extra.startswith("NetworkPolicy\ningress  isolated by shop/default-deny, shop/backend: only what these rules allow\n"
                                "  ⇠ shop/backend rule 0: from pods app=frontend in shop; on TCP/api\n"
                                "egress   isolated by shop/default-deny, shop/allow-dns, shop/backend")
        await select(pilot, "namespace", CLIENT)
        assert "ingress  not isolated: no policy with policyType Ingress selects it" in text(app, "#routes-extra")
        assert "egress   not isolated" in text(app, "#routes-extra")
        await select(pilot, "endpoint", "10.244.2.11:5432")  # a Service's endpoint is the pod too
        assert "ingress  isolated by shop/default-deny, shop/db" in text(app, "#routes-extra")
        assert "egress   isolated by shop/default-deny, shop/allow-dns: only what these rules allow\n  ⇢ shop/allow-dns rule 0" in text(app, "#routes-extra")
        await select(pilot, "host", "node-1")
        assert not app.main.query_one("#routes-extra").has_class("shown")


async def test_the_matrix_is_the_cores_truth_table_for_the_port_asked(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, MatrixScreen)
        assert shown_table(app) == core_table(app)
        assert app.screen.pods == tuple(sorted(f"{p.namespace}/{p.name}" for p in app.main.net.cluster.pods))
        assert "6 pods · 15 of 36 allowed, 21 denied" in text(app, "#matrix-counts")
        assert "No edit yet" in text(app, "#matrix-summary")
        # the cursor starts on the first denied cell, explained below
        assert app.screen._pair() == (CLIENT, BACKEND)
        why = text(app, "#matrix-why-body")
        assert why.startswith("default/client → shop/backend  TCP/80  DENIED\n✓ egress of default/client: not isolated\n")
        assert "✗ ingress of shop/backend: isolated by shop/default-deny, shop/backend, no rule allows default/client:80" in why
        assert "shop/default-deny: selects shop/backend for ingress; it has no ingress rule, so it allows nothing" in why
        await pilot.press("down", "down", "right")  # coredns -> shop/db
        assert app.screen._pair()[1] == DB and "DENIED" in text(app, "#matrix-why-body")
        await pilot.press("p", "ctrl+u", *"53/udp", "enter")
        await pilot.pause()
        assert app.main.matrix_port == (53, "UDP") and app.screen.change.table.text == "UDP/53"
        assert shown_table(app) == core_table(app, 53, "UDP")
        assert shown_table(app)[(BACKEND, coredns := app.screen.pods[1])] and not shown_table(app)[(CLIENT, BACKEND)]
        assert coredns.startswith("kube-system/coredns")
        await pilot.press("p", "ctrl+u", *"99999", "enter")  # a bad port: said, the table kept
        await pilot.pause()
        assert "port 99999: a port is a number from 1 to 65535" in text(app, "#matrix-summary")
        assert app.screen.query_one("#matrix-port").has_class("-invalid") and app.main.matrix_port == (53, "UDP")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert ("p", "Policy matrix") in app.screen.bindings_list


async def test_a_default_deny_added_by_the_form_flips_cells_the_matrix_shows_and_undo_restores(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = core_table(app)
        await select(pilot, "namespace", CLIENT)
        await add(pilot, "DefaultDeny")
        assert app.screen.id == "netpol-form"
        assert app.screen.values() == {"namespace": "default", "name": "default-deny", "podSelector": "", "policyTypes": "Ingress, Egress"}
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert policy(app, "default", "default-deny") == {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                                          "metadata": {"name": "default-deny", "namespace": "default"},
                                                          "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
        assert app.main.selected == Item("netpol", "default/default-deny")
        after = core_table(app)
        flipped = {k for k in after if after[k] != before[k]}
        assert flipped and all(CLIENT in k and not after[k] for k in flipped) and len(flipped) == 5
        assert said(app)[-1] == "Add NetworkPolicy default/default-deny · TCP/80: 5 cells changed: 5 now denied (p: the matrix)"
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert shown_table(app) == after
        assert set(screen.change.flips) == flipped and not any(screen.change.flips.values())
        assert "Since the last change (add NetworkPolicy default/default-deny): 5 cells changed: 5 now denied" in text(app, "#matrix-summary")
        table = screen.query_one(DataTable)
        pods = screen.pods
        styles = {(pods[r], pods[c]): str(table.get_cell_at((r + 1, c + 1)).style) for r in range(len(pods)) for c in range(len(pods))}
        assert {k for k, s in styles.items() if s == FLIPPED} == flipped  # exactly the flipped cells highlighted
        assert screen._pair() in flipped and "(was allowed before the last edit)" in text(app, "#matrix-why-body")
        await pilot.press("ctrl+z")  # undo from the matrix: the table follows
        await pilot.pause()
        assert shown_table(app) == before and not app.workspace.dirty
        assert "Since the last change (undo): 5 cells changed: 5 now allowed" in text(app, "#matrix-summary")
        assert said(app)[-1] == "Undone · TCP/80: 5 cells changed: 5 now allowed"
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert shown_table(app) == after and "(redo): 5 cells changed: 5 now denied" in text(app, "#matrix-summary")
        await pilot.press("escape")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert "name: default-deny" in (workdir / "09-network-policy.yaml").read_text()
    assert load(["09-network-policy.yaml"]).topology.objects == app.workspace.loaded.topology.objects


async def test_add_edit_and_delete_rules_with_every_kind_of_peer_and_port(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, "netpol", BACKEND)
        await add(pilot, "NetworkPolicyRule")
        assert app.screen.id == "netpol-rule-form" and app.screen.values() == {"direction": "ingress", "peers": "", "ports": ""}
        peers = "namespaces(kubernetes.io/metadata.name=default) pods(app=client); namespaces(team in (a,b)); ipBlock(10.0.0.0/8 except 10.1.0.0/16)"
        await pilot.press("tab", *peers, "tab", *"TCP/8080, 9000-9100, UDP, api", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        rule = policy(app, "shop", "backend")["spec"]["ingress"][1]
        assert rule == {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}},
                                  "podSelector": {"matchLabels": {"app": "client"}}},
                                 {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}},
                                 {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                        "ports": [{"protocol": "TCP", "port": 8080}, {"port": 9000, "endPort": 9100}, {"protocol": "UDP"}, {"port": "api"}]}
        assert app.main.selected == Item("netpol-ingress", BACKEND, index=1)
        assert core_table(app, 8080)[(CLIENT, BACKEND)]  # the client may now reach the backend's port
        await select(pilot, "netpol-ingress", BACKEND, 1)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.values() == {"direction": "ingress", "peers": peers, "ports": "TCP/8080, 9000-9100, UDP, api"}
        await pilot.press("ctrl+u", *"egress", "tab", "ctrl+u", *"pods(app=db)", "tab", "ctrl+u", *"TCP/5433", "enter")  # moved to egress
        await pilot.pause()
        spec = policy(app, "shop", "backend")["spec"]
        assert len(spec["ingress"]) == 1 and spec["egress"][1] == {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                                                                   "ports": [{"protocol": "TCP", "port": 5433}]}
        assert app.main.selected == Item("netpol-egress", BACKEND, index=1)
        await select(pilot, "netpol-egress", BACKEND, 1)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.question == "Delete egress rule 1 (to pods app=db in shop; on TCP/5433) of NetworkPolicy shop/backend?"
        await pilot.press("y")
        await pilot.pause()
        assert len(policy(app, "shop", "backend")["spec"]["egress"]) == 1
        await select(pilot, "netpol", BACKEND)  # the policy itself: its form, then d deletes it
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.values() == {"namespace": "shop", "name": "backend", "podSelector": "app=backend", "policyTypes": "Ingress, Egress"}
        await pilot.press("tab", "tab", "ctrl+u", *"app=backend,tier notin (test)", "tab", "ctrl+u", *"ingress", "enter")
        await pilot.pause()
        spec = policy(app, "shop", "backend")["spec"]
        assert spec["podSelector"] == {"matchLabels": {"app": "backend"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["test"]}]}
        assert spec["policyTypes"] == ["Ingress"] and spec["egress"]  # the rules are kept
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.question == "Delete NetworkPolicy shop/backend?"
        await pilot.press("y")
        await pilot.pause()
        assert policy(app, "shop", "backend") is None
        for _ in range(5):
            await pilot.press("ctrl+z")
        await pilot.pause()
        assert not app.workspace.dirty and len(policy(app, "shop", "backend")["spec"]["ingress"]) == 1


async def test_bad_input_is_said_beside_its_field_and_nothing_is_lost(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, "netpol", DB)
        await add(pilot, "NetworkPolicy")
        await pilot.press("ctrl+u", *"shop", "tab", *"default-deny", "tab", *"tier=-x", "tab", "ctrl+u", *"Ingres", "enter")
        await pilot.pause()
        assert app.screen.id == "netpol-form"  # the loader's own words, beside their fields
        assert error(app, "name") == 'duplicate NetworkPolicy "default-deny" (first at 09-network-policy.yaml:179:1)'
        assert error(app, "podSelector").startswith('matchLabels.tier: "-x" is not a valid label value')
        assert error(app, "policyTypes") == 'unsupported value "Ingres": one of Ingress, Egress (did you mean "Ingress"?)'
        assert app.screen.values() == {"namespace": "shop", "name": "default-deny", "podSelector": "tier=-x", "policyTypes": "Ingres"}
        assert not app.workspace.dirty and app.focused.id == "f-name"
        await pilot.press("ctrl+u", *"deny-db", "tab", "ctrl+u", *"app=db", "tab", "ctrl+u", *"Ingress", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and policy(app, "shop", "deny-db")["spec"] == {"podSelector": {"matchLabels": {"app": "db"}},
                                                                                                 "policyTypes": ["Ingress"]}
        await select(pilot, "netpol", DB)
        await pilot.pause()
        await add(pilot, "NetworkPolicyRule")
        await pilot.press("tab", *"pods(app=web", "tab", *"TCP/http, 8000-x", "enter")
        await pilot.pause()
        assert 'has a "(" that is not closed' in error(app, "peers") and 'is not a port range' in error(app, "ports")
        await pilot.press("ctrl+u", *"ipBlock(10.0.0.0/8 except 11.0.0.0/16); app=web", "tab", "ctrl+u", *"99999", "enter")
        await pilot.pause()
        assert 'did you mean pods(app=web)?' in error(app, "peers")
        await pilot.press("ctrl+u", *"ipBlock(10.0.0.0/8 except 11.0.0.0/16)", "enter")
        await pilot.pause()
        assert error(app, "peers").startswith('peer 1, ipBlock.except[0]: "11.0.0.0/16" must be a strict subset of cidr 10.0.0.0/8')
        assert error(app, "ports") == "port 1: port 99999 must be between 1 and 65535, inclusive"
        assert app.screen.values()["peers"] == "ipBlock(10.0.0.0/8 except 11.0.0.0/16)" and len(app.workspace.undo_stack) == 1


async def test_a_rule_its_policy_types_ignore_is_said_once(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, "netpol", DB)  # policyTypes: [Ingress]
        await add(pilot, "NetworkPolicyRule")
        await pilot.press("ctrl+u", *"egress", "tab", *"pods(app=backend)", "enter")
        await pilot.pause()
        assert "policyTypes is Ingress: an egress rule is ignored until it has Egress" in error(app, "direction")
        assert not app.workspace.dirty
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and policy(app, "shop", "db")["spec"]["egress"] == [{"to": [{"podSelector": {"matchLabels": {"app": "backend"}}}]}]
        assert "⇢ to pods app=backend in shop any port (ignored: policyTypes has no Egress)" in labels(app)


async def test_from_the_matrix_a_rule_for_the_pair_filled_in_and_a_trace(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert app.screen._pair() == (CLIENT, BACKEND)
        await pilot.press("a")
        await pilot.pause()
        keys = [k for k, _ in app.screen.choices]
        assert keys == ["NetworkPolicy", "DefaultDeny", "ingress|shop/default-deny", "ingress|shop/backend"]
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert app.screen.values() == {"direction": "ingress", "peers": "namespaces(kubernetes.io/metadata.name=default) pods(app=client)",
                                       "ports": "TCP/80"}
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MatrixScreen)
        assert app.screen.change.flips == {(CLIENT, BACKEND): True} and shown_table(app)[(CLIENT, BACKEND)]
        assert "1 cell changed: 1 now allowed" in text(app, "#matrix-summary")
        await pilot.press("down", "down", "down", "right", "right")  # backend -> frontend: denied; t traces it on the dashboard
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.main.trace_request == {"src": BACKEND, "dst": FRONTEND, "proto": "tcp", "port": 80}
        for _ in range(10):
            await pilot.press("right")
        await pilot.pause()
        body = text(app, "#trace-body")
        assert ("policy DROPPED: egress of shop/backend: isolated by shop/default-deny, shop/allow-dns, shop/backend, no rule allows "
                "shop/frontend:80") in body
        assert {"netpol:shop/backend", "netpol:shop/default-deny"} <= app.main.query_one(TopologyTree).path  # lit in the tree
        assert "▶ ▦ shop/backend Ingress, Egress · app=backend" in labels(app)


async def test_a_large_cluster_matrix_is_computed_in_a_worker(workdir):
    docs = ["apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: big}\ncluster: {name: c, podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}\n"]
    docs += [f"apiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{i}, namespace: ns{i % 3}, labels: {{app: a{i % 4}}}}}\n"
             "spec: {containers: [{name: c, image: x}]}\n" for i in range(110)]
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ns0}\nspec: {podSelector: {}}\n")
    (workdir / "big.yaml").write_text("---\n".join(docs))
    app = app_for("big.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.screen.pods) == 112 and shown_table(app) == core_table(app)
        assert "112 pods" in text(app, "#matrix-counts")


def test_the_policy_builders_read_and_write_the_forms_text():
    text = "app=web, tier in (a,b), env!=prod, release, !legacy"
    sel = np.parse_selector(text)
    assert sel == {"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "env", "operator": "NotIn", "values": ["prod"]},
        {"key": "release", "operator": "Exists"}, {"key": "legacy", "operator": "DoesNotExist"}]}
    assert np.parse_selector(np.format_selector(sel)) == sel and np.parse_selector("") == {} == np.parse_selector("{}")
    peers = "namespaces(team=a) pods(app=web); pods(); 10.0.0.0/8 except 10.1.0.0/16,10.2.0.0/16; ipBlock(fd00::/8)"
    parsed = np.parse_peers(peers)
    assert parsed == [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"app": "web"}}}, {"podSelector": {}},
                      {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.2.0.0/16"]}}, {"ipBlock": {"cidr": "fd00::/8"}}]
    assert np.parse_peers(np.format_peers(parsed)) == parsed
    ports = np.parse_ports("TCP/80, 53/udp, 8000-8080, http, SCTP")
    assert ports == [{"protocol": "TCP", "port": 80}, {"protocol": "UDP", "port": 53}, {"port": 8000, "endPort": 8080}, {"port": "http"},
                     {"protocol": "SCTP"}]
    assert np.format_ports(ports) == "TCP/80, UDP/53, 8000-8080, http, SCTP"
    for bad, message in (("pods(a=b", "not closed"), ("pods(a) pods(b)", "given twice"), ("web(x)", "is not a peer")):
        with pytest.raises(ValueError, match=message):
            np.parse_peers(bad)
    assert np.parse_policy_types("ingress+egress") == ["Ingress", "Egress"] and np.policy_types_of({"egress": [{}]}) == ["Ingress", "Egress"]
    body = {"spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}}
    where: dict = {}
    out = np.rule({"direction": "egress", "peers": "", "ports": "UDP/53"}, "ingress", 0, where)(body)
    assert out["spec"] == {"podSelector": {}, "ingress": [], "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}
    assert where == {"direction": "egress", "index": 0}
    with pytest.raises(np.EditRefused, match="gone"):
        np.without_rule("egress", 3)(out)
