"""Route lookup: the simulator's longest-prefix match (per-prefix-length hashing, tui.sim.routing.RouteTable)
against a C radix tree (pytricia) on the same table and the same addresses, in one run.

    python benchmarks/route_lookup.py [--routes 20000] [--lookups 200000] [--seed 1] [--json]

Prints each one's lookups per second and the ratio (issue #8: within 3x of pytricia). Both must agree on every
answer; the script checks that first. pytricia: `pip install pytricia` (not a dependency of the package)."""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.sim.routing import KernelRoute, RouteTable  # noqa: E402


def table(n: int, rng: random.Random) -> list[ipaddress.IPv4Network]:
    """A routing table shaped like a cluster node's: mostly /24 pod blocks and /32 Calico routes, some shorter."""
    out = {ipaddress.ip_network("0.0.0.0/0")}
    while len(out) < n:
        plen = rng.choices([8, 12, 16, 20, 24, 26, 32], weights=[1, 1, 4, 4, 50, 10, 30])[0]
        addr = rng.getrandbits(32) & (((1 << plen) - 1) << (32 - plen))
        out.add(ipaddress.ip_network((addr, plen)))
    return sorted(out)


def measure(routes: int = 20000, lookups: int = 200000, seed: int = 1) -> dict:
    """Both lookups on the same table and addresses: {"routes", "prefix_lengths", "lookups", "ours_per_s",
    "pytricia_per_s", "ratio"} (ratio: our time over pytricia's). ImportError without pytricia."""
    import pytricia

    rng = random.Random(seed)
    nets = table(routes, rng)
    rt = RouteTable()
    pt = pytricia.PyTricia(32)
    for i, n in enumerate(nets):
        rt.add(KernelRoute(n, "eth0", None, metric=0))
        pt[str(n)] = i
    # half the addresses inside routed prefixes, half anywhere
    addrs = []
    for _ in range(lookups):
        if rng.random() < 0.5:
            n = nets[rng.randrange(len(nets))]
            addrs.append(ipaddress.IPv4Address(int(n.network_address) + rng.randrange(n.num_addresses)))
        else:
            addrs.append(ipaddress.IPv4Address(rng.getrandbits(32)))
    texts = [str(x) for x in addrs]
    for x, t in zip(addrs[:5000], texts[:5000], strict=True):  # the same answers
        assert rt.lookup(x).to == nets[pt[t]], x
    t0 = time.perf_counter()
    for x in addrs:
        rt.lookup(x)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        pt.get_key(t)
    theirs = time.perf_counter() - t0
    return {"routes": len(nets), "prefix_lengths": len({n.prefixlen for n in nets}), "lookups": lookups,
            "ours_per_s": lookups / ours, "pytricia_per_s": lookups / theirs, "ratio": ours / theirs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--routes", type=int, default=20000)
    ap.add_argument("--lookups", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    a = ap.parse_args()
    try:
        r = measure(a.routes, a.lookups, a.seed)
    except ImportError:
        print("pytricia is not installed: pip install pytricia", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"{r['routes']} routes ({r['prefix_lengths']} prefix lengths), {r['lookups']} lookups")
    print(f"kubenet-tui RouteTable: {r['ours_per_s']:12,.0f} lookups/s")
    print(f"pytricia (C radix tree): {r['pytricia_per_s']:12,.0f} lookups/s")
    print(f"ratio: {r['ratio']:.2f}x pytricia's time (target: at most 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
