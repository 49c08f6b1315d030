"""Plain-text reports of the core's answers, for the CLI (no rich, no textual)."""

from __future__ import annotations

from .sim.trace import Hop, Trace

VERDICT = {"delivered": "DELIVERED", "dropped": "DROPPED"}


def hop_lines(n: int, hop: Hop, dropped_here: bool = False) -> list[str]:
    """One hop: where, what decided, what was rewritten, the packet as it leaves."""
    where = f"{hop.in_ or '(sent here)'} -> {hop.out or ('(dropped)' if dropped_here else '(local)')}"
    lines = [f"{n:>3}  {hop.node} [{hop.kind}]  {where}"]
    label = "l2" if hop.kind in ("switch", "bridge") else "route"
    if hop.decision:
        lines.append(f"       {label:<9}{hop.decision}")
    for r in hop.rules:
        label = "ebpf" if r.startswith("bpf ") else "ip6tables" if hop.packet.dst.version == 6 else "iptables"
        lines.append(f"       {label:<9}{' ' if len(label) >= 9 else ''}{r}")
    for note in hop.notes:
        lines.append(f"       {'note':<9}{note}")
    for rw in hop.rewrites:
        lines.append(f"       {'rewrite*':<9}{rw}")
    p = hop.packet
    macs = f"  [{p.src_mac} -> {p.dst_mac}]" if p.src_mac and p.dst_mac else ""
    lines.append(f"       {'packet':<9}{p.summary()}{macs}")
    if hop.encapsulated is not None:
        lines.append(f"       {'inner':<9}{hop.encapsulated.summary()}  (inside the tunnel packet above)")
    return lines


def verdict_line(t: Trace) -> str:
    if t.delivered:
        p = t.hops[-1].packet if t.hops else t.packet
        return f"DELIVERED to {t.delivered_to} ({p.endpoint('dst')})"
    return f"DROPPED: {t.reason}"


def trace_text(t: Trace, title: str) -> str:
    out = [title]
    if t.dns is not None:
        out += [""] + dns_lines(t.dns)
    for part in (t, t.reply) if t.reply is not None else (t,):
        if part is t and not part.hops:
            continue  # the name did not resolve: no connection
        out += ["", "reply:"] if part is t.reply else [""]
        for i, hop in enumerate(part.hops, 1):
            out += hop_lines(i, hop, dropped_here=not part.delivered and i == len(part.hops))
        out += ["", verdict_line(part)]
    return "\n".join(out)


def dns_lines(d) -> list[str]:
    """The resolver's part of a trace to a name: its resolv.conf, each name tried, the query's walk."""
    conf = "; ".join(line for line in d.resolv_conf.splitlines() if line and not line.startswith("#"))
    out = [f"dns: {d.name} ({d.qtype}) from the pod's resolv.conf: {conf}"]
    for i, (qname, rcode, answer) in enumerate(d.tries):
        kept = "  <- kept" if i == d.kept else ""
        out.append(f"  try {i + 1}  {qname} {d.qtype}: {rcode}{kept}")
        out += [f"           {a}" for a in answer]
    if d.why:
        out.append(f"  why: {d.why}")
    ex = d.exchange
    if ex is not None:
        out.append(f"  the query on the wire: {ex.packet.summary()}")
        for part, label in ((ex, "query"), (ex.reply, "answer")):
            if part is None:
                continue
            for i, hop in enumerate(part.hops, 1):
                where = f"{hop.in_ or '(sent here)'} -> {hop.out or '(local)'}"
                out.append(f"    {label} {i:>2}  {hop.node} [{hop.kind}]  {where}")
                out += [f"               rewrite* {rw}" for rw in hop.rewrites]
            out.append(f"    {label}: {verdict_line(part)}")
    return out
