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

import collections.abc
import fnmatch
import hashlib
import ipaddress
import itertools
import operator
from dataclasses import dataclass, field

from ..model.topology import Policy, Rule
from .packet import Packet

TERMINAL = {"ACCEPT", "DROP", "REJECT", "MASQUERADE", "SNAT", "DNAT"}
BUILTIN = TERMINAL | {"RETURN", "LOG", "MARK", "KUBE-MARK-MASQ"}
_BUILTIN_JUMPS = {(table, t) for table in ("filter", "nat") for t in BUILTIN}
_CHAIN = operator.attrgetter("table", "chain")
_JUMP = operator.attrgetter("table", "target")
_INSERT = operator.attrgetter("insert")
_TARGET = operator.attrgetter("target")


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


class _Chains(dict):
    """Chains by (table, chain), some written only when first asked for.

    ``generated`` pairs a chain with a function giving it and the chains it jumps to ({(table, chain):
    rules}); one function may stand for several chains. Listed in the order a whole table would have
    them: the generated chains, by name, right after KUBE-NODEPORTS (or KUBE-SERVICES), where kube-proxy
    writes a Service port's chains."""

    def __init__(self, chains: dict, generated) -> None:
        super().__init__(chains)
        self._generated: dict = {}
        self._keys_of: dict = {}
        for key, make in generated:
            self._generated[key] = make
            self._keys_of.setdefault(id(make), []).append(key)
        keys = list(chains)
        anchor = next((keys.index(k) + 1 for k in (("nat", "KUBE-NODEPORTS"), ("nat", "KUBE-SERVICES")) if k in chains), len(keys))
        self._head, self._tail = keys[:anchor], keys[anchor:]
        self._eager = set(keys)

    def _make(self, key) -> None:
        make = self._generated.get(key)
        if make is None:
            return
        for k in self._keys_of.pop(id(make), ()):
            self._generated.pop(k, None)
        for k, rules in make().items():
            if dict.__contains__(self, k):
                dict.__getitem__(self, k).extend(rules)
            else:
                dict.__setitem__(self, k, list(rules))

    def get(self, key, default=None):
        self._make(key)
        return dict.get(self, key, default)

    def __getitem__(self, key):
        self._make(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self._generated

    def _order(self) -> list:
        for key in list(self._generated):
            self._make(key)
        made = sorted((k for k in dict.keys(self) if k not in self._eager), key=lambda k: (k[0], k[1]))
        return self._head + made + self._tail

    def keys(self):
        return self._order()

    def __iter__(self):
        return iter(self._order())

    def values(self):
        return [dict.__getitem__(self, k) for k in self._order()]

    def items(self):
        return [(k, dict.__getitem__(self, k)) for k in self._order()]

    def __len__(self) -> int:
        return len(self._order())


class Run:
    """Consecutive rules of one chain, each item's written when first needed: kube-proxy's rule or two per
    Service port, ten thousand on a big cluster. A packet's walk reads only the items its destination can
    match, found in ``keys``; listing the chain writes them all, in order.

    ``keys`` maps (destination address, or None for any; protocol; destination port) to the items, in
    order, whose rules match only such packets; ``make(i)`` gives item ``i``'s rules (``count`` items)."""

    insert = False  # (read like a Rule's where the rules are grouped into chains)
    target = None

    def __init__(self, table: str, chain: str, count: int, keys: dict, make) -> None:
        self.table, self.chain = table, chain
        self._count, self._keys, self._make = count, keys, make
        self._made: dict[int, tuple[Rule, ...]] = {}

    def _rules(self, i: int) -> tuple[Rule, ...]:
        rules = self._made.get(i)
        if rules is None:
            rules = self._made[i] = tuple(self._make(i))
        return rules

    def all(self) -> list[Rule]:
        return [r for i in range(self._count) for r in self._rules(i)]

    def for_packet(self, pkt: Packet) -> list[Rule]:
        """The rules that can match ``pkt``, in order."""
        found = self._keys.get((pkt.dst, pkt.proto, pkt.dport), ())
        anywhere = self._keys.get((None, pkt.proto, pkt.dport), ())
        items = sorted({*found, *anywhere}) if found and anywhere else found or anywhere
        return [r for i in items for r in self._rules(i)]


class _Segmented(collections.abc.Sequence):
    """A chain with :class:`Run` among its rules: every rule when read as a sequence, only those that can
    match a packet for its walk (:meth:`for_packet`)."""

    def __init__(self, parts: list) -> None:
        self._parts = parts  # Rule and Run
        self._whole: list[Rule] | None = None

    def _all(self) -> list[Rule]:
        if self._whole is None:
            self._whole = [r for p in self._parts for r in (p.all() if type(p) is Run else (p,))]
        return self._whole

    def __getitem__(self, i):
        return self._all()[i]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self):
        return iter(self._all())

    def for_packet(self, pkt: Packet) -> list[Rule]:
        return [r for p in self._parts for r in (p.for_packet(pkt) if type(p) is Run else (p,))]


