"""What keeps a key to one frame (#8): the footer's key widgets kept (hidden and shown, not rebuilt), the refreshes
widgets ask for taken into the screen's next update, a node's rules as one section of lines, background compiles
waiting for the keys to rest. Behaviour only: nothing here is timed."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets._footer import FooterKey

from tui.app.app import create_app
from tui.app.screens.main import MainScreen
from tui.app.widgets.footer import KeysFooter
from tui.app.widgets.lines_view import Lines
from tui.app.widgets.routes_pane import RoutesPane
from tui.app.widgets.topology_tree import TopologyTree

DEFAULT = str(Path(__file__).resolve().parent.parent / "topologies" / "default.yaml")


def app_for():
    return create_app([DEFAULT], animate_traces=False, test_mode=True)


def visible_keys(footer: KeysFooter) -> list[tuple[str, str]]:
    return [(k.key, k.description) for k in footer.query(FooterKey) if k.display and not k.has_class("-command-palette")]


def composed_keys(footer: KeysFooter, screen) -> list[tuple[str, str]]:
    regular, _palette = footer._shown(screen)  # what Footer.compose would show
    return [(key, description) for key, _display, description, *_ in regular]


async def test_a_focus_change_hides_and_shows_the_footers_key_widgets():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        footer = screen.query_one(KeysFooter)
        assert isinstance(screen.focused, TopologyTree)
        before = list(footer.query(FooterKey))
        assert ("slash", "Filter") in visible_keys(footer)  # the tree's own key
        await pilot.press("tab")  # to the Routes pane: the tree's key goes
        await pilot.pause()
        assert not isinstance(screen.focused, TopologyTree)
        assert list(footer.query(FooterKey)) == before  # the same widgets: none rebuilt, none removed
        assert ("slash", "Filter") not in visible_keys(footer)
        assert visible_keys(footer) == composed_keys(footer, screen)
        await pilot.press("shift+tab")
        await pilot.pause()
        assert isinstance(screen.focused, TopologyTree)
        assert list(footer.query(FooterKey)) == before and ("slash", "Filter") in visible_keys(footer)
        assert visible_keys(footer) == composed_keys(footer, screen)


async def test_a_key_first_shown_gets_a_widget_in_its_place():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        footer = screen.query_one(KeysFooter)
        count = len(footer.query(FooterKey))
        await pilot.press("l")  # the lookup field: typing turns most keys off (hidden), the Input's are not shown
        await pilot.pause()
        assert visible_keys(footer) == composed_keys(footer, screen)
        await pilot.press("escape")
        await pilot.pause()
        assert visible_keys(footer) == composed_keys(footer, screen)
        assert len(footer.query(FooterKey)) >= count


async def test_the_screen_update_takes_the_refreshes_widgets_have_not_told_it_yet():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: MainScreen = app.screen
        await pilot.pause()
        routes = screen.query_one(RoutesPane)
        body = routes.query_one("#routes-body")
        body.refresh(layout=True)  # as a handler would: the widget tells the screen on its next idle
        assert body._layout_required and not screen._layout_required
        screen._take_pending_refreshes()
        assert not body._layout_required and screen._layout_required
        assert body in screen._layout_widgets[routes]  # what Screen._on_layout would have recorded
        tree = screen.query_one(TopologyTree)
        tree.refresh()
        screen._take_pending_refreshes()
        assert not tree._repaint_required and tree in screen._dirty_widgets
        await pilot.pause()
        assert not screen._layout_required


async def test_a_style_update_repaints_the_tree_without_a_layout():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TopologyTree)
        await pilot.pause()
        updates = tree._updates
        tree.notify_style_update()
        assert tree._updates == updates + 1 and not tree._layout_required and tree._repaint_required


async def test_keys_postpone_a_compile_waiting_for_the_cursor_to_rest():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: MainScreen = app.screen
        screen.key_arrived()  # nothing waiting: nothing made
        assert screen._routes_timer is None
        screen.routes_later("laptop")
        first = screen._routes_timer
        assert first is not None and first._task is not None
        await pilot.press("tab")
        assert screen._routes_timer is not None and screen._routes_timer is not first  # started again by the key
        assert first._task is None  # the first one stopped: no compile from it


def test_joined_lines_are_the_parts_lines_in_order():
    parts = [["a", "b"], ["c"], ["d", "e", "f"]]
    joined, separate = Lines(), Lines()
    joined.add_text(Text("head"))
    joined.add_joined(parts, lambda item: Text(item.upper()))
    separate.add_text(Text("head"))
    for part in parts:
        separate.add(len(part), lambda i, part=part: Text(part[i].upper()))
    assert [t.plain for t in joined] == [t.plain for t in separate] == ["head", "A", "B", "C", "D", "E", "F"]
    assert len(joined.sections) == 2  # one section for the parts, however many
    assert joined[-1].plain == "F" and joined[3].plain == "C"
