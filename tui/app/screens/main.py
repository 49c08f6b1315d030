"""The dashboard: Topology tree on the left; Routes, DNS and Trace on the right.

The screen sits in the middle: panes post messages (the tree's selection, the
trace's progress) and the screen sets the other panes' attributes. Every edit
goes through the workspace (the core), then the model is recompiled and every
pane, the current trace included, is redrawn from it.
"""

from __future__ import annotations

import gc
import sys

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Input

from ..scale import facts_of
from ..widgets.dns_pane import DnsPane
from ..widgets.footer import KeysFooter
from ..widgets.inputs import TextInput
from ..widgets.routes_pane import RoutesPane
from ..widgets.topology_tree import Item, TopologyTree
from ..widgets.trace_pane import TracePane
from .background import BackgroundMixin
from .classroom import ClassPanel, ClassroomMixin
from .editing import EditingMixin
from .http import HttpMixin
from .ingress_editing import IngressEditingMixin
from .kube_editing import KubeEditingMixin
from .lab import LabMixin
from .netpol_editing import NetpolEditingMixin
from .policy_matrix import PolicyMatrixMixin

TRACE_KEYS = {"play", "step", "speed", "expand"}
UI_SWITCH_INTERVAL = 0.001  # seconds a thread holds the GIL before another may take it (Python's default: 0.005)


