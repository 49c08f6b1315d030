"""What the right pane says about NetworkPolicies: for a policy, the pods it selects for each direction and, rule by
rule, the peers it admits (the pods each selector peer matches, each ipBlock and the pods inside it) and its ports
(named ports as the pods define them); for a pod, the policies that isolate it for ingress and egress and the rules
that let connections through; for a cell of the matrix, the verdict with the policies and rules behind it."""

from __future__ import annotations

from rich.text import Text

from ...edit.netpol_matrix import index_of
from .netpol_tree import peers_text, ports_text, selector_text

SELECTED = "bold black on green"
MAX_NAMES = 8


def _names(keys, limit: int = MAX_NAMES) -> str:
    keys = sorted(keys)
    if not keys:
        return "no pod"
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def _admits(ix, policy, direction: str, rule) -> list[tuple[str, str]]:
    """(what, who) for each peer of ``rule``: the pods it matches, or the addresses (and pods) of an ipBlock."""
    if not rule.peers:
        return [("every peer", "pods of every namespace, nodes and outside addresses")]
    out = []
    for peer in rule.peers:
        if peer.ip_block is not None:
            inside = [k for k, pod in ix.pods.items() if not pod.host_network and any(peer.ip_block.contains(ip) for ip in pod.ips)]
            out.append((f"ipBlock {peer.ip_block}", "addresses inside it" + (f", pods too: {_names(inside)}" if inside else "")))
        else:
            out.append((peer.describe(policy.namespace), _names(ix.peer_pods(peer, policy.namespace))))
    return out


def _named_ports(ix, policy, direction: str, rule) -> str:
    """Where a rule's named ports point: on the selected pods (ingress) or on the pods its peers match (egress)."""
    names = [pp for pp in rule.ports if isinstance(pp.port, str)]
    if not names:
        return ""
    if direction == "ingress":
        pods = ix.selected.get(policy.key, [])
    else:
        pods = sorted({k for peer in rule.peers if peer.ip_block is None for k in ix.peer_pods(peer, policy.namespace)}) if rule.peers \
            else list(ix.pods)
    parts = []
    for pp in names:
        found = sorted({f"{k}:{c.port}" for k in pods for c in ix.pods[k].ports if c.name == pp.port and c.protocol == pp.protocol})
        parts.append(f"{pp.port} = {_names(found, 4)}" if found else f"{pp.port}: no such {pp.protocol} port on those pods (matches nothing)")
    return "; ".join(parts)


def policy_text(net, key: str, selected: tuple[str, int | None] | None = None) -> Text:
    """A policy ``namespace/name``: its selector and types, the pods it isolates per direction, each rule's peers."""
    from ...netpol import lint

    ix = index_of(net)
    pol = next((p for p in ix.policies if p.key == key), None) if ix is not None else None
    t = Text()
    if pol is None:
        err = next((e for e in ix.errors if f"{e.obj.namespace}/{e.obj.name}" == key), None) if ix is not None else None
        t.append(f"NetworkPolicy {key}\n", style="bold")
        t.append(f"refused: {err.path}: {err.message}" if err else "not in the cluster", style="red")
        return t
    t.append(f"NetworkPolicy {key}", style="bold")
    t.append(f"  podSelector {selector_text(pol)} in {pol.namespace} · policyTypes {', '.join(pol.policy_types)}\n", style="grey62")
    pods = ix.selected.get(key, [])
    for d in ("ingress", "egress"):
        rules = pol.rules(d)
        t.append(f"\n{d}  ", style="bold underline")
        if pol.applies(d):
            t.append(f"isolates {len(pods)} pod{'s' if len(pods) != 1 else ''}: ", style="bold")
            t.append(_names(pods) + "\n", style="bright_magenta" if pods else "yellow")
            if not rules:
                mark = selected == (f"netpol-{d}", None)
                t.append(f"no {d} rule: allows nothing", style=SELECTED if mark else "bold red")
                t.append(f" (a {'connection in' if d == 'ingress' else 'connection out'} passes only if another policy selecting the "
                         "pod allows it)\n", style="grey62")
        else:
            t.append(f"not isolated by this policy (policyTypes has no {d.capitalize()})" + (": its rules are ignored" if rules else "")
                     + "\n", style="grey62")
        for k, r in enumerate(rules):
            mark = selected == (f"netpol-{d}", k)
            t.append(f"{'⇠' if d == 'ingress' else '⇢'} rule {k}  {peers_text(r, d, pol.namespace)}; on {ports_text(r)}\n",
                     style=SELECTED if mark else "bold")
            for what, who in _admits(ix, pol, d, r):
                t.append(f"    {what} → ", style="grey62")
                t.append(who + "\n", style="yellow" if who == "no pod" else "")
            named = _named_ports(ix, pol, d, r)
            if named:
                t.append(f"    named ports: {named}\n", style="grey62")
    warnings = [i for i in lint(ix) if i.obj is not None and f"{i.obj.namespace}/{i.obj.name}" == key]
    for w in warnings:
        t.append(f"\n⚠ {w.path}: {w.message}", style="yellow")
    t.rstrip()
    t.append("\n\np: the reachability matrix · a: add a rule · e: edit · d: delete", style="grey62")
    return t


