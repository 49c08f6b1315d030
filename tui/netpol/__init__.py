"""Kubernetes NetworkPolicy (networking.k8s.io/v1): parsing, decisions and lint, with no UI dependency."""

from .evaluate import NetpolError, NetpolIndex, Verdict, evaluate, index, matrix, policies_for, selected_pods
from .lint import LintItem, lint
from .policy import NetworkPolicy, PolicyError, parse_policies, parse_policy

__all__ = ["LintItem", "NetpolError", "NetpolIndex", "NetworkPolicy", "PolicyError", "Verdict", "evaluate", "index", "lint", "matrix",
           "parse_policies", "parse_policy", "policies_for", "selected_pods"]
