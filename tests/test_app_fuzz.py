"""The dashboard under abuse: random keys on every screen and form, a tiny terminal, huge pastes, keys held down.

Every screen and form of the app (:data:`TARGETS`) is opened by its keys on a copy of a bundled topology (the
``workdir`` fixture: a stray ctrl+s writes there, never into ``topologies/``), then gets random keys from an
alphabet that means something to it: printable characters, digits, ``.`` ``/`` ``:``, tab, shift+tab, enter,
escape, arrows, home/end, page up/down, backspace, delete, space, ctrl+z, ctrl+y and every binding key of the app
but the quit keys (tested on their own). When a key closes the screen under test, it is opened again.

Properties, after every key: the app has not crashed nor exited. Afterwards: no traceback on the screen, escapes
lead back to the dashboard alone, the tree's cursor is in range and is the selection, the workspace's documents
load through the loader into the model shown, the title and the "unsaved" mark say what the workspace holds, saved
files load as they are held, and undoing every edit gives the documents back as they were read.

Keys are sent as the terminal sends them (a Key event posted to the app) and the test waits only until every
widget has handled them, with a pause (timers run, the screen laid out and drawn, its text checked) now and then:
some 5-10 ms a key instead of Pilot.press's 50 (it waits for the process to idle twice a key). The randomness is
seeded (KUBENET_FUZZ_SEED, default 9), so a run sends the same keys in CI; a failure prints the target, the seed and
the steps sent, the reproducer. KUBENET_FUZZ_KEYS (default 150) is the number of random keys per screen: raise it
(and change the seed) for a longer local run, e.g. KUBENET_FUZZ_KEYS=400 KUBENET_FUZZ_SEED=4.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual import events
from textual.geometry import Size
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.widgets import Input

from tui.app.app import KubenetApp, create_app
from tui.app.forms.choice import ChoiceScreen
from tui.app.forms.confirm import ConfirmScreen
from tui.app.forms.form import FormScreen
from tui.app.forms.resolve import ResolveScreen
from tui.app.screens.help import HelpScreen
from tui.app.screens.main import MainScreen
from tui.app.screens.map import MapScreen
from tui.app.screens.matrix import MatrixScreen
from tui.app.screens.node_rules import NodeRulesScreen
from tui.app.widgets.dns_pane import DnsPane
from tui.app.widgets.inputs import one_line
from tui.app.widgets.topology_tree import TopologyTree
from tui.edit.recovery import Recovery
from tui.load import load

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "topologies"
SIZE = (120, 40)
TINY = (40, 10)
KEYS = max(1, int(os.environ.get("KUBENET_FUZZ_KEYS", "150")))
SEED = int(os.environ.get("KUBENET_FUZZ_SEED", "9"))


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def _bundled_untouched():
    """Whatever the keys did, the bundled topologies are as they were."""
    before = _digest(BUNDLED)
    yield
    assert _digest(BUNDLED) == before, "a test changed the bundled topologies"


# -- keys --------------------------------------------------------------------------------------------------
QUIT_KEYS = {"q", "ctrl+q", "ctrl+c"}
PRINTABLE = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in QUIT_KEYS]
DIGITS = list("0123456789")
PUNCTUATION = list("./:-_=,@+?*>()")
EDITING = ["tab", "shift+tab", "up", "down", "left", "right", "home", "end", "pageup", "pagedown", "backspace", "delete",
           "space", "ctrl+u", "ctrl+a", "ctrl+e", "ctrl+w", "ctrl+k"]
HISTORY = ["ctrl+z", "ctrl+y"]
COMMIT = ["enter", "escape", "ctrl+s"]  # the keys that close a screen or change the files: rarer


def _binding_keys() -> list[str]:
    """Every key a screen, form or pane of the app binds, but the quit keys."""
    from textual.binding import Binding

    from tui.app.widgets.record_table import RecordTable

    keys: set[str] = set()
    for cls in (KubenetApp, MainScreen, MatrixScreen, NodeRulesScreen, MapScreen, HelpScreen, FormScreen, ConfirmScreen, ChoiceScreen,
                ResolveScreen, DnsPane, TopologyTree, RecordTable):
        for b in cls.BINDINGS:
            key = b.key if isinstance(b, Binding) else b[0]
            keys.update(k.strip() for k in key.split(","))
    return sorted(keys - QUIT_KEYS)


BINDING_KEYS = _binding_keys()
ALPHABET = [(PRINTABLE, 30), (DIGITS, 12), (PUNCTUATION, 8), (EDITING, 25), (HISTORY, 3), (COMMIT, 6), (BINDING_KEYS, 16)]
SAFE_ALPHABET = [([c for c in PRINTABLE if c != "y"], 30), (DIGITS, 10), (PUNCTUATION, 6), ([k for k in EDITING if k != "space"], 25),
                 (["escape"], 2), ([k for k in BINDING_KEYS if k not in ("enter", "space", "y", "ctrl+s", "ctrl+z", "ctrl+y")], 12)]
"""Keys that confirm nothing: no enter, space (a focused button), y (a question's yes), ctrl+s; no undo either."""


def random_key(rnd: random.Random, alphabet=ALPHABET) -> str:
    group = rnd.choices([g for g, _ in alphabet], weights=[w for _, w in alphabet])[0]
    return rnd.choice(group)


def key_event(key: str) -> events.Key:
    """The Key event a terminal gives for ``key``, as Pilot.press makes it."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


# -- the screens and forms ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A screen or form: the file it is opened on, the steps that open it from the dashboard, and its id (or class name).

    Steps: ``("select", kind, name, index)`` puts the tree's cursor on an item; ``("add", choice)`` picks a choice of
    the add menu; ``("dirty",)`` makes an edit unless there is one unsaved; any other string is a key."""

    name: str
    topology: str
    steps: tuple = ()
    screen: str = "MainScreen"

    def __str__(self) -> str:
        return self.name


def _t(name, topology, screen, *steps) -> Target:
    return Target(name, topology, tuple(steps), screen)


LAN, K8S, NODEPORT = "default.yaml", "04-two-node-cluster.yaml", "05-nodeport.yaml"
INGRESS, NETPOL = "08-ingress.yaml", "09-network-policy.yaml"
LAPTOP = ("select", "host", "laptop", None)
DOCKER_HOST = ("select", "host", "docker-host", None)
SELECT = {
    "network": ("select", "network", "office-lan", None), "host": LAPTOP, "interface": ("select", "interface", "wlp0s20f3", None),
    "route": ("select", "route", None, 0), "docker": ("select", "docker", "docker0", None),
    "container": ("select", "container", "web", None),
}
TARGETS = [
    _t("main-lan", LAN, "MainScreen"),
    _t("main-k8s", K8S, "MainScreen"),
    _t("main-netpol", NETPOL, "MainScreen"),
    _t("help", LAN, "HelpScreen", "question_mark"),
    _t("map", K8S, "MapScreen", "m"),
    _t("trace-form", LAN, "trace-form", "t"),
    _t("open-form", LAN, "open-form", "o"),
    _t("save-as-form", LAN, "save-as-form", "w"),
    _t("add-menu", LAN, "ChoiceScreen", LAPTOP, "a"),
    *[_t(f"add-{kind}", LAN, f"{kind}-form", DOCKER_HOST if kind == "container" else LAPTOP, ("add", kind))
      for kind in ("network", "host", "interface", "route", "docker", "container")],
    *[_t(f"edit-{kind}", LAN, f"{kind}-form", step, "e") for kind, step in SELECT.items()],
    *[_t(f"delete-{kind}", LAN, "ConfirmScreen", step, "d") for kind, step in SELECT.items()],
    _t("open-discard-confirm", LAN, "ConfirmScreen", ("dirty",), "o"),
    _t("resolve-form", K8S, "resolve-form", ("select", "namespace", "default/client", None), "r"),
    _t("iptables", K8S, "NodeRulesScreen", ("select", "host", "node-1", None), "i"),
    *[_t(f"add-{kind.lower()}", K8S, f"{kind.lower()}-form", ("select", "host", "node-1", None), ("add", kind))
      for kind in ("Node", "Pod", "Deployment", "Service")],
    _t("edit-node-object", K8S, "node-form", ("select", "object", "Node/node-1", None), "e"),
    _t("edit-node-which", K8S, "ChoiceScreen", ("select", "host", "node-1", None), "e"),
    _t("edit-pod", K8S, "pod-form", ("select", "namespace", "default/client", None), "e"),
    _t("edit-service", K8S, "service-form", ("select", "service", "default/web", None), "e"),
    _t("delete-service", K8S, "ConfirmScreen", ("select", "service", "default/web", None), "d"),
    _t("edit-deployment", NODEPORT, "deployment-form", ("select", "object", "Deployment/default/web", None), "e"),
    _t("generated-pod-confirm", NODEPORT, "ConfirmScreen", ("select", "namespace", "default/web-", None), "e"),
    _t("http-form", INGRESS, "http-form", "h"),
    *[_t(f"add-{kind.lower()}", INGRESS, form, ("select", "ingress", "shop/shop", None), ("add", kind))
      for kind, form in (("Ingress", "ingress-form"), ("IngressRule", "rule-form"), ("IngressClass", "ingressclass-form"))],
    _t("edit-ingress", INGRESS, "ingress-form", ("select", "ingress", "shop/shop", None), "e"),
    _t("edit-ingress-rule", INGRESS, "rule-form", ("select", "ingress-rule", "shop/shop", 1), "e"),
    _t("edit-ingress-tls", INGRESS, "ingress-form", ("select", "ingress-tls", "shop/shop", 0), "e"),
    _t("edit-ingressclass", INGRESS, "ingressclass-form", ("select", "ingressclass", "nginx", None), "e"),
    _t("delete-ingress-rule", INGRESS, "ConfirmScreen", ("select", "ingress-rule", "shop/shop", 1), "d"),
    _t("policy-matrix", NETPOL, "matrix-screen", "p"),
    _t("policy-matrix-add", NETPOL, "ChoiceScreen", "p", "a"),
    *[_t(f"add-{kind.lower()}", NETPOL, form, ("select", "netpol", "shop/db", None), ("add", kind))
      for kind, form in (("NetworkPolicy", "netpol-form"), ("DefaultDeny", "netpol-form"), ("NetworkPolicyRule", "netpol-rule-form"))],
    _t("edit-netpol", NETPOL, "netpol-form", ("select", "netpol", "shop/db", None), "e"),
    _t("edit-netpol-rule", NETPOL, "netpol-rule-form", ("select", "netpol-ingress", "shop/frontend", 0), "e"),
    _t("delete-netpol-rule", NETPOL, "ConfirmScreen", ("select", "netpol-ingress", "shop/frontend", 0), "d"),
]


def is_target(screen, target: Target) -> bool:
    return screen.id == target.screen or type(screen).__name__ == target.screen


def tree_node(app, kind: str, name: str | None, index: int | None):
    """The tree's node of an item (a name ending in ``-`` is a prefix), or None."""
    tree = app.main.query_one(TopologyTree)

    def fits(item) -> bool:
        named = name is None or item.name == name or (name.endswith("-") and item.name.startswith(name))
        return named and (index is None or item.index == index)

    return next((n for n in tree._nodes_of_kind(tree.root, kind) if fits(n.data)), None)


# -- a session: keys sent, the log kept ------------------------------------------------------------------------
class Crashed(AssertionError):
    pass


class Session:
    """The app under test, the keys sent to it (the reproducer) and the checks made after each."""

    def __init__(self, pilot, target: Target, seed: int) -> None:
        self.pilot, self.app, self.target, self.seed = pilot, pilot.app, target, seed
        self.log: list = []

    def report(self, what: str) -> str:
        keys = " ".join(k if isinstance(k, str) else repr(k) for k in self.log)
        return (f"{self.target.name} (on {self.target.topology}, seed {self.seed}): {what} after {len(self.log)} steps.\n"
                f"Reproducer, the steps from the first paint:\n{keys}")

    def alive(self) -> None:
        app = self.app
        if app._exception is not None:
            raise Crashed(self.report(f"crashed with {type(app._exception).__name__}: {app._exception}"))
        if app.return_code is not None:
            raise Crashed(self.report(f"exited with return code {app.return_code}"))

    async def settle(self) -> None:
        """Until every widget has handled what the last key made (the key, the messages it posts, theirs, the workers
        they start), what waits for the screen's next refresh included: a real pause only now and then."""
        app, quiet = self.app, 0
        for _ in range(10_000):
            await asyncio.sleep(0)
            if app._exception is not None or app.return_code is not None:
                return
            screen = app.screen
            if screen._callbacks:  # call_after_refresh: the refresh now, as Pilot.pause makes it
                screen._on_timer_update()
                quiet = 0
            elif busy(app):
                quiet = 0
            else:
                quiet += 1
                if quiet == 3:
                    return
        raise AssertionError(self.report("the app did not settle"))

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.log.append(key)
            self.app.post_message(key_event(key))
            await self.settle()
            self.alive()

    async def hold(self, key: str, times: int) -> None:
        """``key`` held down: every repeat queued at once, no pause between them."""
        self.log.append(f"{key}*{times}")
        for _ in range(times):
            self.app.post_message(key_event(key))
        await self.settle()
        await self.pause()

    async def paste(self, text: str) -> None:
        self.log.append(("paste", len(text)))
        self.app.post_message(events.Paste(text))
        await self.settle()
        self.alive()

    async def resize(self, width: int, height: int) -> None:
        """The terminal resized (as Pilot.resize_terminal does it, without its idle wait)."""
        self.log.append(("resize", width, height))
        size = Size(width, height)
        self.app._driver._size = size  # the headless driver's size, what the app asks for
        self.app.post_message(events.Resize(size, size))
        await self.pause()

    async def pause(self) -> None:
        """A pause: timers due meanwhile run, the screen is laid out and drawn, and shows no traceback."""
        await self.settle()
        await asyncio.sleep(0.01)
        self.app.screen._on_timer_update()
        await self.settle()
        self.alive()
        text = screen_text(self.app)
        assert "Traceback" not in text, self.report(f"a traceback on the screen:\n{text}")

    async def select(self, kind: str, name: str | None, index: int | None) -> bool:
        node = tree_node(self.app, kind, name, index)
        if node is None:
            return False
        self.log.append(("select", kind, name, index))
        self.app.main.query_one(TopologyTree).move_cursor(node)
        await self.settle()
        return True

    async def open(self) -> bool:
        """Open the target from the dashboard (best effort: a step that cannot be made says False)."""
        if not isinstance(self.app.screen, MainScreen):
            return False
        await self.press("escape", "escape")  # the tree's filter cleared, the focus on the tree (a key there is no text)
        for step in self.target.steps:
            if isinstance(step, str):
                await self.press(step)
            elif step[0] == "select":
                if not await self.select(*step[1:]):
                    return False
            elif step[0] == "dirty":  # unsaved edits, if there are none yet: a network added
                if not self.app.workspace.dirty:
                    names = {n.name for n in self.app.workspace.loaded.topology.networks}
                    name = next(f"lan{i}" for i in range(9, 99) if f"lan{i}" not in names)
                    await self.press("a", "enter", *name, "enter")
                    if not self.app.workspace.dirty:
                        return False
            elif step[0] == "add":
                await self.press("a")
                screen = self.app.screen
                keys = [key for key, _ in screen.choices] if isinstance(screen, ChoiceScreen) else []
                if step[1] not in keys:
                    return False
                await self.press(*["down"] * keys.index(step[1]), "enter")
        return is_target(self.app.screen, self.target)

    def on_target(self) -> bool:
        return any(is_target(s, self.target) for s in self.app.screen_stack)

    async def to_dashboard(self) -> None:
        """Escape until the dashboard is the only screen."""
        for _ in range(12):
            if len(self.app.screen_stack) == 1:
                break
            await self.press("escape")
        await self.pause()
        assert len(self.app.screen_stack) == 1 and isinstance(self.app.screen, MainScreen), \
            self.report(f"escapes did not lead back to the dashboard: {self.app.screen_stack}")


def busy(app) -> bool:
    """Whether a message is waiting or being handled anywhere in the app, or a worker runs."""
    if app._message_queue.values:
        return True
    for screen in app.screen_stack:
        for w in screen.walk_children(with_self=True):
            if w._message_queue.values:
                return True
    return any(not w.is_finished for w in app.workers)


def screen_text(app) -> str:
    """What the terminal shows, as text."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


def app_for(name: str):
    return create_app([name], animate_traces=False, test_mode=True)


def seed_for(target: Target, salt: str = "") -> int:
    return SEED ^ zlib.crc32(f"{target.name}{salt}".encode())


# -- the properties ------------------------------------------------------------------------------------------
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode's Cc characters, line breaks among them


def clean_line(value: str) -> bool:
    """No control character (a line break is one): what a one-line field can hold."""
    return CONTROL.search(value) is None


def assert_consistent(s: Session) -> None:
    """On the dashboard: the tree, the selection, the workspace and what the screen says of it agree."""
    app, main = s.app, s.app.main
    tree = main.query_one(TopologyTree)
    assert -1 <= tree.cursor_line <= tree.last_line, s.report(f"the tree's cursor out of range: {tree.cursor_line} of {tree.last_line}")
    if tree.cursor_node is not None and tree.cursor_node.data is not None:
        assert main.selected == tree.cursor_node.data, s.report(f"selected {main.selected}, highlighted {tree.cursor_node.data}")
    assert app.focused is None or app.focused.screen is main, s.report(f"the focus on a widget of another screen: {app.focused}")
    for w in main.query(Input):
        assert clean_line(w.value), s.report(f"#{w.id} holds {w.value[:80]!r}")
    ws = app.workspace
    loaded = ws.validate(ws.state)  # the documents load (EditError otherwise)
    assert loaded.topology == ws.loaded.topology, s.report("the model shown is not what the documents load to")
    assert main.net.topology.name == ws.loaded.topology.name
    assert app.title == f"kubenet-tui · {ws.loaded.topology.name}"
    assert ("unsaved" in app.sub_title) == ws.dirty, s.report(f"sub-title {app.sub_title!r}, dirty {ws.dirty}")
    if not ws.dirty:  # what is saved is what is held
        assert load(list(ws.paths)).topology == ws.loaded.topology, s.report(f"{ws.paths} on disk differ from the workspace")


def assert_undo_restores(s: Session, ws0, paths0, state0) -> None:
    """Undoing every edit gives back the documents as they were read (when the same files are open)."""
    ws = s.app.workspace
    if ws is not ws0 or list(ws.paths) != list(paths0):
        return
    while ws.undo():
        pass
    assert [docs for _, docs in ws.state] == [docs for _, docs in state0], s.report("undoing every edit did not give the files back")


# -- 1. random keys through every screen and form ---------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS, ids=str)
async def test_random_keys(workdir, target):
    seed = seed_for(target)
    rnd = random.Random(seed)
    app = app_for(target.topology)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, target, seed)
        await s.pause()
        ws0, paths0, state0 = app.workspace, list(app.workspace.paths), app.workspace.state
        assert await s.open(), s.report("the target did not open")
        reopen = 12  # times the screen is opened again once a key closed it
        pause_at = rnd.randint(10, 40)
        for i in range(KEYS):
            if target.steps and reopen and not s.on_target() and isinstance(app.screen, MainScreen):
                reopen -= 1
                if not await s.open():
                    reopen = 0  # what it opens on is gone (deleted, another file opened): the keys go on, on the dashboard
            await s.press(random_key(rnd))
            if i == pause_at:
                await s.pause()
                pause_at += rnd.randint(10, 60)
        await s.pause()
        for w in app.screen.query(Input):
            assert clean_line(w.value), s.report(f"#{w.id} holds {w.value[:80]!r}")
        await s.to_dashboard()
        assert_consistent(s)
        assert_undo_restores(s, ws0, paths0, state0)
    assert app.return_code in (None, 0)


# -- 2. the terminal abused: a tiny terminal, huge pastes, keys held down -----------------------------------------
BIG = ("0123456789abcdef" * 64 + " ") * 1024  # a line of 1 MB (and a little)
WEIRD = "\x1b[31mred\x1b[0m\x07\x00\tTAB 漢字🙂\u200bé\u0301 e\r\nsecond line\nthird\x1b]0;title\x07"


def focusable_inputs(screen) -> list[Input]:
    return [w for w in screen.query(Input) if w.focusable]


async def paste_into_every_input(s: Session, rnd: random.Random) -> None:
    """A text with control characters, newlines and wide characters into each input of the screen, and 1 MB into one
    of them: each keeps a single clean line, and takes keys after it."""
    app = s.app
    inputs = focusable_inputs(app.screen)
    if not inputs:  # a screen without a text field: the paste goes to what has the focus
        await s.paste(BIG)
        await s.paste(WEIRD)
        return
    big = rnd.choice(inputs)
    for w in inputs:
        w.focus()
        await s.settle()
        if app.focused is not w:
            continue
        before = w.value
        if w is big:
            await s.press("end")  # no selection: the paste goes after the value
            await s.paste(BIG)
            ok = clean_line(w.value) and w.value == before + BIG
            assert ok, s.report(f"#{w.id} after 1 MB: {len(w.value)} characters")
            await s.press("x", "home", "delete")
            ok = w.value == before[1:] + BIG + "x" if before else w.value == BIG[1:] + "x"
            assert ok, s.report(f"#{w.id} after 1 MB and keys: {len(w.value)} characters")
            w.value = before
        await s.press("end")
        await s.paste(WEIRD)
        assert w.value == before + one_line(WEIRD), s.report(f"#{w.id} holds {w.value!r}")
        assert clean_line(w.value) and "red" in w.value and "漢字🙂" in w.value, s.report(f"#{w.id} holds {w.value!r}")
        w.value = before
        await s.settle()
    await s.pause()


@pytest.mark.parametrize("target", TARGETS, ids=str)
async def test_tiny_terminal_and_pastes(workdir, target):
    """The screen through 40x10 and back, keys typed while small (reopened if they close it), every input pasted
    into, keys held down: nothing confirmed, so the workspace and the files are as they were."""
    seed = seed_for(target, "tiny")
    rnd = random.Random(seed)
    app = app_for(target.topology)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, target, seed)
        await s.pause()
        assert await s.open(), s.report("the target did not open")
        ws, state, dirty, undo = app.workspace, app.workspace.state, app.workspace.dirty, len(app.workspace.undo_stack)
        files = _digest(workdir)
        await s.resize(*TINY)
        assert s.on_target(), s.report("a resize closed the screen")
        for i in range(24):
            if not s.on_target() and isinstance(app.screen, MainScreen) and target.steps:
                await s.open()  # opened while small
            await s.press(random_key(rnd, SAFE_ALPHABET))
            if i % 8 == 7:
                await s.pause()
        await s.resize(*SIZE)
        if not is_target(app.screen, target):
            await s.to_dashboard()
            assert await s.open(), s.report("the target did not open again")
        await paste_into_every_input(s, rnd)
        await s.hold("down", 30)
        await s.hold("tab", 15)
        await s.resize(*TINY)
        await s.hold("shift+tab", 15)
        await s.resize(*SIZE)
        await s.to_dashboard()
        assert_consistent(s)
        same = app.workspace is ws and ws.state == state and ws.dirty == dirty and len(ws.undo_stack) == undo
        assert same, s.report("the workspace changed")
        assert _digest(workdir) == files, s.report("files changed")
    assert app.return_code in (None, 0)


async def test_hold_down_and_page_through_the_tree(workdir):
    """Arrows and pages held down (every repeat queued before the first is handled): the cursor stops at the ends, the
    tree folds and unfolds, and the selection is the item under the cursor."""
    app = app_for(NETPOL)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, Target("hold-down", NETPOL), SEED)
        await s.pause()
        tree = app.main.query_one(TopologyTree)
        await s.hold("down", 500)
        assert tree.cursor_line == tree.last_line, s.report(f"500 downs left the cursor on line {tree.cursor_line} of {tree.last_line}")
        await s.hold("pageup", 60)
        assert tree.cursor_line == 0
        await s.hold("pagedown", 60)
        assert tree.cursor_line == tree.last_line
        await s.hold("up", 500)
        assert tree.cursor_line == 0
        await s.hold("space", 30)  # the root folded and unfolded (play: no trace loaded)
        await s.hold("enter", 31)  # folded
        await s.hold("down", 200)
        assert -1 <= tree.cursor_line <= tree.last_line
        assert_consistent(s)


async def test_hold_tab_cycles_the_focus_without_losing_a_key(workdir):
    """200 tabs, then 200 shift+tabs, held down in a form: the focus moves exactly that far round its fields."""
    app = app_for(K8S)
    async with app.run_test(size=SIZE) as pilot:
        target = next(t for t in TARGETS if t.name == "add-service")
        s = Session(pilot, target, SEED)
        await s.pause()
        assert await s.open()
        chain = app.screen.focus_chain
        start = chain.index(app.focused)
        await s.hold("tab", 200)
        assert app.focused is chain[(start + 200) % len(chain)], s.report(f"200 tabs: {app.focused} in {chain}")
        await s.hold("shift+tab", 200)
        assert app.focused is chain[start]
        await s.to_dashboard()
        await s.hold("tab", 60)
        assert app.focused is not None and app.focused.screen is app.main
        assert_consistent(s)


async def test_keys_typed_in_one_burst_across_a_tab_land_in_their_fields(workdir):
    """Found in tmux: "laptop", Tab, "docker-host:8080" sent at once (a fast typist, a terminal's burst) all went into
    the first field. Textual hands each key to the widget focused when the key arrives, so the keys after the Tab
    were queued to the first field before its Tab moved the focus; the field now passes them on to the next."""
    app = app_for(LAN)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, Target("burst", LAN), SEED)
        await s.pause()
        await s.press("t")
        assert isinstance(app.screen, FormScreen)
        burst = [*"laptop", "tab", *"docker-host:8080", "tab", "ctrl+u", *"8080", "shift+tab", "end", *"0"]
        for key in burst:  # all queued before the first is handled
            app.post_message(key_event(key))
        await s.pause()
        values = {w.id: w.value for w in app.screen.query(Input)}
        assert values["f-src"] == "laptop" and values["f-dst"] == "docker-host:80800", (values, s.report("a burst"))
        assert values["f-port"] == "8080" and app.focused.id == "f-dst"
        await s.press("ctrl+u", *"docker-host:8080", "enter")
        assert isinstance(app.screen, MainScreen)


@pytest.mark.parametrize("where", ["trace-form", "service-form", "lookup", "filter", "dns-filter"])
async def test_hold_printable_keys_in_an_input(workdir, where):
    """300 characters typed without a pause: the field holds them all, in order, and what it drives follows."""
    app = app_for(K8S)
    rnd = random.Random(SEED)
    typed = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789./:-") for _ in range(300))
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, Target(where, K8S), SEED)
        await s.pause()
        if where == "trace-form":
            await s.press("t")
        elif where == "service-form":
            s.target = next(t for t in TARGETS if t.name == "add-service")
            assert await s.open()
            await s.press("tab")  # the name
        elif where == "lookup":
            await s.press("l")
        elif where == "filter":
            await s.press("slash")
        else:
            await s.press("tab", "tab", "tab", "slash")
        box = app.focused
        assert isinstance(box, Input), s.report(f"the focus on {box}")
        await s.press("ctrl+u")
        for c in typed:
            s.app.post_message(key_event(c))
        s.log.append(typed)
        await s.settle()
        await s.pause()
        assert box.value == typed, s.report(f"typed {typed!r}, the field holds {box.value!r}")
        if where == "filter":
            assert app.main.query_one(TopologyTree).filter_text == typed
        if where == "dns-filter":
            assert app.main.query_one(DnsPane).filter_text == typed
        await s.to_dashboard()
        await s.press("escape", "escape")
        assert_consistent(s)


# -- what the fuzzing found, kept --------------------------------------------------------------------------------
async def test_undo_after_save_as_goes_on_in_the_new_file(workdir):
    """Found: an edit, save as another file, ctrl+z crashed (KeyError in Workspace.texts: the undone state named
    the file left). The history now goes on in the new file: the old file is never written again."""
    original = (workdir / "01-switch.yaml").read_text()
    app = app_for("01-switch.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a", "enter", *"lan2", "enter", "w", "ctrl+u", *"copy.yaml", "enter")
        await pilot.pause()
        ws = app.workspace
        assert ws.paths == ["copy.yaml"] and not ws.dirty
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert ws.dirty and [p for p, _ in ws.state] == ["copy.yaml"] and "unsaved" in app.sub_title
        assert "lan2" not in [n.name for n in ws.loaded.topology.networks]
        await pilot.press("ctrl+s", "ctrl+y")
        await pilot.pause()
        assert "lan2" in [n.name for n in ws.loaded.topology.networks] and ws.dirty
    assert "lan2" not in [n.name for n in load(["copy.yaml"]).topology.networks]  # saved after the undo
    assert (workdir / "01-switch.yaml").read_text() == original


async def test_the_selection_follows_the_cursor_when_the_selected_item_goes(workdir):
    """Found: once the selected item was deleted (or renamed, or undone away) the cursor stood on another item while
    the panes, e and d still acted on the one gone: d then asked to delete it again."""
    app = app_for(LAN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = app.main.query_one(TopologyTree)
        tree.move_cursor(tree_node(app, "container", "web", None))
        await pilot.pause()
        await pilot.press("d", "y")
        await pilot.pause()
        assert app.main.selected == tree.cursor_node.data and app.main.selected.name == "db"
        await pilot.press("d")
        assert app.screen.question == "Delete container db?"
        await pilot.press("n", "ctrl+z")
        await pilot.pause()
        assert app.main.selected == tree.cursor_node.data
        tree.move_cursor(tree_node(app, "docker", "docker0", None))
        await pilot.pause()
        await pilot.press("e", "ctrl+u", *"br9", "enter")
        await pilot.pause()
        assert app.main.selected == tree.cursor_node.data and app.main.selected.name == "br9"


async def test_held_arrow_keys_leave_the_selection_on_the_cursor(workdir):
    """Found: arrow keys queued faster than they were handled (held down) left the selection on an item the cursor
    had passed: each move's late highlight message re-selected it."""
    app = app_for(NETPOL)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, Target("held", NETPOL), SEED)
        await s.pause()
        tree = app.main.query_one(TopologyTree)
        for key, times in (("up", 5), ("down", 3), ("pagedown", 2), ("up", 1)):
            await s.hold(key, times)
            assert app.main.selected == tree.cursor_node.data, s.report(f"selected {app.main.selected}, cursor on {tree.cursor_node.data}")


async def test_a_paste_keeps_one_line_without_control_characters(workdir):
    """Found: a paste kept its control characters in the field, and the field drew them: an escape sequence went to the
    terminal as it is (colours, the window title). A paste now keeps its first line, a tab as a space, nothing else."""
    assert one_line("a\tb\x1b[31mc\x00\x9b\u200b漢\r\nsecond") == "a b[31mc\u200b漢"
    assert one_line("") == "" and one_line("\nsecond") == ""
    app = app_for(LAN)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, Target("paste", LAN), SEED)
        await s.pause()
        await s.press("t", "ctrl+u")
        await s.paste(WEIRD)
        await s.pause()
        assert app.focused.value == one_line(WEIRD)
        assert "\x1b" not in screen_text(app) and "red" in screen_text(app)


