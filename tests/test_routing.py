"""Kernel routing tables: longest-prefix match against an oracle, and build_tables as Linux builds them."""

from __future__ import annotations

import ipaddress
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.model.topology import Route
from tui.sim.routing import KernelRoute, RouteTable, Tables, build_tables, route_n_rows

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SETTINGS_V6 = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def net(text: str):
    return ipaddress.ip_network(text)


def addr(text: str):
    return ipaddress.ip_address(text)


def iface(text: str):
    return ipaddress.ip_interface(text)


# -- longest-prefix match against a brute-force oracle ----------------------------------


def oracle(routes: list[KernelRoute], a, min_scope: int = 0, dev: str | None = None) -> KernelRoute | None:
    """Among the routes containing ``a``: the longest prefix, then the lowest metric, then the first added."""
    from tui.sim.routing import SCOPES

    best = None
    best_key = None
    for i, r in enumerate(routes):
        if r.to.version != a.version or a not in r.to:
            continue
        if SCOPES[r.scope] < min_scope or (dev is not None and r.dev != dev):
            continue
        key = (-r.to.prefixlen, r.metric, i)
        if best_key is None or key < best_key:
            best, best_key = r, key
    return best


def _networks(bits: int):
    """Prefixes of every length; addresses drawn partly from a small pool so prefixes nest and collide."""
    top = 2**bits - 1
    pool = [0, top] + [x << (bits - 32) for x in (0x0A000000, 0xC0A80100, 0x7F000001)]
    make = ipaddress.IPv4Network if bits == 32 else ipaddress.IPv6Network
    raw = st.one_of(st.integers(0, top), st.sampled_from(pool))
    return st.builds(lambda a, plen: make((a, plen), strict=False), raw, st.integers(0, bits))


def _route_specs(bits: int, max_size: int):
    metric = st.one_of(st.integers(0, 3), st.integers(0, 2**32 - 1))
    scope = st.sampled_from(["global", "link", "host"])
    dev = st.sampled_from(["eth0", "eth1"])
    return st.lists(st.tuples(_networks(bits), metric, scope, dev), min_size=0, max_size=max_size)


def _table(specs) -> tuple[RouteTable, list[KernelRoute]]:
    t = RouteTable()
    routes = []
    for i, (to, metric, scope, dev) in enumerate(specs):
        # src makes every route distinct, so identity and equality agree.
        r = KernelRoute(to, dev, metric=metric, scope=scope, src=ipaddress.ip_address(i if to.version == 4 else 2**64 + i))
        t.add(r)
        routes.append(r)
    return t, routes


