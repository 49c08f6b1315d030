"""Lessons and challenges in the dashboard: the panel beside the panes, steps done by doing them and by
answering, goals graded again after an edit; snapshots of both screens."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui.app.app import create_app
from tui.app.screens.classroom import ClassPanel
from tui.app.widgets.topology_tree import TopologyTree
from tui.learn.command import bundled_challenges
from tui.learn.goals import read_goals
from tui.learn.lessons import bundled_lessons

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # headers show paths relative to the checkout


def lesson_app(number: int):
    lesson = bundled_lessons()[number - 1]
    app = create_app([str(lesson.topology.relative_to(ROOT))], animate_traces=False, test_mode=True)
    app.classroom = {"lesson": lesson}
    return app


def challenge_app(name: str, which: str = "broken.yaml", directory: Path | None = None):
    d = next(p for p in bundled_challenges() if p.name == name)
    if directory is not None:
        for f in ("broken.yaml", "goals.yaml"):
            shutil.copy(d / f, directory / f)
        d = directory
    app = create_app([str(d / which) if directory else str((d / which).relative_to(ROOT))], animate_traces=False, test_mode=True)
    app.classroom = {"goals": read_goals(str(d / "goals.yaml")), "goal_file": str(d / "goals.yaml")}
    return app


def panel_text(app) -> str:
    return str(app.main.query_one("#class-body").render())


async def trace(pilot, src: str, dst: str) -> None:
    await pilot.press("t")
    await pilot.pause()
    await pilot.press(*src, "tab", *dst, "enter")
    await pilot.pause()


async def test_a_lesson_is_done_by_doing_and_answering():
    app = lesson_app(5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.main.query_one(ClassPanel)
        assert panel.border_title == "Lesson 5" and panel.border_subtitle.startswith("step 1/4")
        assert "▸ 1. Trace from default/client to default/web-b" in panel_text(app)
        await trace(pilot, "default/client", "default/web-a")  # not the trace asked for
        assert app.main.class_step == 0
        await trace(pilot, "default/client", "default/web-b")
        assert app.main.class_step == 1 and "✓ 1." in panel_text(app)
        assert app.focused.id == "answer" and panel.has_class("-asking")
        await pilot.press(*"eth0", "enter")
        await pilot.pause()
        assert "✗ eth0: not what the simulator says; try again (2 left)" in panel_text(app)
        await pilot.press(*"Flannel.1", "enter")
        await pilot.pause()
        assert app.main.class_step == 2 and "✓ 2." in panel_text(app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.main.class_step == 1
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.main.class_step == 2


async def test_after_three_wrong_answers_the_panel_shows_the_simulators():
    app = lesson_app(1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")  # the first step is read
        await pilot.pause()
        await trace(pilot, "system-a", "system-b")
        for answer in ("1", "2", "7"):
            await pilot.press(*answer, "enter")
            await pilot.pause()
        assert "✗ 7. The simulator says: 3 (ctrl+n goes on)" in panel_text(app)
        assert app.main.class_step == 2


async def test_goals_are_graded_again_after_an_edit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = challenge_app("01-missing-route", directory=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.main.query_one(ClassPanel)
        assert panel.border_title == "Goals" and panel.border_subtitle == "2/3 pass"
        assert "FAIL system-b reaches dns-google (8.8.8.8)" in panel_text(app)
        assert "hint: routes -f broken.yaml system-b --lookup 8.8.8.8" in panel_text(app)
        tree = app.main.query_one(TopologyTree)
        tree.move_cursor(next(n for n in tree._nodes_of_kind(tree.root, "host") if n.data.name == "system-b"))
        await pilot.pause()
        await pilot.press("a", "down", "down", "down", "enter")  # add a route
        await pilot.pause()
        await pilot.press(*"default", "tab", *"192.168.1.1", "enter")
        await pilot.pause()
        assert panel.border_subtitle == "3/3 pass"
        assert "Every goal passes. Save (ctrl+s) to keep your fix." in panel_text(app)


def test_snapshot_lesson(snap_compare):
    async def run_before(pilot):
        await pilot.pause()
        await trace(pilot, "default/client", "default/web-b")

    assert snap_compare(lesson_app(5), terminal_size=SIZE, run_before=run_before)


def test_snapshot_challenge(snap_compare):
    assert snap_compare(challenge_app("04-ingress-path-type"), terminal_size=SIZE)


def test_snapshot_challenge_solved(snap_compare):
    assert snap_compare(challenge_app("02-selector-matches-nothing", "solution.yaml"), terminal_size=SIZE)