async def test_a_destination_with_a_bad_port_is_an_error_not_a_crash(workdir):
    """Found: a trace to NAME:PORT whose port is no number crashed the app (QueryError out of sim.query.resolvable,
    asked whether the destination is a DNS name). It is the destination's error now, beside the field."""
    for topology, src in ((LAN, "laptop"), (K8S, "default/client")):
        app = app_for(topology)
        async with app.run_test(size=SIZE) as pilot:
            s = Session(pilot, Target("trace", topology), SEED)
            await s.pause()
            await s.press("t", "ctrl+u", *src, "tab", "ctrl+u", *"web:abc", "enter")
            assert app.screen.id == "trace-form"
            assert '"abc" is not a port number' in str(app.screen.query_one("#e-dst").render())


async def test_node_rules_keys_pressed_twice_before_a_frame(workdir):
    """Found: w (or v) twice in a row on the iptables view crashed (DuplicateIds: the sections of the first redraw
    were not removed yet when the second mounted its own)."""
    target = next(t for t in TARGETS if t.name == "iptables")
    app = app_for(target.topology)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, target, SEED)
        await s.pause()
        assert await s.open()
        for key, times in (("w", 2), ("v", 2), ("w", 3), ("v", 1)):
            await s.hold(key, times)
            ids = [w.id for w in app.screen.query(".rules-section")]
            assert ids == [f"rules-{section}" for section, _ in app.screen.views[app.screen.view]()], ids
        assert app.screen.view == "ipvs" and app.screen.wrap is False


