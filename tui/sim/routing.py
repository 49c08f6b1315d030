"""Routing tables as the Linux kernel keeps them, and their lookup.

A namespace has a ``local`` table (its own and broadcast addresses, consulted
first) and a ``main`` table (connected routes the kernel adds for each
interface address, then the user's routes). A lookup takes the longest
matching prefix and, among routes of that prefix, the lowest metric; the
table is indexed per prefix length, so a lookup costs one dict probe per
prefix length present, whatever the number of routes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..model.topology import IPAddress, IPInterface, IPNetwork, Route

SCOPES = {"global": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
REJECT_TYPES = ("blackhole", "unreachable", "prohibit")


@dataclass(frozen=True)
class KernelRoute:
    """A route as it sits in a kernel table (and as ``ip route`` prints it)."""

    to: IPNetwork
    dev: str | None
    via: IPAddress | None = None
    metric: int = 0
    proto: str = "boot"
    scope: str = "global"
    type: str = "unicast"
    src: IPAddress | None = None
    table: str = "main"
    onlink: bool = False
    # False when the gateway is an address of this host (or in 127.0.0.0/8): the kernel resolves
    # that nexthop with scope host and sends straight to the destination (rt_uses_gateway = 0).
    uses_gateway: bool = True
    origin: Route | None = field(default=None, compare=False, repr=False)

    def ip_route(self, with_table: bool = False) -> str:
        """The line ``ip route`` (``ip route show table local``) prints."""
        net = self.to
        if net.prefixlen == 0:
            dst = "default"
        elif net.prefixlen == net.max_prefixlen:
            dst = str(net.network_address)
        else:
            dst = str(net)
        parts = [dst] if self.type == "unicast" else [self.type, dst]
        if self.via is not None:
            parts += ["via", str(self.via)]
        if self.dev is not None:
            parts += ["dev", self.dev]
        if with_table and self.table != "main":
            parts += ["table", self.table]
        if self.proto != "boot":
            parts += ["proto", self.proto]
        if self.scope != "global":
            parts += ["scope", self.scope]
        if self.src is not None:
            parts += ["src", str(self.src)]
        if self.metric or (net.version == 6 and self.table == "main"):
            parts += ["metric", str(self.metric)]
        if self.onlink:
            parts.append("onlink")
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {
            "to": str(self.to),
            "via": str(self.via) if self.via is not None else None,
            "dev": self.dev,
            "metric": self.metric,
            "proto": self.proto,
            "scope": self.scope,
            "type": self.type,
            "src": str(self.src) if self.src is not None else None,
            "table": self.table,
        }


def _sort_key(r: KernelRoute):
    # The kernel's dump order: by prefix address, longer prefix first for one
    # address, then by metric; insertion order breaks remaining ties.
    return (int(r.to.network_address), -r.to.prefixlen, r.metric)


class RouteTable:
    """One routing table, indexed by prefix length for longest-prefix match."""

    def __init__(self, name: str = "main") -> None:
        self.name = name
        self._routes: list[KernelRoute] = []
        # family -> prefixlen -> network int -> routes in (metric, insertion) order
        self._index: dict[int, dict[int, dict[int, list[KernelRoute]]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self):
        return iter(self.routes())

    def routes(self) -> list[KernelRoute]:
        """Routes in the order ``ip route`` lists them."""
        return sorted(self._routes, key=_sort_key)

    def find(self, to: IPNetwork, metric: int) -> KernelRoute | None:
        """The route with this exact prefix and metric (what makes ``File exists``)."""
        for r in self._index[to.version].get(to.prefixlen, {}).get(int(to.network_address), ()):
            if r.metric == metric:
                return r
        return None

    def add(self, route: KernelRoute) -> None:
        fam = route.to.version
        by_len = self._index[fam]
        if route.to.prefixlen not in by_len:
            by_len[route.to.prefixlen] = {}
            self._lengths[fam] = sorted(by_len, reverse=True)
        bucket = by_len[route.to.prefixlen].setdefault(int(route.to.network_address), [])
        at = len(bucket)
        while at > 0 and bucket[at - 1].metric > route.metric:
            at -= 1
        bucket.insert(at, route)
        self._routes.append(route)

    def lookup(self, addr: IPAddress, min_scope: int = 0, dev: str | None = None) -> KernelRoute | None:
        """Longest prefix, then lowest metric; ``min_scope``/``dev`` as the kernel's nexthop check uses them."""
        fam = addr.version
        key = int(addr)
        bits = 32 if fam == 4 else 128
        by_len = self._index[fam]
        for plen in self._lengths[fam]:
            mask = ((1 << plen) - 1) << (bits - plen) if plen else 0
            bucket = by_len[plen].get(key & mask)
            if not bucket:
                continue
            for r in bucket:
                if SCOPES[r.scope] < min_scope:
                    continue
                if dev is not None and r.dev != dev:
                    continue
                return r
        return None


@dataclass
class RouteProblem:
    route: Route
    message: str
    field: str = "to"  # the field of the route the problem is about


