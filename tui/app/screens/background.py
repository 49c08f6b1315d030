"""What a big input costs, kept off the keys' path (a part of :class:`MainScreen`).

- Loading: an input larger than :func:`tui.app.scale.background_load_bytes` opens on the dashboard's shell
  (the four panes, the tree saying ``loading N MB…``) while a thread worker reads, checks and compiles it and
  compiles the first host; then the panes fill, the DNS pane's zone coming from a worker of its own. A load
  error ends the app with code 1, its problems kept for :func:`tui.app.launch.launch` to print (or, for a
  file opened with ``o``, notified).
- Nodes: on a big network a node is compiled when first asked for, in a thread worker (:meth:`compile_node`):
  when its routes are opened in the tree (which lists its pods at once, from the cluster), and for the Routes
  pane once the cursor has rested on it for :data:`REST` seconds, so that moving through the tree compiles
  nothing on the way. The worker then makes the node's routes and rules (made lazily by the core: seconds
  with thousands of Services) before the pane shows them.
- Traces: on a big network a trace runs in a thread worker (it compiles the nodes on its way), the Trace pane
  saying so meanwhile.

The network compiles lazily and is not made for threads: :attr:`net_lock` is held by each worker while it
compiles (a node, a trace), so that they take turns, and on a big network the UI's thread compiles nothing
itself: it reads only the namespaces already made. Workers build with the cyclic garbage collector paused and
what they made is frozen afterwards (:func:`gc.freeze`): a collection walking a node's million objects would
hold the GIL, and the keys, for most of a second.
"""

from __future__ import annotations

import gc
import threading

from rich.text import Text

from ...sim.gcpause import paused_gc
from ..scale import facts_of, megabytes

REST = 0.15  # seconds the cursor rests on a node not compiled yet before the Routes pane compiles it


def is_built(net, name: str) -> bool:
    """Whether namespace ``name`` of ``net`` is compiled already (asking for it costs nothing)."""
    built = getattr(net.namespaces, "built", None)
    return built is None or name in built() or name not in net.namespaces


