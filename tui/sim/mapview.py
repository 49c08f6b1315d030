"""Pictures of a network: a Unicode map for the terminal, Mermaid and Graphviz for documents.

Every picture is drawn from the compiled :class:`Network`, so what it shows is
what the packet walker uses: switches, the hosts plugged into them, each
host's bridges with the namespaces and containers behind them.
"""

from __future__ import annotations

import re

from .network import NetNS, Network


def _addrs(ns: NetNS, dev: str) -> str:
    return " ".join(str(a) for a in ns.devices[dev].addresses)


def map_lines(net: Network, path: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, bool]]:
    """The Unicode map, a line at a time, each with whether it lies on ``path``.

    ``path`` holds the names of namespaces and segments a trace passed, and
    ``ns/dev`` for each device it used; a host's line on a switch is lit when
    that device carried the packet.
    """
    out: list[tuple[str, bool]] = []
    switches = [s for s in net.segments.values() if s.kind == "switch"]
    width = 64
    for seg in switches:
        title = f" {seg.name} {seg.cidr or ''} ".rstrip() + " "
        out.append(("══" + title + "═" * max(4, width - len(title) - 2), seg.name in path))
        members = seg.members
        if not members:
            out.append(("   (nothing plugged in)", False))
        for k, (ns_name, dev) in enumerate(members):
            ns = net.namespaces[ns_name]
            last = k == len(members) - 1
            icon = "◆" if ns.forwarding and ns.kind == "host" else "■"
            others = sorted({d.segment for d in ns.devices.values() if d.segment and d.segment != seg.name and net.segments[d.segment].kind == "switch"})
            also = f"  ⇄ {', '.join(others)}" if others else ""
            line = f"   {'└' if last else '├'}─ {icon} {ns_name:<14} {dev:<10} {_addrs(ns, dev)}{also}"
            out.append((line, f"{ns_name}/{dev}" in path or (ns_name in path and not any("/" in p for p in path))))
            out += [(("      " if last else "   │  ") + text, on) for text, on in _inside(net, ns, path)]
        out.append(("", False))
    plugged = {m[0] for s in switches for m in s.members}
    loose = [ns for ns in net.namespaces.values() if ns.kind == "host" and ns.name not in plugged]
    if loose:
        out.append(("── not on any network " + "─" * (width - 22), False))
        for k, ns in enumerate(loose):
            last = k == len(loose) - 1
            out.append((f"   {'└' if last else '├'}─ ■ {ns.name}", ns.name in path))
            out += [(("      " if last else "   │  ") + text, on) for text, on in _inside(net, ns, path)]
    return out


def _inside(net: Network, host: NetNS, path) -> list[tuple[str, bool]]:
    """A host's bridges and what hangs off them."""
    out: list[tuple[str, bool]] = []
    bridges = [d for d in host.devices.values() if d.kind == "bridge"]
    for b in bridges:
        seg = net.segments[b.segment]
        out.append((f"  ╪ {b.name} {_addrs(host, b.name)} (bridge)", seg.name in path))
        inner = [(ns, dev) for ns, dev in seg.members if ns != host.name]
        for k, (ns_name, dev) in enumerate(inner):
            ns = net.namespaces[ns_name]
            icon = "▣" if ns.kind == "container" else "◇"
            branch = "└" if k == len(inner) - 1 else "├"
            out.append((f"     {branch}─ {icon} {ns_name:<12} {dev:<10} {_addrs(ns, dev)}", ns_name in path))  # its only device
    return out


def map_text(net: Network, path=frozenset()) -> str:
    return "\n".join(line for line, _ in map_lines(net, path)).rstrip() + "\n"


def _id(prefix: str, name: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def mermaid(net: Network) -> str:
    """A Mermaid flowchart: switches and bridges as stadiums, namespaces as boxes."""
    lines = ["graph LR"]
    for seg in net.segments.values():
        label = f"{seg.name} {seg.cidr or ''}".strip()
        lines.append(f'  {_id("seg", seg.name)}(["{label}"])')
    for ns in net.namespaces.values():
        shape = ("{{", "}}") if ns.forwarding and ns.kind == "host" else ("[", "]")
        lines.append(f'  {_id("ns", ns.name)}{shape[0]}"{ns.name}"{shape[1]}')
    for seg in net.segments.values():
        for ns_name, dev in seg.members:
            label = f"{dev} {_addrs(net.namespaces[ns_name], dev)}".strip()
            lines.append(f'  {_id("ns", ns_name)} ---|"{label}"| {_id("seg", seg.name)}')
    return "\n".join(lines) + "\n"


def dot(net: Network) -> str:
    """A Graphviz graph of the same picture."""
    lines = [f'graph "{net.topology.name}" {{', "  rankdir=LR;", "  node [fontname=monospace];"]
    for seg in net.segments.values():
        label = f"{seg.name}\\n{seg.cidr or ''}".rstrip("\\n")
        lines.append(f'  {_id("seg", seg.name)} [shape=box, style="rounded,filled", fillcolor=lightblue, label="{label}"];')
    for ns in net.namespaces.values():
        shape = "hexagon" if ns.forwarding and ns.kind == "host" else "box3d" if ns.kind == "container" else "box"
        lines.append(f'  {_id("ns", ns.name)} [shape={shape}, label="{ns.name}"];')
    for seg in net.segments.values():
        for ns_name, dev in seg.members:
            label = f"{dev}\\n{_addrs(net.namespaces[ns_name], dev)}".rstrip("\\n")
            lines.append(f'  {_id("ns", ns_name)} -- {_id("seg", seg.name)} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
