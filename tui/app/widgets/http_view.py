"""How the Trace pane writes an HTTP request through the Ingress controller (:class:`tui.ingress.request.Exchange`):
the controller's step between the packet legs (TLS, the rule, what it answers or where it proxies), and its
decision: every rule tried with the winner marked and why each other lost, the certificate, the status."""

from __future__ import annotations

from rich.text import Text

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 308: "Permanent Redirect",
           404: "Not Found", 503: "Service Unavailable"}


def proxy_position(ex, parts: list) -> int:
    """How many of the played legs (``parts``: (name, trace)) come before the controller's own step."""
    if ex.proxy is None:
        return len(parts)
    at = next((i for i, s in enumerate(ex.steps) if s is ex.proxy), len(ex.steps))
    before = {s.get("leg") for s in ex.steps[:at]}
    return sum(1 for name, _ in parts if name in before)


def proxy_text(ex) -> Text:
    """The controller's step: where it runs, then each thing it did, one a line; the upstream Service step."""
    t = Text()
    p = ex.proxy
    if p is None:
        return t
    t.append(f"the controller {p['node']}\n", style="bold underline")
    for part in str(p["decision"]).split("; "):
        t.append("      proxy  ", style="grey62")
        t.append(part + "\n", style="cyan")
    upstream = next((s for s in ex.steps if s.get("kind") == "service"), None)
    if upstream is not None:
        t.append("      upstream ", style="grey62")
        t.append(f"{upstream['decision']}\n", style="grey62")
    return t


def status_line(d) -> Text:
    t = Text()
    style = "bold green" if d.status == 200 else ("bold yellow" if 300 <= d.status < 400 else "bold red")
    t.append(f"{d.status} {REASONS.get(d.status, '')}".rstrip(), style=style)
    if d.status in (301, 302, 307, 308) and d.location:
        t.append(f"  Location: {d.location}", style="bold")
    elif d.backend is not None and d.endpoint:
        t.append(f" → {d.backend['namespace']}/{d.backend['service']}:{d.backend['port']}, endpoint {d.endpoint}", style="bold")
    if d.reason:
        t.append(f"\n  {d.reason}", style="grey62")
    return t


def controller_name(ctl) -> str:
    cls = f"IngressClass {ctl.class_name}" if ctl.class_name else "no IngressClass"
    return f"the {ctl.kind} controller ({cls})"


def decision_text(ex) -> Text:
    """The controller's decision: the rules tried, the winner first marked ✔, each loser ✘ with why; TLS; the status."""
    d = ex.decision
    req = d.request
    t = Text()
    t.append("rules tried", style="bold")
    t.append(f" by {controller_name(d.controller)} for Host {req.host or '(none)'}, path {req.path}\n", style="grey62")
    if not d.tried:
        t.append("  (none: the controller serves no Ingress with rules)\n", style="grey62")
    for e in sorted(d.tried, key=lambda e: e["result"] != "won"):
        won = e["result"] == "won"
        t.append(" ✔ " if won else " ✘ ", style="bold green" if won else "red")
        t.append(_rule(e) + "\n", style="bold" if won else "")
        t.append(f"     {'won' if won else 'lost'}: {e['why']}\n", style="green" if won else "grey62")
    if d.tls is not None:
        t.append("TLS ", style="bold")
        t.append(f"SNI {d.tls['sni'] or '(none)'}: {d.tls['certificate']}\n", style="yellow")
    if ex.client and ex.proxy is None and ex.legs:
        t.append("The request never reached the controller; what it would have answered:\n", style="yellow")
    t.append_text(status_line(d))
    t.append("\n")
    return t


def _rule(e: dict) -> str:
    if e["path"] is None:
        return f"{e['ingress']} defaultBackend → {e['backend']}"
    return f"{e['ingress']} {e['host'] or '(any host)'}{e['path']} {e['pathType']} → {e['backend']}"


def title(ex, url: str, host: str | None = None) -> str:
    req = ex.decision.request
    who = f"from {ex.client}" if ex.client else "(no client: the decision only)"
    return f"{req.scheme.upper()} GET {url}" + (f"  Host: {host}" if host else "") + f"  {who}"


def marks(ex, objects) -> set[str]:
    """What the tree marks on the request's path: the winning rule (or default backend), its Ingress, the TLS entry."""
    from ...edit.ingress import rule_paths
    from ...ingress.match import host_matches

    d = ex.decision
    out: set[str] = set()
    won = next((e for e in d.tried if e["result"] == "won"), None)
    if won is not None:
        key = won["ingress"]
        ns, _, name = key.partition("/")
        o = next((x for x in objects if x.kind == "Ingress" and x.namespace == ns and x.name == name), None)
        out.add(f"ingress:{key}")
        if won["path"] is None:
            out.add(f"rule:{key}:default")
        elif o is not None:
            k = next((k for k, rp in enumerate(rule_paths(o.body))
                      if (rp.host, rp.path, rp.path_type) == (won["host"], won["path"], won["pathType"])), None)
            if k is not None:
                out.add(f"rule:{key}:{k}")
    if d.tls is not None and d.tls.get("ingress"):
        key = d.tls["ingress"]
        ns, _, name = key.partition("/")
        o = next((x for x in objects if x.kind == "Ingress" and x.namespace == ns and x.name == name), None)
        for k, entry in enumerate(((o.body.get("spec") or {}).get("tls") or []) if o is not None else []):
            if isinstance(entry, dict) and any(host_matches(str(h), d.tls["sni"]) in ("exact", "wildcard") for h in entry.get("hosts") or []):
                out.add(f"tls:{key}:{k}")
                break
    return out