def _lookups(data, routes: list[KernelRoute], bits: int, n: int = 12):
    """Random addresses, and addresses inside (and at the edges of) the routes' prefixes."""
    make = ipaddress.IPv4Address if bits == 32 else ipaddress.IPv6Address
    out = [make(data.draw(st.integers(0, 2**bits - 1))) for _ in range(n // 2)]
    for _ in range(n - len(out)):
        if not routes:
            break
        r = routes[data.draw(st.integers(0, len(routes) - 1))]
        size = r.to.num_addresses
        off = data.draw(st.one_of(st.just(0), st.just(size - 1), st.integers(0, size - 1)))
        out.append(r.to.network_address + off)
    return out


@SETTINGS
@given(specs=_route_specs(32, 40), data=st.data())
def test_ipv4_longest_prefix_match_agrees_with_oracle(specs, data):
    table, routes = _table(specs)
    assert len(table) == len(routes)
    for a in _lookups(data, routes, 32):
        assert table.lookup(a) is oracle(routes, a), a


@SETTINGS
@given(specs=_route_specs(32, 30), data=st.data(), min_scope=st.sampled_from([0, 253, 254]), dev=st.sampled_from([None, "eth0", "eth1"]))
def test_ipv4_lookup_with_scope_and_device_filter_agrees_with_oracle(specs, data, min_scope, dev):
    table, routes = _table(specs)
    for a in _lookups(data, routes, 32, 8):
        assert table.lookup(a, min_scope, dev) is oracle(routes, a, min_scope, dev), a


@SETTINGS_V6
@given(specs=_route_specs(128, 25), data=st.data())
def test_ipv6_longest_prefix_match_agrees_with_oracle(specs, data):
    table, routes = _table(specs)
    for a in _lookups(data, routes, 128, 8):
        assert table.lookup(a) is oracle(routes, a), a


@SETTINGS
@given(specs=_route_specs(32, 30))
def test_dump_order_is_by_prefix_address_then_longer_prefix_then_metric(specs):
    table, routes = _table(specs)
    listed = table.routes()
    assert sorted(map(id, listed)) == sorted(map(id, routes))
    keys = [(int(r.to.network_address), -r.to.prefixlen, r.metric) for r in listed]
    assert keys == sorted(keys)
    # equal keys keep insertion order
    pos = {id(r): i for i, r in enumerate(routes)}
    for a, b in pairwise(listed):
        if (a.to, a.metric) == (b.to, b.metric):
            assert pos[id(a)] < pos[id(b)]


@SETTINGS
@given(specs=_route_specs(32, 30), data=st.data())
def test_find_is_the_exact_prefix_and_metric(specs, data):
    table, routes = _table(specs)
    if not routes:
        assert table.find(net("0.0.0.0/0"), 0) is None
        return
    r = routes[data.draw(st.integers(0, len(routes) - 1))]
    found = table.find(r.to, r.metric)
    assert found is not None and (found.to, found.metric) == (r.to, r.metric)
    first = next(x for x in routes if (x.to, x.metric) == (r.to, r.metric))
    assert found is first


def test_lookup_of_an_empty_table_and_of_the_other_family():
    t = RouteTable()
    assert t.lookup(addr("10.0.0.1")) is None
    t.add(KernelRoute(net("0.0.0.0/0"), "eth0", addr("192.168.1.1")))
    assert t.lookup(addr("10.0.0.1")) is not None
    assert t.lookup(addr("2001:db8::1")) is None


def test_equal_prefix_lower_metric_wins_whatever_the_order():
    t = RouteTable()
    high = KernelRoute(net("10.0.0.0/8"), "eth0", addr("192.168.1.1"), metric=200)
    low = KernelRoute(net("10.0.0.0/8"), "eth1", addr("192.168.2.1"), metric=100)
    t.add(high)
    t.add(low)
    assert t.lookup(addr("10.1.2.3")) is low
    longer = KernelRoute(net("10.1.0.0/16"), "eth0", addr("192.168.1.1"), metric=900)
    t.add(longer)
    assert t.lookup(addr("10.1.2.3")) is longer  # a longer prefix beats any metric
    assert t.lookup(addr("10.2.0.0")) is low


# -- build_tables: what the kernel makes of addresses and routes ------------------------------


def build(interfaces, routes=()):
    """``interfaces`` as ``{dev: (addresses...)}`` or ``{dev: ((addresses...), metric)}``."""
    spec = []
    for dev, v in interfaces.items():
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], int):
            addrs, metric = v
        else:
            addrs, metric = v, 0
        spec.append((dev, tuple(iface(a) for a in addrs), metric))
    return build_tables(spec, tuple(routes))


def main_lines(t: Tables) -> list[str]:
    return [r.ip_route() for r in t.main.routes()]


def local_lines(t: Tables, version: int | None = None) -> list[str]:
    return [r.ip_route(with_table=True) for r in t.local.routes() if version in (None, r.to.version)]


def R(to, via=None, dev=None, **kw) -> Route:
    return Route(net("0.0.0.0/0" if to == "default" else "::/0" if to == "default6" else to), addr(via) if via else None, dev, **kw)


