"""`r`: ask the cluster DNS a name, as dig asks it or as a pod's resolver does, and see every try.

The form stays open: Enter resolves and the result appears below the fields (the pod's resolv.conf, every
name the resolver tried with its answer, the one it kept, and why nothing resolved when nothing did), so
that the name can be changed and asked again. Esc closes it and hands the last request back to the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from ..widgets.inputs import TextInput

TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "ANY")
MORE_TYPES = ("NS", "SOA")  # the zone apex's own records, asked as they are listed in the DNS pane
ANSWERED_BY = {"kubernetes": "CoreDNS", "forward": "upstream", "server": "CoreDNS"}


@dataclass(frozen=True)
class Asked:
    """A resolution and what the form made of the request (an address becomes its reverse name)."""

    resolution: object  # tui.dns.resolver.Resolution
    zone: object
    remark: str = ""


def ask(net, values: dict) -> Asked | dict[str, str]:
    """Resolve the form's values through the core; the problems by field when it cannot."""
    from ...cli import _name_problem
    from ...dns.records import reverse_name
    from ...dns.resolver import ResolverError, find_pod, resolve
    from ...dns.zone import DnsConfigError

    errors: dict[str, str] = {}
    name = values.get("name", "").strip()
    qtype = values.get("type", "").strip().upper() or "A"
    pod = values.get("pod", "").strip() or None
    remark = ""
    if qtype not in TYPES + MORE_TYPES:
        errors["type"] = f'"{values["type"].strip()}" is not a query type here: {", ".join(TYPES)} (or NS, SOA)'
    if not name:
        errors["name"] = "required: a name (web, web.default, _http._tcp.web) or an address (asked as PTR)"
    else:
        try:
            reverse = reverse_name(name)
        except ValueError:
            if problem := _name_problem(name):
                errors["name"] = f'"{name}" is not a domain name: {problem}'
        else:
            remark = f"{name} is an address: asked as PTR {reverse}, as dig -x asks it"
            name, qtype = reverse, "PTR"
    try:
        zone = net.dns_zone() if net is not None else None
    except DnsConfigError as e:
        return {**errors, "": f"CoreDNS would not start, so nothing resolves:\n{e}"}
    if zone is None:
        return {**errors, "": "this topology has no Kubernetes cluster, so no cluster DNS"}
    if pod is not None:
        try:
            find_pod(zone.cluster, pod)
        except ResolverError as e:
            errors["pod"] = str(e)
    if errors:
        return errors
    try:
        return Asked(resolve(zone, zone.cluster, pod, name, qtype), zone, remark)
    except ResolverError as e:
        return {"": str(e)}


def telling_try(zone, res) -> int | None:
    """The try whose explanation says most about why nothing resolved (None when something did).

    The resolver tries the name with every search domain; most of those tries fail for dull reasons (a
    namespace called ``web-b``). The telling one is the name the user meant: a Service-shaped name of the
    cluster zone in an existing namespace, else the name as typed, else the first well-formed cluster name.
    """
    from ...dns.kubernetes import parse_request
    from ...dns.records import fqdn

    if res.final.answer:
        return None
    if res.final.nodata:
        return res.kept if res.kept is not None else len(res.tries) - 1  # NODATA: the name exists, without the asked type
    k = zone.kubernetes
    typed = fqdn(res.name).lower()

    def score(t) -> int:
        q = t.qname.lower()
        z = k.zone_of(q) if k is not None else None
        r, err = parse_request(q, z) if z is not None else (None, "outside the cluster zone")
        if err is None and r.namespace and r.namespace in k.src.namespaces and not r.endpoint:
            return 0
        if q == typed:
            return 1
        if err is None:
            return 2 if r.namespace in k.src.namespaces else 3
        return 4

    return min(range(len(res.tries)), key=lambda i: (score(res.tries[i]), i)) if res.tries else None


def _answer_cell(qname: str, answer) -> Text:
    t = Text()
    for i, r in enumerate(answer.answer):
        t.append("\n" if i else "")
        t.append(f"{r.type} {r.data}" if r.name.lower() == qname.lower() else r.text())
    return t


