"""Open the dashboard on files (or the bundled default topology)."""

from __future__ import annotations

import sys


def launch(paths: list[str]) -> int:
    from ..bundled import default_topology
    from ..load import LoadError, load

    files = paths or [str(default_topology())]
    try:
        loaded = load(files)
    except LoadError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        print(f"{len(e.problems)} error{'s' if len(e.problems) != 1 else ''}", file=sys.stderr)
        return 1
    from .app import KubenetApp

    KubenetApp(loaded, files).run()
    return 0