# -- quitting -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_keys_on_a_clean_workspace(workdir, key):
    app = app_for(LAN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0


async def test_ctrl_c_does_not_quit(workdir):
    app = app_for(LAN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.return_code is None and isinstance(app.screen, MainScreen)


async def with_an_unsaved_edit(pilot) -> Session:
    """A session on 01-switch.yaml with one edit unsaved: a network lan2 added."""
    s = Session(pilot, Target("quit", "01-switch.yaml"), SEED)
    await s.pause()
    await s.press("a", "enter", *"lan2", "enter")
    assert pilot.app.workspace.dirty
    return s


async def test_quit_with_unsaved_edits_asks_first(workdir):
    app = app_for("01-switch.yaml")
    async with app.run_test(size=SIZE) as pilot:
        s = await with_an_unsaved_edit(pilot)
        for answer in ("n", "escape"):
            await s.press("q")
            assert isinstance(app.screen, ConfirmScreen), s.report("q with unsaved edits did not ask")
            await s.press(answer)
            assert isinstance(app.screen, MainScreen) and app.workspace.dirty
        await s.press("question_mark", "q")  # q closes help, it does not quit
        assert isinstance(app.screen, MainScreen) and app.return_code is None
        await s.press("t", *"qq")  # typed into a field
        assert app.focused.value == "qq" and app.return_code is None
        await s.press("escape", "q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.parametrize("where", ["dashboard", "help", "trace-form"])
async def test_ctrl_q_with_unsaved_edits_asks_first(workdir, where):
    """ctrl+q (Textual's quit, from any screen) asks as q does; ctrl+q again while asking quits, the edits kept for the
    next session (only "Quit" drops them)."""
    app = app_for("01-switch.yaml")
    async with app.run_test(size=SIZE) as pilot:
        s = await with_an_unsaved_edit(pilot)
        await s.press(*{"dashboard": [], "help": ["question_mark"], "trace-form": ["t", *"lap"]}[where])
        await s.press("ctrl+q")
        assert isinstance(app.screen, ConfirmScreen) and app.return_code is None, s.report("ctrl+q with unsaved edits did not ask")
        await s.press("n")
        assert app.return_code is None and app.workspace.dirty
        await s.press("ctrl+q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    pending = Recovery(app.workspace.paths).pending()
    assert pending is not None and "lan2" in str(pending.files)


@pytest.mark.parametrize("target", [t for t in TARGETS if t.name in ("help", "map", "iptables", "policy-matrix", "add-menu", "delete-host",
                                                                    "trace-form", "resolve-form", "add-pod")], ids=str)
async def test_q_never_drops_unsaved_edits(workdir, target):
    """q on any screen, with unsaved edits: it types, closes the screen or asks, it never quits at once."""
    app = app_for(target.topology)
    async with app.run_test(size=SIZE) as pilot:
        s = Session(pilot, target, SEED)
        await s.pause()
        await s.press("a")
        await s.press(*["down"] * [k for k, _ in app.screen.choices].index("network"), "enter", *"lan9", "enter")
        assert app.workspace.dirty
        assert await s.open()
        for _ in range(6):
            await s.press("q")
        assert app.return_code is None and app.workspace.dirty
        assert isinstance(app.screen, ConfirmScreen) or s.on_target(), s.report(f"q left {app.screen}")
        await s.to_dashboard()
        assert app.workspace.dirty
        assert_consistent(s)


# -- 3. the tiny layout, fixed -------------------------------------------------------------------------------------
@pytest.fixture
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # headers show paths relative to the checkout, the same on every machine


def test_snapshot_dashboard_40x10(snap_compare, _in_root):
    assert snap_compare(create_app(["topologies/default.yaml"], animate_traces=False, test_mode=True), terminal_size=TINY)


def test_snapshot_trace_form_40x10(snap_compare, _in_root):
    app = create_app(["topologies/default.yaml"], animate_traces=False, test_mode=True)
    assert snap_compare(app, terminal_size=TINY, press=["t", *"lap"])
