"""iptables as the kernel walks it: tables, chains, rules, targets.

:class:`Netfilter` holds one namespace's rules and evaluates a hook (a
built-in chain) for a packet, following jumps and returns, and reports the
rules that matched so a trace can print them.

The ``recent`` match (kube-proxy's session affinity) remembers addresses
between packets: its lists live in :attr:`MatchContext.recent`, one mapping
per namespace that the caller keeps (the walker keeps one per namespace for
as long as it lives), ``{list name: {address: last seen}}``. Time is an input
too (:attr:`MatchContext.now`, seconds), never the clock.
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
from dataclasses import dataclass, field

from ..model.topology import Policy, Rule
from .packet import Packet

TERMINAL = {"ACCEPT", "DROP", "REJECT", "MASQUERADE", "SNAT", "DNAT"}
BUILTIN = TERMINAL | {"RETURN", "LOG", "MARK", "KUBE-MARK-MASQ"}


@dataclass
class Verdict:
    """What a chain decided, and the rules on the way."""

    target: str  # ACCEPT, DROP, REJECT, DNAT, SNAT, MASQUERADE
    rule: Rule | None  # the terminal rule, None when the policy decided
    matched: list[Rule] = field(default_factory=list)
    packet_mark: int = 0
    policy: str | None = None


@dataclass
class MatchContext:
    """What a rule may look at beyond the packet itself."""

    in_iface: str | None
    out_iface: str | None
    ct_state: str  # NEW or ESTABLISHED
    is_local: object  # callable(address) -> bool
    seed: int = 0
    endpoint: str | None = None  # "ip:port": statistic rules take the Service endpoint asked for
    recent: dict | None = None  # this namespace's xt_recent lists, {name: {address: last seen}}; None: nothing remembered
    now: float = 0.0  # the time of this packet, in seconds, for recent --seconds


def _iface_match(pattern: str, name: str | None) -> bool:
    if name is None:
        return False
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return fnmatch.fnmatchcase(name, pattern) if "*" in pattern else name == pattern


def chance(seed: int, salt: str, pkt: Packet) -> float:
    """A deterministic stand-in for ``statistic --mode random``: a number in [0, 1)
    from the seed, the rule and the flow, so one flow always takes one path."""
    h = hashlib.blake2b(f"{seed}|{salt}|{pkt.flow_key()}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def _recent_key(r: Rule, pkt: Packet):
    addr = pkt.dst if r.recent_dest else pkt.src
    if addr is None or r.recent_mask is None or r.recent_mask.version != addr.version:
        return addr
    return ipaddress.ip_address(int(addr) & int(r.recent_mask))


def recent_match(r: Rule, pkt: Packet, ctx: MatchContext) -> bool:
    """``-m recent``: --set remembers the address (and matches), --rcheck asks whether it was seen
    (within --seconds; --reap forgets older entries), --update asks and refreshes, --remove forgets."""
    lists = ctx.recent if ctx.recent is not None else {}
    seen = lists.setdefault(r.recent_name or "DEFAULT", {})
    key = _recent_key(r, pkt)
    if key is None:
        return False
    if r.recent_cmd == "set":
        seen[key] = ctx.now
        return True
    if r.recent_cmd == "remove":
        return seen.pop(key, None) is not None
    if r.recent_reap and r.recent_seconds is not None:
        for addr in [a for a, t in seen.items() if ctx.now - t > r.recent_seconds]:
            del seen[addr]
    stamp = seen.get(key)
    if stamp is None or (r.recent_seconds is not None and ctx.now - stamp > r.recent_seconds):
        return False
    if r.recent_cmd == "update":
        seen[key] = ctx.now
    return True


def matches(r: Rule, pkt: Packet, ctx: MatchContext, mark: int) -> bool:
    if r.src is not None and ((pkt.src in r.src) == r.src_neg):
        return False
    if r.dst is not None and ((pkt.dst in r.dst) == r.dst_neg):
        return False
    if r.in_iface is not None and _iface_match(r.in_iface, ctx.in_iface) == r.in_neg:
        return False
    if r.out_iface is not None and _iface_match(r.out_iface, ctx.out_iface) == r.out_neg:
        return False
    if r.proto is not None and (pkt.proto == r.proto) == r.proto_neg:
        return False
    if r.dport is not None and (pkt.dport is None or not r.dport[0] <= pkt.dport <= r.dport[1]):
        return False
    if r.sport is not None and (pkt.sport is None or not r.sport[0] <= pkt.sport <= r.sport[1]):
        return False
    if r.ctstate is not None and ctx.ct_state not in r.ctstate:
        return False
    if r.mark_match is not None and ((mark & r.mark_match[1]) == r.mark_match[0]) == r.mark_neg:
        return False
    if r.dst_type is not None and r.dst_type == "LOCAL" and ctx.is_local(pkt.dst) == r.dst_type_neg:
        return False
    if r.src_type is not None and r.src_type == "LOCAL" and (pkt.src is None or not ctx.is_local(pkt.src)):
        return False
    if r.probability is not None:
        if ctx.endpoint is not None and r.comment and " -> " in r.comment:
            if r.comment.rsplit(" -> ", 1)[1] != ctx.endpoint:  # kube-proxy's "ns/svc:port -> ip:port"
                return False
        elif chance(ctx.seed, r.text, pkt) >= r.probability:
            return False
    if r.recent_cmd is not None:  # last: --set and --update change the lists, only for a rule that otherwise matches
        return recent_match(r, pkt, ctx)
    return True


def kube_proxy_reason(rule: Rule | None, ns: str) -> str | None:
    """Why one of kube-proxy's filter rules dropped or rejected a packet in ``ns``, in words;
    None for any other rule. The rule's comment says which: "SVC has no endpoints" (REJECT)
    or "SVC has no local endpoints" (DROP: a Local traffic policy and no endpoint on this node,
    in KUBE-EXTERNAL-SERVICES for externalTrafficPolicy, in KUBE-SERVICES for internalTrafficPolicy)."""
    if rule is None or not rule.comment:
        return None
    if rule.comment.endswith(" has no local endpoints"):
        svc = rule.comment.removesuffix(" has no local endpoints")
        if rule.chain == "KUBE-SERVICES":
            return (f"no local endpoints: Service {svc} has internalTrafficPolicy: Local and no ready endpoint on {ns}, "
                    f"kube-proxy DROPs traffic to its cluster IP there")
        return (f"no local endpoints: Service {svc} has externalTrafficPolicy: Local and no ready endpoint on {ns}, "
                f"kube-proxy DROPs external traffic to it there")
    if rule.comment.endswith(" has no endpoints"):
        svc = rule.comment.removesuffix(" has no endpoints")
        return f"no endpoints: Service {svc} has no ready endpoint, kube-proxy REJECTs in {ns} (ICMP port unreachable)"
    return None


class Netfilter:
    """One namespace's iptables rules (tables filter and nat)."""

    def __init__(self, rules: tuple[Rule, ...] = (), policies: tuple[Policy, ...] = ()) -> None:
        self.chains: dict[tuple[str, str], list[Rule]] = {}
        for r in rules:
            chain = self.chains.setdefault((r.table, r.chain), [])
            chain.insert(0, r) if r.insert else chain.append(r)
        self.policies = {(p.table, p.chain): p.target for p in policies if p.target != "-"}
        self.declared = {(p.table, p.chain) for p in policies if p.target == "-"}  # iptables -N

    def missing_targets(self) -> list[Rule]:
        """Rules that jump to a chain that does not exist (iptables: "Couldn't load target")."""
        known = set(self.chains) | self.declared
        return [r for rs in self.chains.values() for r in rs if r.target not in BUILTIN and (r.table, r.target) not in known]

    def __bool__(self) -> bool:
        return bool(self.chains) or any(t != "ACCEPT" for t in self.policies.values())

    def rules(self, table: str | None = None) -> list[Rule]:
        return [r for (t, _), rs in self.chains.items() if table in (None, t) for r in rs]

    def policy(self, table: str, chain: str) -> str:
        return self.policies.get((table, chain), "ACCEPT")

    def run(self, table: str, chain: str, pkt: Packet, ctx: MatchContext) -> Verdict:
        """Walk a built-in chain for ``pkt``; the first terminal target wins."""
        matched: list[Rule] = []
        mark = pkt.mark
        stack: list[tuple[str, int]] = []
        cur, i = chain, 0
        steps = 0
        while True:
            rules = self.chains.get((table, cur), [])
            if i >= len(rules):
                if not stack:
                    pol = self.policy(table, chain)
                    return Verdict(pol, None, matched, mark, policy=pol)
                cur, i = stack.pop()
                continue
            r = rules[i]
            i += 1
            steps += 1
            if steps > 10_000:  # a jump loop; iptables refuses these at load
                return Verdict("DROP", r, matched, mark)
            if (r.family is not None and r.family != pkt.dst.version) or not matches(r, pkt, ctx, mark):
                continue  # ip6tables' rules are not iptables': each family has its own tables
            matched.append(r)
            t = r.target
            if t == "MARK" and r.set_mark is not None:
                value, mask = r.set_mark
                mark = (mark & ~mask) ^ value  # xt_MARK: --set-xmark value/mask
            elif t == "KUBE-MARK-MASQ" and (table, t) not in self.chains:
                mark |= 0x4000
            elif t == "RETURN":
                if not stack:
                    pol = self.policy(table, chain)
                    return Verdict(pol, None, matched, mark, policy=pol)
                cur, i = stack.pop()
            elif t in TERMINAL:
                return Verdict(t, r, matched, mark)
            elif t == "LOG":
                pass
            elif (table, t) in self.chains or t not in TERMINAL:
                stack.append((cur, i))
                cur, i = t, 0