def _whole(rules) -> list[Rule]:
    """``rules`` with each :class:`Run` written out."""
    return [r for x in rules for r in (x.all() if type(x) is Run else (x,))]


class Netfilter:
    """One namespace's iptables rules (tables filter and nat); among them may be :class:`Run` s of rules
    written when first needed."""

    def __init__(self, rules: tuple[Rule, ...] = (), policies: tuple[Policy, ...] = (), generated: tuple = ()) -> None:
        self._generated = tuple(generated)  # ((table, chain), function giving {(table, chain): rules}): written when first walked
        self._rules = tuple(rules)
        self._chains: dict[tuple[str, str], list[Rule]] | None = None  # made on first use (see chains)
        self._policies = tuple(policies)
        given = itertools.compress(self._policies, map(operator.ne, map(_TARGET, self._policies), itertools.repeat("-")))
        self.policies = {(p.table, p.chain): p.target for p in given}  # iptables -P

    @property
    def declared(self) -> set[tuple[str, str]]:
        """(table, chain) of the chains declared (iptables -N); made when asked (a node declares thousands)."""
        return set(self._declared())

    def _declared(self):
        """(table, chain) of each -N, one at a time."""
        return map(_CHAIN, itertools.compress(self._policies, map(operator.eq, map(_TARGET, self._policies), itertools.repeat("-"))))

    @property
    def chains(self) -> dict[tuple[str, str], list[Rule]]:
        """(table, chain) -> its rules in order (``-I`` at the head), in the order the chains first appear.

        Made on first use: a node carries kube-proxy's thousands of rules, and loading a cluster only
        asks for missing_targets, which reads the rules as given."""
        if self._chains is None:
            chains: dict[tuple[str, str], list[Rule]] = {}
            runs = {(r.table, r.chain) for r in self._rules if type(r) is Run}
            if any(map(_INSERT, self._rules)):
                for r in _whole(self._rules) if runs else self._rules:  # (a node's own -I rules: kube-proxy's written out)
                    chain = chains.setdefault((r.table, r.chain), [])
                    chain.insert(0, r) if r.insert else chain.append(r)
            else:  # only appends: a run of one chain's rules at a time
                for key, run in itertools.groupby(self._rules, _CHAIN):
                    chain = chains.get(key)
                    if chain is None:
                        chains[key] = list(run)
                    else:
                        chain.extend(run)
                for key in runs:
                    chains[key] = _Segmented(chains[key])
            self._chains = _Chains(chains, self._generated) if self._generated else chains
        return self._chains

    def missing_targets(self) -> list[Rule]:
        """Rules that jump to a chain that does not exist (iptables: "Couldn't load target")."""
        given = [r for r in self._rules if type(r) is not Run]  # (a Run's rules jump to chains written with them)
        jumps = set(map(_JUMP, given)) - _BUILTIN_JUMPS
        jumps.difference_update(self._declared())  # (table, target) not declared with -N
        missing = {j for j in jumps if j[1] not in BUILTIN}  # (a built-in target in a table other than filter and nat)
        if missing:
            missing -= set(map(_CHAIN, self._rules))  # ... nor a chain that has rules
            missing -= {key for key, _ in self._generated}  # ... nor one written when first walked
        if not missing:
            return []
        return [r for rs in self.chains.values() for r in rs if (r.table, r.target) in missing]

    def __bool__(self) -> bool:
        return bool(self._rules) or bool(self._generated) or any(t != "ACCEPT" for t in self.policies.values())

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
        jumps = 0
        views: dict = {}  # chain -> the rules of a segmented chain that can match pkt (pkt is not changed here)
        while True:
            rules = self.chains.get((table, cur), [])
            if type(rules) is _Segmented:
                view = views.get(cur)
                if view is None:
                    view = views[cur] = rules.for_packet(pkt)
                rules = view
            if i >= len(rules):
                if not stack:
                    pol = self.policy(table, chain)
                    return Verdict(pol, None, matched, mark, policy=pol)
                cur, i = stack.pop()
                continue
            r = rules[i]
            i += 1
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
                jumps += 1
                if jumps > 10_000:  # a jump loop; iptables refuses these at load
                    return Verdict("DROP", r, matched, mark)
                stack.append((cur, i))
                cur, i = t, 0
