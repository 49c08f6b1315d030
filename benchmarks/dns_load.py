"""A bounded burst of DNS queries against `kubenet-tui serve-dns` on loopback: every answer, and the rate.

Starts ``kubenet-tui serve-dns`` on a free loopback port (the bundled two-node cluster unless ``-f``), then sends
``--queries`` UDP queries (20,000 by default) with at most ``--window`` of them unanswered at a time, a mix of
names that exist (A, SRV, PTR), names that do not (NXDOMAIN) and malformed packets (random bytes, a truncated
header, a compression-pointer loop, a name longer than 255 octets) sent between them. A query left unanswered
for ``--timeout`` seconds is sent again, up to 3 times. Prints how many were answered, how many needed a resend,
the rate (answers per second) and whether the server still answers afterwards.

    python benchmarks/dns_load.py [--queries 20000] [--window 64] [-f FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TWO_NODES = ROOT / "topologies" / "04-two-node-cluster.yaml"
QUESTIONS = [("web.default.svc.cluster.local", 1), ("_http._tcp.web.default.svc.cluster.local", 33),
             ("kube-dns.kube-system.svc.cluster.local", 1), ("20.0.96.10.in-addr.arpa", 12),
             ("nothing.default.svc.cluster.local", 1), ("web.default", 1)]


def query(qid: int, name: str, qtype: int) -> bytes:
    """A standard query (RD set) for ``name``."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", qtype, 1)


def junk(rng: random.Random) -> bytes:
    """One malformed packet."""
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 200))
    if kind == 1:
        return b"\x12\x34\x01\x00\x00\x01"  # a header cut short
    if kind == 2:  # a name that is a compression pointer to itself
        return struct.pack("!HHHHHH", 0x4321, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    return struct.pack("!HHHHHH", 0x4322, 0x0100, 1, 0, 0, 0) + (b"\x3f" + b"a" * 63) * 5 + b"\0" + struct.pack("!HH", 1, 1)


def burst(port: int, total: int, window: int = 64, timeout: float = 1.0, junk_every: int = 50, seed: int = 1,
          host: str = "127.0.0.1") -> dict:
    """Send ``total`` queries to ``host:port`` (at most ``window`` unanswered); what came back."""
    rng = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    pending: dict[int, tuple[bytes, float, int]] = {}  # id -> (packet, sent at, tries)
    answered = resent = lost = junk_sent = 0
    rcodes: dict[int, int] = {}
    sent = 0
    t0 = time.monotonic()
    while answered + lost < total:
        now = time.monotonic()
        while sent < total and len(pending) < window:
            qid = sent % 65536
            name, qtype = QUESTIONS[sent % len(QUESTIONS)]
            pkt = query(qid, name, qtype)
            s.sendto(pkt, (host, port))
            pending[qid] = (pkt, now, 1)
            sent += 1
            if sent % junk_every == 0:
                s.sendto(junk(rng), (host, port))
                junk_sent += 1
        try:
            data = s.recv(65535)
        except BlockingIOError:
            for qid, (pkt, at, tries) in list(pending.items()):
                if now - at > timeout:
                    if tries >= 3:
                        del pending[qid]
                        lost += 1
                    else:
                        s.sendto(pkt, (host, port))
                        pending[qid] = (pkt, now, tries + 1)
                        resent += 1
            time.sleep(0.0005)
            continue
        if len(data) >= 12:
            qid = struct.unpack("!H", data[:2])[0]
            if qid in pending and data[2] & 0x80 and data[12:].startswith(pending[qid][0][12:]):  # (its question: not a junk's reply)
                del pending[qid]
                answered += 1
                rcodes[data[3] & 0x0F] = rcodes.get(data[3] & 0x0F, 0) + 1
    elapsed = time.monotonic() - t0
    s.close()
    return {"queries": total, "answered": answered, "lost": lost, "resent": resent, "junk": junk_sent,
            "seconds": round(elapsed, 3), "rate": round(answered / elapsed) if elapsed else 0,
            "rcodes": {str(k): v for k, v in sorted(rcodes.items())}}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def still_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(query(7, "web.default.svc.cluster.local", 1), ("127.0.0.1", port))
        try:
            data = s.recv(65535)
        except TimeoutError:
            return False
    return data[:2] == b"\x00\x07" and data[3] & 0x0F == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=20_000)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("-f", dest="file", default=str(TWO_NODES))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    kn = shutil.which("kubenet-tui")
    cmd = [kn] if kn else [sys.executable, "-m", "tui"]
    port = free_port()
    server = subprocess.Popen(cmd + ["serve-dns", "-f", args.file, "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while not still_answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                print("serve-dns did not start:", server.stderr.read() if server.stderr else "", file=sys.stderr)
                return 2
        result = burst(port, args.queries, args.window)
        result["still_answers"] = still_answers(port)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['answered']}/{result['queries']} queries answered ({result['lost']} lost, {result['resent']} resent), "
              f"{result['junk']} malformed packets among them; {result['seconds']} s, {result['rate']} answers/s; "
              f"rcodes {result['rcodes']}; answers afterwards: {result['still_answers']}")
    return 0 if result["answered"] == result["queries"] and result["still_answers"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
