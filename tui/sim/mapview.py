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


Span = tuple[str, bool]  # a piece of a line, and whether it lies on the path


MAP_NODES = 64  # the nodes a map draws


def map_lines(net: Network, path: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, bool]]:
    """The Unicode map, a line at a time, each with whether it lies on ``path``.

    ``path`` holds the names of namespaces and segments a trace passed, and
    ``ns/dev`` for each device it used; a host's line on a switch is lit when
    that device carried the packet.
    """
    return [("".join(text for text, _ in row), any(on for _, on in row)) for row in map_rows(net, path)]


def map_rows(net: Network, path: frozenset[str] | set[str] = frozenset()) -> list[list[Span]]:
    """The map as lines of spans, so that side-by-side pieces (the cluster's nodes) light up on their own."""
    out: list[list[Span]] = []
    cluster = getattr(net, "cluster", None)
    if cluster is not None:  # (a map draws every node: the first MAP_NODES of a big cluster)
        net.compile_nodes(list(cluster.nodes)[:MAP_NODES])
    switches = [s for s in net.segments.values() if s.kind == "switch"]
    cluster = getattr(net, "cluster", None)
    nodes = set(cluster.nodes) if cluster is not None else set()
    width = 64
    for seg in switches:
        title = f" {seg.name} {seg.cidr or ''} ".rstrip() + " "
        out.append([("══" + title + "═" * max(4, width - len(title) - 2), seg.name in path)])
        members = seg.members
        if not members:
            out.append([("   (nothing plugged in)", False)])
        for k, (ns_name, dev) in enumerate(members):
            ns = net.namespaces[ns_name]
            last = k == len(members) - 1
            icon = "◆" if ns.forwarding and ns.kind == "host" else "■"
            others = sorted({d.segment for d in ns.devices.values() if d.segment and d.segment != seg.name and net.segments[d.segment].kind == "switch"})
            also = f"  ⇄ {', '.join(others)}" if others else ""
            role = "  ☸ node" if ns_name in nodes else ""
            line = f"   {'└' if last else '├'}─ {icon} {ns_name:<14} {dev:<10} {_addrs(ns, dev)}{also}{role}"
            out.append([(line, f"{ns_name}/{dev}" in path or (ns_name in path and not any("/" in p for p in path)))])
            if ns_name not in nodes:  # a node's inside is drawn with the cluster, below
                out += [[(("      " if last else "   │  ") + text, on)] for text, on in _inside(net, ns, path)]
        out.append([("", False)])
    plugged = {m[0] for s in switches for m in s.members}
    loose = [ns for ns in net.namespaces.values() if ns.kind == "host" and ns.name not in plugged]
    if loose:
        out.append([("── not on any network " + "─" * (width - 22), False)])
        for k, ns in enumerate(loose):
            last = k == len(loose) - 1
            out.append([(f"   {'└' if last else '├'}─ ■ {ns.name}", ns.name in path)])
            if ns.name not in nodes:
                out += [[(("      " if last else "   │  ") + text, on)] for text, on in _inside(net, ns, path)]
        out.append([("", False)])
    if nodes:
        out += _cluster_rows(net, path) + [[("", False)]]
    return out


BOX = 54  # a node's box: two side by side fit a 120-column terminal


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pod_line(net: Network, pods: set[str], ns_name: str, dev: str, branch: str, inner: int, tail: str = "") -> str:
    member = net.namespaces[ns_name]
    ip = " ".join(str(a.ip) for a in member.devices[dev].addresses)
    right = f"{ip}{tail}"
    icon = "●" if ns_name in pods else "▣" if member.kind == "container" else "◇"
    room = inner - len(right) - 6
    return f"{branch}─ {icon} {_fit(ns_name, room):<{room}} {right}"


