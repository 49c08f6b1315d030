"""The Trace pane: a packet's journey, played hop by hop like a simulation mode.

It plays a :class:`Trace` (``t``), or an HTTP request through the Ingress controller (``h``): the request's
packet legs, hop by hop as a trace's, the controller's own step between them, and below them its decision
(every rule tried with the winner, the certificate, the status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

if TYPE_CHECKING:
    from ...sim.trace import Hop, Trace

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1)


def _packet_text(hop: Hop) -> Text:
    p = hop.packet
    t = Text()
    t.append("      packet ", style="grey62")
    t.append(f"{p.proto.upper()} ", style="bold")
    t.append(f"src {p.endpoint('src')}  dst {p.endpoint('dst')}  ttl {p.ttl}")
    if p.src_mac and p.dst_mac:
        t.append(f"\n      frame  {p.src_mac} → {p.dst_mac}", style="grey62")
    return t


class TracePane(VerticalScroll):
    """Plays a :class:`Trace`: space plays/pauses, left/right step, +/- change speed."""

    class Stepped(Message):
        """The visible part of the trace changed; ``path`` is what it has passed so far."""

        def __init__(self, path: set[str]) -> None:
            self.path = path
            super().__init__()

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.border_title = "Trace"
        self.trace: Trace | None = None
        self.exchange = None  # an HTTP request's tui.ingress.request.Exchange, instead of a trace
        self.marks: set[str] = set()  # what the HTTP request passed that is no hop (the winning rule)
        self.title_line = ""
        self.error = ""
        self.step = 0
        self.playing = False
        self.speed_index = 1
        self.expand_all = False
        self._timer = None
        self.lab_report = None  # the last `lab verify` (tui.lab.verify.Report): its disagreements are listed under the trace

    def compose(self) -> ComposeResult:
        yield Static(id="trace-body")

    def on_mount(self) -> None:
        self.render_trace()

    def update(self, text: Text) -> None:
        if self.lab_report is not None:
            text.append_text(self._lab_text(self.lab_report, self.trace if self.exchange is None and not self.error else None))
        self.query_one("#trace-body", Static).update(text)
        self.scroll_end(animate=False)

    # -- state ------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """Whether there is something to play: a trace or an HTTP request."""
        return self.trace is not None or self.exchange is not None

    @property
    def parts(self) -> list[tuple[str, Trace]]:
        """The walks in playing order: the DNS query and its answer (a trace to a name), the packet, its reply;
        for an HTTP request, its legs."""
        if self.exchange is not None:
            return [(leg.name, leg.trace) for leg in self.exchange.legs if leg.trace.hops]
        if self.trace is None:
            return []
        out = []
        ex = self.trace.dns.exchange if self.trace.dns is not None else None
        if ex is not None:
            out.append(("dns query", ex))
            if ex.reply is not None:
                out.append(("dns answer", ex.reply))
        out.append(("request", self.trace))
        if self.trace.reply is not None:
            out.append(("reply", self.trace.reply))
        return [(label, t) for label, t in out if t.hops]

    @property
    def rows(self) -> list[tuple[str, int, Hop]]:
        """Every hop in playing order: (part, number, hop), part as in :attr:`parts`."""
        return [(label, i + 1, h) for label, t in self.parts for i, h in enumerate(t.hops)]

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    def load(self, trace: Trace | None, title: str, error: str = "", keep_step: bool = False, play: bool = True,
             exchange=None, marks: set[str] | None = None) -> None:
        """Show ``trace``, or the HTTP request ``exchange`` (``marks``: its tree marks), or ``error``."""
        self.trace, self.title_line, self.error = trace, title, error
        self.exchange, self.marks = exchange, set(marks or ())
        self.set_class(exchange is not None, "-http")  # more room: the legs and the decision
        n = len(self.rows)
        self.step = min(self.step, max(n - 1, 0)) if keep_step else 0
        self.render_trace()
        if play and self.loaded and not keep_step and n > 1:
            self.set_playing(True)
        elif not self.loaded:
            self.set_playing(False)

    def pending(self, title: str, what: str) -> None:
        """A trace being computed (in a worker): its title and ``what`` is going on, nothing to play yet."""
        self.trace, self.exchange, self.error, self.title_line, self.marks = None, None, "", title, set()
        self.set_playing(False)
        self.border_subtitle = ""
        self.update(Text.assemble((title + "\n", "bold"), (what, "grey62")))
        self.post_message(self.Stepped(set()))

    def set_playing(self, playing: bool) -> None:
        self.playing = playing
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if playing:
            if self.step >= len(self.rows) - 1:
                self.step = 0
            self._timer = self.set_interval(self.speed, self._tick)
        self.render_trace()

    def toggle_play(self) -> None:
        self.set_playing(not self.playing)

    def _tick(self) -> None:
        if self.step < len(self.rows) - 1:
            self.step += 1
            self.render_trace()
        if self.step >= len(self.rows) - 1:
            self.set_playing(False)

    def step_by(self, delta: int) -> None:
        self.set_playing(False)
        self.step = max(0, min(len(self.rows) - 1, self.step + delta))
        self.render_trace()

    def change_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + delta))
        if self.playing:
            self.set_playing(True)
        else:
            self.render_trace()

    def toggle_expand(self) -> None:
        """Every hop's details, or only the current hop's."""
        self.expand_all = not self.expand_all
        self.render_trace()

    # -- drawing ----------------------------------------------------------
    def path(self) -> set[str]:
        """Namespaces and segments passed so far, and each device used as ``ns/dev``."""
        from .netpol_tree import trace_marks

        out: set[str] = set(self.marks)
        for _, _, hop in self.rows[: self.step + 1]:
            out.add(hop.node)
            out |= trace_marks(hop.notes)  # the policies that decided, lit in the tree
            if hop.kind not in ("switch", "bridge"):
                out.update(f"{hop.node}/{d}" for d in (hop.in_, hop.out) if d and d != "lo")
        return out

    def render_trace(self) -> None:
        t = Text()
        if self.error:
            t.append(self.title_line + "\n", style="bold")
            t.append(self.error, style="bold red")
            self.border_subtitle = ""
            self.update(t)
            self.post_message(self.Stepped(set()))
            return
        if self.exchange is not None:
            self._render_http()
            return
        if self.trace is None:
            self.border_subtitle = ""
            t.append("No trace yet. Press ", style="grey62")
            t.append("t", style="bold")
            t.append(" to send a packet: source, destination, port and protocol.\n", style="grey62")
            t.append("It then plays hop by hop: space plays/pauses, ←/→ step, +/- speed, x expands every hop.", style="grey62")
            self.update(t)
            self.post_message(self.Stepped(set()))
            return
        rows = self.rows
        state = "▶ playing" if self.playing else "❚❚ paused"
        self.border_subtitle = f"{state} · hop {self.step + 1}/{len(rows)} · {self.speed:g}s/hop"
        t.append(self.title_line + "\n", style="bold")
        parts = dict(self.parts)
        order = [label for label, _ in self.parts]
        if self.trace.dns is not None:
            t.append_text(self._dns_text(self.trace.dns))
        for k, (part, num, hop) in enumerate(rows[: self.step + 1]):
            if num == 1 and order.index(part) > 0:
                before = order[order.index(part) - 1]
                t.append_text(self._verdict(parts[before], "" if before == "request" else f"{before} "))
                if part == "request" and self.trace.dns is not None:
                    t.append(f"then the connection to {self.trace.dns.address}\n", style="bold underline")
                elif part != "request":
                    t.append(f"{part}\n", style="bold underline")
            elif num == 1 and part == "dns query":
                t.append("dns query\n", style="bold underline")
            t.append_text(self._hop_text(parts[part], num, hop, k == self.step))
        if not rows or self.step == len(rows) - 1:
            last = rows[-1][0] if rows else "request"
            t.append_text(self._verdict(parts.get(last, self.trace), "" if last == "request" else f"{last} "))
            if last != "request" and not self.trace.hops:  # the name did not resolve: no connection
                t.append_text(self._verdict(self.trace))
        self.update(t)
        self.post_message(self.Stepped(self.path()))

    def _hop_text(self, trace: Trace, num: int, hop: Hop, current: bool) -> Text:
        """One hop's line; with its details (route, rules, rewrites, notes, packet) when current or expanded."""
        t = Text()
        marker = "▸" if current else " "
        last = trace is not None and hop is trace.hops[-1]
        end = "✗ dropped" if last and not trace.delivered else "local"
        where = f"{hop.in_ or 'sent'} → {hop.out or end}"
        t.append(f"{marker}{num:>2} ", style="bold yellow" if current else "grey62")
        t.append(hop.node, style="bold" if current else "")
        t.append(f" [{hop.kind}] ", style="grey62")
        t.append(where + "\n", style="" if current else "grey62")
        if current or self.expand_all:
            label = "l2" if hop.kind in ("switch", "bridge") else "route"
            if hop.decision:
                t.append(f"      {label:<6} ", style="grey62")
                t.append(hop.decision + "\n", style="cyan")
            for r in hop.rules:
                t.append("      rule   ", style="grey62")
                t.append(r + "\n", style="yellow")
            for rw in hop.rewrites:
                t.append("      rewrite* ", style="grey62")
                t.append(rw + "\n", style="bold magenta")
            for note in hop.notes:
                if note.startswith("policy: "):  # NetworkPolicy's decision: what dropped the packet, or let it through
                    body = note[len("policy: "):]
                    t.append("      policy ", style="grey62")
                    t.append(body + "\n", style="bold red" if body.startswith("DROPPED") else "green" if " allowed by " in body else "yellow")
                else:
                    t.append(f"      note   {note}\n", style="grey62")
            t.append_text(_packet_text(hop))
            t.append("\n")
            if hop.encapsulated is not None:
                t.append("      inner  ", style="grey62")
                t.append(hop.encapsulated.summary() + " (inside the tunnel)\n", style="magenta")
        return t

    def _render_http(self) -> None:
        """An HTTP request: its legs hop by hop, the controller's step where it comes, then the decision."""
        from .http_view import decision_text, proxy_position, proxy_text

        ex, rows, parts = self.exchange, self.rows, self.parts
        state = "▶ playing" if self.playing else "❚❚ paused"
        status = f"HTTP {ex.decision.status}"
        self.border_subtitle = f"{status} · {state} · hop {self.step + 1}/{len(rows)} · {self.speed:g}s/hop" if rows else status
        t = Text()
        t.append(self.title_line + "\n", style="bold")
        order = [name for name, _ in parts]
        at = proxy_position(ex, parts)
        for k, (part, num, hop) in enumerate(rows[: self.step + 1]):
            i = order.index(part)
            if num == 1:
                if i > 0:
                    t.append_text(self._verdict(parts[i - 1][1]))
                if i == at:
                    t.append_text(proxy_text(ex))
                t.append(f"{part}\n", style="bold underline")
            t.append_text(self._hop_text(parts[i][1], num, hop, k == self.step))
        if not rows or self.step == len(rows) - 1:
            if rows:
                t.append_text(self._verdict(parts[-1][1]))
            if at >= len(parts):
                t.append_text(proxy_text(ex))
        t.append("\n")
        t.append_text(decision_text(ex))
        self.update(t)
        self.post_message(self.Stepped(self.path()))

    @staticmethod
    def _dns_text(d) -> Text:
        """The resolver's tries for a trace to a name, each with its answer; the kept one marked."""
        t = Text()
        t.append(f"dns {d.name} ({d.qtype}): ", style="bold")
        conf = [line for line in d.resolv_conf.splitlines() if line and not line.startswith("#")]
        t.append("; ".join(conf) + "\n", style="grey62")
        for i, (qname, rcode, answer) in enumerate(d.tries):
            kept = i == d.kept
            t.append(f"  {'✓' if kept else '·'} {qname} ", style="bold" if kept else "")
            t.append(rcode + ("  (kept)" if kept else "") + "\n", style="green" if rcode == "NOERROR" and answer else "yellow")
            for a in answer:
                t.append(f"      {a}\n", style="cyan")
        if d.why:
            t.append(f"  why: {d.why}\n", style="yellow")
        return t

    @staticmethod
    def _lab_text(report, trace: Trace | None = None) -> Text:
        """The last lab verify: what the lab did with this trace's packet when it was probed, then the
        disagreements with the simulator, one line each, or that all agree."""
        bad = report.disagreements
        t = Text("\n")
        probe = None
        if trace is not None:
            pkt = trace.packet
            probe = next((p for p in report.probes if p.src == trace.source and p.proto == pkt.proto and p.ip == pkt.dst
                          and (p.port == pkt.dport or pkt.proto == "icmp")), None)
        if probe is not None:
            got = probe.got + (f" to {probe.got_to}" if probe.got_to else "")
            t.append(f"in the lab, this packet: {got}" + (f" ({probe.detail})" if probe.detail else "") + " · ",
                     style="bold" if probe.agree else "bold red")
            t.append("agrees with the simulator\n" if probe.agree else "DISAGREES with the simulator\n",
                     style="green" if probe.agree else "bold red")
            if probe.note:
                t.append(f"  {probe.note}\n", style="grey62")
        head = f"lab verify ({report.topology}): {len(report.probes)} probes in the real kernel, "
        if not bad:
            t.append(head + "all agree with the simulator\n", style="bold green")
            return t
        t.append(head + f"{len(bad)} disagree:\n", style="bold red")
        for p in bad:
            sim = p.expect + (f" to {p.expect_to}" if p.expect_to else "")
            t.append(f"  ✗ {p.kind} {p.src} → {p.qname or p.dst} ({p.proto}): simulator {sim}; lab {p.got}"
                     f"{' (' + p.detail + ')' if p.detail else ''}\n", style="red")
        return t

    @staticmethod
    def _verdict(trace: Trace, prefix: str = "") -> Text:
        if trace.delivered:
            p = trace.hops[-1].packet if trace.hops else trace.packet
            return Text(f"{prefix}DELIVERED to {trace.delivered_to} ({p.endpoint('dst')})\n", style="bold green")
        return Text(f"{prefix}DROPPED: {trace.reason}\n", style="bold red")
