"""Loading: YAML and JSON files into a validated description, with located errors."""

from .errors import LoadError, Problem
from .loader import Loaded, expand, load

__all__ = ["LoadError", "Loaded", "Problem", "expand", "load"]
