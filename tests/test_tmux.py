"""End to end: the real console script in a real terminal (tmux), as a user starts it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, name: str) -> None:
        self.socket = f"kntest-{os.getpid()}-{name}"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "kn")

    def wait_for(self, *words: str, timeout: float = 20) -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if all(w in text for w in words):
                return text
            time.sleep(0.2)
        raise AssertionError(f"never saw {words} on screen:\n{text}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "kn"], capture_output=True).returncode == 0


@pytest.fixture
def tmux(request):
    t = Tmux(request.node.name.replace("[", "-").replace("]", ""))
    yield t
    subprocess.run(["tmux", "-L", t.socket, "kill-server"], capture_output=True)


def command() -> str:
    script = shutil.which("kubenet-tui") or str(Path(sys.executable).parent / "kubenet-tui")
    return script if os.path.exists(script) else f"{sys.executable} -m tui"


def test_console_script_shows_four_panes_traces_and_quits(tmux):
    tmux.run("new-session", "-d", "-s", "kn", "-x", "120", "-y", "40", "-c", str(ROOT), command())
    tmux.run("resize-window", "-t", "kn", "-x", "120", "-y", "40")
    tmux.wait_for("Topology", "Routes", "DNS", "Trace", "office")
    tmux.wait_for("default via 192.168.1.1 dev wlp0s20f3")  # the laptop's routes, a frame after the panes
    tmux.run("send-keys", "-t", "kn", "t")
    tmux.wait_for("Trace a packet")
    for keys in ("laptop", "Tab", "docker-host:8080", "Enter"):
        tmux.run("send-keys", "-t", "kn", keys)
        time.sleep(0.2)
    tmux.wait_for("reply DELIVERED to laptop", timeout=30)  # the trace plays to its verdict by itself
    tmux.run("send-keys", "-t", "kn", "q")
    end = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < end:
        time.sleep(0.2)
    assert not tmux.alive(), "q did not quit"


def test_bad_file_gives_located_error_not_a_traceback(tmp_path, tmux):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kubenet/v1\nkind: Topology\nhosts:\n- name: a\n  interfaces:\n  - {name: eth0, adress: 10.0.0.1/24}\n")
    out = tmp_path / "out.txt"
    tmux.run("new-session", "-d", "-s", "kn", "-x", "120", "-y", "40", f"{command()} {bad} > {out} 2>&1; echo rc=$? >> {out}")
    end = time.monotonic() + 15
    while time.monotonic() < end and "rc=" not in (out.read_text() if out.exists() else ""):
        time.sleep(0.2)
    text = out.read_text()
    assert f"{bad}:6:" in text and 'did you mean "address"' in text
    assert "rc=1" in text and "Traceback" not in text
