"""Memory management around a big build: the collector paused, the C heap grown in big steps."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys

import pytest

from tui.load import loader
from tui.sim import gcpause


def test_paused_gc_resumes_and_freezes_what_was_built():
    assert gc.isenabled()
    with gcpause.paused_gc():
        assert not gc.isenabled()
        built = [[i] for i in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= len(built)
    gc.unfreeze()


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_the_heap_grows_in_big_steps_on_glibc():
    code = "from tui.sim.gcpause import grow_heap_in_big_steps as g; print(g())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


@pytest.mark.parametrize(("size", "asked"), [(loader.BIG_INPUT_BYTES - 1, False), (loader.BIG_INPUT_BYTES, True)])
def test_only_a_big_input_grows_the_heap_in_big_steps(monkeypatch, tmp_path, size, asked):
    calls = []
    monkeypatch.setattr(gcpause, "grow_heap_in_big_steps", lambda: calls.append(1) or True)
    f = tmp_path / "big.yaml"
    with open(f, "w") as out:
        out.write("# " + "x" * (size - 3) + "\n")
    assert f.stat().st_size == size
    loader.load([str(f)])
    assert bool(calls) is asked
