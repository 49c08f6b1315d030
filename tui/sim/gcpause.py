"""Building a large network with the cyclic garbage collector paused.

Loading and compiling a big cluster allocates millions of long-lived objects (parsed values and their
marks, rules, routes, devices) and next to no cyclic garbage; with the collector running, every full
collection walks all that was built so far, a quarter or more of the time spent. Reference counting
still frees what is dropped; the collector resumes (if it was on) when the outermost build ends.

What was built is then frozen (``gc.freeze``): moved out of the generations the collector walks, so
that the first collection after the build does not walk millions of objects either (a second or more
on a big cluster). Frozen objects are still freed by reference counting; only cycles among them wait.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.enable()
