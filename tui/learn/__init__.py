"""Classroom: goal files and their checker, lessons and challenges (core: no textual, no rich)."""
