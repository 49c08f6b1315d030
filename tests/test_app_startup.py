"""Starting the dashboard (#8): the console script's app paints its shell before it reads anything, fills the
panes right after, acts on keys typed before the input was read, ends with the problems of input that does not
load, and keeps the garbage collector off only until the first frame. Behaviour only: nothing here is timed."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.app.app import KubenetApp, create_app
from tui.app.forms.form import FormScreen
from tui.app.launch import launch
from tui.app.screens.main import MainScreen
from tui.app.widgets.routes_pane import RoutesPane
from tui.app.widgets.topology_tree import TopologyTree

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = str(ROOT / "topologies" / "default.yaml")
BAD = "apiVersion: kubenet/v1\nkind: Topology\nhosts:\n- name: a\n  interfaces:\n  - {name: eth0, adress: 10.0.0.1/24}\n"


@pytest.fixture
def collector():
    """The collector as the test found it, whatever launch did to it (frozen objects thawed)."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_the_first_frame_needs_neither_the_loader_nor_the_simulator():
    # In a fresh interpreter: what the console script's app imports before it runs (the first frame's modules).
    script = textwrap.dedent(f"""
        import json, sys
        from tui.app.app import create_app
        app = create_app([{DEFAULT!r}], after_paint=True)
        assert app.workspace is None
        heavy = ("tui.load", "tui.edit", "tui.sim.network", "tui.sim.query", "tui.k8s", "tui.netpol", "tui.dns", "tui.ingress",
                 "tui.app.forms", "yaml", "networkx", "dns")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("tui", "yaml", "networkx", "dns")
                                and any(m == h or m.startswith(h + ".") for h in heavy))))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    assert json.loads(out.stdout) == []


async def test_the_shell_paints_first_then_the_panes_fill():
    app = create_app([DEFAULT], animate_traces=False, test_mode=True, after_paint=True)
    frames = 0
    display = app._display

    def counting(*args, **kw):
        nonlocal frames
        frames += 1
        return display(*args, **kw)

    app._display = counting
    loaded_after: list[int] = []
    load = MainScreen.load_after_paint

    def recording(self) -> None:
        if self.paths_to_load is not None:
            loaded_after.append(frames)
        load(self)

    MainScreen.load_after_paint = recording
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert loaded_after and loaded_after[0] >= 1  # read once a frame was on the screen
            screen = app.screen
            assert isinstance(screen, MainScreen) and screen.loading is None
            assert app.workspace is not None and app.title == "kubenet-tui · " + app.workspace.loaded.topology.name
            tree = screen.query_one(TopologyTree)
            assert [n.data.name for n in tree._nodes_of_kind(tree.root, "host")]  # the hosts, in the tree
            await pilot.pause()
            assert screen.selected is not None and screen.selected.kind == "host"
            assert str(screen.query_one(RoutesPane).border_subtitle).startswith(screen.selected.name)
    finally:
        MainScreen.load_after_paint = load


async def test_a_key_typed_before_the_input_is_read_acts_on_it():
    app = create_app([DEFAULT], animate_traces=False, test_mode=True, after_paint=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        # back to the state before the read (as when the key comes ahead of the first frame's callback)
        app.workspace, screen.loading, screen.paths_to_load, screen._net = None, "loading…", [DEFAULT], None
        await pilot.press("t")
        await pilot.pause()
        assert app.workspace is not None and screen.loading is None
        assert isinstance(app.screen, FormScreen)  # the trace form, over the model just read


async def test_input_that_does_not_load_ends_the_app_with_its_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    app = create_app([str(bad)], animate_traces=False, test_mode=True, after_paint=True)  # no LoadError here: later
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
    assert app.return_code == 1
    assert app.load_problems[0].startswith(f"{bad}:6:") and 'did you mean "address"' in app.load_problems[0]
    assert app.load_problems[-1] == "1 error"


def run_headless(self):
    async def loaded_then_quit(pilot):
        await pilot.pause()
        pilot.app.exit()

    return asyncio.run(self.run_async(headless=True, size=(120, 40), auto_pilot=loaded_then_quit))


@pytest.mark.usefixtures("collector")
def test_launch_pauses_the_collector_until_the_first_frame(monkeypatch):
    enabled_while_loading: list[bool] = []
    load = MainScreen.load_after_paint

    def recording(self) -> None:
        if self.paths_to_load is not None:
            enabled_while_loading.append(gc.isenabled())
        load(self)

    monkeypatch.setattr(MainScreen, "load_after_paint", recording)
    monkeypatch.setattr(KubenetApp, "run", run_headless)
    gc.enable()
    assert launch([DEFAULT]) == 0
    assert enabled_while_loading == [False]  # off from before Textual was imported to the first frame
    assert gc.isenabled() and gc.get_freeze_count() > 0  # then on again, what was made until then frozen


@pytest.mark.usefixtures("collector")
def test_launch_prints_the_problems_of_input_that_does_not_load(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    monkeypatch.setattr(KubenetApp, "run", run_headless)
    assert launch([str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{bad}:6:") and err[-1] == "1 error"
    assert gc.isenabled()  # resumed, though the app ended at once
    missing = tmp_path / "missing.yaml"
    assert launch([str(missing)]) == 1
    assert "missing.yaml" in capsys.readouterr().err
