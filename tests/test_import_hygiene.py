"""The core and the headless CLI never import textual or rich (only tui.app does)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tui

ROOT = Path(__file__).resolve().parent.parent
UI_PACKAGES = ("textual", "rich")


def core_modules() -> list[str]:
    """Every module of the tui package except the dashboard (tui.app and below)."""
    names = ["tui"]
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        if info.name == "tui.app" or info.name.startswith("tui.app."):
            continue
        names.append(info.name)
    return sorted(names)


SCRIPT = textwrap.dedent("""
    import contextlib, importlib, io, json, sys
    from tui.bundled import default_topology

    modules, extra = json.loads(sys.argv[1]), sys.argv[2]
    for name in modules:
        importlib.import_module(name)
    exec(extra)
    from tui.cli import main

    default = str(default_topology())
    codes = []
    for argv in (
        ["check", "-f", default],
        ["check", "-f", default, "-o", "json"],
        ["routes", "-f", default, "router", "--lookup", "8.8.8.8"],
        ["routes", "-f", default, "laptop", "--format", "route-names", "-o", "yaml"],
        ["trace", "-f", default, "--from", "web", "--to", "8.8.8.8", "--proto", "icmp"],
        ["trace", "-f", default, "--from", "laptop", "--to", "web:80", "-o", "json"],
        ["trace", "--from", "laptop", "--to", "nosuchhost"],
    ):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            codes.append(main(argv))
    ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
    print(json.dumps({"codes": codes, "ui": ui}))
""")


def run_isolated(modules: list[str], extra: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(modules), extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_core_modules_are_discovered():
    mods = core_modules()
    for expected in ("tui.cli", "tui.report", "tui.bundled", "tui.model.topology", "tui.load.loader", "tui.load.iptables",
                     "tui.sim.routing", "tui.sim.network", "tui.sim.trace", "tui.sim.query"):
        assert expected in mods
    assert not any(m == "tui.app" or m.startswith("tui.app.") for m in mods)


def test_core_and_headless_cli_never_import_textual_or_rich():
    result = run_isolated(core_modules())
    assert result["codes"] == [0, 0, 0, 0, 0, 0, 1]  # the unknown name is exit 1
    assert result["ui"] == [], f"imported by the core or the headless CLI: {result['ui']}"


@pytest.mark.parametrize("package", UI_PACKAGES)
def test_the_check_would_notice(package):
    """The subprocess check is not vacuous: an import of the package anywhere shows up."""
    pytest.importorskip(package)
    result = run_isolated(["tui.cli"], f"import {package}")
    assert package in result["ui"]
