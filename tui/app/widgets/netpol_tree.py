"""The tree's NetworkPolicy section: each policy with its policyTypes and podSelector, and under it its ingress and
egress rules (who, on which ports); a direction the policy isolates without a rule says that it allows nothing, and
rules of a direction its policyTypes leaves out say that they are ignored."""

from __future__ import annotations

import re

from ...edit.netpol_matrix import index_of

_NAMED = re.compile(r"policy: ([\w.-]+/[\w.-]+): ")
_ALLOWED = re.compile(r"policy: (ingress|egress) allowed by (.*)")
_RULE = re.compile(r"([\w.-]+/[\w.-]+) rule (\d+)")


def peers_text(rule, direction: str, namespace: str) -> str:
    word = "from" if direction == "ingress" else "to"
    return f"{word} {' or '.join(p.describe(namespace) for p in rule.peers) if rule.peers else 'anywhere'}"


def ports_text(rule) -> str:
    return ", ".join(map(str, rule.ports)) if rule.ports else "any port"


def selector_text(policy) -> str:
    return str(policy.pod_selector) or "all pods"


def trace_marks(notes) -> set[str]:
    """What a hop's policy notes name, as tree marks: ``netpol:NS/NAME`` and ``netpol-ingress:NS/NAME:K``."""
    out: set[str] = set()
    for note in notes:
        if m := _NAMED.match(note):
            out.add(f"netpol:{m.group(1)}")
        elif m := _ALLOWED.match(note):
            for key, k in _RULE.findall(m.group(2)):
                out |= {f"netpol:{key}", f"netpol-{m.group(1)}:{key}:{k}"}
    return out


def add_policies(root, net, add, keep, path: set[str], filtering: bool = False) -> None:
    """The "NetworkPolicies" group under ``root``; ``add`` and ``keep`` are the tree's own (adding, filtering)."""
    from .topology_tree import Item

    ix = index_of(net)
    if ix is None:
        return
    isolated = set(ix.isolating["ingress"]) | set(ix.isolating["egress"])
    count = len(ix.policies) + len(ix.errors)
    detail = f"{len(isolated)} of {len(ix.pods)} pods isolated"
    group = add(root, "group", f"NetworkPolicies ({count})", detail, Item("group", "netpols"), False)
    for p in ix.policies:
        rules = [(d, k, r) for d in ("ingress", "egress") for k, r in enumerate(p.rules(d))]
        words = " ".join([p.key, "networkpolicy", *p.policy_types, str(p.pod_selector)]
                         + [f"{peers_text(r, d, p.namespace)} {ports_text(r)}" for d, _, r in rules])
        if not keep(words):
            continue
        node = add(group, "netpol", p.key, f"{', '.join(p.policy_types)} · {selector_text(p)}", Item("netpol", p.key), False,
                   f"netpol:{p.key}" in path)
        for d in ("ingress", "egress"):
            if p.applies(d) and not p.rules(d):
                add(node, "netpol-none", f"{d}: no rule", "allows nothing", Item(f"netpol-{d}", p.key), True)
            for k, r in enumerate(p.rules(d)):
                ignored = "" if p.applies(d) else f" (ignored: policyTypes has no {d.capitalize()})"
                add(node, f"netpol-{d}", peers_text(r, d, p.namespace), ports_text(r) + ignored, Item(f"netpol-{d}", p.key, index=k), True,
                    f"netpol-{d}:{p.key}:{k}" in path)
    for e in ix.errors:
        key = f"{e.obj.namespace}/{e.obj.name}"
        if keep(key):
            add(group, "netpol", key, f"refused: {e.path}: {e.message}", Item("netpol", key), True)
    if not group.children and filtering:
        group.remove()
