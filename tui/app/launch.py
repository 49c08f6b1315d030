"""Open the dashboard on files (or the bundled default topology)."""

from __future__ import annotations

import sys


def launch(paths: list[str]) -> int:
    from ..bundled import default_topology
    from ..load import LoadError

    files = paths or [str(default_topology())]
    try:
        from .app import create_app

        app = create_app(files)
    except LoadError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        print(f"{len(e.problems)} error{'s' if len(e.problems) != 1 else ''}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"kubenet-tui: error: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    app.run()
    return 0