@dataclass
class Tables:
    """A namespace's ``local`` and ``main`` tables."""

    local: RouteTable
    main: RouteTable
    addresses: dict[IPAddress, str]  # local address -> device

    def lookup(self, addr: IPAddress, min_scope: int = 0, dev: str | None = None) -> KernelRoute | None:
        """What ``ip route get ADDR`` picks.

        IPv4: the longest prefix of both tables, ``local``'s first on a tie.
        Without policy rules the kernel keeps ``local`` and ``main`` in one trie
        (fib_trie's merged tables), so a main route inside 127.0.0.0/8 longer
        than /8 wins over ``local 127.0.0.0/8``. IPv6: ``local`` first, then ``main``.
        """
        loc = self.local.lookup(addr, min_scope, dev)
        main = self.main.lookup(addr, min_scope, dev)
        if addr.version == 6:
            return loc or main
        if loc is None or (main is not None and main.to.prefixlen > loc.to.prefixlen):
            return main
        return loc

    def is_local(self, addr: IPAddress) -> bool:
        r = self.lookup(addr)
        return r is not None and r.type == "local"


LOOPBACK = ipaddress.IPv4Interface("127.0.0.1/8")
LOOPBACK6 = ipaddress.IPv6Interface("::1/128")
_ZERONET = ipaddress.IPv4Network("0.0.0.0/8")
_LBCAST = ipaddress.IPv4Address("255.255.255.255")


def build_tables(interfaces: list[tuple[str, tuple[IPInterface, ...], int]], routes: tuple[Route, ...]) -> tuple[Tables, list[RouteProblem]]:
    """Compile addresses and routes into kernel tables, as the kernel would accept them.

    ``interfaces`` is ``[(dev, addresses, metric)]`` in creation order (``lo``
    is added here); ``metric`` is that of the connected routes (``ip addr add
    ... metric N``). Routes the kernel would refuse are returned as problems with the
    kernel's own message, and left out.
    """
    local, main = RouteTable("local"), RouteTable("main")
    addresses: dict[IPAddress, str] = {}
    devs = {"lo"} | {d for d, _, _ in interfaces}
    for dev, addrs, metric in [("lo", (LOOPBACK, LOOPBACK6), 0)] + list(interfaces):
        primaries: list[IPInterface] = []
        for a in addrs:
            addresses.setdefault(a.ip, dev)
            # A secondary address (same subnet as an earlier one) gets its local
            # route with the primary as prefsrc, and no prefix or broadcast
            # route of its own (fib_add_ifaddr).
            prim = next((p for p in primaries if p.network == a.network), None)
            secondary = prim is not None
            if not secondary:
                primaries.append(a)
                prim = a
            if a.version == 4:
                if dev == "lo":
                    local.add(KernelRoute(a.network, dev, proto="kernel", scope="host", type="local", src=a.ip, table="local"))
                local.add(KernelRoute(ipaddress.ip_network(a.ip), dev, proto="kernel", scope="host", type="local", src=prim.ip, table="local"))
                if a.network.prefixlen < 31 and not secondary:
                    local.add(KernelRoute(ipaddress.ip_network(a.network.broadcast_address), dev, proto="kernel", scope="link", type="broadcast", src=a.ip, table="local"))
                if a.network.prefixlen < 32 and not secondary and dev != "lo":
                    main.add(KernelRoute(a.network, dev, proto="kernel", metric=metric, scope="link", src=a.ip))
            else:
                local.add(KernelRoute(ipaddress.ip_network(a.ip), dev, proto="kernel", scope="host", type="local", table="local"))
                if a.network.prefixlen < 128 and not secondary and dev != "lo":
                    main.add(KernelRoute(a.network, dev, proto="kernel", metric=metric or 256, scope="global"))
    tables = Tables(local, main, addresses)
    problems: list[RouteProblem] = []
    for r in routes:
        kr, why = _accept(r, tables, devs)
        if why:
            field = "dev" if why.startswith("Cannot find") else "via" if ("gateway" in why or "onlink" in why) else "src" if "prefsrc" in why else "to"
            problems.append(RouteProblem(r, why, field))
        else:
            main.add(kr)
    return tables, problems