def pod_text(net, pod: str) -> Text | None:
    """The policies isolating ``pod`` (``ns/name``) for ingress and egress, each with its rules; None for no pod."""
    ix = index_of(net)
    if ix is None or pod not in ix.pods:
        return None
    t = Text()
    t.append("NetworkPolicy\n", style="bold")
    if ix.pods[pod].host_network:
        t.append("a hostNetwork pod: no NetworkPolicy selects it (its traffic is its node's, always allowed to and from there)",
                 style="grey62")
        return t
    for d in ("ingress", "egress"):
        pols = ix.isolating[d].get(pod, [])
        t.append(f"{d:<8} ", style="bold")
        if not pols:
            t.append("not isolated", style="green")
            t.append(f": no policy with policyType {d.capitalize()} selects it, so every connection "
                     f"{'in' if d == 'ingress' else 'out'} is allowed\n", style="grey62")
            continue
        t.append(f"isolated by {', '.join(p.key for p in pols)}", style="yellow")
        t.append(": only what these rules allow\n", style="grey62")
        rules = [(p, k, r) for p in pols for k, r in enumerate(p.rules(d))]
        for p, k, r in rules:
            t.append(f"  {'⇠' if d == 'ingress' else '⇢'} {p.key} rule {k}: {peers_text(r, d, p.namespace)}; on {ports_text(r)}\n")
        if not rules:
            t.append(f"  no {d} rule in them: every connection {'in' if d == 'ingress' else 'out'} is refused\n", style="red")
    return t


def verdict_text(v, was: bool | None = None) -> Text:
    """A cell of the matrix explained: allowed or denied, each direction's summary and the policies' reasons."""
    t = Text()
    t.append(f"{v.src} → {v.dst}  {v.protocol}/{v.port}  ", style="bold")
    t.append("ALLOWED" if v.allowed else "DENIED", style="bold green" if v.allowed else "bold red")
    if was is not None and was != v.allowed:
        t.append(f"  (was {'allowed' if was else 'denied'} before the last edit)", style="bold black on #ffb000")
    t.append("\n")
    for ok, items, summary in ((v.egress_allowed, v.egress, v.egress_summary), (v.ingress_allowed, v.ingress, v.ingress_summary)):
        t.append("✓ " if ok else "✗ ", style="green" if ok else "red")
        t.append(summary + "\n", style="" if ok else "bold")
        for i in items:
            if i["why"] not in summary:  # "not isolated", "loopback": the summary says it
                t.append(f"    {i['policy'] + ': ' if i.get('policy') else ''}{i['why']}\n", style="grey62")
    t.append("(replies of an allowed connection are allowed: policies apply to connections)", style="grey62")
    return t
