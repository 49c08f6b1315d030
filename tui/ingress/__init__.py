"""Ingress: which Ingresses a controller serves, and how it routes an HTTP request (host, path, TLS).

Core code: never imports textual or rich."""

from .controllers import Controller, controller_for
from .match import Decision, Request, route

__all__ = ["Controller", "Decision", "Request", "controller_for", "route"]
