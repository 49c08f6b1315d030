"""Open the dashboard on files (or the bundled default topology)."""

from __future__ import annotations

import os
import sys

FPS = "120"
"""Textual's cap on screen updates per second (its default is 60): a key's effect often takes two or three
updates (the key, then what its messages change, then the styles), each waiting for the next tick, so a
shorter tick is a shorter wait. Set before Textual is imported; ``TEXTUAL_FPS`` in the environment wins."""


def launch(paths: list[str]) -> int:
    os.environ.setdefault("TEXTUAL_FPS", FPS)
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
    if app.load_problems:  # a big input, loaded once the app ran (see tui.app.screens.background)
        for line in app.load_problems:
            print(line, file=sys.stderr)
        return 1
    return app.return_code or 0
