"""Kubernetes on top of the Linux model: the cluster's objects and what kube-proxy makes of them."""
