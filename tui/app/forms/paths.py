"""Completion of file-system paths in an Input."""

from __future__ import annotations

import os

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Completes the last part of a path from the directory it names (YAML and JSON files, directories)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        directory, _, stem = value.rpartition("/")
        base = directory or "."
        if value.startswith("/") and not directory:
            base = "/"
        try:
            names = sorted(os.listdir(os.path.expanduser(base)))
        except OSError:
            return None
        for name in names:
            if name.startswith(stem) and name != stem and not name.startswith("."):
                full = os.path.join(os.path.expanduser(base), name)
                if os.path.isdir(full):
                    name += "/"
                elif not name.endswith((".yaml", ".yml", ".json")):
                    continue
                return (directory + "/" if directory or value.startswith("/") else "") + name
        return None
