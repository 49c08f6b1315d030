"""Open the dashboard on files (or the bundled default topology)."""

from __future__ import annotations

import gc
import os
import sys

FPS = "120"
"""Textual's cap on screen updates per second (its default is 60): a key's effect often takes two or three
updates (the key, then what its messages change, then the styles), each waiting for the next tick, so a
shorter tick is a shorter wait. Set before Textual is imported; ``TEXTUAL_FPS`` in the environment wins."""


def launch(paths: list[str], classroom: dict | None = None) -> int:
    """Run the dashboard; its return code. The shell paints before anything is read (the panes fill a frame
    later); input that does not load ends the app, whose problems are printed here, with return code 1."""
    os.environ.setdefault("TEXTUAL_FPS", FPS)
    # No cyclic collection while Textual and the dashboard are imported and the first frame is made: some 150
    # collections (a 10 ms full one among them) for objects that all live on. The app resumes the collector once
    # the first frame is painted, those objects frozen (see BackgroundMixin.load_after_paint).
    gc.disable()
    from ..bundled import default_topology
    from .app import create_app

    files = paths or [str(default_topology())]
    app = create_app(files, after_paint=True)
    app.classroom = classroom  # a lesson or goals: their panel beside the panes (tui.app.screens.classroom)
    app.resume_gc = True
    app.run()
    if app.load_problems:  # input that did not load (see tui.app.screens.background)
        for line in app.load_problems:
            print(line, file=sys.stderr)
        return 1
    return app.return_code or 0
