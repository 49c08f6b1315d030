"""The dashboard on a huge cluster: time to first paint, to a loaded model, and each key's latency.

Generates a cluster (``kubenet-tui generate --nodes N --pods-per-node M --services S``; 5,000 x 30 and 10,000
Services by default) or takes ``--file``, and opens it in a fresh tmux session (120x40) with
``KUBENET_TUI_KEYLOG`` set, so that the app logs each key's latency as it measures it (from the key's arrival
to the end of the screen update showing its effect; see ``tui/app/keylog.py``). The first paint is the time
until the four pane titles show (as ``benchmarks/first_paint.py`` measures it); the model is loaded once the
tree lists the hosts, and the DNS zone (built in a worker) once the DNS pane counts its records. Then, with
everything loaded and the first host's table shown, a scripted session, one key every ``--gap`` seconds so
that keys do not batch: down and up the tree, a node opened and its pods walked, Tab to the DNS table, page
and line moves through its records, a filter typed and cleared. The median and 99th percentile of the logged
latencies are printed, for every key and by part of the session.

    python benchmarks/tui_latency.py [--nodes 5000 --pods-per-node 30 --services 10000 | --file F] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLES = ("Topology", "Routes", "DNS", "Trace")


def script() -> list[tuple[str, str]]:
    """(part, tmux key) in the order sent."""
    keys: list[tuple[str, str]] = []
    keys += [("tree", "Down")] * 60 + [("tree", "Up")] * 40  # along the first hosts and back
    keys += [("node", "Enter")]  # open the host under the cursor: its devices and pods
    keys += [("node", "Down")] * 24  # its devices, its routes' group, cni0 and its pods
    keys += [("node", "Up")] * 4
    keys += [("focus", "Tab")] * 3  # tree, Routes, the lookup, the DNS records
    keys += [("dns", "PageDown")] * 20 + [("dns", "Down")] * 60 + [("dns", "Up")] * 10 + [("dns", "PageUp")] * 10
    keys += [("filter", "/")] + [("filter", c) for c in "web-1"] + [("filter", "BSpace")] * 2 + [("filter", "Enter")]
    keys += [("filter", "Down")] * 5 + [("filter", "Escape")]  # the filter cleared, the records back
    return keys


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))
    return ordered[int(k)]


class Session:
    def __init__(self, cmd: str) -> None:
        self.tmux = ["tmux", "-L", f"kn-latency-{os.getpid()}-{time.monotonic_ns()}"]
        self.t0 = time.monotonic()
        subprocess.run(self.tmux + ["new-session", "-d", "-s", "b", "-x", "120", "-y", "40", cmd], check=True)

    def screen(self) -> str:
        return subprocess.run(self.tmux + ["capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout

    def wait_for(self, test, timeout: float) -> float:
        while time.monotonic() - self.t0 < timeout:
            screen = self.screen()
            if test(screen):
                return time.monotonic() - self.t0
            if "exited" in subprocess.run(self.tmux + ["list-panes", "-F", "#{pane_dead}"], capture_output=True, text=True).stdout:
                break
            time.sleep(0.01)
        raise TimeoutError(f"waited {timeout:.0f} s; the screen:\n{self.screen()}")

    def send(self, key: str) -> None:
        literal = len(key) == 1
        subprocess.run(self.tmux + ["send-keys", "-t", "b"] + (["-l", key] if literal else [key]), check=True)

    def close(self) -> None:
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--file", help="a cluster file to open instead of generating one")
    ap.add_argument("--gap", type=float, default=0.06, help="seconds between keys (default 0.06)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the model to load")
    ap.add_argument("--dns-timeout", type=float, default=None,
                    help="seconds to wait for the DNS zone (default: --timeout); past it the DNS keys are left out and the "
                         "tree's are sent while the zone is still being built")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--show", action="store_true", help="print the screen at the end")
    ap.add_argument("--profile", metavar="OUT", help="run the app under cProfile, its stats written to OUT (then quit with q)")
    args = ap.parse_args()
    if not shutil.which("tmux"):
        print("needs tmux", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="kn-latency-"))
    try:
        path = args.file
        if path is None:
            path = str(work / "cluster.json")
            with open(path, "w") as out:
                subprocess.run([sys.executable, "-m", "tui", "generate", "--nodes", str(args.nodes), "--pods-per-node", str(args.pods_per_node),
                                "--services", str(args.services)], stdout=out, check=True)
        log = work / "keys.log"
        kn = shutil.which("kubenet-tui") or f"{sys.executable} -m tui"
        if args.profile:
            kn = f"{sys.executable} -m cProfile -o {args.profile} -m tui"
        session = Session(f"env KUBENET_TUI_KEYLOG={log} {kn} {path}")
        try:
            first_paint = session.wait_for(lambda s: all(t in s for t in TITLES), 60)
            loaded = session.wait_for(lambda s: "Hosts (" in s and "loading" not in s, args.timeout)
            try:
                dns_ready = session.wait_for(lambda s: "records ·" in s or "No cluster DNS" in s or "refuses" in s,
                                             args.timeout if args.dns_timeout is None else args.dns_timeout)
            except TimeoutError:
                dns_ready = None
            # the steady state: the first host's table shown (its node compiled by a worker), nothing left in workers
            session.wait_for(lambda s: "compiling its node" not in s, time.monotonic() - session.t0 + args.timeout)
            time.sleep(0.5)
            keys = script() if dns_ready is not None else [k for k in script() if k[0] in ("tree", "node")]
            for _, key in keys:
                session.send(key)
                time.sleep(args.gap)
            time.sleep(1.0)
            final = session.screen()
            if args.profile:  # quit, so that the profile is written
                session.send("Escape")
                session.send("q")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not os.path.exists(args.profile):
                    time.sleep(0.2)
                time.sleep(1.0)
        finally:
            session.close()
        lines = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
        ms = [float(line[0]) for line in lines]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not ms:
        print("no key was logged", file=sys.stderr)
        return 1
    result = {"first_paint_s": round(first_paint, 3), "loaded_s": round(loaded, 3),
              "dns_ready_s": round(dns_ready, 3) if dns_ready is not None else None, "key_median_ms": round(statistics.median(ms), 2),
              "key_p99_ms": round(percentile(ms, 99), 2), "key_max_ms": round(max(ms), 2), "keys": len(ms), "keys_sent": len(keys)}
    parts: dict[str, list[float]] = {}
    if len(ms) == len(keys):  # one line per key sent, in order
        for (part, _), value in zip(keys, ms, strict=True):
            parts.setdefault(part, []).append(value)
    if args.json:
        result["parts"] = {p: {"median_ms": round(statistics.median(v), 2), "max_ms": round(max(v), 2), "keys": len(v)} for p, v in parts.items()}
        print(json.dumps(result))
    else:
        print(f"{path}")
        print(f"first paint      : {first_paint:.2f} s   (pane titles shown)")
        print(f"loaded           : {loaded:.2f} s   (the tree shows the hosts)")
        print(f"DNS ready        : {dns_ready:.2f} s   (the DNS pane counts its records; built in a worker)" if dns_ready is not None
              else f"DNS ready        : not within {args.dns_timeout:.0f} s: the DNS keys left out, the tree's sent while it is built")
        print(f"keys             : {len(ms)} logged of {len(keys)} sent, one every {args.gap * 1000:.0f} ms")
        print(f"latency          : median {result['key_median_ms']:.1f} ms, p99 {result['key_p99_ms']:.1f} ms, max {result['key_max_ms']:.1f} ms"
              "   (targets: median <= 16 ms, p99 <= 50 ms)")
        for part, values in parts.items():
            print(f"  {part:<8}: {len(values):3d} keys, median {statistics.median(values):6.1f} ms, max {max(values):6.1f} ms")
        slowest = sorted(range(len(ms)), key=lambda i: -ms[i])[:8]
        print("slowest          : " + ", ".join(f"#{i} {lines[i][1]} {ms[i]:.0f} ms" for i in sorted(slowest)))
    if args.show:
        print(final)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
