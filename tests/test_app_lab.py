"""The lab from the dashboard: L and V without root say why in one sentence, the Trace pane's title shows a
lab that is up, and a verify's disagreements are listed under the trace (a report given to the pane: the
real lab is tested as root in tests/test_lab.py)."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pytest

from tui.app.app import create_app
from tui.lab import kernel
from tui.lab.verify import Probe, Report

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def app_for(name: str = "04-cni-flannel.yaml"):
    return create_app([f"topologies/{name}"], animate_traces=False, test_mode=True)


def _report() -> Report:
    ok = Probe("pod-pod", "default/client", "10.244.2.2:80", "tcp", ipaddress.ip_address("10.244.2.2"), 80, "delivered",
               "default/web-b", got="delivered", got_to="default/web-b", agree=True)
    bad = Probe("pod-service", "default/web-a", "10.96.0.20:80", "tcp", ipaddress.ip_address("10.96.0.20"), 80, "delivered",
                "default/web-b", got="timeout", detail="no answer within 1 s", agree=False)
    return Report("two-node-flannel", [ok, bad])


async def test_without_root_l_and_v_say_why(monkeypatch):
    monkeypatch.delenv("KUBENET_TUI_NO_LAB")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert said[-1] == ("The lab makes network namespaces, which needs root: run it as root "
                            "(e.g. sudo kubenet-tui lab up -f FILE)")
        assert app.main.query_one("TracePane").border_title == "Trace"
        await pilot.press("V")
        await pilot.pause()
        assert [n.message for n in app._notifications][-1] == "No lab is up: press L to bring one up (root only), then V."


async def test_the_lab_keys_can_be_switched_off():
    app = app_for()  # (the suite sets KUBENET_TUI_NO_LAB: random keys must not build a lab as root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await pilot.pause()
        assert [n.message for n in app._notifications][-1] == "The lab keys are switched off here (KUBENET_TUI_NO_LAB is set)."
        assert not app.workers._workers


def _fake_lab_up() -> None:
    """A record of a lab that is up, as the indicator reads it (a namespace of the record must exist)."""
    rec = {"prefix": kernel.prefix(), "files": [str(ROOT / "topologies/04-cni-flannel.yaml")], "topology": "two-node-flannel",
           "namespaces": [f"x{i}" for i in range(12)], "names": {}, "notes": [], "counts": {}, "listeners": 9, "dns": []}
    kernel.write_record(rec)


async def test_the_trace_pane_shows_a_lab_that_is_up(monkeypatch):
    _fake_lab_up()
    monkeypatch.setattr("tui.lab.netns.exists", lambda name: True)
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.main.query_one("TracePane").border_title == "Trace · lab ● up: 12 namespaces (L down, V verify)"
    assert json.loads(kernel.record_path().read_text())["topology"] == "two-node-flannel"


def test_snapshot_lab_up_with_a_disagreement(snap_compare, monkeypatch):
    _fake_lab_up()
    monkeypatch.setattr("tui.lab.netns.exists", lambda name: True)

    async def run_before(pilot):
        await pilot.pause()
        pane = pilot.app.main.query_one("TracePane")
        pane.lab_report = _report()
        pane.render_trace()
        await pilot.pause()
        text = pane._lab_text(pane.lab_report).plain
        assert "2 probes in the real kernel, 1 disagree" in text
        assert "✗ pod-service default/web-a → 10.96.0.20:80 (tcp): simulator delivered to default/web-b; lab timeout" in text

    assert snap_compare(app_for(), terminal_size=SIZE, run_before=run_before)


async def test_the_lab_says_what_it_did_with_the_traced_packet():
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.main.query_one("TracePane")
        from tui.sim.query import trace

        t = trace(app.main.net, "default/web-a", "10.96.0.20:80", "tcp")
        text = pane._lab_text(_report(), t).plain
        assert text.startswith("\nin the lab, this packet: timeout (no answer within 1 s) · DISAGREES with the simulator\n")
        other = trace(app.main.net, "default/client", "10.244.2.2:80", "tcp")
        assert "in the lab, this packet: delivered to default/web-b · agrees with the simulator" in pane._lab_text(_report(), other).plain
        assert "in the lab" not in pane._lab_text(_report(), trace(app.main.net, "default/client", "10.244.1.3:80", "tcp")).plain
