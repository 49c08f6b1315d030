"""Fixtures the test modules share."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TOPOLOGIES = Path(__file__).resolve().parent.parent / "topologies"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A scratch directory holding copies of the bundled topologies, as the current directory (saves land there)."""
    for f in TOPOLOGIES.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _state_dir(tmp_path_factory, monkeypatch):
    """Every test its own state directory: a recovery file the dashboard keeps never reaches the user's home,
    nor another test."""
    monkeypatch.setenv("KUBENET_TUI_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("KUBENET_TUI_NO_LAB", "1")  # random keys (L) must not build a real lab in CI (root); test_app_lab turns it on
