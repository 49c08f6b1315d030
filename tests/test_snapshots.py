"""Snapshots of every screen, form and error state at 120x40 (and the main screen at 80x24).

Review a failure's snapshot_report.html before updating with --snapshot-update.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # headers show paths relative to the checkout, the same on every machine


def app_for(name: str = "default.yaml"):
    return create_app([f"topologies/{name}"], animate_traces=False, test_mode=True)


async def _trace(pilot, src: str, dst: str, proto: str = "", steps: int = 0):
    await pilot.press("t")
    await pilot.pause()
    await pilot.press(*src, "tab", *dst)
    if proto:
        await pilot.press("tab", "tab", "ctrl+u", *proto)
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(steps):
        await pilot.press("right")
    await pilot.pause()


@pytest.mark.parametrize("name", ["default.yaml", "01-switch.yaml", "02-router-gateway.yaml", "03-docker-bridge.yaml", "03-namespaces-by-hand.yaml",
                                  "04-two-node-cluster.yaml"])
def test_first_paint(snap_compare, name):
    assert snap_compare(app_for(name), terminal_size=SIZE)


def test_first_paint_small_terminal(snap_compare):
    assert snap_compare(app_for(), terminal_size=(80, 24))


def test_help_screen(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["question_mark"])


def test_trace_form(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["t", *"lap"])


def test_trace_form_errors(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["t", *"nobody", "tab", "tab", *"99999", "enter"])


@pytest.mark.parametrize("steps", [0, 4, 20])
def test_trace_steps(snap_compare, steps):
    async def run_before(pilot):
        await _trace(pilot, "laptop", "docker-host:8080", steps=steps)

    assert snap_compare(app_for(), terminal_size=SIZE, run_before=run_before)


def test_trace_dropped_expanded(snap_compare):
    async def run_before(pilot):
        await _trace(pilot, "neighbour", "container-a", steps=10)
        await pilot.press("x")

    assert snap_compare(app_for("03-docker-bridge.yaml"), terminal_size=SIZE, run_before=run_before)


def test_cluster_trace_pod_to_service(snap_compare):
    async def run_before(pilot):
        await _trace(pilot, "default/client", "svc/web", steps=2)

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_map_with_trace(snap_compare):
    async def run_before(pilot):
        await _trace(pilot, "laptop", "8.8.8.8", proto="icmp", steps=30)
        await pilot.press("m")

    assert snap_compare(app_for(), terminal_size=SIZE, run_before=run_before)


def test_routes_route_n_and_lookup(snap_compare):
    async def run_before(pilot):
        await pilot.press("n", "l", *"8.8.8.8")
        await pilot.pause()

    assert snap_compare(app_for("02-router-gateway.yaml"), terminal_size=SIZE, run_before=run_before)


def test_filter(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["slash", *"docker"])


def test_add_choice(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["a"])


@pytest.mark.parametrize("choice", range(6))
def test_add_forms(snap_compare, choice):
    # laptop is selected at start: network, host, interface, route, docker, container
    assert snap_compare(app_for(), terminal_size=SIZE, press=["a", *(["down"] * choice), "enter"])


def test_route_form_error(snap_compare):
    press = ["a", "down", "down", "down", "enter", *"10.0.0.0/8", "tab", *"10.9.9.9", "enter"]
    assert snap_compare(app_for(), terminal_size=SIZE, press=press)


def test_edit_host_form(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["e"])


def test_delete_confirm(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["d"])


def test_added_route_and_unsaved_mark(snap_compare):
    press = ["a", "down", "down", "down", "enter", *"10.0.0.0/8", "tab", *"192.168.1.50", "enter"]
    assert snap_compare(app_for(), terminal_size=SIZE, press=press)


def test_quit_with_unsaved_changes(snap_compare):
    press = ["a", "down", "down", "down", "enter", *"10.0.0.0/8", "tab", *"192.168.1.50", "enter", "q"]
    assert snap_compare(app_for(), terminal_size=SIZE, press=press)


def test_open_form(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["o", *"topologies/02"])


def test_open_form_error(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["o", *"nothing-here.yaml", "enter"])


def test_save_as_form(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["w"])


def test_command_palette(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, press=["ctrl+p", *"trace"])


# -- Kubernetes objects, node rules, the cluster map -------------------------------------------
async def _select(pilot, kind: str, name: str | None = None, test=None):
    from tui.app.widgets.topology_tree import TopologyTree

    await pilot.pause()  # the model fills the tree a frame after the first paint
    await pilot.pause()
    tree = pilot.app.screen.query_one(TopologyTree)
    tree.move_cursor(next(n for n in tree._nodes_of_kind(tree.root, kind) if (name is None or n.data.name == name) and (test is None or test(n.data))))
    await pilot.pause()


async def _add(pilot, kind: str):
    await pilot.press("a")
    await pilot.pause()
    await pilot.press(*["down"] * [key for key, _ in pilot.app.screen.choices].index(kind), "enter")
    await pilot.pause()


@pytest.mark.parametrize("kind", ["Node", "Pod", "Deployment", "Service"])
def test_kube_add_forms(snap_compare, kind):
    async def run_before(pilot):
        await _select(pilot, "host", "node-1")
        await _add(pilot, kind)

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_service_form_errors(snap_compare):
    async def run_before(pilot):
        await _add(pilot, "Service")
        await pilot.press("tab", *"Web2", "tab", "tab", "tab", *"http:80:30080->http", "tab", *"10.96.0.20", "enter")
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_pod_form_errors(snap_compare):
    async def run_before(pilot):
        await _add(pilot, "Pod")
        await pilot.press("tab", *"web", "tab", *"app=a b", "tab", "tab", "tab", *"http:99999", "enter")
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_node_form_error_on_another_object(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "object", "Node/node-1")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("tab", "tab", "ctrl+u", *"10.244.2.0/24", "enter")
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_edit_service_form(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "service", "default/web")
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(app_for("06-loadbalancer.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_delete_confirm(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "service", "default/web")
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_generated_pod_offers_its_deployment(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "namespace", test=lambda it: it.name.startswith("default/web-"))
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(app_for("05-nodeport.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_generated_service_refused(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "service", "default/kubernetes")
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_kube_node_host_or_node_object(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "host", "node-1")
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("keys", [[], ["n"], ["v"]], ids=["iptables", "nat", "ipvs"])
def test_node_rules(snap_compare, keys):
    async def run_before(pilot):
        await _select(pilot, "host", "node-1")
        await pilot.press("i", *keys)
        await pilot.pause()

    assert snap_compare(app_for("06-loadbalancer.yaml"), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("name", ["04-two-node-cluster.yaml", "04-cni-flannel.yaml", "04-cni-calico.yaml", "04-cni-calico-ipip.yaml",
                                  "04-cni-cilium.yaml", "04-dual-stack.yaml", "05-nodeport.yaml", "06-loadbalancer.yaml"])
def test_map_cluster(snap_compare, name):
    assert snap_compare(app_for(name), terminal_size=SIZE, press=["m"])


def test_map_cluster_with_trace(snap_compare):
    async def run_before(pilot):
        await _trace(pilot, "default/client", "web-b", steps=30)
        await pilot.press("m")

    assert snap_compare(app_for("04-cni-flannel.yaml"), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("name, steps", [("04-cni-calico.yaml", 0), ("04-cni-calico-ipip.yaml", 1), ("04-cni-cilium.yaml", 0)])
def test_cni_trace(snap_compare, name, steps):
    # the hop where the plugin shows: Calico's proxy ARP, the IPIP encapsulation, Cilium's socket LB
    async def run_before(pilot):
        await _trace(pilot, "default/client", "svc/web", steps=steps)

    assert snap_compare(app_for(name), terminal_size=SIZE, run_before=run_before)


def test_node_rules_cilium(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "host", "node-1")
        await pilot.press("i")
        await pilot.pause()

    assert snap_compare(app_for("04-cni-cilium.yaml"), terminal_size=SIZE, run_before=run_before)


def test_first_paint_dual_stack(snap_compare):
    assert snap_compare(app_for("04-dual-stack.yaml"), terminal_size=SIZE)


# -- DNS: the records pane, the resolve form and its results ------------------------------------------
async def _resolve(pilot, name: str, pod: str = "", submit: bool = True):
    await pilot.pause()
    await pilot.press("r")
    await pilot.pause()
    await pilot.press(*name, "tab", "tab", *pod)
    if submit:
        await pilot.press("enter")
    await pilot.pause()


def test_dns_pane_focused_and_filtered(snap_compare):
    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("tab", "tab", "tab", "slash", *"web")  # the DNS records have the focus: / filters them
        await pilot.pause()

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_resolve_form(snap_compare):
    async def run_before(pilot):
        await _resolve(pilot, "web", "default/cl", submit=False)  # the pod's name completes

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_resolve_search_list(snap_compare):
    async def run_before(pilot):
        await _resolve(pilot, "web", "default/client")

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_resolve_pod_name_nxdomain(snap_compare):
    async def run_before(pilot):
        await _resolve(pilot, "web-b", "default/client")  # a pod's name is no Service name: the form says why

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


BAD_COREFILE = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n"
                "data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local {\n            pods always\n        }\n    }\n")


def _bad_corefile_dir(tmp_path, monkeypatch) -> None:
    """A directory holding the two-node cluster and the same with a Corefile CoreDNS refuses; the current one."""
    text = (ROOT / "topologies" / "04-two-node-cluster.yaml").read_text()
    (tmp_path / "04-two-node-cluster.yaml").write_text(text)
    (tmp_path / "bad-corefile.yaml").write_text(text + BAD_COREFILE)
    monkeypatch.chdir(tmp_path)  # relative paths: the same header and messages on every machine


def test_dns_corefile_refused(snap_compare, tmp_path, monkeypatch):
    # The loader refuses a Corefile CoreDNS would refuse; past it (as here), the pane shows the zone's error.
    import tui.load.loader

    _bad_corefile_dir(tmp_path, monkeypatch)
    monkeypatch.setattr(tui.load.loader, "_check_corefile", lambda *args: None)
    assert snap_compare(create_app(["bad-corefile.yaml"], animate_traces=False, test_mode=True), terminal_size=SIZE)


def test_dns_corefile_refused_on_open(snap_compare, tmp_path, monkeypatch):
    # What the dashboard does with such a file: the Open form shows the loader's located error.
    _bad_corefile_dir(tmp_path, monkeypatch)
    app = create_app(["04-two-node-cluster.yaml"], animate_traces=False, test_mode=True)
    assert snap_compare(app, terminal_size=SIZE, press=["o", "ctrl+u", *"bad-corefile.yaml", "enter"])


@pytest.mark.parametrize("dst", ["web", "web-b.default"])
def test_trace_to_a_name(snap_compare, dst):
    # the resolver's tries, the query to CoreDNS and its answer, then the connection (or why the name fails)
    async def run_before(pilot):
        await _trace(pilot, "default/client", dst, steps=14)

    assert snap_compare(app_for("04-two-node-cluster.yaml"), terminal_size=SIZE, run_before=run_before)


def test_first_paint_coredns(snap_compare):
    assert snap_compare(app_for("07-coredns.yaml"), terminal_size=SIZE)


# -- Ingress: the tree's Ingresses, their forms, an HTTP request through the controller ------------------------
async def _http(pilot, url: str, steps: int = 0):
    await pilot.pause()
    await pilot.press("h")
    await pilot.pause()
    await pilot.press("ctrl+u", *url, "enter")
    await pilot.pause()
    for _ in range(steps):
        await pilot.press("right")
    await pilot.pause()


def test_ingress_tree_and_rules(snap_compare):
    # the Ingresses group (class, rules, TLS), a rule selected: the Ingress's rules and their backends on the right
    async def run_before(pilot):
        await _select(pilot, "ingress-rule", "shop/shop", test=lambda it: it.index == 1)

    assert snap_compare(app_for("08-ingress.yaml"), terminal_size=SIZE, run_before=run_before)


def test_ingress_add_form(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "ingress", "shop/shop")
        await _add(pilot, "Ingress")

    assert snap_compare(app_for("08-ingress.yaml"), terminal_size=SIZE, run_before=run_before)


def test_ingress_add_rule_form(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "ingress", "shop/shop")
        await _add(pilot, "IngressRule")

    assert snap_compare(app_for("08-ingress.yaml"), terminal_size=SIZE, run_before=run_before)


def test_ingress_form_errors(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "ingress", "shop/shop")
        await _add(pilot, "Ingress")
        await pilot.press("tab", *"api", "tab", "tab", *"Api.Example", "tab", "ctrl+u", *"v1", "tab", "ctrl+u", *"Exact", "tab", *"videos",
                          "tab", *"8o", "enter")
        await pilot.pause()

    assert snap_compare(app_for("08-ingress.yaml"), terminal_size=SIZE, run_before=run_before)


def test_http_form(snap_compare):
    assert snap_compare(app_for("08-ingress.yaml"), terminal_size=SIZE, press=["h"])


@pytest.mark.parametrize("url, steps", [("https://shop.example/videos/cat.mp4", 20), ("https://other.example/videos", 20),
                                        ("https://shop.example/images/a.png", 3)], ids=["200", "404", "200-playing"])
def test_http_request_in_the_trace_pane(snap_compare, url, steps):
    # the legs hop by hop, the controller's step, and its decision: every rule tried, the winner, TLS, the status
    async def run_before(pilot):
        await _http(pilot, url, steps)

    assert snap_compare(app_for("08-ingress.yaml"), terminal_size=SIZE, run_before=run_before)


# -- NetworkPolicy: the tree's policies, a policy's and a pod's details, the matrix, the forms, a dropped trace ---------
def test_netpol_tree_and_policy(snap_compare):
    # the NetworkPolicies group (types, selectors, rules; the last rule selected, so the group is in view); the policy's
    # pods per direction and the peers each rule admits
    async def run_before(pilot):
        await _select(pilot, "netpol-ingress", "shop/db")

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_rule_selected(snap_compare):
    # a rule selected: lit among its policy's; its peer (namespace and pod selectors, AND) and the pods it matches
    async def run_before(pilot):
        await _select(pilot, "netpol-egress", "shop/allow-dns")

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_pod_policies(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "namespace", "shop/backend")

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_matrix(snap_compare):
    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_matrix_after_an_edit(snap_compare):
    # a default deny in default: the cells it flipped highlighted and counted, the cursor on the first, explained
    async def run_before(pilot):
        await _select(pilot, "namespace", "default/client")
        await _add(pilot, "DefaultDeny")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_add_policy_form(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "netpol", "shop/db")
        await _add(pilot, "NetworkPolicy")

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_add_rule_form(snap_compare):
    # from the matrix, on a denied pair: the rule that lets it in, filled in (the peer in another namespace, the port)
    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_form_errors(snap_compare):
    async def run_before(pilot):
        await _select(pilot, "netpol", "shop/backend")
        await _add(pilot, "NetworkPolicyRule")
        await pilot.press("tab", *"namespaces(team=a) pods(app=web); ipBlock(10.0.0.0/8 except 11.0.0.0/16)", "tab", *"TCP/99999, 8000-8080",
                          "enter")
        await pilot.pause()

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)


def test_netpol_trace_dropped(snap_compare):
    # the policy notes of the hop where Calico drops the connection, and the verdict naming the policies
    async def run_before(pilot):
        await _trace(pilot, "default/client", "svc/shop/backend", steps=10)

    assert snap_compare(app_for("09-network-policy.yaml"), terminal_size=SIZE, run_before=run_before)
