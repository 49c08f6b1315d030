"""Time to first paint, side by side: `kubenet-tui` against an empty Textual app.

Each program is started in a fresh tmux session (120x40) and the clock stops when
its screen shows the words it paints first. Repeated runs, medians reported.

    python benchmarks/first_paint.py [--runs 7] [FILE ...]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def first_paint(cmd: str, words: tuple[str, ...], timeout: float = 30.0) -> float:
    sock = f"kn-bench-{time.monotonic_ns()}"
    tmux = ["tmux", "-L", sock]
    t0 = time.monotonic()
    subprocess.run(tmux + ["new-session", "-d", "-s", "b", "-x", "120", "-y", "40", cmd], check=True)
    try:
        while time.monotonic() - t0 < timeout:
            screen = subprocess.run(tmux + ["capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout
            if all(w in screen for w in words):
                return time.monotonic() - t0
            time.sleep(0.01)
        raise TimeoutError(cmd)
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if not shutil.which("tmux"):
        print("needs tmux", file=sys.stderr)
        return 2
    kn = shutil.which("kubenet-tui") or f"{sys.executable} -m tui"
    base_cmd = f"{sys.executable} {HERE / 'empty_app.py'}"
    target = f"{kn} {' '.join(args.files)}".strip()
    empty, ours = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        empty.append(first_paint(base_cmd, ("kubenet-tui baseline",)))
        ours.append(first_paint(target, ("Topology", "Routes", "DNS", "Trace")))
    me, mo = statistics.median(empty), statistics.median(ours)
    print(f"empty Textual app : median {me * 1000:.0f} ms  ({', '.join(f'{x * 1000:.0f}' for x in empty)})")
    print(f"kubenet-tui       : median {mo * 1000:.0f} ms  ({', '.join(f'{x * 1000:.0f}' for x in ours)})")
    print(f"ratio             : {mo / me:.2f}x (target: at most 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