def _node_box(net: Network, name: str, path) -> list[list[Span]]:
    """One node drawn as a box: its own interfaces, cni0 (or routed veths) and the pods on it, the overlay device,
    the routes to the other nodes' pods."""
    cluster = net.cluster
    ns = net.namespaces[name]
    inner = BOX - 4
    rows: list[tuple[str, bool]] = []
    devices = [d for d in ns.devices.values() if d.kind not in ("loopback",)]
    for d in devices:
        if d.kind == "ethernet":
            where = f" → {d.segment}" if d.segment else ""
            rows.append((f"{d.name} {_addrs(ns, d.name)}{where}".replace("  ", " "), f"{name}/{d.name}" in path))
    pods = {f"{p.namespace}/{p.name}" for p in cluster.pods}
    for d in devices:
        if d.kind != "bridge":
            continue
        seg = net.segments[d.segment]
        rows.append((f"╪ {d.name} {_addrs(ns, d.name)}", seg.name in path))
        inner_ns = [(m, dev) for m, dev in seg.members if m != name]
        for k, (m, dev) in enumerate(inner_ns):
            rows.append((_pod_line(net, pods, m, dev, "└" if k == len(inner_ns) - 1 else "├", inner), m in path))
        if not inner_ns:
            rows.append(("   (no pods)", False))
    routed = [d for d in devices if d.kind == "veth" and d.master is None and d.peer is not None and d.peer[0] in net.namespaces]
    if routed:
        rows.append(("⇢ routed veths, one per pod (no bridge)", False))
        for k, d in enumerate(routed):
            branch = "└" if k == len(routed) - 1 else "├"
            rows.append((_pod_line(net, pods, d.peer[0], d.peer[1], branch, inner, f" {d.name}"), d.peer[0] in path))
    for d in devices:
        if d.kind == "vxlan":
            vni, port = d.vxlan or (0, 0)
            rows.append((f"⇅ {d.name} {_addrs(ns, d.name)} VXLAN {vni}, UDP {port}", f"{name}/{d.name}" in path))
        elif d.kind == "ipip":
            rows.append((f"⇅ {d.name} {_addrs(ns, d.name)} IP-in-IP".replace("  ", " "), f"{name}/{d.name}" in path))
    pod_cidrs = cluster.topology.cluster.pod_cidrs
    own = {cluster.pod_cidrs.get(name), getattr(cluster, "pod_cidrs6", {}).get(name)}
    local = {d.name for d in routed}
    by_ip = {n.internal_ip: n.name for n in cluster.nodes.values()}
    for r in ns.tables.main.routes():
        if r.proto == "kernel" or r.to in own or r.dev in local or not any(r.to.version == c.version and r.to.subnet_of(c) for c in pod_cidrs):
            continue
        peer = by_ip.get(r.via)
        text = f"→ {r.to} via {r.via}" if r.via else f"→ {r.type} {r.to}" if r.type != "unicast" else f"→ {r.to}"
        text += f" dev {r.dev}" if r.dev and ns.devices.get(r.dev) is not None and ns.devices[r.dev].kind != "ethernet" else ""
        rows.append((text + (f" ({peer})" if peer and len(text) + len(peer) + 3 <= inner else ""), False))
    title = f"─ ◆ {name} "
    mine = cluster.pod_cidrs.get(name)
    cidr = f" pods {mine} ─" if mine else "─"
    top = "╭" + title + "─" * max(1, BOX - 2 - len(title) - len(cidr)) + cidr + "╮"
    box: list[list[Span]] = [[(top, name in path)]]
    for text, on in rows:
        box.append([("│ ", False), (f"{_fit(text, inner):<{inner}}", on), (" │", False)])
    box.append([("╰" + "─" * (BOX - 2) + "╯", False)])
    return box


def _cluster_rows(net: Network, path) -> list[list[Span]]:
    """The cluster: each node a box (two side by side), then how pod packets go from node to node."""
    cluster = net.cluster
    cfg = cluster.topology.cluster
    how = {"flannel": "flannel (VXLAN)", "bridge": "bridge (host-gw)"}.get(cfg.cni, cfg.cni)
    pods = ",".join(str(c) for c in cfg.pod_cidrs)
    services = ",".join(str(c) for c in cfg.service_cidrs)
    out: list[list[Span]] = [[(f"☸ cluster {cfg.name} · CNI {how} · pods {pods} · Services {services}", False)]]
    names = [n for n in cluster.nodes if n in net.namespaces][:MAP_NODES]
    if len(cluster.nodes) > MAP_NODES:
        out.append([(f"  (the first {MAP_NODES} of {len(cluster.nodes)} nodes: a trace or the tree shows any other)", False)])
    for i in range(0, len(names), 2):
        boxes = [_node_box(net, n, path) for n in names[i:i + 2]]
        height = max(len(b) for b in boxes)
        for b in boxes:
            b[-1:-1] = [[("│" + " " * (BOX - 2) + "│", False)]] * (height - len(b))
        for k in range(height):
            row: list[Span] = []
            for j, b in enumerate(boxes):
                row += ([("  ", False)] if j else []) + b[k]
            out.append(row)
    out += _between_nodes(net, names, path)
    for s in cluster.services:
        if s.type == "LoadBalancer" and s.load_balancer_ip is not None and "load-balancer" in net.namespaces:
            ports = ", ".join(f"{s.load_balancer_ip}:{p.port} → NodePort {p.node_port}" for p in s.ports if p.node_port)
            out.append([(f"⚖ load-balancer for {s.key}: {ports} of the nodes, client masqueraded", "load-balancer" in path)])
    return out


