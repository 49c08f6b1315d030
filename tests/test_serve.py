"""``kubenet-tui serve``: the dashboard as a web page. The page is served on loopback, its websocket runs the
dashboard (the four panes come through it), and headless Chromium shows it; bad ports and files are refused
in one sentence."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chromium import chromium, screenshot
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
PANES = ("Topology", "Routes", "DNS", "Trace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served():
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "tui", "serve", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "--port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TEXTUAL_ANIMATIONS": "none"})
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if p.poll() is not None:
            raise AssertionError(p.stderr.read())
        time.sleep(0.2)
    yield port
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()


def test_the_page_is_served_on_loopback_with_its_websocket(served):
    import urllib.request

    html = urllib.request.urlopen(f"http://127.0.0.1:{served}/", timeout=10).read().decode()
    assert f'data-session-websocket-url="ws://127.0.0.1:{served}/ws"' in html and "kubenet-tui" in html


def test_the_websocket_runs_the_dashboard_with_its_four_panes(served):
    import aiohttp

    async def read() -> str:
        out = b""
        async with aiohttp.ClientSession() as s, s.ws_connect(f"http://127.0.0.1:{served}/ws?width=120&height=40") as ws:
            end = time.monotonic() + 30
            while time.monotonic() < end:
                try:
                    msg = await ws.receive(timeout=1)
                except TimeoutError:
                    if all(p.encode() in out for p in PANES):
                        break
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    out += msg.data
                elif msg.type != aiohttp.WSMsgType.TEXT:
                    break
        return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", out).decode(errors="replace")

    text = asyncio.run(read())
    assert all(p in text for p in PANES), text[-2000:]
    assert "system-a" in text and "system-b" in text


@pytest.mark.skipif(chromium() is None, reason="needs Chromium (apt-get install chromium)")
def test_headless_chromium_shows_the_dashboard(served, tmp_path):
    png, state = screenshot(f"http://127.0.0.1:{served}/", "document.body.className.includes('-first-byte') && document.body.className")
    (tmp_path / "served.png").write_bytes(png)  # (kept with the test's files, to look at)
    assert png.startswith(b"\x89PNG")
    assert state and "-loaded" in state and "-first-byte" in state  # the websocket opened and the dashboard drew
    assert len(png) > 60_000, len(png)  # the four panes' text, not the blank start page (about 15 kB)


def test_a_port_in_use_is_refused_in_one_sentence(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["serve", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "--port", str(port)]) == 1
    assert capsys.readouterr().err.strip() == (f"kubenet-tui serve: error: cannot listen on 127.0.0.1:{port}: Address already in use: "
                                              "another program listens there; give another port, e.g. --port 8001")


def test_a_port_out_of_range_is_a_usage_error(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port 70000: a port is 1 to 65535" in capsys.readouterr().err


def test_a_file_that_does_not_load_is_said_before_serving(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kubenet/v1\nkind: Topology\nnetworks: 3\n")
    p = subprocess.run([sys.executable, "-m", "tui", "serve", "-f", str(bad), "--port", str(free_port())], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1 and f"{bad}:3:11: error: networks:" in p.stderr and "Traceback" not in p.stderr