def test_connected_route_is_proto_kernel_scope_link_src():
    t, problems = build({"eth0": ("192.168.1.10/24",)})
    assert problems == []
    assert main_lines(t) == ["192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10"]
    r = t.main.routes()[0]
    assert (r.proto, r.scope, r.src, r.via, r.table) == ("kernel", "link", addr("192.168.1.10"), None, "main")


def test_connected_route_takes_the_address_metric():
    t, _ = build({"wlp0s20f3": (("192.168.1.10/24",), 600)})
    assert main_lines(t) == ["192.168.1.0/24 dev wlp0s20f3 proto kernel scope link src 192.168.1.10 metric 600"]


def test_local_table_has_local_and_broadcast_routes():
    t, _ = build({"eth0": ("192.168.1.10/24",)})
    assert local_lines(t, 4) == [
        "local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1",
        "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1",
        "broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1",
        "local 192.168.1.10 dev eth0 table local proto kernel scope host src 192.168.1.10",
        "broadcast 192.168.1.255 dev eth0 table local proto kernel scope link src 192.168.1.10",
    ]
    assert local_lines(t, 6) == ["local ::1 dev lo table local proto kernel scope host"]
    assert t.is_local(addr("192.168.1.10"))
    assert t.is_local(addr("127.0.0.53"))  # all of 127.0.0.0/8 is local
    assert not t.is_local(addr("192.168.1.255"))  # broadcast, not local
    assert not t.is_local(addr("192.168.1.11"))
    assert t.addresses[addr("192.168.1.10")] == "eth0"


def test_a_32_address_gets_no_prefix_route_and_no_broadcast():
    t, _ = build({"eth0": ("192.168.1.10/24",), "lo-public": ("8.8.8.8/32",)})
    assert main_lines(t) == ["192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10"]
    assert "local 8.8.8.8 dev lo-public table local proto kernel scope host src 8.8.8.8" in local_lines(t)
    assert not any("broadcast" in line and "lo-public" in line for line in local_lines(t))
    assert t.is_local(addr("8.8.8.8"))


def test_a_31_address_gets_a_prefix_route_but_no_broadcast():
    t, _ = build({"eth0": ("10.0.0.0/31",)})
    assert main_lines(t) == ["10.0.0.0/31 dev eth0 proto kernel scope link src 10.0.0.0"]
    assert not any(line.startswith("broadcast") and "eth0" in line for line in local_lines(t))


def test_secondary_address_in_the_same_subnet_adds_no_second_prefix_route():
    t, _ = build({"eth0": ("192.168.1.10/24", "192.168.1.11/24")})
    assert main_lines(t) == ["192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10"]
    eth0 = [line for line in local_lines(t) if "eth0" in line]
    # fib_add_ifaddr: the secondary's local route has the primary as prefsrc, and the
    # subnet broadcast route is added once, for the primary.
    assert eth0 == [
        "local 192.168.1.10 dev eth0 table local proto kernel scope host src 192.168.1.10",
        "local 192.168.1.11 dev eth0 table local proto kernel scope host src 192.168.1.10",
        "broadcast 192.168.1.255 dev eth0 table local proto kernel scope link src 192.168.1.10",
    ]
    assert t.is_local(addr("192.168.1.11"))


def test_second_address_in_another_subnet_adds_its_own_prefix_route():
    t, _ = build({"eth0": ("192.168.1.10/24", "10.0.0.5/8")})
    assert main_lines(t) == [
        "10.0.0.0/8 dev eth0 proto kernel scope link src 10.0.0.5",
        "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10",
    ]


def test_same_subnet_on_two_devices_gives_two_prefix_routes():
    t, problems = build({"eth0": ("192.168.1.10/24",), "eth1": ("192.168.1.20/24",)})
    assert problems == []
    assert main_lines(t) == [
        "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10",
        "192.168.1.0/24 dev eth1 proto kernel scope link src 192.168.1.20",
    ]
    assert t.main.lookup(addr("192.168.1.99")).dev == "eth0"  # same prefix and metric: the first added


