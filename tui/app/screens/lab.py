"""The real-kernel lab from the dashboard, for :class:`MainScreen`: L brings the lab of the open files up or
down, V runs ``lab verify`` on it; the Trace pane's title says whether a lab is up, and the verify's
result (each disagreement with the simulator, or that all agree) is listed under the trace.

The lab's work (namespaces, netlink, probes) runs in a thread worker; the keys stay live. It needs root:
without, the one sentence the CLI prints is shown instead.
"""

from __future__ import annotations


class LabMixin:
    lab_state: dict | None = None  # lab.command.status_data(), read when the screen starts and after L
    lab_busy = False

    def lab_refresh(self) -> None:
        """Read whether a lab is up (its record), and show it in the Trace pane's title."""
        from ...lab.command import status_data

        try:
            self.lab_state = status_data()
        except OSError:
            self.lab_state = {"up": False}
        self.lab_show()

    def lab_show(self, doing: str = "") -> None:
        pane = self.query_one("TracePane")
        state = self.lab_state or {}
        if doing:
            pane.border_title = f"Trace · lab: {doing}…"
        elif state.get("up"):
            pane.border_title = f"Trace · lab ● up: {len(state.get('namespaces', {}))} namespaces (L down, V verify)"
        else:
            pane.border_title = "Trace"

    def lab_forget_stale(self) -> None:
        """After the model changed: a verify of other files, or of the files before an edit, is not shown."""
        pane = self.query_one("TracePane")
        report = pane.lab_report
        ws = self.workspace
        if report is None or ws is None:
            return
        import os

        if ws.dirty or sorted(report.files) != sorted(os.path.abspath(p) for p in ws.paths):
            pane.lab_report = None
            pane.render_trace()

    def _lab_files(self) -> list[str] | None:
        ws = self.workspace
        if ws is None:
            return None
        if ws.dirty:
            self.notify("Save first (ctrl+s): the lab builds the files on disk.", severity="warning", timeout=5)
            return None
        import os

        return [os.path.abspath(p) for p in ws.paths]

    def _lab_off(self) -> bool:
        """KUBENET_TUI_NO_LAB set (the test suite's random-key tests): the keys say so and do nothing."""
        import os

        if os.environ.get("KUBENET_TUI_NO_LAB"):
            self.notify("The lab keys are switched off here (KUBENET_TUI_NO_LAB is set).", severity="warning", timeout=4)
            return True
        return False

    def action_lab_toggle(self) -> None:
        if self.lab_busy or self._lab_off():
            return
        self.lab_refresh()
        up = bool(self.lab_state and self.lab_state.get("up"))
        files = None if up else self._lab_files()
        if not up and files is None:
            return
        self.lab_busy = True
        self.lab_show("going down" if up else "coming up")
        self.run_worker(lambda: self._lab_work("down" if up else "up", files), thread=True, group="lab", name="lab")

    def action_lab_verify(self) -> None:
        if self.lab_busy or self._lab_off():
            return
        self.lab_refresh()
        if not (self.lab_state and self.lab_state.get("up")):
            self.notify("No lab is up: press L to bring one up (root only), then V.", severity="warning", timeout=5)
            return
        self.lab_busy = True
        self.lab_show("verifying")
        self.run_worker(lambda: self._lab_work("verify", None), thread=True, group="lab", name="lab")

    def _lab_work(self, what: str, files) -> None:
        from ...lab.kernel import LabFailed, LabUnavailable, read_record, require, teardown
        from ...lab.plan import LabError

        try:
            require()
            if what == "up":
                from ...lab.command import bring_up, summary
                from ...load import load

                rec = bring_up(files, load(files))
                message, severity, report = f"Lab up: {summary(rec)}", "information", None
            elif what == "down":
                gone = teardown(read_record())
                message, severity, report = f"Lab down: removed {len(gone['namespaces'])} namespaces", "information", None
            else:
                from ...lab.verify import verify
                from ...load import load

                rec = read_record()
                report = verify(load(rec["files"]), rec)
                bad = len(report.disagreements)
                message = f"Lab verify: {len(report.probes)} probes, {bad} disagree" if bad else \
                    f"Lab verify: all {len(report.probes)} probes agree with the simulator"
                severity = "error" if bad else "information"
        except (LabUnavailable, LabFailed, LabError) as e:
            message, severity, report = str(e)[0].upper() + str(e)[1:], "error", None
        except Exception as e:  # noqa: BLE001 (a file that no longer loads, a kernel surprise: said, not raised)
            message, severity, report = f"Lab {what} failed: {e}", "error", None
        self.app.call_from_thread(self._lab_done, message, severity, report, what)

    def _lab_done(self, message: str, severity: str, report, what: str) -> None:
        self.lab_busy = False
        self.lab_refresh()
        self.notify(message, severity=severity, timeout=6)
        pane = self.query_one("TracePane")
        if report is not None:
            pane.lab_report = report
            pane.render_trace()
        elif what == "down":
            pane.lab_report = None
            pane.render_trace()