class MainScreen(ClassroomMixin, LabMixin, BackgroundMixin, NetpolEditingMixin, PolicyMatrixMixin, IngressEditingMixin, HttpMixin, KubeEditingMixin, EditingMixin,
                 Screen):
    """The four panes and every key that acts on them."""

    BINDINGS = [
        Binding("t", "trace", "Trace", id="trace", tooltip="Trace a packet: source, destination, port, protocol"),
        Binding("space", "play", "Play", priority=True, id="play", tooltip="Play or pause the trace"),
        Binding("left", "step(-1)", "Back", priority=True, id="step-back", key_display="←", tooltip="Step the trace back"),
        Binding("right", "step(1)", "Step", priority=True, id="step-forward", key_display="→", tooltip="Step the trace forward"),
        Binding("plus,equals_sign", "speed(1)", "Faster", priority=True, id="faster", key_display="+", show=False),
        Binding("minus", "speed(-1)", "Slower", priority=True, id="slower", key_display="-", show=False),
        Binding("x", "expand", "Expand every hop", id="expand", show=False, tooltip="Show every hop's details, or the current hop's only"),
        Binding("a", "add", "Add", id="add", tooltip="Add a network, host, interface, route, Docker bridge or container"),
        Binding("e", "edit", "Edit", id="edit", tooltip="Edit the selected item"),
        Binding("d,delete", "delete", "Delete", id="delete", key_display="d", tooltip="Delete the selected item"),
        Binding("r", "resolve", "Resolve", id="resolve",
                tooltip="Resolve a name as the cluster DNS, or a pod's resolver, does: every search-list try and its answer"),
        Binding("h", "http", "HTTP request", id="http",
                tooltip="Send an HTTP request through the Ingress controller: every rule tried and the winner, the certificate, "
                        "the status, the packets"),
        Binding("n", "route_format", "route -n", id="route-format", tooltip="Show routes as ip route or as route -n"),
        Binding("l", "lookup", "Route lookup", id="lookup", show=False, tooltip="Type an IP: the route the kernel picks lights up"),
        Binding("slash", "filter", "Filter", id="filter", show=False, key_display="/",
                tooltip="Filter the tree, or the DNS records when the DNS pane has the focus"),
        Binding("m", "map", "Map", id="map", tooltip="The network drawn, with the trace's path"),
        Binding("p", "matrix", "Policy matrix", id="matrix",
                tooltip="NetworkPolicy reachability matrix: every pod by every pod for a port, why each cell, what the last edit flipped"),
        Binding("i", "node_rules", "iptables", id="node-rules", tooltip="kube-proxy's rules on the selected node, as iptables-save prints them"),
        Binding("o", "open", "Open", id="open", show=False, tooltip="Open a topology file or directory"),
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("w", "save_as", "Save as", id="save-as", show=False),
        Binding("ctrl+z", "undo", "Undo", id="undo"),
        Binding("ctrl+y", "redo", "Redo", id="redo", show=False),
        Binding("L", "lab_toggle", "Lab up/down", id="lab", show=False,
                tooltip="Build the topology for real in network namespaces (root), or take the lab down"),
        Binding("V", "lab_verify", "Lab verify", id="lab-verify", show=False,
                tooltip="Probe every prediction of the simulator in the lab; the disagreements are listed under the trace"),
        Binding("ctrl+n", "class_next", "Next step", id="class-next", show=False, tooltip="A lesson: the next step"),
        Binding("ctrl+b", "class_back", "Previous step", id="class-back", show=False, tooltip="A lesson: the step before"),
        Binding("escape", "unfocus", "Back to the tree; clear the filter", show=False, id="unfocus"),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self._net = None
        self._compiled = None  # the description self._net was compiled from
        self.selected: Item | None = None
        self.trace_request: dict | None = None
        self.resolve_request: dict | None = None
        self.http_request: dict | None = None
        self.init_background()

    @property
    def workspace(self):
        return self.app.workspace

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body", classes="-classroom" if getattr(self.app, "classroom", None) else ""):
            with Vertical(id="left", classes="pane") as left:
                left.border_title = "Topology"
                yield TextInput(placeholder="filter (esc clears)", id="filter")
                yield TopologyTree(id="tree")
            with Vertical(id="right"):
                yield RoutesPane(id="routes", classes="pane")
                yield DnsPane(id="dns", classes="pane")
                yield TracePane(id="trace", classes="pane")
            if getattr(self.app, "classroom", None):
                yield ClassPanel(id="class")  # a lesson's steps or a challenge's goals (tui.app.screens.classroom)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.lab_refresh()
        tree = self.query_one(TopologyTree)
        tree.compile_host = self.compile_node  # a big network's node is compiled in a worker when opened
        tree.on_select = self.select  # a cursor move updates the panes in the same frame
        tree.focus()
        pending = self.app.pending_load
        if pending is not None:  # the shell now; the model once it is painted (a big input's from a worker)
            paths, size = pending
            if size is None:  # not even sized yet (the console script): nothing read before the first paint
                self.loading = "loading…"  # (the keys wait for the model: see KubenetApp.on_event)
                self.paths_to_load = paths
                self.call_after_refresh(self.load_after_paint)
            else:
                self.start_load(paths, size)
            return
        self.refresh_model()  # read before the app ran (the tests' app): the panes show it from the first frame

    # -- one frame for a key ------------------------------------------------
    _update_deferred = False

    def _on_timer_update(self) -> None:
        """The screen's update (layout, repaint), on its timer. With messages still queued for the screen (what
        widgets said they need laid out or repainted, in the handlers of the key just pressed) it waits for them,
        once: the update then comes when they are read (see :meth:`_on_idle`), one layout and frame for all."""
        if not self._update_deferred and not self._message_queue.empty():
            self._update_deferred = True
            self._update_timer.pause()
            return
        self._update_deferred = False
        self._take_pending_refreshes()
        super()._on_timer_update()

    def _on_idle(self, _event) -> None:
        # (Screen's own idle handler runs after this one: with nothing left to update it does what it always does.)
        if self._update_deferred:
            self._on_timer_update()

    def _compositor_refresh(self) -> None:
        """Draw what is dirty; the widgets the layout just done asked to be repainted (scrollbars, when their
        widget's size or content changed) are drawn too, in this frame rather than the next."""
        if self.is_current and not self.app.is_inline:
            late = [w for w in self._pending_refreshes() if w._repaint_required and not w._layout_required and w.display]
            for w in late:
                w._repaint_required = False
            if late:
                self._dirty_widgets.update(late)
                self._compositor.update_widgets(set(late))
        super()._compositor_refresh()

    def _pending_refreshes(self):
        """The widgets (and their scrollbars) that asked to be laid out or repainted and have not told the screen."""
        for widget in self.walk_children(Widget):
            for w in (widget, widget._vertical_scrollbar, widget._horizontal_scrollbar):
                if w is not None and (w._layout_required or w._repaint_required) and not w._closing and w.is_attached:
                    yield w

    def _take_pending_refreshes(self) -> None:
        """Before the screen updates: what widgets were asked to lay out or repaint but have not told the screen yet
        goes into this update. (Each tells it on its next idle, and a key's handlers mark many: a focus change
        restyles panes, scrollbars, footer keys. Those whose idle comes after the screen's would lay the screen out
        and draw it again a frame later.) What is done is what each would do then: the same caches cleared, the
        screen's same records."""
        if not self.is_current or self.app._batch_count or self not in self._compositor:
            return
        for w in list(self._pending_refreshes()):
            if w._repaint_required:  # (Widget._check_refresh, then Screen._on_update)
                w._repaint_required = False
                if w.display:
                    self._dirty_widgets.add(w)
            if w._layout_required:  # (Widget._check_refresh, then Screen._on_layout)
                w._layout_required = False
                node: Widget = w
                for ancestor in w.ancestors:
                    if not isinstance(ancestor, Widget):
                        break
                    ancestor._clear_arrangement_cache()
                    ancestor._layout_updates += 1
                    self._layout_widgets.setdefault(ancestor, set()).add(node)
                    if not ancestor.styles.auto_dimensions:
                        break
                    node = ancestor
                self._layout_required = True

    # -- the model ----------------------------------------------------------
    def net_for(self, topo):
        """The compiled network of ``topo``, compiled once per description."""
        if self._compiled is not topo or self._net is None:
            from ...sim.network import compile_topology

            self._net = compile_topology(topo)
            self._compiled = topo
        return self._net

    @property
    def net(self):
        """The compiled network; a key pressed before the first refresh compiles it then."""
        return self._net if self._net is not None else self.net_for(self.workspace.loaded.topology)

    @net.setter
    def net(self, value) -> None:
        self._net = value

    def refresh_model(self) -> None:
        """Recompile and redraw every pane (after loading, an edit, undo or redo)."""
        ws = self.workspace
        topo = ws.loaded.topology
        self.net = self.net_for(topo)
        self.app.title = f"kubenet-tui · {topo.name}"
        files = ", ".join(ws.paths) if ws.paths else "(new)"
        self.app.sub_title = files + ("  ● unsaved" if ws.dirty else "")
        self.query_one(TopologyTree).show(self.net.topology, self.net, keep=self.selected)  # with the cluster compiled in
        self.query_one(DnsPane).show(self.net, in_worker=self.big)
        self._show_routes()
        if self.trace_request is not None:
            self.run_trace(self.trace_request, keep_step=True)
        elif self.http_request is not None:
            self.run_http(self.http_request, keep_step=True)
        self.query_one(KeysFooter).in_place = self.big  # the footer's keys updated in place, not rebuilt
        if self.big:
            self.run_worker(facts_of(self.net).warm, thread=True, group="facts", name="facts")  # the pods indexed, off the keys
            gc.freeze()  # millions of long-lived objects: no full collection walks them again (it would stall a key)
            # workers compile nodes and build the zone on other threads: the UI's thread waits less for the GIL
            sys.setswitchinterval(UI_SWITCH_INTERVAL)
        self.app.keep_recovery()  # the unsaved edits on disk, in case the session ends without asking
        self.class_refresh()
        self.lab_forget_stale()

    def _show_routes(self) -> None:
        item = self.selected
        info = self.netpol_info(item)
        if info is not None:
            self.query_one(RoutesPane).show_info(self.net, *info, tall=True)
            return
        if item is not None and item.kind.startswith("ingress"):
            from ..widgets.ingress_view import ingress_class_text, ingress_text

            if item.kind == "ingressclass":
                text, what = ingress_class_text(self.net, item.name), "IngressClass"
            else:
                text, what = ingress_text(self.net, item.name, (item.kind, item.index)), "Ingress"
            self.query_one(RoutesPane).show_info(self.net, what, f"{item.name} · {what}", text)
            return
        ns_name = self.selected.namespace if self.selected else None
        if not self.routes_ready(ns_name):  # a big network's node not compiled yet: once the cursor rests there
            self.routes_later(ns_name)
            return
        ns = self.net.namespaces.get(ns_name) if ns_name else None
        self.query_one(RoutesPane).show(self.net, ns, self.pod_policies(ns_name if ns is not None and ns.kind == "pod" else None))

    def on_topology_tree_selected(self, message: TopologyTree.Selected) -> None:
        self.select(message.item)

    def select(self, item: Item | None) -> None:
        """The tree's cursor is on ``item``: the right pane and the keys follow."""
        if self.loading is not None or self._net is None:  # the empty tree of the shell: nothing to show yet
            return
        self.selected = item
        self._show_routes()
        self.refresh_bindings()

    def on_topology_tree_filter_requested(self, _message) -> None:
        self.action_filter()

    def on_trace_pane_stepped(self, message: TracePane.Stepped) -> None:
        self.query_one(TopologyTree).set_path(message.path)

    # -- trace --------------------------------------------------------------
    def run_trace(self, req: dict, keep_step: bool = False) -> None:
        from ...sim.query import QueryError, trace

        self.trace_request = req
        self.http_request = None
        title = f"{req['proto']} {req['src']} → {req['dst']}" + (f" port {req['port']}" if req.get("port") else "")
        pane = self.query_one(TracePane)
        if self.big:
            self.trace_in_worker(req, title, keep_step)
            return
        try:
            t = trace(self.net, req["src"], req["dst"], req["proto"], req.get("port"))
        except QueryError as e:
            pane.load(None, title, error=f"cannot trace: {e}", keep_step=keep_step)
            return
        pane.load(t, title, keep_step=keep_step, play=not keep_step and self.app.animate_traces)
        self.refresh_bindings()
        if not keep_step:
            self.class_did("trace", req)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.loading is not None:
            return action == "unfocus"
        focused = self.app.focused
        typing = isinstance(focused, Input)
        if action in TRACE_KEYS:
            if typing:
                return False
            return True if self.query_one(TracePane).loaded else (False if action != "expand" else None)
        if action in ("edit", "delete"):
            if typing:
                return False
            item = self.selected
            return True if item is not None and (item.kind in self.EDITABLE or self.kube_editable(item)) else None
        if action == "node_rules":
            return False if typing or self.kube_node_of(self.selected) is None else True
        if action in ("undo",):
            return True if self.workspace.undo_stack else None
        if action in ("redo",):
            return True if self.workspace.redo_stack else None
        if action == "http":
            return False if typing or not self.has_ingress() else True
        if action == "matrix":
            return False if typing or not self.has_policies() else True
        if action == "resolve":
            return False if typing else (True if self._net is not None and self._net.cluster is not None else None)
        if typing and action in ("trace", "add", "route_format", "lookup", "filter", "map", "open", "save_as", "expand"):
            return False
        return True

    def action_play(self) -> None:
        self.query_one(TracePane).toggle_play()

    def action_step(self, delta: int) -> None:
        self.query_one(TracePane).step_by(delta)

    def action_speed(self, delta: int) -> None:
        self.query_one(TracePane).change_speed(delta)

    def action_expand(self) -> None:
        self.query_one(TracePane).toggle_expand()

    # -- panes ----------------------------------------------------------------
    def action_route_format(self) -> None:
        fmt = self.query_one(RoutesPane).toggle_format()
        self.notify(f"Routes shown as {'ip route' if fmt == 'ip' else 'route -n'}", timeout=2)

    def action_lookup(self) -> None:
        self.query_one("#lookup", Input).focus()

    def action_filter(self) -> None:
        dns = self.query_one(DnsPane)
        if dns.has_focus_within:  # the focused pane decides what / filters (from the command palette too)
            dns.action_filter()
            return
        box = self.query_one("#filter", Input)
        box.add_class("visible")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.query_one(TopologyTree).set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one(TopologyTree).focus()

    def action_unfocus(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or box.has_class("visible"):
            box.value = ""
            box.remove_class("visible")
            self.query_one(TopologyTree).set_filter("")
        self.query_one(TopologyTree).focus()

    def action_resolve(self) -> None:
        from ..forms.resolve import ResolveScreen

        request = dict(self.resolve_request or {})
        pod = self.selected.name if self.selected is not None and self.selected.kind == "namespace" else None
        if pod is not None and self.net.cluster is not None and pod in facts_of(self.net).pod_keys:
            request["pod"] = pod  # the pod selected in the tree asks
        self.app.push_screen(ResolveScreen(self.net, request), self._resolved)

    def _resolved(self, request: dict | None) -> None:
        if request is not None:
            self.resolve_request = request
            self.class_did("dns", request)

    def action_map(self) -> None:
        from .map import MapScreen

        self.app.push_screen(MapScreen(self.net, self.query_one(TracePane).path() if self.query_one(TracePane).loaded else set()))

    def action_node_rules(self) -> None:
        from .node_rules import NodeRulesScreen

        node = self.kube_node_of(self.selected)
        if node is None:
            self.notify("Select a Kubernetes node (or a pod on it) to see kube-proxy's rules there.", severity="warning", timeout=4)
            return
        self.app.push_screen(NodeRulesScreen(self.net.cluster, node))

    # -- history ----------------------------------------------------------------
    def action_undo(self) -> None:
        before = self.net
        if self.workspace.undo():
            self.refresh_model()
            self.notify("Undone" + self.netpol_changed(before, "undo"), timeout=3)

    def action_redo(self) -> None:
        before = self.net
        if self.workspace.redo():
            self.refresh_model()
            self.notify("Redone" + self.netpol_changed(before, "redo"), timeout=3)

    def apply(self, edit, select=None) -> dict[str, str] | None:
        """Apply an edit; None when done, else messages by form field. ``select``: the item to select after (an
        :class:`Item`, or a function giving it once the edit is made)."""
        from ...edit import EditError
        from ...edit.edits import EditRefused, FieldErrors

        before = self.net
        try:
            self.workspace.edit(edit)
        except FieldErrors as e:
            return dict(e.errors)
        except EditRefused as e:
            return {"": str(e)}
        except EditError as e:
            if edit.scope == "objects" and edit.where is not None:
                return self._object_problems(e, edit)
            return problems_by_field(e.problems, edit.path)
        except Exception as e:  # noqa: BLE001 - the simulator failed on a model the loader took: keep the old one, say so
            return {"": f"the simulator could not compile this change, so it was not made: {type(e).__name__}: {e}"}
        if callable(select):
            select = select()
        if select is not None:
            self.selected = select
        self.refresh_model()
        note = f" ({'; '.join(edit.notes)})" if edit.notes else ""
        self.notify(f"{edit.label[0].upper()}{edit.label[1:]}{note}{self.netpol_changed(before, edit.label)}", timeout=3)
        return None


    def _object_problems(self, error, edit) -> dict[str, str]:
        """A refused Kubernetes object's problems by form field (``edit.field_paths``), the others named by their object."""
        mine, others = self.workspace.problems_at(error, edit.where)
        out: dict[str, str] = {}
        for path, p in mine:
            prefix = max((k for k in edit.field_paths if path == k or path.startswith(k + ".") or path.startswith(k + "[")), key=len, default=None)
            key = edit.field_paths[prefix] if prefix else ""
            msg = p.message if prefix == path else f"{path}: {p.message}"
            out[key] = f"{out[key]}\n{msg}" if key in out else msg
        shown = [p for p in others if p.mark.file != "<builtin>"] or others
        lines = []
        for p in shown[:3]:
            owner = self.workspace.owner_of(p, error.state)
            lines.append(f"{owner + ': ' if owner else ''}{p.path + ': ' if p.path else ''}{p.message}")
        if len(others) > len(lines):
            lines.append(f"... and {len(others) - len(lines)} more")
        if lines:
            out[""] = "\n".join(([out[""]] if "" in out else []) + lines)
        return out


def problems_by_field(problems, prefix: str) -> dict[str, str]:
    """Loader problems as form messages: those under ``prefix`` by field, the rest together."""
    out: dict[str, str] = {}
    for p in problems:
        path = p.path
        at = path.find(prefix) if prefix else -1
        if at >= 0 and (len(path) == at + len(prefix) or path[at + len(prefix)] in ".["):
            rest = path[at + len(prefix):].lstrip(".")
            key = rest.split(".")[0].split("[")[0] or ""
        else:
            key = ""
        msg = p.message if key else f"{path}: {p.message}"
        out[key] = f"{out[key]}\n{msg}" if key in out else msg
    return out