def test_ipv6_connected_route_and_user_route_metrics():
    t, problems = build({"eth0": ("fd00:1::10/64",)}, [R("default6", "fd00:1::1")])
    assert problems == []
    # (ip -6 route lists these in fib6 tree order, the default last, and appends "pref medium")
    assert sorted(main_lines(t)) == [
        "default via fd00:1::1 dev eth0 metric 1024",
        "fd00:1::/64 dev eth0 proto kernel metric 256",
    ]
    assert "local fd00:1::10 dev eth0 table local proto kernel scope host" in local_lines(t)
    assert t.lookup(addr("2001:db8::1")).via == addr("fd00:1::1")
    assert t.lookup(addr("fd00:1::10")).type == "local"


def test_ipv6_gateway_must_be_on_link():
    _, problems = build({"eth0": ("fd00:1::10/64",)}, [R("default6", "fd00:9::1")])
    assert [p.field for p in problems] == ["via"]
    # ip -6 route add default via fd00:9::1: "RTNETLINK answers: No route to host"
    assert problems[0].message.startswith("RTNETLINK answers: No route to host")
    assert "fd00:9::1" in problems[0].message
    _, problems = build({"eth0": ("fd00:1::10/64",), "eth1": ("fd00:2::10/64",)}, [R("default6", "fd00:1::1", "eth1")])
    assert [p.field for p in problems] == ["via"] and "on eth1" in problems[0].message


def test_ipv6_link_local_gateway_needs_only_its_device():
    t, problems = build({"eth0": ("fd00:1::10/64",)}, [R("default6", "fe80::1", "eth0")])
    assert problems == []
    assert "default via fe80::1 dev eth0 metric 1024" in main_lines(t)


def test_tables_lookup_consults_local_before_main():
    t, _ = build({"eth0": ("192.168.1.10/24",)}, [R("192.168.1.10/32", "192.168.1.1")])
    assert t.lookup(addr("192.168.1.10")).type == "local"
    assert t.main.lookup(addr("192.168.1.10")).via == addr("192.168.1.1")


# -- the kernel's refusals ----------------------------------------------------------------------


def test_gateway_not_on_a_connected_subnet_is_refused():
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [R("default", "10.9.9.9")])
    assert len(problems) == 1
    p = problems[0]
    assert p.message.startswith("Nexthop has invalid gateway")
    assert "10.9.9.9" in p.message
    assert p.field == "via"
    assert main_lines(t) == ["192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10"]


def test_gateway_on_the_wrong_named_device_is_refused():
    ifs = {"eth0": ("192.168.1.10/24",), "eth1": ("10.0.0.1/24",)}
    _, problems = build(ifs, [R("default", "192.168.1.1", "eth1")])
    assert len(problems) == 1
    assert problems[0].message.startswith("Nexthop has invalid gateway")
    assert "on eth1" in problems[0].message
    t, problems = build(ifs, [R("default", "192.168.1.1", "eth0")])
    assert problems == []
    assert main_lines(t)[0] == "default via 192.168.1.1 dev eth0"


def test_gateway_reachable_only_through_another_gateway_is_refused():
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", "192.168.1.1"), R("172.16.0.0/12", "10.1.1.1")])
    assert [p.route.to for p in problems] == [net("172.16.0.0/12")]
    assert problems[0].message.startswith("Nexthop has invalid gateway")


def test_gateway_behind_a_reject_route_is_refused():
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", type="unreachable"), R("172.16.0.0/12", "10.1.1.1")])
    assert len(problems) == 1 and problems[0].message.startswith("Nexthop has invalid gateway")


def test_onlink_skips_the_gateway_check():
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [R("default", "10.9.9.9", "eth0", onlink=True)])
    assert problems == []
    assert main_lines(t)[0] == "default via 10.9.9.9 dev eth0 onlink"


def test_gateway_route_takes_the_device_of_the_connected_route():
    t, _ = build({"eth0": ("192.168.1.10/24",), "eth1": ("10.0.0.1/24",)}, [R("172.16.0.0/12", "10.0.0.254")])
    assert t.main.lookup(addr("172.16.5.5")).dev == "eth1"


