"""The NetworkPolicy truth table of a compiled network, and what an edit changed in it (no UI).

The dashboard's matrix shows, for one port and protocol, whether each pod may open a connection to each pod
(rows sources, columns destinations), as :func:`tui.netpol.matrix` decides; after an edit, undo or redo, the
cells whose answer flipped. One :class:`~tui.netpol.NetpolIndex` is built per compiled network (the trace's
own, :func:`tui.sim.policy.index`, when the cluster has policies) and kept on it with the tables asked for, so
that the table, the traces and the explanations share its parsed policies and memoised decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..netpol.evaluate import NetpolIndex, check_protocol, matrix
from ..netpol.policy import is_policy

DEFAULT = (80, "TCP")


def index_of(net) -> NetpolIndex | None:
    """The policies of ``net``'s cluster, indexed once per compiled network (None without a cluster)."""
    if getattr(net, "cluster", None) is None:
        return None
    from ..sim.policy import index

    ix = index(net)
    if ix is None:  # no policy: every connection is allowed, but the table is still asked for
        ix = getattr(net, "_netpol_open_index", None)
        if ix is None:
            ix = NetpolIndex(net.cluster, strict=False)
            object.__setattr__(net, "_netpol_open_index", ix)
    return ix


def has_policies(topology) -> bool:
    return any(is_policy(o) for o in topology.objects)


@dataclass(frozen=True)
class Table:
    """Who may connect to whom on ``protocol``/``port``: ``allowed[(source, destination)]``, pods as ``ns/name``."""

    port: int
    protocol: str
    pods: tuple[str, ...]
    allowed: dict = field(compare=False, repr=False)

    @property
    def allowed_count(self) -> int:
        return sum(self.allowed.values())

    @property
    def text(self) -> str:
        return f"{self.protocol}/{self.port}"


def table(net, port: int, protocol: str) -> Table | None:
    """The truth table of ``net`` (None without a cluster), computed once per network, port and protocol."""
    ix = index_of(net)
    if ix is None:
        return None
    cache = getattr(net, "_netpol_tables", None)
    if cache is None:
        cache = {}
        object.__setattr__(net, "_netpol_tables", cache)
    key = (port, protocol)
    if key not in cache:
        verdicts = matrix(ix, port, protocol)
        cache[key] = Table(port, protocol, tuple(ix.pods), {k: v.allowed for k, v in verdicts.items()})
    return cache[key]


@dataclass(frozen=True)
class Change:
    """A table and the cells that flipped since an earlier one: ``flips[(source, destination)]`` is the new answer."""

    table: Table
    flips: dict = field(default_factory=dict)
    compared: bool = False  # there was a table before (an edit, undo or redo since the file was opened)
    new_pods: tuple[str, ...] = ()
    gone_pods: tuple[str, ...] = ()

    @property
    def now_denied(self) -> int:
        return sum(1 for v in self.flips.values() if not v)

    @property
    def now_allowed(self) -> int:
        return sum(1 for v in self.flips.values() if v)

    @property
    def summary(self) -> str:
        """``3 cells changed: 2 now denied, 1 now allowed`` (or that none did), with the pods that came or went."""
        n = len(self.flips)
        if not n:
            text = "no cell changed"
        else:
            parts = [f"{k} now {w}" for k, w in ((self.now_denied, "denied"), (self.now_allowed, "allowed")) if k]
            text = f"{n} cell{'s' if n != 1 else ''} changed: {', '.join(parts)}"
        if self.new_pods:
            text += f"; new pod{'s' if len(self.new_pods) != 1 else ''} {', '.join(self.new_pods)}"
        if self.gone_pods:
            text += f"; gone: {', '.join(self.gone_pods)}"
        return text


def compare(before, after, port: int, protocol: str) -> Change | None:
    """The table of ``after`` (a compiled network) and the cells that differ from ``before``'s (None: no before)."""
    now = table(after, port, protocol)
    if now is None:
        return None
    old = table(before, port, protocol) if before is not None else None
    if old is None:
        return Change(now)
    flips = {k: v for k, v in now.allowed.items() if k in old.allowed and old.allowed[k] != v}
    return Change(now, flips, True, tuple(p for p in now.pods if p not in old.pods), tuple(p for p in old.pods if p not in now.pods))


# -- the port and protocol asked about -----------------------------------------------------------------
def parse_port_protocol(text: str) -> tuple[int, str]:
    """``80``, ``80/TCP``, ``UDP/53`` or ``53 udp`` as (port, protocol); ValueError says what is wrong."""
    words = [w for w in text.replace("/", " ").split() if w]
    nums = [w for w in words if w.isdigit()]
    others = [w for w in words if not w.isdigit()]
    if len(nums) != 1 or len(others) > 1:
        raise ValueError(f'"{text.strip()}" is not PORT[/PROTOCOL] (e.g. 80, 8080/TCP or 53/UDP)')
    port = int(nums[0])
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port}: a port is a number from 1 to 65535")
    try:
        proto = check_protocol(others[0]) if others else "TCP"
    except ValueError:
        raise ValueError(f'protocol "{others[0]}": NetworkPolicy knows TCP, UDP and SCTP') from None
    return port, proto


def mentioned_ports(ix: NetpolIndex | None) -> list[tuple[int, str]]:
    """The ports the policies' rules name, in order: numbers as written, named ports as the pods define them,
    a range by its first port."""
    if ix is None:
        return []
    named: dict[tuple[str, str], set[int]] = {}
    for pod in ix.pods.values():
        for c in pod.ports:
            if c.name:
                named.setdefault((c.name, c.protocol), set()).add(c.port)
    out: list[tuple[int, str]] = []
    for pol in ix.policies:
        for rule in pol.ingress + pol.egress:
            for pp in rule.ports:
                found = sorted(named.get((pp.port, pp.protocol), ())) if isinstance(pp.port, str) else [pp.port] if pp.port else []
                for n in found:
                    if (n, pp.protocol) not in out:
                        out.append((n, pp.protocol))
    return out


def default_port(ix: NetpolIndex | None) -> tuple[int, str]:
    """80/TCP, unless the policies name ports and none is 80/TCP: then the first they name."""
    ports = mentioned_ports(ix)
    return DEFAULT if not ports or DEFAULT in ports else ports[0]
