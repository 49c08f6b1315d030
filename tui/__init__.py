"""kubenet-tui: a terminal dashboard that simulates Linux and Kubernetes networking."""

__version__ = "0.1.0"
