"""The lab's servers, one background process: identity listeners in the pods' (and hosts') namespaces and
the simulated CoreDNS (:class:`tui.dns.server.DnsServer`) in the CoreDNS pods' namespaces.

Each socket is made inside its namespace (setns, then back), so one process serves them all. A listener
answers every TCP connection and every UDP datagram with one line::

    kubenet-lab <simulated namespace> <its address>:<port> <the peer as it sees it>:<port>

which tells a probe who answered and what source address arrived there (after any SNAT).

Run as ``python -m tui.lab.serve PLAN.json [-f FILE ...]``; prints ``ready`` once every socket is bound.
"""

from __future__ import annotations

import json
import selectors
import signal
import socket
import sys

from . import netns
from .plan import IDENTITY


def _bind(proto: str, port: int) -> socket.socket:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    try:
        s = socket.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        host = "::"
    except OSError:  # (IPv6 disabled in this kernel)
        s = socket.socket(socket.AF_INET, kind)
        host = "0.0.0.0"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    if proto == "tcp":
        s.listen(64)
    s.setblocking(False)
    return s


def _plain(addr) -> str:
    host = addr[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}"


def open_listeners(plan: dict) -> list[tuple[socket.socket, str, str]]:
    """(socket, proto, simulated namespace) for every listener of the plan."""
    out = []
    for item in plan["listeners"]:
        with netns.inside(item["ns"]):
            for proto, port in item["ports"]:
                out.append((_bind(proto, port), proto, item["sim"]))
    return out


def open_dns(plan: dict, files: list[str]):
    if not plan["dns"]:
        return []
    from ..dns.server import DnsServer
    from ..load.loader import load

    loaded = load(files)
    net = loaded.network
    if net is None:
        from ..sim.network import compile_topology

        net = compile_topology(loaded.topology)
    zone = net.dns_zone()
    servers = []
    for item in plan["dns"]:
        with netns.inside(item["ns"]):
            servers.append(DnsServer(zone, "0.0.0.0", 53))
    return servers


def serve(listeners) -> None:
    sel = selectors.DefaultSelector()
    for s, proto, sim in listeners:
        sel.register(s, selectors.EVENT_READ, (proto, sim))
    while True:
        for key, _ in sel.select():
            s, (proto, sim) = key.fileobj, key.data
            try:
                if proto == "tcp":
                    conn, peer = s.accept()
                    local = conn.getsockname()
                    conn.setblocking(True)
                    conn.settimeout(1)
                    conn.sendall(f"{IDENTITY} {sim} {_plain(local)} {_plain(peer)}\n".encode())
                    conn.close()
                else:
                    data, peer = s.recvfrom(2048)
                    # (the local address of a datagram: the socket's port; the address the peer sent to is the
                    # one the reply leaves from, which conntrack maps back for a Service)
                    s.sendto(f"{IDENTITY} {sim} :{s.getsockname()[1]} {_plain(peer)}\n".encode(), peer)
            except OSError:
                pass


def main(argv: list[str]) -> int:
    plan_file = argv[0]
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "-f" and i + 1 < len(argv)]
    with open(plan_file) as f:
        plan = json.load(f)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    import resource

    wanted = sum(len(item["ports"]) for item in plan["listeners"]) + 4 * len(plan["dns"]) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted), hard))
    listeners = open_listeners(plan)
    servers = open_dns(plan, files)
    for s in servers:
        s.start()
    print("ready", flush=True)
    serve(listeners)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
