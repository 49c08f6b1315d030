"""Building a large network with the cyclic garbage collector paused.

Loading and compiling a big cluster allocates millions of long-lived objects (parsed values and their
marks, rules, routes, devices) and next to no cyclic garbage; with the collector running, every full
collection walks all that was built so far, a quarter or more of the time spent. Reference counting
still frees what is dropped; the collector resumes (if it was on) when the outermost build ends.

What was built is then frozen (``gc.freeze``): moved out of the generations the collector walks, so
that the first collection after the build does not walk millions of objects either (a second or more
on a big cluster). Frozen objects are still freed by reference counting; only cycles among them wait.

The C heap is told to grow in big steps for a big input (:func:`grow_heap_in_big_steps`): glibc's malloc
otherwise grows it 128 KiB at a time, and a 780 MB kubectl dump's check spent most of a second more in it.
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


HEAP_STEP = 256 << 20
"""How much the C heap grows at a time while a big input is built (glibc's M_TOP_PAD): a few hundred
more megabytes of address space at most, most never touched."""


def grow_heap_in_big_steps() -> bool:
    """Have glibc's malloc grow (and keep) the heap ``HEAP_STEP`` at a time, for the rest of the process;
    whether it could (not glibc: nothing done). The same as running with ``MALLOC_TOP_PAD_`` set."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_top_pad = -2  # (malloc.h)
    return bool(mallopt(ctypes.c_int(m_top_pad), ctypes.c_int(HEAP_STEP)))
