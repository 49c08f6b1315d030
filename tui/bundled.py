"""Where the bundled topologies are: package data when installed, the checkout's
``topologies/`` when running from a source tree."""

from __future__ import annotations

from pathlib import Path

DEFAULT = "default.yaml"


def topologies_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "topologies", here.parent / "topologies"):
        if (candidate / DEFAULT).is_file():
            return candidate
    raise FileNotFoundError("the bundled topologies are missing from this installation")


def default_topology() -> Path:
    return topologies_dir() / DEFAULT
