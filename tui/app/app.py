"""The Textual application: one factory for the console script and the tests."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .scale import background_load_bytes, input_size
from .screens.main import MainScreen

if TYPE_CHECKING:
    from ..edit import Workspace


class KubenetApp(App[None]):
    """kubenet-tui's dashboard over a :class:`Workspace`.

    With ``pending_load`` (``(paths, size)``, a big input) there is no workspace yet: the main screen shows its
    shell and loads in a worker (see :mod:`tui.app.screens.background`); with ``(paths, None)`` the input is read
    once the shell is painted (:meth:`~tui.app.screens.background.BackgroundMixin.load_after_paint`: at once if it
    is small, else in that worker). A load that fails ends the app with return code 1 and the problems in
    :attr:`load_problems`, for the launcher to print.
    """

    CSS_PATH = Path(__file__).parent / "styles" / "app.tcss"
    resume_gc = False  # the launcher paused the garbage collector: the main screen resumes it after the first paint
    TITLE = "kubenet-tui"
    classroom: dict | None = None  # {"lesson": Lesson} or {"goals": [Goal], "goal_file": path}: the panel beside the panes

    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit_app", "Quit", id="quit"),
    ]

    def __init__(self, workspace: Workspace | None, animate_traces: bool = True, test_mode: bool = False,
                 pending_load: tuple[list[str], int | None] | None = None, background_bytes: int | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.pending_load = pending_load
        self.background_bytes = background_load_bytes() if background_bytes is None else background_bytes
        self.load_problems: list[str] = []
        self.animate_traces = animate_traces
        self.blink_cursors = not test_mode
        if test_mode:
            self.animation_level = "none"

    def get_default_screen(self) -> Screen:
        # The dashboard is the app's base screen, so the very first frame is the dashboard.
        self._main = MainScreen()
        return self._main

    @property
    def main(self) -> MainScreen:
        return self._main

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and hasattr(self, "_main"):
            if self.workspace is None:
                self._main.load_after_paint()  # a key typed before the input was read: read it now, the key acts on it
            else:
                self._main.key_arrived()
        await super().on_event(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from textual.widgets import Input

        if action in ("quit_app", "help") and isinstance(self.focused, Input):
            return False
        return True

    # -- actions --------------------------------------------------------------
    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        pairs: list[tuple[str, str]] = []
        for b in list(getattr(type(self.screen), "BINDINGS", [])) + list(self.BINDINGS):
            if isinstance(b, Binding) and b.description:
                if b.action.startswith("class_") and self.classroom is None:
                    continue  # (a lesson's keys: listed in a lesson only)
                keys = b.key_display or ", ".join(b.key.split(","))
                if (keys, b.description) not in pairs:
                    pairs.append((keys, b.description))
        if isinstance(self.screen, MainScreen):
            pairs += [("↑/↓", "Move in the tree"), ("enter, space", "Expand or collapse a tree item"), ("tab", "Next pane")]
        pairs.append(("ctrl+p", "Command palette: every action by name"))
        self.push_screen(HelpScreen(pairs, f"Keys of this screen ({self.screen.__class__.__name__.replace('Screen', '') or 'main'})"))

    def load_failed(self, lines: list[str]) -> None:
        """The input did not load: keep what to print, end with return code 1."""
        self.load_problems = list(lines)
        self.exit(return_code=1)

    def action_quit_app(self) -> None:
        if isinstance(self.screen, MainScreen) and self.workspace is not None and self.workspace.dirty:
            self._ask_quit()
        elif isinstance(self.screen, MainScreen):
            self.exit()
        else:
            self.pop_screen()

    async def action_quit(self) -> None:
        """ctrl+q, from any screen: with unsaved edits it asks first, as q does (pressed again while asking: quit)."""
        if self.workspace is not None and self.workspace.dirty and not getattr(self.screen, "asks_quit", False):
            self._ask_quit()
        else:
            self.exit()

    def _ask_quit(self) -> None:
        def answer(yes: bool) -> None:
            if yes:
                if self._recovery is not None:
                    self._recovery.discard()  # the user chose to drop the edits: nothing to offer next time
                self.exit()

        from .forms.confirm import ConfirmScreen

        question = ConfirmScreen("Quit without saving?", "There are unsaved changes (ctrl+s saves them).", "Quit", "Stay")
        question.asks_quit = True
        self.push_screen(question, answer)

    # -- unsaved edits kept on disk (see tui.edit.recovery) ---------------------
    _recovery = None  # the Recovery of the files open
    _recovery_asking = False  # an earlier session's edits are being offered: the file is left as it is meanwhile
    _recovery_warned = False

    def keep_recovery(self) -> None:
        """After every change of the workspace (the main screen calls it when it shows the model): the unsaved
        edits written to the recovery file, or the file removed when there are none. On the first call for a set of
        files, edits an earlier session left for them are offered back instead."""
        ws = self.workspace
        if ws is None or os.environ.get("KUBENET_TUI_NO_RECOVERY"):
            return
        from ..edit.recovery import Recovery

        wanted = [os.path.abspath(p) for p in ws.paths]
        if self._recovery is None or self._recovery.paths != wanted:
            if self._recovery is not None and not self._recovery_asking:
                self._recovery.discard()  # the files open before: saved under another name, or left on purpose
            self._recovery = Recovery(list(ws.paths))
            self._recovery_asking = False
            pending = self._recovery.pending()
            if pending is not None:
                self._offer_recovery(pending)
                return
        if self._recovery_asking:
            return
        import threading

        recovery, target = self._recovery, (ws.real() if ws.dirty and hasattr(ws, "real") else ws)
        self._recovery_generation = generation = getattr(self, "_recovery_generation", 0) + 1
        lock = self.__dict__.setdefault("_recovery_lock", threading.Lock())
        if getattr(self.main, "big", False) and ws.dirty:  # a big input's documents: serialised off the keys
            def write() -> None:
                with lock:
                    if generation == self._recovery_generation:  # else a later change writes (the latest state)
                        recovery.keep(target)
                if recovery.failed:
                    self.call_from_thread(self._recovery_failed)

            self.main.run_worker(write, thread=True, group="recovery", name="recovery")
            return
        with lock:  # (after any write a worker is doing: its state is older)
            recovery.keep(target)
        self._recovery_failed()

    def _recovery_failed(self) -> None:
        if self._recovery is not None and self._recovery.failed and not self._recovery_warned:
            self._recovery_warned = True
            self.notify(f"Unsaved edits are not protected against a crash: {self._recovery.failed}", severity="warning", timeout=8)

    def _offer_recovery(self, pending) -> None:
        from .forms.recovery import RecoveryScreen

        self._recovery_asking = True
        recovery = self._recovery

        def answer(choice: str | None) -> None:
            if recovery is not self._recovery:
                return  # other files were opened meanwhile
            self._recovery_asking = False
            if choice == "restore":
                self._restore(pending)
            elif choice == "discard":
                recovery.discard()
                self.notify("Discarded the earlier session's unsaved edits.", timeout=4)
            else:
                aside = recovery.set_aside()
                self.notify(f"The earlier session's unsaved edits are kept in {aside}." if aside else
                            f"The earlier session's unsaved edits stay in {recovery.path}.", timeout=8)
                if aside is None:
                    self._recovery_asking = True  # never overwrite them

        self.push_screen(RecoveryScreen(pending), answer)

    def _restore(self, pending) -> None:
        from ..edit import EditError

        ws = self.workspace
        real = ws.real() if hasattr(ws, "real") else ws
        try:
            restored = real.restore(pending.files)
        except EditError as e:
            aside = self._recovery.set_aside()
            first = e.problems[0] if e.problems else None
            self.notify(f"The earlier session's edits do not load with the files as they are now"
                        f"{': ' + str(first) if first else ''}. They are kept in {aside or self._recovery.path}.",
                        severity="error", timeout=10)
            if aside is None:
                self._recovery_asking = True
            return
        self.main.refresh_model()  # (which writes them to this session's recovery file)
        self.notify(f"Restored unsaved edits to {', '.join(restored)} (ctrl+s saves them, ctrl+z takes them back)."
                    if restored else "Nothing to restore: the files already hold those edits.", timeout=6)

    def open_paths(self, paths: list[str]) -> dict[str, str] | None:
        """Replace the workspace with other files; None when done (or loading, for a big input), else the problems."""
        try:
            size = input_size(paths)
        except Exception:  # noqa: BLE001 - Workspace says what is wrong with them
            size = 0
        if size > self.background_bytes:
            self.main.start_load(paths, size, first=False)
            return None
        from ..edit import Workspace
        from ..load import LoadError

        try:
            ws = Workspace(paths)
        except LoadError as e:
            return {"path": "\n".join(str(p) for p in e.problems[:8])}
        except OSError as e:
            return {"path": f"cannot read: {e.strerror or e}"}
        self.workspace = ws
        self.forget_state()
        self.main.refresh_model()
        self.notify(f"Opened {', '.join(paths)}", timeout=3)
        return None

    def forget_state(self) -> None:
        """What belonged to the files open before: the trace, the request, the selection, the filters."""
        main = self.main
        main.trace_request = None
        main.http_request = None
        main.selected = None
        main.forget_matrix_change()
        box = main.query_one("#filter")
        box.value = ""
        box.remove_class("visible")
        main.query_one("TopologyTree").filter_text = ""
        main.query_one("TracePane").load(None, "")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action of the dashboard in the command palette."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            has_trace = screen.query_one("TracePane").loaded
            for b in MainScreen.BINDINGS:
                if not (isinstance(b, Binding) and b.description) or b.action == "unfocus":
                    continue
                if b.action.split("(")[0] in ("play", "step", "speed") and not has_trace:
                    continue  # the player's keys mean something once a trace is loaded
                if b.action == "http" and not screen.has_ingress():
                    continue  # an HTTP request goes to an Ingress controller
                if b.action == "matrix" and not screen.has_policies():
                    continue  # the matrix is the cluster's NetworkPolicies'
                key = b.key_display or b.key.split(",")[0]
                yield SystemCommand(b.description, f"{b.tooltip or b.description} (key: {key})",
                                    lambda action=b.action: self.call_later(screen.run_action, action))


def create_app(paths: list[str], animate_traces: bool = True, test_mode: bool = False,
               background_bytes: int | None = None, after_paint: bool = False) -> KubenetApp:
    """The app over ``paths``; raises :class:`LoadError` for files that do not load.

    Inputs larger than ``background_bytes`` (default :func:`~tui.app.scale.background_load_bytes`, 4 MiB) load in
    a worker once the app runs, behind its shell: their errors end the app instead (see :class:`KubenetApp`).
    With ``after_paint`` (the console script) no input is read before the app runs: the shell paints first (the
    loader, the editor and the simulator not even imported yet), then the input loads, and its errors end the app
    as a big input's do. ``test_mode`` stops cursors blinking and animations, for stable snapshots. With
    ``KUBENET_TUI_KEYLOG`` set the app logs each key's latency (:mod:`tui.app.keylog`).
    """
    limit = background_load_bytes() if background_bytes is None else background_bytes
    cls = KubenetApp
    if os.environ.get("KUBENET_TUI_KEYLOG"):
        from .keylog import key_logging

        cls = key_logging(KubenetApp, os.environ["KUBENET_TUI_KEYLOG"])
    if after_paint:
        return cls(None, animate_traces=animate_traces, test_mode=test_mode, pending_load=(list(paths), None), background_bytes=limit)
    try:
        size = input_size(paths)
    except Exception:  # noqa: BLE001 - a path that does not expand: Workspace raises the located error below
        size = 0
    if size > limit:
        return cls(None, animate_traces=animate_traces, test_mode=test_mode, pending_load=(list(paths), size), background_bytes=limit)
    from ..edit import Workspace

    return cls(Workspace(paths), animate_traces=animate_traces, test_mode=test_mode, background_bytes=limit)