def test_same_prefix_and_metric_is_file_exists():
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [
        R("10.0.0.0/8", "192.168.1.1"),
        R("10.0.0.0/8", "192.168.1.2"),
        R("10.0.0.0/8", "192.168.1.3", metric=100),
    ])
    assert len(problems) == 1
    assert "File exists" in problems[0].message
    assert problems[0].route.via == addr("192.168.1.2")
    assert problems[0].field == "to"
    assert main_lines(t) == [
        "10.0.0.0/8 via 192.168.1.1 dev eth0",
        "10.0.0.0/8 via 192.168.1.3 dev eth0 metric 100",
        "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10",
    ]


def test_route_clashing_with_the_connected_route_is_file_exists():
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("192.168.1.0/24", dev="eth0")])
    assert len(problems) == 1 and "File exists" in problems[0].message
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("192.168.1.0/24", dev="eth0", metric=5)])
    assert problems == []


def test_ipv6_metric_zero_means_1024_for_file_exists():
    _, problems = build({"eth0": ("fd00:1::10/64",)}, [R("2001:db8::/32", "fd00:1::1"), R("2001:db8::/32", "fd00:1::2", metric=1024)])
    assert len(problems) == 1 and "File exists" in problems[0].message


def test_unknown_device_is_cannot_find_device():
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", dev="eth9")])
    assert len(problems) == 1
    assert problems[0].message == 'Cannot find device "eth9"'
    assert problems[0].field == "dev"
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", "192.168.1.1", "eth9")])
    assert problems[0].message == 'Cannot find device "eth9"'


def test_lo_is_always_a_device():
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", dev="lo")])
    assert problems == []
    assert "10.0.0.0/8 dev lo scope link" in main_lines(t)


def test_prefsrc_must_be_a_local_address():
    _, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", "192.168.1.1", src=addr("192.168.1.99"))])
    assert len(problems) == 1 and problems[0].field == "src"
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [R("10.0.0.0/8", "192.168.1.1", src=addr("192.168.1.10"))])
    assert problems == []
    assert main_lines(t)[0] == "10.0.0.0/8 via 192.168.1.1 dev eth0 src 192.168.1.10"


def test_refused_routes_leave_the_rest_in_place():
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [R("default", "10.9.9.9"), R("10.0.0.0/8", "192.168.1.1")])
    assert len(problems) == 1
    assert main_lines(t) == [
        "10.0.0.0/8 via 192.168.1.1 dev eth0",
        "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10",
    ]


# -- ip route text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("route, line", [
    (R("default", "192.168.1.1"), "default via 192.168.1.1 dev eth0"),
    (R("default", "192.168.1.1", metric=600), "default via 192.168.1.1 dev eth0 metric 600"),
    (R("10.0.0.0/8", "192.168.1.254", metric=100), "10.0.0.0/8 via 192.168.1.254 dev eth0 metric 100"),
    (R("10.1.2.3/32", "192.168.1.254"), "10.1.2.3 via 192.168.1.254 dev eth0"),
    (R("10.5.0.0/16", dev="eth0"), "10.5.0.0/16 dev eth0 scope link"),
    (R("10.0.0.0/8", type="blackhole"), "blackhole 10.0.0.0/8"),
    (R("10.0.0.0/8", type="unreachable"), "unreachable 10.0.0.0/8"),
    (R("10.0.0.0/8", type="prohibit", metric=7), "prohibit 10.0.0.0/8 metric 7"),
    (R("10.9.0.0/16", "10.9.9.9", "eth0", onlink=True), "10.9.0.0/16 via 10.9.9.9 dev eth0 onlink"),
])
def test_ip_route_text(route, line):
    t, problems = build({"eth0": ("192.168.1.10/24",)}, [route])
    assert problems == []
    assert line in main_lines(t)