def _between_nodes(net: Network, names: list[str], path) -> list[list[Span]]:
    """How a pod's packet reaches another node: inside VXLAN over the underlay, or routed on it unchanged."""
    out: list[list[Span]] = []
    for seg in net.segments.values():
        if seg.kind == "ipip":
            ends = [f"{m} {next((a.ip for d in net.namespaces[m].devices.values() if d.kind == 'ethernet' and d.segment for a in d.addresses), '')}".strip()
                    for m, _ in seg.members]
            lit = seg.name in path or any(f"{m}/{d}" in path for m, d in seg.members)
            out.append([(f"⇅ overlay {seg.name}: IP-in-IP between " + " ⇄ ".join(ends), lit)])
            out.append([("  a pod packet to another node leaves inside an outer IP header, node IP to node IP", False)])
        if seg.kind != "vxlan":
            continue
        ends = []
        for ns_name, _ in seg.members:
            ns = net.namespaces[ns_name]
            underlay = next((a.ip for d in ns.devices.values() if d.kind == "ethernet" and d.segment for a in d.addresses if a.version == 4), None)
            ends.append(f"{ns_name} {underlay}" if underlay else ns_name)
        vni, port = next((net.namespaces[m].devices[d].vxlan for m, d in seg.members if net.namespaces[m].devices[d].vxlan), (0, 0))
        lit = seg.name in path or any(f"{m}/{d}" in path for m, d in seg.members)
        out.append([(f"⇅ overlay {seg.name}: VXLAN {vni} in UDP {port} between " + " ⇄ ".join(ends), lit)])
        out.append([("  a pod packet to another node leaves inside UDP, node IP to node IP, and is unwrapped there", False)])
    if not out and len(names) > 1:
        nets = sorted({d.segment for n in names for d in net.namespaces[n].devices.values() if d.kind == "ethernet" and d.segment})
        bgp = any(r.proto == "bird" for n in names for r in net.namespaces[n].tables.main.routes())
        how = "learned over BGP (BIRD) from" if bgp else "routed to"
        out.append([(f"→ underlay {', '.join(nets)}: pod packets cross it unchanged, {how} the node that owns the pod subnet",
                     any(n in path for n in nets))])
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


def _node_of(net: Network) -> dict[str, str]:
    """Cluster nodes: ``ns:NAME`` and ``seg:NAME`` of everything inside a node (itself, cni0, its pods) -> the node."""
    cluster = getattr(net, "cluster", None)
    nodes = set(cluster.nodes) if cluster is not None else set()
    out = {f"ns:{ns.name}": ns.host for ns in net.namespaces.values() if ns.host in nodes}
    out.update({f"seg:{s.name}": s.host for s in net.segments.values() if s.kind in ("bridge", "veth") and s.host in nodes})
    return out


def _seg_label(net: Network, seg) -> str:
    if seg.kind == "vxlan":
        vni, port = next((net.namespaces[m].devices[d].vxlan for m, d in seg.members if net.namespaces[m].devices[d].vxlan), (0, 0))
        return f"{seg.name} VXLAN {vni} UDP {port}"
    if seg.kind == "ipip":
        return f"{seg.name} IP-in-IP"
    return f"{seg.name} {seg.cidr or ''}".strip()