def _accept(r: Route, t: Tables, devs: set[str]) -> tuple[KernelRoute | None, str | None]:
    """Check one route as ``ip route add`` does; the kernel's message on refusal."""
    if r.dev is not None and r.dev not in devs:
        return None, f'Cannot find device "{r.dev}"'
    if r.via is not None and r.via.version != r.to.version:
        return None, f"gateway {r.via} is not of the route's address family"
    if r.src is not None and r.src not in t.addresses:
        return None, f"Invalid prefsrc address {r.src} (not an address of this namespace)"
    metric = r.metric
    if r.to.version == 6 and metric == 0:
        metric = 1024
    if t.main.find(r.to, metric) is not None:
        existing = t.main.find(r.to, metric)
        return None, f"RTNETLINK answers: File exists (the route {existing.ip_route()} has the same prefix and metric)"
    if r.type in REJECT_TYPES:
        return KernelRoute(r.to, None, metric=metric, type=r.type, proto=r.proto, origin=r), None
    if r.via is None:
        if r.dev is None:
            return None, "a route needs a gateway (via) or a device (dev)"
        return KernelRoute(r.to, r.dev, metric=metric, scope="link", src=r.src, proto=r.proto, origin=r), None
    if r.onlink:
        if r.dev is None:
            return None, "onlink needs a device (dev)"
        if r.via.version == 4:
            # fib_check_nh_v4_gw: an onlink gateway must be of type unicast
            # (inet_addr_type_dev_table), not an address of this namespace, nor
            # a broadcast, multicast or 0.0.0.0/8 address.
            hit = t.lookup(r.via)
            if r.via.is_multicast or r.via in _ZERONET or r.via == _LBCAST or (hit is not None and hit.type in ("local", "broadcast")):
                return None, f"Nexthop has invalid gateway: {r.via} is not a unicast address"
        return KernelRoute(r.to, r.dev, r.via, metric, src=r.src, onlink=True, proto=r.proto, origin=r), None
    if r.via.version == 6:
        # ip6_validate_gw: a link-local gateway needs only its device; any other
        # must resolve through a route without a gateway (IPv6 routes have no scope).
        if r.via.is_link_local and r.dev is not None:
            return KernelRoute(r.to, r.dev, r.via, metric, src=r.src, proto=r.proto, origin=r), None
        via_route = t.main.lookup(r.via, 0, r.dev)
        if via_route is not None and via_route.via is not None:
            via_route = None
    else:
        # fib_check_nh: the gateway must resolve through a route of scope link or
        # narrower (a connected route), on the given device if one is named.
        via_route = t.lookup(r.via, SCOPES["link"], r.dev)
    if via_route is None or via_route.type not in ("unicast", "local"):
        on = f" on {r.dev}" if r.dev else ""
        if r.via.version == 6:  # ip6_route_check_nh answers EHOSTUNREACH
            return None, f"RTNETLINK answers: No route to host (gateway {r.via} is not reachable through a connected route{on})"
        return None, f"Nexthop has invalid gateway: {r.via} is not reachable through a connected route{on}"
    own = via_route.type == "local" and r.via.version == 4
    return KernelRoute(r.to, r.dev or via_route.dev, r.via, metric, src=r.src, uses_gateway=not own, proto=r.proto, origin=r), None


def select_source(t: Tables, route: KernelRoute, dst: IPAddress, dev_addresses: dict[str, tuple[IPInterface, ...]]) -> IPAddress | None:
    """The source address the kernel picks for a packet leaving by ``route``."""
    if route.src is not None:
        return route.src
    if route.type == "local":
        return dst
    # IPv4 (inet_select_addr(dev, gateway or 0, scope)): the device's address
    # whose subnet holds the gateway, else its first one; a route without a
    # gateway takes the first, whatever the destination.
    target = route.via if route.via is not None else dst if dst.version == 6 else None
    addrs = [a for a in dev_addresses.get(route.dev or "", ()) if a.version == dst.version]
    for a in addrs:
        if target is not None and target in a.network:
            return a.ip
    if addrs:
        return addrs[0].ip
    for dev_addrs in dev_addresses.values():
        for a in dev_addrs:
            if a.version == dst.version and not a.ip.is_loopback:
                return a.ip
    return None


def route_n_rows(main: RouteTable, names: bool = False, gateways: frozenset = frozenset()) -> list[str]:
    """``route -n`` (or ``route`` with ``names``): the kernel IPv4 routing table."""
    rows = ["Kernel IP routing table", f"{'Destination':<15} {'Gateway':<15} {'Genmask':<15} Flags Metric Ref    Use Iface"]
    for r in main.routes():
        if r.to.version != 4:
            continue
        dst = str(r.to.network_address)
        gw = str(r.via) if r.via is not None else "0.0.0.0"
        if names:
            if r.to.prefixlen == 0:
                dst = "default"
            elif r.to == ipaddress.IPv4Network("169.254.0.0/16"):
                dst = "link-local"
            if r.via is not None and r.via in gateways:
                gw = "_gateway"
        host = "H" if r.to.prefixlen == 32 else ""
        if r.type in ("unreachable", "prohibit"):
            # The kernel flags these RTF_REJECT; net-tools prints them with "!"
            # and dashes for gateway, Ref and Iface (a blackhole is a plain "U" route with no device, "*").
            rows.append(f"{dst:<15} {'-':<15} {r.to.netmask!s:<15} {'!' + host:<5} {r.metric:<6} -  {0:>7} -")
            continue
        flags = "U" + ("G" if r.via is not None else "") + host
        iface = r.dev if r.dev else "*"
        rows.append(f"{dst:<15} {gw:<15} {r.to.netmask!s:<15} {flags:<5} {r.metric:<6} {0:<3} {0:>6} {iface}")
    return rows
