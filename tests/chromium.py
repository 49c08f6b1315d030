"""A headless Chromium driven over the DevTools protocol (aiohttp's websocket client): open a page, wait for
a condition, take a screenshot. For the tests of ``kubenet-tui serve``; the flags are those this machine's
closed network needs (no background connections, no first-run work)."""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import subprocess
import tempfile
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--remote-debugging-port=0"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


async def _session(url: str, until_js: str, timeout: float, settle: float, size: tuple[int, int]) -> tuple[bytes, object]:
    import aiohttp

    profile = tempfile.mkdtemp(prefix="kn-chromium-")
    p = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", "about:blank"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        ws_url = None
        end = time.monotonic() + 30
        while ws_url is None and time.monotonic() < end:
            line = p.stderr.readline()
            if not line and p.poll() is not None:
                raise RuntimeError("chromium exited before it listened")
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            ws_url = m.group(1) if m else None
        port = ws_url.split(":")[2].split("/")[0]
        async with aiohttp.ClientSession() as s:
            targets = await (await s.get(f"http://127.0.0.1:{port}/json/list")).json()
            page = next(t for t in targets if t["type"] == "page")
            async with s.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                ids = iter(range(1, 1 << 30))

                async def call(method: str, **params):
                    n = next(ids)
                    await ws.send_json({"id": n, "method": method, "params": params})
                    while True:
                        msg = await ws.receive_json(timeout=30)
                        if msg.get("id") == n:
                            return msg.get("result", {})

                await call("Page.enable")
                await call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)
                await call("Page.navigate", url=url)
                value = None
                end = time.monotonic() + timeout
                while time.monotonic() < end:
                    await asyncio.sleep(0.5)
                    value = (await call("Runtime.evaluate", expression=until_js, returnByValue=True)).get("result", {}).get("value")
                    if value:
                        break
                await asyncio.sleep(settle)
                shot = await call("Page.captureScreenshot", format="png")
                return base64.b64decode(shot["data"]), value
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(url: str, until_js: str, timeout: float = 30, settle: float = 3, size: tuple[int, int] = (1400, 900)):
    """(the PNG's bytes, the last value of ``until_js``) once ``until_js`` is true (or ``timeout`` passed)."""
    return asyncio.run(_session(url, until_js, timeout, settle, size))