def resolution_view(asked: Asked) -> Group:
    """The result: resolv.conf, the tries in order (rcode, who answered, the records), the verdict and why."""
    from ...dns.records import fqdn

    res, zone = asked.resolution, asked.zone
    parts: list = []
    if asked.remark:
        parts.append(Text(asked.remark, style="grey62"))
    if res.conf is not None:
        c = res.conf
        applied = f", applied as {c.applied}" if c.applied != c.policy else ""
        parts.append(Text.assemble(("From ", "grey62"), (res.pod, "bold"), (f": dnsPolicy {c.policy}{applied}; its /etc/resolv.conf", "grey62")))
        parts.append(Text("\n".join("  " + line for line in c.text().splitlines()), style="cyan"))
        parts.append(Text(res.order[0].upper() + res.order[1:] + ".", style="grey62"))
    else:
        parts.append(Text(f"No pod: {res.name} asked as given, with no search list, as dig @{zone.dns_ip} asks it.", style="grey62"))
    why = telling_try(zone, res)
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold grey62", expand=False)
    table.add_column("#", justify="right")
    table.add_column("name tried", no_wrap=True)
    table.add_column("rcode", no_wrap=True)
    table.add_column("by", no_wrap=True)
    table.add_column("answer")
    table.add_column("")
    for i, t in enumerate(res.tries):
        a = t.answer
        kept = res.kept == i and (a.answer or a.nodata)  # asked as given, the one try is "kept" whatever it says
        rcode = Text("NODATA" if a.nodata else a.rcode, style="green" if a.answer else ("yellow" if a.nodata else "red"))
        mark = Text("✔ kept" if kept and a.answer else ("kept (NODATA)" if kept else ("← why" if i == why else "")),
                    style="bold green" if kept and a.answer else "yellow")
        table.add_row(str(i + 1), Text(t.qname, style="bold" if kept else ""), rcode, Text(ANSWERED_BY.get(a.source, a.source), style="grey62"),
                      _answer_cell(t.qname, a), mark)
    parts += [Text(""), table, Text("")]
    final = res.final
    if final.answer:
        how = "asked as given" if res.conf is None else f"try {res.kept + 1}, " + next(
            (f"with search domain {d}" for d in res.conf.search if res.qname.lower() == f"{res.name}.{d}.".lower()), "the name as it is")
        same = res.qname.lower() == fqdn(res.name).lower()
        parts.append(Text.assemble(("✔ ", "bold green"), (res.name, "bold"), *(() if same else (" resolves as ", (res.qname, "bold"))),
                                   " resolves" if same else "", f" ({how}):"))
        parts.append(Text("\n".join("  " + r.text() for r in final.answer)))
        if final.additional:
            parts.append(Text("additional:\n" + "\n".join("  " + r.text() for r in final.additional), style="grey62"))
    else:
        verdict = f"has no {res.qtype} record (NODATA: the name exists, its answer is empty)" if final.nodata else \
            f"does not resolve: {final.rcode} for every name tried" if len(res.tries) > 1 else f"does not resolve: {final.rcode}"
        parts.append(Text.assemble(("✘ ", "bold red"), (res.name, "bold"), f" {verdict}."))
        if why is not None:
            t = res.tries[why]
            parts.append(Text.assemble(("Why", "bold yellow"), (f" (try {why + 1}, {t.qname}): ", "grey62"), t.answer.note or t.answer.rcode))
        if res.conf is None and "." not in res.name.rstrip("."):
            parts.append(Text("A short name is for a pod's resolver, which adds its search domains: give a pod in From pod.", style="grey62"))
    return Group(*parts)


GUIDE = ("Names to try: web (a Service), web.default, _http._tcp.web (SRV), kube-dns.kube-system, a pod's name (it does not "
         "resolve: see why), an address (PTR).\nFrom a pod, the name goes through that pod's resolv.conf search list, as its "
         "resolver does; with no pod it is asked as given, as dig asks it.")