class BackgroundMixin:
    """Loading in a worker, deferred compiles and traces in workers, for :class:`MainScreen`."""

    loading: str | None = None  # what the shell says while an input loads; None once loaded
    paths_to_load: list[str] | None = None  # the app's input, read once the first frame is painted
    net_lock = threading.Lock()  # replaced per screen in init_background
    _routes_timer = None

    def init_background(self) -> None:
        self.net_lock = threading.Lock()
        self._load_first = True
        self._state_net = None  # the network _ready and _compiling are about
        self._ready: set[str] = set()
        self._compiling: dict[str, list] = {}

    @property
    def big(self) -> bool:
        """Whether the network shown is a big one (see :mod:`tui.app.scale`)."""
        net = getattr(self, "_net", None)
        return net is not None and facts_of(net).big

    def refresh_bindings(self) -> None:
        """On a big network, tell the footer only when what it shows changes: it rebuilds every key's widget each
        time it is told (some 30 ms), and the tree tells it on every cursor move. (A small network's footer is
        told every time, as Textual does: its rebuild, a frame later, may show what changed meanwhile.)"""
        if not self.big:
            super().refresh_bindings()
            return
        try:  # what the footer draws: the keys shown, their descriptions and whether they are enabled
            shown = (self.app.app_focus,
                     tuple((key, b.binding.action, b.binding.description, b.binding.key_display, b.enabled, b.tooltip)
                           for key, b in self.active_bindings.items() if b.binding.show))
        except Exception:  # noqa: BLE001 - not mounted yet, or no app: tell it
            shown = None
        if shown is not None and shown == getattr(self, "_bindings_shown", None):
            return
        self._bindings_shown = shown
        super().refresh_bindings()

    # -- loading --------------------------------------------------------------------------
    def load_after_paint(self) -> None:
        """The app's input (:attr:`paths_to_load`), once the shell is painted, or at the first key if that comes
        first: a big one loads in a worker (:meth:`start_load`), a small one at once (tens of milliseconds), then the
        panes fill. An input that does not load ends the app."""
        paths, self.paths_to_load = self.paths_to_load, None
        if paths is None:
            return  # loaded already
        try:
            self._load_after_paint(paths)
        finally:
            self._resume_gc()

    def _load_after_paint(self, paths: list[str]) -> None:
        from ..scale import input_size

        try:
            size = input_size(paths)
        except Exception:  # noqa: BLE001 - a path that does not expand: Workspace raises the located error below
            size = 0
        if size > self.app.background_bytes:
            self._resume_gc()
            self.start_load(paths, size)
            return
        from ...edit import Workspace
        from ...load import LoadError

        try:
            workspace = Workspace(paths)
        except (LoadError, OSError) as e:
            self.app.load_failed(problem_lines(e))
            return
        self.app.workspace = workspace
        self.loading = None
        self.refresh_model()

    def _resume_gc(self) -> None:
        """The collector, paused by the launcher until now, resumes; what the app made so far (Textual, the screen,
        a small model) lives on, so it is frozen: no collection walks it again."""
        if self.app.resume_gc:
            self.app.resume_gc = False
            gc.freeze()
            gc.enable()

    def start_load(self, paths: list[str], size: int, first: bool = True) -> None:
        """Load ``paths`` (``size`` bytes) in a worker behind the shell; ``first``: the app's own input (an error
        ends the app), else a file opened with ``o`` (an error is notified and the model shown stays)."""
        from ..widgets.routes_pane import RoutesPane
        from ..widgets.topology_tree import TopologyTree, _label

        self.loading = f"loading {megabytes(size)}…"
        self._load_first = first
        files = ", ".join(paths)
        self.app.sub_title = f"{files} · {self.loading}"
        tree = self.query_one(TopologyTree)
        tree.clear()
        tree.root.set_label(_label("topology", self.loading, ""))
        self.query_one(RoutesPane).show_info(None, "Routes", self.loading, Text(f"Loading {files} ({megabytes(size)})…", style="bold"))
        self.refresh_bindings()
        self.run_worker(lambda: self._load(paths), thread=True, exclusive=True, group="load", name="load")

    def _load(self, paths: list[str]) -> None:
        """The worker: everything the first frame of a big input needs, made off the UI's thread."""
        from ...dns.zone import DnsConfigError
        from ...load import LoadError, load
        from ...sim.network import compile_topology
        from ..widgets.dns_pane import prepare

        call = self.app.call_from_thread
        call(self._load_stage, "reading and checking the files")
        try:
            loaded = load(paths)
        except (LoadError, OSError) as e:
            call(self._load_failed, problem_lines(e))
            return
        call(self._load_stage, "compiling the network")
        net = loaded.network  # (the one the loader's checks compiled, if it is of this topology)
        if net is None or net.described is not loaded.topology:
            with paused_gc():
                net = compile_topology(loaded.topology)
        facts = facts_of(net)
        if facts.big:
            facts.warm()
        first = next(iter(net.topology.hosts), None)
        if first is not None:
            with paused_gc():
                net.namespaces.get(first.name)  # the host the cursor starts on, and what every node shares
        if not facts.big and net.cluster is not None:  # else the DNS pane builds the zone in its own worker
            call(self._load_stage, "building the DNS zone")
            try:
                prepare(net)
            except DnsConfigError:
                pass  # the DNS pane says it
        call(self._load_done, paths, loaded, net)

    def _load_stage(self, what: str) -> None:
        from ..widgets.routes_pane import RoutesPane

        pane = self.query_one(RoutesPane)
        if pane.info is not None and self.loading is not None:
            title, subtitle, text = pane.info
            pane.show_info(None, title, subtitle, Text.assemble(text.plain.splitlines()[0] + "\n", (what + "…", "grey62")))

    def _load_failed(self, lines: list[str]) -> None:
        if self._load_first:
            self.app.load_failed(lines)
            return
        self.loading = None
        self.notify("\n".join(lines[:8]), title="Cannot open", severity="error", timeout=8)
        self.refresh_model()

    def _load_done(self, paths: list[str], loaded, net) -> None:
        from ..deferred import DeferredWorkspace

        self.app.workspace = DeferredWorkspace(paths, loaded)
        self.loading = None
        self._net, self._compiled = net, loaded.topology
        if not self._load_first:
            self.app.forget_state()
        self.refresh_model()
        if not self._load_first:
            self.notify(f"Opened {', '.join(paths)}", timeout=3)
        self.refresh_bindings()

    # -- the nodes, compiled in workers --------------------------------------------------------
    def _node_state(self) -> tuple[set[str], dict]:
        """(the namespaces whose routes and rules are made, the workers compiling: name -> what waits for it),
        both for the network shown."""
        if self._state_net is not self._net:
            self._state_net, self._ready, self._compiling = self._net, set(), {}
        return self._ready, self._compiling

    def routes_ready(self, name: str | None) -> bool:
        """Whether the Routes pane may show ``name``'s table now: a small network, a namespace compiled with few
        rules (a pod, a host the file describes), or a node whose rules a worker made (see :meth:`compile_node`)."""
        if not name or self._net is None or not self.big or name in self._node_state()[0]:
            return True
        return is_built(self._net, name) and name not in facts_of(self._net).nodes

    def routes_later(self, name: str) -> None:
        """Say that ``name``'s node is not compiled yet; compile it once the cursor rests there."""
        from ..widgets.routes_pane import RoutesPane

        self.query_one(RoutesPane).show_pending(name)
        if self._routes_timer is not None:
            self._routes_timer.stop()
        self._routes_timer = self.set_timer(REST, self._compile_selected)

    def key_arrived(self) -> None:
        """A key came: a compile waiting for the cursor to rest waits for the keys to rest too. (A worker compiling
        shares the interpreter with the keys' thread: each key would take up to twice as long meanwhile.)"""
        if self._routes_timer is not None:
            self._routes_timer.stop()
            self._routes_timer = self.set_timer(REST, self._compile_selected)

    def _compile_selected(self) -> None:
        """The cursor rested on a namespace not ready: its node is compiled in a worker, then its table shown."""
        self._routes_timer = None
        name = self.selected.namespace if self.selected else None
        if not name or self.routes_ready(name):
            self._show_routes()
            return
        self.compile_node(name)

    def compile_node(self, name: str, then=None) -> bool:
        """Whether namespace ``name`` is compiled; if not, a worker compiles it (its whole node) and ``then()`` runs
        once it is. The worker goes on to make the namespace's routes and rules (lazily made: seconds for a node
        of a cluster with thousands of Services), after which the Routes pane shows them if it is still asked to."""
        net = self._net
        ready, compiling = self._node_state()
        if is_built(net, name) and (name in ready or name in compiling):
            return True
        waiting = compiling.get(name)
        if waiting is not None:
            if then is not None:
                waiting.append(then)
            return is_built(net, name)
        compiling[name] = [then] if then is not None else []
        call = self.app.call_from_thread

        def work() -> None:
            with self.net_lock, paused_gc():
                ns = net.namespaces.get(name)
            call(self._node_built, net, name)
            if ns is not None:
                with self.net_lock, paused_gc():  # what the Routes pane reads, made here rather than on the UI's thread
                    ns.tables.main.routes()
                    ns.netfilter.rules()
            call(self._node_ready, net, name)

        self.run_worker(work, thread=True, group="compile", name=f"compile {name}")
        return is_built(net, name)

    def _node_built(self, net, name: str) -> None:
        gc.freeze()
        if net is not self._net:
            return
        for then in self._node_state()[1].get(name, []):
            then()
        self._node_state()[1][name] = []

    def _node_ready(self, net, name: str) -> None:
        gc.freeze()  # the node's objects live as long as the network: no collection walks them again
        if net is not self._net:
            return
        ready, compiling = self._node_state()
        ready.add(name)
        compiling.pop(name, None)
        if self.selected is not None and self.selected.namespace == name:
            self._show_routes()

    # -- traces ---------------------------------------------------------------------------
    def trace_in_worker(self, req: dict, title: str, keep_step: bool) -> None:
        """Trace ``req`` in a thread worker; the Trace pane says so until the trace is there."""
        from ...sim.query import QueryError, trace
        from ..widgets.trace_pane import TracePane

        net = self.net
        self.query_one(TracePane).pending(title, "tracing… (the nodes on the way are compiled first)")

        def work() -> None:
            with self.net_lock, paused_gc():
                try:
                    result, error = trace(net, req["src"], req["dst"], req["proto"], req.get("port")), ""
                except QueryError as e:
                    result, error = None, f"cannot trace: {e}"
            self.app.call_from_thread(self._traced, net, req, title, keep_step, result, error)

        self.run_worker(work, thread=True, exclusive=True, group="trace", name="trace")

    def _traced(self, net, req: dict, title: str, keep_step: bool, result, error: str) -> None:
        from ..widgets.trace_pane import TracePane

        gc.freeze()  # the nodes it compiled live as long as the network
        if net is not self._net or req is not self.trace_request:
            return  # another model or another request since
        pane = self.query_one(TracePane)
        if error:
            pane.load(None, title, error=error, keep_step=keep_step)
            return
        pane.load(result, title, keep_step=keep_step, play=not keep_step and self.app.animate_traces)
        self.refresh_bindings()


def problem_lines(error: Exception) -> list[str]:
    """What the launcher prints for input that does not load: a :class:`~tui.load.LoadError`'s located problems
    and their count, or the file that cannot be read."""
    if isinstance(error, OSError):
        return [f"kubenet-tui: error: cannot read {error.filename}: {error.strerror}"]
    problems = error.problems
    count = len(problems)
    return [str(p) for p in problems] + [f"{count} error{'s' if count != 1 else ''}"]
