"""Pilot tests of the dashboard: state and behaviour after keys, not pictures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tui.app.app import create_app
from tui.app.screens.main import MainScreen
from tui.app.widgets.topology_tree import TopologyTree
from tui.app.widgets.trace_pane import TracePane
from tui.load import load

ROOT = Path(__file__).resolve().parent.parent
TOPO = ROOT / "topologies"


def app_for(name="default.yaml"):
    return create_app([name], animate_traces=False, test_mode=True)


def routes_text(app) -> str:
    return str(app.screen.query_one("#routes-body").render())


def trace_text(app) -> str:
    return str(app.screen.query_one("#trace-body").render())


async def add_route(pilot, to, via):
    # laptop is selected at start; the add menu lists network, host, interface, route, ...
    await pilot.press("a", "down", "down", "down", "enter")
    await pilot.pause()
    await pilot.press(*to, "tab", *via, "enter")
    await pilot.pause()


async def test_four_panes_and_titles(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        titles = {w.border_title for w in screen.query(".pane")}
        assert {"Topology", "Routes", "DNS", "Trace"} <= titles
        for w in screen.query(".pane"):
            assert w.region.width > 0 and w.region.height > 0
        assert "default via 192.168.1.1 dev wlp0s20f3 metric 600" in routes_text(app)
        assert app.title == "kubenet-tui · office"


async def test_selection_drives_routes(workdir):
    app = app_for("03-docker-bridge.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1" in routes_text(app)
        assert "-j MASQUERADE" in routes_text(app)  # NAT rules of the host
        tree = app.screen.query_one(TopologyTree)
        node = next(tree._nodes_of_kind(tree.root, "container"))
        tree.move_cursor(node)
        await pilot.pause()
        assert app.screen.selected.name == "container-a"
        assert "default via 172.17.0.1 dev eth0" in routes_text(app)


async def test_route_format_toggle_and_lookup(workdir):
    app = app_for("02-router-gateway.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("n")  # r resolves names now: the route -n toggle moved to n, its binding id kept
        assert "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface" in routes_text(app)
        assert next(b for b in MainScreen.BINDINGS if b.id == "route-format").key == "n"
        await pilot.press("n", "l", *"8.8.8.8")
        await pilot.pause()
        text = routes_text(app)
        assert "8.8.8.8 via 192.168.1.1 dev wlp0s20f3 src 192.168.1.10" in text


async def test_trace_plays_and_steps(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.press(*"laptop", "tab", *"docker-host:8080", "enter")
        await pilot.pause()
        pane = app.screen.query_one(TracePane)
        assert pane.trace is not None and pane.trace.delivered
        assert pane.step == 0 and not pane.playing  # animate_traces=False: starts paused
        await pilot.press("right", "right")
        assert pane.step == 2
        await pilot.press("left")
        assert pane.step == 1
        await pilot.press("space")
        assert pane.playing
        await pilot.press("space")
        assert not pane.playing
        before = pane.speed
        await pilot.press("plus")
        assert pane.speed < before
        await pilot.press("minus", "minus")
        assert pane.speed > before
        for _ in range(30):
            await pilot.press("right")
        assert pane.step == len(pane.rows) - 1
        assert "reply DELIVERED to laptop" in trace_text(app)
        tree = app.screen.query_one(TopologyTree)
        assert {"laptop", "router", "docker-host", "web"} <= tree.path


async def test_trace_form_reports_unknown_names(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("t", *"lapto", "tab", *"web", "enter")
        await pilot.pause()
        assert app.screen.id == "trace-form"
        assert 'did you mean "laptop"' in str(app.screen.query_one("#e-src").render())
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_add_route_changes_routes_and_trace_then_undo(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.run_trace({"src": "laptop", "dst": "10.9.9.9", "proto": "icmp", "port": None})
        await pilot.pause()
        assert screen.query_one(TracePane).trace.hops[2].node == "router"
        await add_route(pilot, "10.9.0.0/16", "192.168.1.50")
        assert app.workspace.dirty
        assert "10.9.0.0/16 via 192.168.1.50 dev wlp0s20f3" in routes_text(app)
        t = screen.query_one(TracePane).trace
        assert t.hops[2].node == "printer"  # the edit re-ran the trace
        assert "forwarding disabled" in t.reason
        assert "unsaved" in app.sub_title
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "10.9.0.0/16" not in routes_text(app)
        assert screen.query_one(TracePane).trace.hops[2].node == "router"
        assert not app.workspace.dirty
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert "10.9.0.0/16 via 192.168.1.50" in routes_text(app)


async def test_invalid_route_shows_loader_message_inline(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add_route(pilot, "10.0.0.0/8", "10.9.9.9")
        assert app.screen.id == "route-form"
        err = str(app.screen.query_one("#e-via").render())
        assert "Nexthop has invalid gateway" in err
        await pilot.press("escape")
        assert not app.workspace.dirty


async def test_add_host_network_interface_container(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a", "down", "enter", *"system-c", "enter")  # host
        await pilot.pause()
        assert app.workspace.loaded.topology.host("system-c") is not None
        tree = app.screen.query_one(TopologyTree)
        node = next(n for n in tree._nodes_of_kind(tree.root, "host") if n.data.name == "system-c")
        tree.move_cursor(node)
        await pilot.pause()
        await pilot.press("a", "down", "down", "enter", *"eth0", "tab", "ctrl+u", *"switch", "tab", *"192.168.1.12/24", "enter")
        await pilot.pause()
        h = app.workspace.loaded.topology.host("system-c")
        assert [str(a) for a in h.interfaces[0].addresses] == ["192.168.1.12/24"]
        await pilot.press("a", "down", "down", "down", "down", "down", "enter", *"web", "enter")
        await pilot.pause()
        h = app.workspace.loaded.topology.host("system-c")
        assert h.docker is not None and h.containers[0].name == "web"
        assert str(h.containers[0].address) == "172.17.0.2/16"


async def test_delete_asks_and_undo_restores(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.selected.name == "system-a"
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        assert app.workspace.loaded.topology.host("system-a") is not None
        await pilot.press("d", "y")
        await pilot.pause()
        assert app.workspace.loaded.topology.host("system-a") is None
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.workspace.loaded.topology.host("system-a") is not None


async def test_save_reloads_to_the_same_model(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a", "down", "down", "down", "enter", *"default", "tab", *"192.168.1.11", "enter")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.workspace.dirty
        model = app.workspace.loaded.topology
    again = load(["01-switch.yaml"]).topology
    assert again.hosts == model.hosts and again.networks == model.networks
    text = (workdir / "01-switch.yaml").read_text()
    assert text.startswith("# 01 - Two systems on one switch")  # the opening comments survive
    assert (workdir / "01-switch.yaml.bak").exists()
    assert yaml.safe_load(text)["hosts"][0]["routes"] == [{"to": "default", "via": "192.168.1.11"}]


async def test_save_as_and_open(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("w", "ctrl+u", *"copy.yaml", "enter")
        await pilot.pause()
        assert (workdir / "copy.yaml").exists()
        assert app.workspace.paths == ["copy.yaml"]
        await pilot.press("o", *"02-router-gateway.yaml", "enter")
        await pilot.pause()
        assert app.workspace.name == "router-gateway"
        assert isinstance(app.screen, MainScreen)


async def test_quit_with_unsaved_changes_asks(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a", "enter", *"lan2", "enter")
        await pilot.pause()
        assert app.workspace.dirty
        await pilot.press("q")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        await pilot.press("n")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None


async def test_filter_keeps_matching_items(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"docker")
        await pilot.pause()
        tree = app.screen.query_one(TopologyTree)
        hosts = [n.data.name for n in tree._nodes_of_kind(tree.root, "host")]
        assert hosts == ["docker-host"]
        await pilot.press("escape")
        await pilot.pause()
        hosts = [n.data.name for n in tree._nodes_of_kind(tree.root, "host")]
        assert len(hosts) == 5


async def test_help_map_and_palette(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape", "m")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "MapScreen"
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for action in ("Trace", "Add", "Save", "Undo", "Map", "Open", "Save as"):
            assert action in titles


@pytest.mark.parametrize("size", [(80, 24), (40, 12), (20, 6), (10, 3), (1, 1), (120, 40)])
async def test_survives_resizing(workdir, size):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(*size)
        await pilot.pause()
        await pilot.press("t", "escape", "down", "n")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_filter_then_edit_acts_on_the_item_under_the_cursor(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"printer", "enter")
        await pilot.pause()
        tree = app.screen.query_one(TopologyTree)
        assert tree.cursor_node.data == app.screen.selected  # what e/d act on is what is highlighted
        assert app.screen.selected.host == "printer" or app.screen.selected.name == "printer"
        await pilot.press("escape")
        await pilot.pause()
        assert tree.filter_text == ""


async def test_rename_keeps_the_selection_on_the_renamed_item(workdir):
    app = app_for("03-docker-bridge.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TopologyTree)
        tree.move_cursor(next(tree._nodes_of_kind(tree.root, "container")))
        await pilot.pause()
        await pilot.press("e", "ctrl+u", *"www", "enter")
        await pilot.pause()
        assert app.screen.selected.name == "www"
        assert "default via 172.17.0.1 dev eth0" in routes_text(app)


async def test_save_as_asks_before_replacing_a_file(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = (workdir / "02-router-gateway.yaml").read_text()
        await pilot.press("w", "ctrl+u", *"02-router-gateway.yaml", "enter")
        await pilot.pause()
        assert app.screen.id == "save-as-form"
        assert "exists" in str(app.screen.query_one("#e-path").render())
        assert (workdir / "02-router-gateway.yaml").read_text() == before
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert load(["02-router-gateway.yaml"]).topology.name == "switch"
        assert (workdir / "02-router-gateway.yaml.bak").read_text() == before


async def test_palette_lists_every_action_even_while_typing(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen.app.screen_stack[0])]
        for action in ("Trace", "Add", "Edit", "Delete", "Map", "Open", "Save", "Save as", "Undo", "Redo", "Route lookup", "Filter"):
            assert action in titles, action


async def test_keys_pressed_while_quitting_do_not_crash(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("q", "e", "t", "a")
        await pilot.pause()
    assert app.return_code in (0, None)


async def test_cluster_made_routes_are_not_edited_as_file_routes(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TopologyTree)
        node = next(n for n in tree._nodes_of_kind(tree.root, "route") if n.data.host == "node-1" and "10.244.2.0/24" in n.data.name)
        tree.move_cursor(node)
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no confirm: refused with a note
        assert not app.workspace.dirty
        own = next(n for n in tree._nodes_of_kind(tree.root, "route") if n.data.host == "node-1" and n.data.name.startswith("default"))
        tree.move_cursor(own)
        await pilot.pause()
        await pilot.press("d", "y")
        await pilot.pause()
        assert app.workspace.loaded.topology.host("node-1").routes == ()


# -- Kubernetes objects -----------------------------------------------------------------
async def add(pilot, kind):
    """Open the add menu and pick ``kind`` (Node, Pod, Deployment or Service) in it."""
    await pilot.press("a")
    await pilot.pause()
    index = [key for key, _ in pilot.app.screen.choices].index(kind)
    await pilot.press(*["down"] * index, "enter")
    await pilot.pause()


def select(app, kind, name=None, test=None):
    tree = app.screen.query_one(TopologyTree)
    node = next(n for n in tree._nodes_of_kind(tree.root, kind) if (name is None or n.data.name == name) and (test is None or test(n.data)))
    tree.move_cursor(node)
    return node


def objects(app, kind):
    return {(o.namespace, o.name): o.body for o in app.workspace.loaded.topology.objects if o.kind == kind}


def pods(app):
    """The cluster's pods but kubeadm's CoreDNS pods, which every cluster gets."""
    return {f"{p.namespace}/{p.name}": p for p in app.screen.net.cluster.pods if not p.name.startswith("coredns-")}


def error(app, field):
    return str(app.screen.query_one(f"#e-{field}").render())


async def test_add_a_pod_on_the_selected_node_then_undo(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "host", "node-2")
        await pilot.pause()
        await add(pilot, "Pod")
        assert app.screen.id == "pod-form"
        assert app.screen.values()["node"] == "node-2" and app.screen.values()["namespace"] == "default"
        await pilot.press("tab", *"api", "tab", *"app=api", "tab", "tab", "tab", *"http:8080", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert pods(app)["default/api"].node == "node-2"
        assert objects(app, "Pod")[("default", "api")]["spec"]["containers"][0]["ports"] == [{"name": "http", "containerPort": 8080}]
        assert app.screen.selected.name == "default/api" and app.screen.selected.host == "node-2"  # the new pod, where it landed
        assert "unsaved" in app.sub_title
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "default/api" not in pods(app) and not app.workspace.dirty


async def test_edit_a_pod_and_save_it(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "namespace", "default/web-a")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "pod-form"
        assert app.screen.values() == {"namespace": "default", "name": "web-a", "labels": "app=web", "node": "node-1", "image": "nginx",
                                       "ports": "http:80"}
        await pilot.press("tab", "tab", "end", *",tier=front", "enter")
        await pilot.pause()
        assert objects(app, "Pod")[("default", "web-a")]["metadata"]["labels"] == {"app": "web", "tier": "front"}
        await pilot.press("ctrl+s")
        await pilot.pause()
    text = (workdir / "04-two-node-cluster.yaml").read_text()
    assert text.startswith("# 04 - A two-node Kubernetes cluster")
    assert load(["04-two-node-cluster.yaml"]).topology.objects == app.workspace.loaded.topology.objects


async def test_delete_a_pod_asks_and_undo_restores_its_endpoint(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "namespace", "default/web-b")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        await pilot.press("y")
        await pilot.pause()
        cluster = app.screen.net.cluster
        web = next(s for s in cluster.services if s.key == "default/web")
        assert [str(e) for e in cluster.endpoints_for(web, web.ports[0])] == ["10.244.1.3:80"]
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "default/web-b" in pods(app)


async def test_invalid_kube_input_is_shown_beside_its_field(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add(pilot, "Service")
        assert app.screen.id == "service-form"
        await pilot.press("tab", *"Web2", "tab", "tab", "tab", *"http:80:30080->http", "tab", *"10.96.0.20", "enter")
        await pilot.pause()
        assert app.screen.id == "service-form"
        assert "not a valid DNS-1035 label" in error(app, "name")  # the loader's own words
        assert "10.96.0.20 is already allocated to Service default/web" in error(app, "clusterIP")
        assert "may not be used when type is 'ClusterIP'" in error(app, "ports")
        assert not app.workspace.dirty
        assert app.focused.id == "f-name"  # the first field in error
        await pilot.press("ctrl+u", *"web2", "tab", "tab", "tab", "ctrl+u", *"http:80->http", "tab", "ctrl+u", *"10.96.0.21", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert objects(app, "Service")[("default", "web2")]["spec"]["clusterIP"] == "10.96.0.21"
        await add(pilot, "Pod")
        await pilot.press("tab", *"p", "tab", *"app=a b", "tab", "tab", "tab", *"http:99999", "enter")
        await pilot.pause()
        assert "not a valid label value" in error(app, "labels")
        assert "must be between 1 and 65535" in error(app, "ports")
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.workspace.undo_stack) == 1


async def test_pods_of_a_deployment_offer_the_deployment(workdir):
    app = app_for("05-nodeport.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "namespace", test=lambda it: it.name.startswith("default/web-"))
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        assert "is made by Deployment default/web" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert len(pods(app)) == 2 and not app.workspace.dirty  # nothing deleted
        await pilot.press("e", "y")
        await pilot.pause()
        assert app.screen.id == "deployment-form"
        assert app.screen.values()["replicas"] == "2" and app.screen.values()["labels"] == "app=web"
        await pilot.press("tab", "tab", "ctrl+u", *"3", "enter")
        await pilot.pause()
        assert len(pods(app)) == 3
        assert app.screen.selected.name == "Deployment/default/web"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert len(pods(app)) == 2


async def test_what_the_simulator_makes_is_not_edited_as_if_it_were_in_the_file(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "service", "default/kubernetes")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.workspace.dirty
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.workspace.dirty
        select(app, "service", "default/web")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "service-form" and app.screen.values()["ports"] == "http:80->http"
        await pilot.press("escape")
        await pilot.pause()
        select(app, "host", "node-1")  # a host of the file with a Node object: which of the two?
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ChoiceScreen"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen.id == "node-form" and app.screen.values()["podCIDR"] == "10.244.1.0/24"


async def test_an_implicit_node_offers_a_node_object(workdir):
    (workdir / "pods.yaml").write_text("apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nspec: {podCIDR: 10.244.7.0/24}\n---\n"
                                       "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeName: node-b\n"
                                       "  containers: [{name: c, image: busybox}]\n")
    app = app_for("pods.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "host", "node-a")  # made from its Node object: e edits the object
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "node-form"
        await pilot.press("tab", "tab", "ctrl+u", *"10.244.8.0/24", "enter")
        await pilot.pause()
        assert objects(app, "Node")[(None, "node-a")]["spec"]["podCIDR"] == "10.244.8.0/24"
        select(app, "host", "node-b")  # named only by the pod's nodeName
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("e")
        await pilot.pause()
        assert "made by the simulator" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert app.screen.id == "node-form" and app.screen.values()["name"] == "node-b"
        await pilot.press("enter")
        await pilot.pause()
        assert (None, "node-b") in objects(app, "Node")


async def test_add_and_delete_deployment_service_and_node(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add(pilot, "Deployment")
        assert app.screen.id == "deployment-form"
        await pilot.press("tab", *"api", "tab", "ctrl+u", *"3", "tab", "tab", "tab", *"http:8080", "enter")
        await pilot.pause()
        assert len([p for p in pods(app) if p.startswith("default/api-")]) == 3
        await add(pilot, "Service")
        await pilot.press("tab", *"api", "tab", "ctrl+u", *"NodePort", "tab", *"app=api", "tab", *"http:80:30090->http", "enter")
        await pilot.pause()
        svc = next(s for s in app.screen.net.cluster.services if s.key == "default/api")
        assert svc.type == "NodePort" and svc.ports[0].node_port == 30090
        assert len(app.screen.net.cluster.endpoints_for(svc, svc.ports[0])) == 3
        assert app.screen.selected.name == "default/api"
        await add(pilot, "Node")
        await pilot.press(*"node-3", "tab", *"192.168.1.13", "tab", *"10.244.3.0/24", "enter")
        await pilot.pause()
        assert "node-3" in app.screen.net.cluster.nodes
        for key in ("Deployment/default/api", "Node/node-3"):
            select(app, "object", key)
            await pilot.pause()
            await pilot.press("d", "y")
            await pilot.pause()
        select(app, "service", "default/api")
        await pilot.pause()
        await pilot.press("d", "y")
        await pilot.pause()
        assert not [p for p in pods(app) if p.startswith("default/api-")]
        assert "node-3" not in app.screen.net.cluster.nodes and ("default", "api") not in objects(app, "Service")
        assert len(app.workspace.undo_stack) == 6


async def test_iptables_and_ipvs_of_a_node(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("node_rules", ()) is False  # the gateway is no node
        select(app, "namespace", "default/client")  # a pod: its node's rules
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert screen.__class__.__name__ == "NodeRulesScreen" and screen.node == "node-1"
        nat = str(screen.query_one("#rules-nat").render())
        assert nat.startswith("*nat") and "-A KUBE-SERVICES" in nat and nat.rstrip().endswith("COMMIT")
        assert list(screen.views) == ["iptables", "ipvs"]
        await pilot.press("v")
        await pilot.pause()
        assert "TCP  10.96.0.20:80 rr" in str(screen.query_one("#rules-ipvs").render())
        await pilot.press("v", "escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


# -- DNS: the records pane and the resolve form ------------------------------------------
BAD_COREFILE = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n"
                "data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local {\n            pods always\n        }\n    }\n")


def dns_rows(app) -> list[tuple[str, str, str, str]]:
    """The DNS pane's table as (name, type, ttl, data), names and data unwrapped as the zone file writes them."""
    import re

    found = app.screen.query("#dns-records")  # the table is mounted with the first cluster zone
    if not found:
        return []
    table = found.first()
    # a cell wraps at a space, or after a dot of a long name
    return [tuple(re.sub(r"(?<=[^.])\n", " ", str(c)).replace("\n", "") for c in table.get_row_at(i)) for i in range(table.row_count)]