class ResolveScreen(ModalScreen[dict | None]):
    """Name, type, from which pod; Enter shows what the resolver tried. Dismissed with the last values."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dialogs.tcss"
    BINDINGS = [("escape", "close", "Close")]
    FIELDS = (("name", "Name", "e.g. web, web.default, _http._tcp.web or 10.96.0.20"),
              ("type", "Type", "A, AAAA, SRV, PTR, CNAME, TXT or ANY"),
              ("pod", "From pod (optional)", "NAMESPACE/POD; empty: the name asked as given"))

    def __init__(self, net, request: dict | None = None) -> None:
        super().__init__(id="resolve-form")
        self.net = net
        self.request = {"name": "", "type": "A", "pod": "", **(request or {})}
        self.asked: Asked | None = None

    def _suggestions(self) -> dict[str, list[str]]:
        cluster = self.net.cluster if self.net is not None else None
        pods = sorted(f"{p.namespace}/{p.name}" for p in cluster.pods) if cluster is not None else []
        names: list[str] = []
        if cluster is not None:
            for s in sorted(cluster.services, key=lambda s: (s.namespace != "default", s.namespace, s.name)):
                names += [s.name, f"{s.name}.{s.namespace}", f"{s.name}.{s.namespace}.svc.{self.net.topology.cluster.domain}"]
        return {"name": list(dict.fromkeys(names)), "type": list(TYPES), "pod": pods}

    def compose(self) -> ComposeResult:
        svc = ""
        suggestions = self._suggestions()
        with Vertical(classes="dialog compact", id="resolve-dialog"):
            yield Label("Resolve a name", classes="title")
            cluster = self.net.topology.cluster if self.net is not None else None
            if cluster is not None:
                svc = f"The cluster DNS answers at {cluster.dns_cluster_ip} for {cluster.domain}; other names go upstream."
            yield Static(svc, classes="note")
            for key, label, placeholder in self.FIELDS:
                with Horizontal(classes="row"):
                    yield Label(label, classes="row-label")
                    yield TextInput(value=self.request.get(key, ""), placeholder=placeholder, id=f"f-{key}",
                                    suggester=SuggestFromList(suggestions[key], case_sensitive=False) if suggestions[key] else None)
                yield Static("", id=f"e-{key}", classes="field-error")
            yield Static("", id="form-error", classes="form-error")
            with VerticalScroll(id="resolve-result"):
                yield Static(Text(GUIDE, style="grey62"), id="resolve-body")
            yield Static("Enter resolves · Tab next field · → accepts a completion · Esc closes", classes="hint")

    def on_mount(self) -> None:
        for d in self.query("#resolve-dialog, #resolve-result"):
            d.can_focus = False
        for w in self.query("#f-name"):
            w.focus()
        if self.request.get("name", "").strip():
            self.resolve()

    def values(self) -> dict:
        return {key: self.query_one(f"#f-{key}", Input).value for key, _, _ in self.FIELDS}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.resolve()

    def resolve(self) -> None:
        """Ask the core; show the result, or the problems beside their fields."""
        out = ask(self.net, self.values())
        errors = out if isinstance(out, dict) else {}
        for key, _, _ in self.FIELDS:
            shown = self.query_one(f"#e-{key}", Static)
            shown.update(Text(errors.get(key, "")))
            shown.set_class(key in errors, "shown")
            self.query_one(f"#f-{key}").set_class(key in errors, "-invalid")
        self.query_one("#form-error", Static).update(Text(errors.get("", "")))
        self.query_one("#form-error").set_class("" in errors, "shown")
        if isinstance(out, Asked):
            self.asked = out
            self.query_one("#resolve-body", Static).update(resolution_view(out))
        else:
            self.asked = None
            self.query_one("#resolve-body", Static).update(Text(GUIDE, style="grey62"))
        self.query_one("#resolve-result").scroll_home(animate=False)

    def action_close(self) -> None:
        values = self.values()
        if getattr(self, "asked", None) is not None:
            values["asked"] = True  # (a lesson's step is done by a name resolved, not by a name typed)
        self.dismiss(values)