def test_ip_route_lists_default_first_then_by_address():
    routes = [R("10.0.0.0/8", type="blackhole"), R("default", "192.168.1.1"), R("10.1.0.0/16", "192.168.1.1")]
    t, _ = build({"eth0": ("192.168.1.10/24",)}, routes)
    assert main_lines(t) == [
        "default via 192.168.1.1 dev eth0",
        "blackhole 10.0.0.0/8",
        "10.1.0.0/16 via 192.168.1.1 dev eth0",
        "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10",
    ]


def test_kernel_route_to_dict():
    t, _ = build({"eth0": ("192.168.1.10/24",)}, [R("default", "192.168.1.1")])
    assert t.main.routes()[0].to_dict() == {
        "to": "0.0.0.0/0", "via": "192.168.1.1", "dev": "eth0", "metric": 0, "proto": "boot",
        "scope": "global", "type": "unicast", "src": None, "table": "main",
    }


# -- route -n ----------------------------------------------------------------------------------------

HEADER = [
    "Kernel IP routing table",
    "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
]


def test_route_n_rows_for_a_laptop():
    t, _ = build({"wlp0s20f3": (("192.168.1.10/24",), 600)}, [R("default", "192.168.1.1", metric=600)])
    assert route_n_rows(t.main) == HEADER + [
        "0.0.0.0         192.168.1.1     0.0.0.0         UG    600    0        0 wlp0s20f3",
        "192.168.1.0     0.0.0.0         255.255.255.0   U     600    0        0 wlp0s20f3",
    ]
    assert route_n_rows(t.main, names=True, gateways=frozenset({addr("192.168.1.1")})) == HEADER + [
        "default         _gateway        0.0.0.0         UG    600    0        0 wlp0s20f3",
        "192.168.1.0     0.0.0.0         255.255.255.0   U     600    0        0 wlp0s20f3",
    ]


def test_route_n_rows_flags_and_reject_routes():
    t, problems = build({"eth0": ("192.168.1.10/24",), "eth1": ("fd00::1/64",)}, [
        R("default", "192.168.1.1", metric=100),
        R("10.0.0.0/8", type="unreachable"),
        R("10.1.2.3/32", "192.168.1.254"),
        R("10.9.9.9/32", dev="eth0"),
        R("172.16.0.0/12", type="blackhole"),
        R("169.254.0.0/16", dev="eth0", metric=1000),
    ])
    assert problems == []
    assert route_n_rows(t.main) == HEADER + [
        "0.0.0.0         192.168.1.1     0.0.0.0         UG    100    0        0 eth0",
        # net-tools prints RTF_REJECT routes (unreachable, prohibit) with "!" and dashes
        "10.0.0.0        -               255.0.0.0       !     0      -        0 -",
        "10.1.2.3        192.168.1.254   255.255.255.255 UGH   0      0        0 eth0",
        "10.9.9.9        0.0.0.0         255.255.255.255 UH    0      0        0 eth0",
        "169.254.0.0     0.0.0.0         255.255.0.0     U     1000   0        0 eth0",
        # a blackhole is not RTF_REJECT in /proc/net/route: a plain up route with no device
        "172.16.0.0      0.0.0.0         255.240.0.0     U     0      0        0 *",
        "192.168.1.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0",
    ]  # the IPv6 routes are not in route -n
    names = route_n_rows(t.main, names=True, gateways=frozenset({addr("192.168.1.1")}))
    assert names[2].startswith("default         _gateway        ")
    assert names[6].startswith("link-local      0.0.0.0         ")
    assert names[4].startswith("10.1.2.3        192.168.1.254   ")  # only default gateways are _gateway


def test_route_n_rows_unreachable_host_route():
    t, _ = build({"eth0": ("192.168.1.10/24",)}, [R("10.6.6.6/32", type="prohibit")])
    assert route_n_rows(t.main)[2] == "10.6.6.6        -               255.255.255.255 !H    0      -        0 -"