def pod_routes(net: Network) -> list[tuple[str, str, str]]:
    """The routes that carry pods' packets between nodes over the underlay (bridge/host-gw): (node, peer node, pod CIDR)."""
    cluster = getattr(net, "cluster", None)
    if cluster is None:
        return []
    pod_cidr = cluster.topology.cluster.pod_cidr
    by_ip = {n.internal_ip: n.name for n in cluster.nodes.values()}
    out = []
    for name in cluster.nodes:
        ns = net.namespaces.get(name)
        for r in ns.tables.main.routes() if ns is not None else ():
            peer = by_ip.get(r.via)
            if peer and peer != name and r.to.version == pod_cidr.version and r.to.subnet_of(pod_cidr) and r.proto != "kernel":
                if not (r.dev and ns.devices.get(r.dev) is not None and ns.devices[r.dev].kind == "vxlan"):
                    out.append((name, peer, str(r.to)))
    return out


def mermaid(net: Network) -> str:
    """A Mermaid flowchart: switches and bridges as stadiums, namespaces as boxes; a cluster's nodes as subgraphs."""
    lines = ["graph LR"]
    inside = _node_of(net)
    decl: dict[str, list[str]] = {}
    for seg in net.segments.values():
        decl.setdefault(inside.get(f"seg:{seg.name}", ""), []).append(f'{_id("seg", seg.name)}(["{_seg_label(net, seg)}"])')
    for ns in net.namespaces.values():
        shape = ("{{", "}}") if ns.forwarding and ns.kind == "host" else ("[", "]")
        decl.setdefault(inside.get(f"ns:{ns.name}", ""), []).append(f'{_id("ns", ns.name)}{shape[0]}"{ns.name}"{shape[1]}')
    lines += [f"  {d}" for d in decl.pop("", [])]
    for node, items in decl.items():
        cidr = net.cluster.pod_cidrs.get(node)
        lines.append(f'  subgraph {_id("node", node)}["node {node}' + (f' · pods {cidr}' if cidr else "") + '"]')
        lines += [f"    {d}" for d in items]
        lines.append("  end")
    for seg in net.segments.values():
        for ns_name, dev in seg.members:
            label = f"{dev} {_addrs(net.namespaces[ns_name], dev)}".strip()
            lines.append(f'  {_id("ns", ns_name)} ---|"{label}"| {_id("seg", seg.name)}')
    for node, peer, cidr in pod_routes(net):
        lines.append(f'  {_id("ns", node)} -.->|"{cidr}"| {_id("ns", peer)}')
    return "\n".join(lines) + "\n"


def dot(net: Network) -> str:
    """A Graphviz graph of the same picture."""
    lines = [f'graph "{net.topology.name}" {{', "  rankdir=LR;", "  node [fontname=monospace];"]
    inside = _node_of(net)
    decl: dict[str, list[str]] = {}
    for seg in net.segments.values():
        label = _seg_label(net, seg).replace(" ", "\\n", 1)
        decl.setdefault(inside.get(f"seg:{seg.name}", ""), []).append(
            f'{_id("seg", seg.name)} [shape=box, style="rounded,filled", fillcolor=lightblue, label="{label}"];')
    for ns in net.namespaces.values():
        shape = "hexagon" if ns.forwarding and ns.kind == "host" else "box3d" if ns.kind == "container" else "box"
        decl.setdefault(inside.get(f"ns:{ns.name}", ""), []).append(f'{_id("ns", ns.name)} [shape={shape}, label="{ns.name}"];')
    lines += [f"  {d}" for d in decl.pop("", [])]
    for node, items in decl.items():
        cidr = net.cluster.pod_cidrs.get(node)
        lines.append(f'  subgraph {_id("cluster_node", node)} {{')
        lines.append(f'    label="node {node}' + (f'\\npods {cidr}' if cidr else "") + '"; style=rounded;')
        lines += [f"    {d}" for d in items]
        lines.append("  }")
    for seg in net.segments.values():
        for ns_name, dev in seg.members:
            label = f"{dev}\\n{_addrs(net.namespaces[ns_name], dev)}".rstrip("\\n")
            lines.append(f'  {_id("ns", ns_name)} -- {_id("seg", seg.name)} [label="{label}"];')
    for node, peer, cidr in pod_routes(net):
        lines.append(f'  {_id("ns", node)} -- {_id("ns", peer)} [style=dashed, dir=forward, label="{cidr}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