def resolve_text(app) -> str:
    """The resolve form's result as the terminal shows it, its lines joined by single spaces."""
    import io

    from rich.console import Console

    from tui.app.forms.resolve import resolution_view

    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(resolution_view(app.screen.asked))
    return " ".join(console.export_text().split())


async def focus_dns(pilot):
    await pilot.press("tab", "tab", "tab")  # tree, Routes, the route lookup, the DNS records
    await pilot.pause()
    assert pilot.app.focused.id == "dns-records"


async def resolve_in_form(pilot, name, pod="", qtype=""):
    await pilot.press("r")
    await pilot.pause()
    assert pilot.app.screen.id == "resolve-form"
    await pilot.press("ctrl+u", *name, "tab", "ctrl+u", *(qtype or "A"), "tab", "ctrl+u", *pod, "enter")  # over the last request
    await pilot.pause()


async def test_dns_pane_lists_every_record_and_filters_when_it_has_the_focus(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pane = app.screen.query_one("#dns")
        zone = app.screen.net.dns_zone()
        rows = dns_rows(app)
        assert len(rows) == len(zone.records()) and pane.border_subtitle.startswith(f"{len(rows)} records")
        assert rows[0][:3] == ("@", "SOA", "30")  # in zone.records()'s order, relative to $ORIGIN cluster.local.
        assert ("web.default.svc", "A", "30", "10.96.0.20") in rows
        assert ("_http._tcp.web.default.svc", "SRV", "30", "0 100 80 web.default.svc") in rows
        assert ("20.0.96.10.in-addr.arpa.", "PTR", "30", "web.default.svc") in rows
        head = str(pane.query_one("#dns-head").render())
        assert "cluster.local." in head and "kube-system/kube-dns 10.96.0.10" in head
        await focus_dns(pilot)
        await pilot.press("slash", *"web srv")
        await pilot.pause()
        assert app.focused.id == "dns-filter"
        assert not app.screen.query_one("#filter").has_class("visible")  # not the tree's filter
        assert dns_rows(app) == [("_http._tcp.web.default.svc", "SRV", "30", "0 100 80 web.default.svc")]
        assert pane.border_subtitle.startswith(f"1 of {len(rows)} records")
        await pilot.press("enter", "down")
        await pilot.pause()
        assert app.focused.id == "dns-records"
        full = str(pane.query_one("#dns-full").render())
        assert full == "_http._tcp.web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local."
        await pilot.press("escape")  # clears the records' filter, stays in the pane
        await pilot.pause()
        assert len(dns_rows(app)) == len(rows) and app.focused.id == "dns-records"
        await pilot.press("escape")  # then back to the tree, whose / is its own filter
        await pilot.pause()
        assert isinstance(app.focused, TopologyTree)
        await pilot.press("slash", *"web")
        await pilot.pause()
        assert app.focused.id == "filter" and len(dns_rows(app)) == len(rows)


async def test_resolve_from_a_pod_walks_its_search_list(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await resolve_in_form(pilot, "web.default", "default/client")
        res = app.screen.asked.resolution
        assert [t.qname for t in res.tries] == ["web.default.default.svc.cluster.local.", "web.default.svc.cluster.local."]
        assert [t.answer.rcode for t in res.tries] == ["NXDOMAIN", "NOERROR"] and res.kept == 1
        text = resolve_text(app)
        assert "search default.svc.cluster.local svc.cluster.local cluster.local" in text and "options ndots:5" in text
        assert "fewer than ndots:5: the search list first" in text
        assert "web.default.svc.cluster.local. 30 IN A 10.96.0.20" in text and "✔ kept" in text
        assert "try 2, with search domain svc.cluster.local" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.resolve_request == {"name": "web.default", "type": "A", "pod": "default/client", "asked": True}
        await pilot.press("r")  # the last request again, already answered
        await pilot.pause()
        assert app.screen.asked.resolution.kept == 1


async def test_resolve_a_pod_name_says_why_it_does_not_resolve(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await resolve_in_form(pilot, "web-b", "default/client")
        res = app.screen.asked.resolution
        assert res.final.rcode == "NXDOMAIN" and res.kept is None and len(res.tries) == 4
        text = resolve_text(app)
        assert "web-b does not resolve: NXDOMAIN for every name tried" in text
        # the telling try is the Service-shaped name in the pod's namespace, not the last (upstream) one
        assert ('Why (try 1, web-b.default.svc.cluster.local.): no Service "web-b" in namespace "default": there is a pod named web-b, '
                "but a pod gets no <pod>.<namespace>.svc name") in text


async def test_resolve_form_errors_and_reverse_lookup(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await resolve_in_form(pilot, "web", "client2", qtype="MX")
        assert app.screen.asked is None
        assert 'no pod "default/client2" (did you mean "default/client"?)' in error(app, "pod")
        assert '"MX" is not a query type here' in error(app, "type")
        await pilot.press("escape")
        await resolve_in_form(pilot, "10.96.0.20")
        res = app.screen.asked.resolution
        assert res.qtype == "PTR" and [r.text() for r in res.final.answer] == ["20.0.96.10.in-addr.arpa. 30 IN PTR web.default.svc.cluster.local."]


async def test_a_new_service_appears_in_the_dns_records_and_undo_removes_it(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = len(dns_rows(app))
        await add(pilot, "Service")
        await pilot.press("tab", *"api", "tab", "tab", *"app=web", "tab", *"http:80->http", "enter")
        await pilot.pause()
        svc = next(s for s in app.screen.net.cluster.services if s.key == "default/api")
        rows = dns_rows(app)
        assert ("api.default.svc", "A", "30", str(svc.cluster_ip)) in rows
        assert ("_http._tcp.api.default.svc", "SRV", "30", "0 100 80 api.default.svc") in rows
        assert len(rows) > before
        await resolve_in_form(pilot, "api", "default/client")
        assert [r.data for r in app.screen.asked.resolution.final.answer] == [str(svc.cluster_ip)]
        await pilot.press("escape", "ctrl+z")
        await pilot.pause()
        assert len(dns_rows(app)) == before and not any(r[0].startswith("api.") for r in dns_rows(app))


async def test_resolve_needs_a_cluster_and_help_lists_the_dns_keys(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("resolve", ()) is None  # shown disabled: no cluster, no cluster DNS
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert "No cluster DNS" in str(app.screen.query_one("#dns-head").render())
        await pilot.press("question_mark")
        await pilot.pause()
        rows = [(k, d) for k, d in app.screen.bindings_list] + [r for _, rows in app.screen.sections for r in rows]
        assert ("r", "Resolve") in rows and ("n", "route -n") in rows
        assert [t for t, _ in app.screen.sections] == ["In the DNS pane"] and app.screen.sections[0][1][0][0] == "/"


async def test_a_corefile_coredns_refuses_is_an_error_in_the_pane(workdir, monkeypatch):
    # The loader refuses such a Corefile (a located error, as `kubenet-tui check` gives); past it, the zone
    # still raises DnsConfigError, and the pane shows it rather than crash.
    import tui.load.loader

    (workdir / "bad-corefile.yaml").write_text((workdir / "04-two-node-cluster.yaml").read_text() + BAD_COREFILE)
    monkeypatch.setattr(tui.load.loader, "_check_corefile", lambda *args: None)
    app = app_for("bad-corefile.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        head = str(app.screen.query_one("#dns-head").render())
        assert "CoreDNS refuses this Corefile" in head and "wrong value for pods: always" in head
        assert dns_rows(app) == [] and "error" in app.screen.query_one("#dns").border_subtitle
        await resolve_in_form(pilot, "web")
        assert "CoreDNS would not start" in str(app.screen.query_one("#form-error").render())


async def test_a_trace_to_a_name_plays_the_dns_exchange_first(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"default/client", "tab", *"web", "enter")
        await pilot.pause()
        pane = app.screen.query_one(TracePane)
        assert pane.trace is not None and pane.trace.dns is not None and pane.trace.delivered
        labels = [label for label, _ in pane.parts]
        assert labels == ["dns query", "dns answer", "request", "reply"]
        assert pane.rows[0][0] == "dns query" and pane.rows[0][2].node == "default/client"
        for _ in range(len(pane.rows)):
            await pilot.press("right")
        text = str(pane.query_one("#trace-body").render())
        assert "✓ web.default.svc.cluster.local. NOERROR  (kept)" in text
        assert text.index("dns query DELIVERED to kube-system/coredns-") < text.index("then the connection to 10.96.0.20")


async def test_a_name_that_does_not_resolve_is_dropped_with_the_reason(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"default/client", "tab", *"web-b.default", "enter")
        await pilot.pause()
        pane = app.screen.query_one(TracePane)
        assert pane.trace is not None and not pane.trace.delivered and pane.trace.hops == []
        assert "a pod gets no <pod>.<namespace>.svc name" in pane.trace.reason
        assert [label for label, _ in pane.parts] == ["dns query", "dns answer"]
