"""The NetworkPolicy matrix's side of :class:`MainScreen`: the port and protocol asked about, the network before the
last edit (undo, redo) to compare with, and what the edit changed, said in the edit's notification and drawn by the
matrix screen (``p``), which this part keeps up to date.

Tables are computed once per compiled network, port and protocol (:mod:`tui.edit.netpol_matrix`); a large cluster's
comparison runs in a worker thread, which posts its result back to the UI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy
from ..scale import facts_of

if TYPE_CHECKING:
    from ...edit.netpol_matrix import Change

netpol_matrix = lazy("tui.edit.netpol_matrix")

SYNC_CELLS = 10_000  # up to 100 pods a table takes well under a frame's budget of work: no worker


class PolicyMatrixMixin:
    """State and actions of the reachability matrix for :class:`MainScreen`."""

    matrix_port: tuple[int, str] | None = None  # None: the default (80/TCP, or the first port the policies name)
    matrix_before = None  # the compiled network before the last edit, undo or redo
    matrix_change_label = ""  # what that change was

    def has_policies(self) -> bool:
        net = self._net
        return net is not None and facts_of(net).has_policies  # asked on every key: once per network

    def matrix_ports(self) -> tuple[int, str]:
        return self.matrix_port or netpol_matrix.default_port(netpol_matrix.index_of(self.net))

    def matrix_screen(self):
        from .matrix import MatrixScreen

        return next((s for s in self.app.screen_stack if isinstance(s, MatrixScreen)), None)

    def action_matrix(self) -> None:
        from .matrix import MatrixScreen

        if self.net.cluster is None:
            self.notify("The reachability matrix is for a cluster's pods: this topology has none.", severity="warning", timeout=4)
            return
        self.matrix_port = self.matrix_ports()
        if self.matrix_screen() is None:
            self.app.push_screen(MatrixScreen())
            self.call_after_refresh(self.refresh_matrix)

    def set_matrix_port(self, port: int, protocol: str) -> None:
        self.matrix_port = (port, protocol)
        self.refresh_matrix()

    def forget_matrix_change(self) -> None:
        """A new file: nothing to compare with."""
        self.matrix_before, self.matrix_change_label, self.matrix_port = None, "", None

    # -- after an edit ----------------------------------------------------------------------------------
    def _compare_job(self):
        port, proto = self.matrix_ports()
        before, after = self.matrix_before, self.net
        return lambda: netpol_matrix.compare(before, after, port, proto)

    def _small(self) -> bool:
        ix = netpol_matrix.index_of(self.net)
        return ix is None or len(ix.pods) ** 2 <= SYNC_CELLS

    def netpol_changed(self, before, label: str) -> str:
        """Keep ``before`` (the network before the change just made) to compare with; the change in the matrix, as
        the notification's end ("" when there is no policy before or after, or when a worker will say it)."""
        self.matrix_before, self.matrix_change_label = before, label
        after = self.net
        if self.matrix_port is None and after.cluster is not None:  # the port of the table to compare stays put
            self.matrix_port = netpol_matrix.default_port(netpol_matrix.index_of(before if before is not None and before.cluster is not None else after))
        concerned = after.cluster is not None and (netpol_matrix.has_policies(after.topology) or (before is not None and netpol_matrix.has_policies(before.topology)))
        if not concerned:
            self.refresh_matrix()
            return ""
        if not self._small():
            self.refresh_matrix(notify=True)
            return ""
        change = self._compare_job()()
        self.refresh_matrix(change)
        return f" · {change.table.text}: {change.summary}" + ("" if self.matrix_screen() else " (p: the matrix)")

    def refresh_matrix(self, change: Change | None = None, notify: bool = False) -> None:
        """Redraw the matrix screen if it is open (``change``: already computed); large tables in a worker."""
        screen = self.matrix_screen()
        if change is None and screen is None and not notify:
            return
        if change is not None or self._small():
            change = change or self._compare_job()()
            if screen is not None and change is not None:
                screen.show(change, netpol_matrix.index_of(self.net), self.matrix_change_label if change.compared else "")
            return
        if screen is not None:
            screen.computing(len(netpol_matrix.index_of(self.net).pods))
        job, label = self._compare_job(), self.matrix_change_label

        def work() -> None:
            from textual.worker import get_current_worker

            change = job()
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._matrix_ready, change, label, notify)

        self.run_worker(work, thread=True, exclusive=True, group="netpol-matrix")

    def _matrix_ready(self, change: Change | None, label: str, notify: bool) -> None:
        screen = self.matrix_screen()
        if screen is not None and change is not None:
            screen.show(change, netpol_matrix.index_of(self.net), label if change.compared else "")
        if notify and change is not None and change.compared:
            self.notify(f"{change.table.text}: {change.summary}", timeout=4)

    # -- from the matrix ------------------------------------------------------------------------------
    def trace_pair(self, src: str, dst: str) -> None:
        port, proto = self.matrix_ports()
        if proto == "SCTP":
            self.notify("A trace sends TCP, UDP or ICMP: SCTP is not simulated on the wire.", severity="warning", timeout=4)
            return
        self.run_trace({"src": src, "dst": dst, "proto": proto.lower(), "port": port})
