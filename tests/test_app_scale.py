"""The dashboard on a big cluster (#8): a tree that loads a node's pods when it is opened, a DNS table that draws
only the rows on screen, a big input loaded in a worker behind the dashboard's shell, its load errors, the
deferred workspace and the key-latency log. Behaviour only: nothing here is timed."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

import tui.load
from tui.app import scale
from tui.app.app import KubenetApp, create_app
from tui.app.deferred import DeferredWorkspace
from tui.app.launch import launch
from tui.app.screens import background
from tui.app.widgets.dns_pane import DnsPane
from tui.app.widgets.lines_view import LinesView
from tui.app.widgets.record_table import RecordTable
from tui.app.widgets.topology_tree import TopologyTree
from tui.k8s import generate as gen
from tui.load import load

DEFAULT = str(Path(__file__).resolve().parent.parent / "topologies" / "default.yaml")
CLUSTER = gen.Params(nodes=60, pods_per_node=10, services=200)  # some 1,700 tree rows and 2,600 DNS records


@pytest.fixture(scope="module")
def cluster_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("scale") / "cluster.json"
    path.write_text("".join(gen.chunks(CLUSTER)))
    return str(path)


def app_for(path: str, **kw) -> KubenetApp:
    return create_app([path], animate_traces=False, test_mode=True, **kw)


async def ready(app, pilot) -> None:
    """The first frame, then what the workers make (a big cluster's DNS zone)."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def host_node(tree: TopologyTree, name: str):
    return next(n for n in tree._nodes_of_kind(tree.root, "host") if n.data.name == name)


async def test_a_nodes_pods_join_the_tree_when_it_is_opened(cluster_file, monkeypatch):
    monkeypatch.setattr(background, "REST", 3600.0)  # the cursor never rests long enough to compile a node
    app = app_for(cluster_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        tree = app.screen.query_one(TopologyTree)
        net = app.screen.net
        assert tree.big and scale.facts_of(net).big
        pods = {f"{p.namespace}/{p.name}" for p in scale.facts_of(net).pods_on("node-05") if not p.host_network}
        assert len(pods) >= 5
        node = host_node(tree, "node-05")
        assert not node.is_expanded and not node.children and node.allow_expand
        assert not list(tree._nodes_of_kind(tree.root, "namespace"))  # no pod anywhere yet
        assert "node-05" not in net.namespaces.built()  # nor is the node compiled
        assert tree.last_line < 100  # hosts and groups: not 60 x 10 pods, 200 Services and 870 objects
        tree.move_cursor(node)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert node.is_expanded
        assert {n.data.name for n in tree._nodes_of_kind(node, "namespace")} == pods  # at once, from the cluster
        assert "node-05" not in net.namespaces.built()  # opening the node compiled nothing
        assert not any(n.data.host == "node-06" for n in tree._nodes_of_kind(tree.root, "namespace"))
        # its routes (to the 59 other nodes) need it compiled: a group whose opening has a worker compile it
        routes = next(n for n in node.children if n.data.kind == "group" and n.data.name == "routes")
        assert not routes.is_expanded and not routes.children
        with app.screen.net_lock:  # the worker waits: what shows meanwhile
            routes.expand()
            await pilot.pause()
            assert [str(c.label) for c in routes.children] == ["compiling…"]
        await ready(app, pilot)
        assert "node-05" in net.namespaces.built()
        assert len(list(tree._nodes_of_kind(routes, "route"))) == len(net.host("node-05").routes) > 59
        # a pod selected: its routing table at once (its node is compiled now)
        pod = next(tree._nodes_of_kind(node, "namespace"))
        tree.move_cursor(pod)
        await pilot.pause()
        assert app.screen.selected == pod.data
        assert any(line.plain.startswith("default via") for line in app.screen.query_one(LinesView).lines)


async def test_long_groups_come_in_chunks_and_stay_open_across_a_rebuild(cluster_file):
    app = app_for(cluster_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        tree = app.screen.query_one(TopologyTree)
        services = next(n for n in tree.root.children if n.data.name == "services")
        assert not services.is_expanded and not services.children
        services.expand()
        await pilot.pause()
        chunks = list(services.children)  # 202 Services: three groups of at most 100
        assert len(chunks) == 3
        assert all("…" in str(c.label) for c in chunks) and not any(c.children for c in chunks)
        chunks[0].expand()
        await pilot.pause()
        assert len(chunks[0].children) == 100 and all(c.data.kind == "service" for c in chunks[0].children)
        tree.set_filter("")  # a rebuild: what was open is open again
        await pilot.pause()
        services = next(n for n in tree.root.children if n.data.name == "services")
        assert services.is_expanded and services.children[0].is_expanded and len(services.children[0].children) == 100


async def test_a_big_zone_is_a_table_that_draws_only_the_rows_on_screen(cluster_file):
    app = app_for(cluster_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        pane = app.screen.query_one(DnsPane)
        records = app.screen.net.dns_zone().records()
        total = len(records)
        assert total > DnsPane.VIRTUAL_ROWS
        table = pane.query_one(RecordTable)
        assert table.row_count == total and table.virtual_size.height == total + 1  # the header's line
        assert pane.border_subtitle.startswith(f"{total} records")
        await pilot.press("tab", "tab", "tab")  # tree, Routes, the route lookup, the records
        await pilot.pause()
        assert app.focused is table
        made = []
        row = table.index.row
        table.index.row = lambda i: made.append(i) or row(i)
        await pilot.press("pagedown", "pagedown", "down")
        await pilot.pause()
        assert 0 < len(made) <= 3 * table.size.height  # the rows that came on screen, not the zone
        assert table.cursor_row > table.size.height
        full = str(pane.query_one("#dns-full").render())
        assert full == records[table.record].text()
        # a filter: only what matches, counted against the records themselves
        word = app.screen.net.cluster.services[7].name
        expected = [r for r in records if word in r.text().lower()]
        assert 0 < len(expected) < total
        await pilot.press("slash", *word)
        await pilot.pause()
        assert app.focused.id == "dns-filter"
        assert table.row_count == len(expected) and [records[i] for i in table.positions] == expected
        assert pane.border_subtitle.startswith(f"{len(expected)} of {total} records")
        await pilot.press("escape")  # cleared: every record again, the focus back on them
        await pilot.pause()
        assert table.row_count == total and app.focused is table


async def test_a_big_nodes_rules_are_drawn_a_screenful_at_a_time(cluster_file, monkeypatch):
    monkeypatch.setattr(background, "REST", 3600.0)  # the cursor never rests long enough: the test compiles it
    app = app_for(cluster_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        tree = app.screen.query_one(TopologyTree)
        tree.move_cursor(host_node(tree, "node-07"))
        await pilot.pause()
        routes = app.screen.query_one("#routes")
        assert "node-07 · compiling its node" in routes.border_subtitle  # nothing compiled on the way
        app.screen._compile_selected()  # what the pane does once the cursor rests on the node: a worker compiles it
        await ready(app, pilot)
        view = routes.query_one(LinesView)
        ns = app.screen.net.namespaces["node-07"]
        rules = sum(len(rs) for rs in ns.netfilter.chains.values())
        assert routes.has_class("-lines") and len(view.lines) > rules > 1000
        assert view.lines[0].plain == ns.tables.main.routes()[0].ip_route()
        assert "iptables" in [line.plain for line in view.lines[: len(ns.tables.main.routes()) + 3]]


async def test_a_big_input_opens_on_the_shell_and_loads_in_a_worker(cluster_file, monkeypatch):
    go = threading.Event()
    real_load = tui.load.load

    def held_load(paths, **kw):  # the worker's load waits until the test has looked at the shell
        go.wait(30)
        return real_load(paths, **kw)

    monkeypatch.setattr(tui.load, "load", held_load)
    app = app_for(cluster_file, background_bytes=1024)
    assert app.workspace is None and app.pending_load is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.loading is not None and screen.loading.startswith("loading 1.")
        assert {w.border_title for w in screen.query(".pane")} >= {"Topology", "Routes", "DNS", "Trace"}
        assert "loading" in str(screen.query_one(TopologyTree).root.label)
        assert not screen.check_action("trace", ())  # nothing to act on yet
        go.set()
        await ready(app, pilot)  # the load's worker
        await ready(app, pilot)  # then the DNS pane's
        assert screen.loading is None
        assert isinstance(app.workspace, DeferredWorkspace) and not app.workspace.made
        assert app.title.endswith(app.workspace.loaded.topology.name)
        assert host_node(screen.query_one(TopologyTree), "node-01") is not None
        assert screen.query_one(DnsPane).border_subtitle.startswith(f"{len(screen.net.dns_zone().records())} records")


BROKEN = '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},\n' \
         ' "spec": {"ports": [{"port": "eighty"}]}}]}\n'


async def test_a_big_input_that_does_not_load_ends_the_app_with_its_problems(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(BROKEN)
    expected = None
    try:
        load([str(bad)])
    except tui.load.LoadError as e:
        expected = [str(p) for p in e.problems]
    assert expected and expected[0].startswith(f"{bad}:")
    app = app_for(str(bad), background_bytes=10)
    async with app.run_test(size=(120, 40)):
        with contextlib.suppress(WorkerCancelled):  # the app ends while its worker hands over the problems
            await app.workers.wait_for_complete()
    assert app.return_code == 1
    assert app.load_problems[:-1] == expected and app.load_problems[-1].endswith("error" + ("s" if len(expected) > 1 else ""))


def test_launch_prints_a_big_inputs_problems_and_exits_1(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(BROKEN)
    monkeypatch.setenv("KUBENET_TUI_BACKGROUND_BYTES", "10")

    def run_headless(self):
        return asyncio.run(self.run_async(headless=True, size=(120, 40)))

    monkeypatch.setattr(KubenetApp, "run", run_headless)
    assert launch([str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{bad}:") and ": error: " in err[0] and err[-1].endswith(("1 error", "errors"))


def test_the_deferred_workspace_reads_the_documents_on_the_first_edit(workdir):
    paths = ["01-switch.yaml"]
    ws = DeferredWorkspace(paths, load(paths))
    assert not ws.made and not ws.dirty and ws.undo_stack == [] and ws.name == ws.loaded.topology.name
    before = ws.loaded

    def describe(topo: dict) -> None:
        topo.setdefault("metadata", {})["description"] = "edited"

    ws.edit(describe)
    assert ws.made and ws.dirty and len(ws.undo_stack) == 1 and ws.loaded is not before
    assert ws.loaded.topology.description == "edited"
    assert ws.undo() and not ws.dirty


async def test_the_key_log_has_a_line_per_key_when_asked_for(tmp_path, monkeypatch):
    assert type(app_for(DEFAULT)) is KubenetApp  # without the variable: the plain app
    log = tmp_path / "keys.log"
    monkeypatch.setenv("KUBENET_TUI_KEYLOG", str(log))
    app = app_for(DEFAULT)
    assert type(app) is not KubenetApp and isinstance(app, KubenetApp)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "up", "n")
        await pilot.pause()
        for _ in range(100):  # each line is written once its key's frame is out
            if log.exists() and len(log.read_text().splitlines()) == 4:
                break
            await pilot.pause()
    lines = [line.split("\t") for line in log.read_text().splitlines()]
    assert [key for _, key in lines] == ["down", "down", "up", "n"]
    assert all(float(ms) >= 0 for ms, _ in lines)
