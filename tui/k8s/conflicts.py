"""What the API server would refuse among a topology's Kubernetes objects, field by field."""

from __future__ import annotations

import ipaddress

from ..load.errors import did_you_mean
from ..model.topology import KubeObject, Topology
from .cluster import _ip

BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}  # always there
NAMESPACE_CHECKED = {"Pod", "Service", "Endpoints", "EndpointSlice", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet",
                     "Ingress", "NetworkPolicy", "ConfigMap", "Secret"}


def conflicts(topo: Topology) -> list[tuple[KubeObject, str, str]]:
    """What the API server would refuse among the objects: ``(object, field path, message)``."""
    out: list[tuple[KubeObject, str, str]] = []
    cfg = topo.cluster
    ips: dict = {}
    node_ports: dict = {}
    cidrs: list = []
    pod_ips: dict = {}
    declared = {o.name for o in topo.objects if o.kind == "Namespace"}
    known = declared | BUILTIN_NAMESPACES
    overlapping = _any_overlap(topo.objects)
    for o in topo.objects:
        if declared and o.namespace and o.namespace not in known and o.kind in NAMESPACE_CHECKED:
            out.append((o, "metadata.namespace", f'namespace "{o.namespace}" not found{did_you_mean(o.namespace, declared)}: the objects '
                                                 f'declare Namespaces ({", ".join(sorted(declared))}) but not this one, and the API '
                                                 "server refuses objects in a namespace that does not exist"))
        kind = o.kind
        if kind not in ("Service", "Node", "Pod"):
            continue
        spec, status = o.body.get("spec") or {}, o.body.get("status") or {}
        if kind == "Service":
            cip = spec.get("clusterIP")
            ip = _ip(cip) if cip not in (None, "None", "") else None
            if cip not in (None, "None", "") and ip is None:
                out.append((o, "spec.clusterIP", f'"{cip}" is not an IP address'))
            elif ip is not None:
                if cfg.present and ip.version == cfg.service_cidr.version and ip not in cfg.service_cidr:
                    out.append((o, "spec.clusterIP", f"{ip} is not in the service CIDR {cfg.service_cidr} (kube-apiserver --service-cluster-ip-range)"))
                elif ip in ips:
                    out.append((o, "spec.clusterIP", f"{ip} is already allocated to Service {ips[ip]}"))
                ips.setdefault(ip, f"{o.namespace}/{o.name}")
            policy = spec.get("ipFamilyPolicy")
            if policy == "RequireDualStack" and cfg.present and cfg.service_cidr2 is None:
                out.append((o, "spec.ipFamilyPolicy", "RequireDualStack needs a dual-stack cluster: serviceCIDR has one family "
                                                      f"({cfg.service_cidr}); give two, e.g. {cfg.service_cidr},fd00:10:96::/112"))
            for extra in (spec.get("clusterIPs") or [])[1:]:
                ip2 = _ip(extra)
                if ip2 is not None and cfg.present and cfg.service_cidr2 is not None and ip2.version == cfg.service_cidr2.version \
                        and ip2 not in cfg.service_cidr2:
                    out.append((o, "spec.clusterIPs", f"{ip2} is not in the service CIDR {cfg.service_cidr2}"))
            for i, p in enumerate(spec.get("ports") or []):
                np = p.get("nodePort") if isinstance(p, dict) else None
                if isinstance(np, int):
                    key = (np, p.get("protocol") or "TCP")
                    if key in node_ports:
                        out.append((o, f"spec.ports[{i}].nodePort", f"provided port {np} is already allocated (to Service {node_ports[key]})"))
                    node_ports.setdefault(key, f"{o.namespace}/{o.name}")
        elif kind == "Node" and spec.get("podCIDR"):
            try:
                if "/" not in spec["podCIDR"]:  # (an address alone is no CIDR: Go's net.ParseCIDR refuses it)
                    raise ValueError
                net = ipaddress.ip_network(spec["podCIDR"], strict=False)
            except ValueError:
                out.append((o, "spec.podCIDR", f'"{spec["podCIDR"]}" is not a CIDR'))
                continue
            if cfg.present and net.version == cfg.pod_cidr.version and not net.subnet_of(cfg.pod_cidr):
                out.append((o, "spec.podCIDR", f"{net} is not inside the cluster's pod CIDR {cfg.pod_cidr}"))
            if overlapping:
                for other, name in cidrs:
                    if net.overlaps(other):
                        out.append((o, "spec.podCIDR", f"{net} overlaps node {name}'s {other}"))
                cidrs.append((net, o.name))
        elif kind == "Pod" and status.get("podIP") and not spec.get("hostNetwork"):
            ip = _ip(status["podIP"])
            if ip is None:
                out.append((o, "status.podIP", f'"{status["podIP"]}" is not an IP address'))
            elif ip in pod_ips:
                first = pod_ips[ip]
                out.append((o, "status.podIP", f"{ip} is already the address of pod {first.namespace}/{first.name}"))
            else:
                pod_ips[ip] = o
    return out + _far_nodes(topo)


def _far_nodes(topo: Topology) -> list[tuple[KubeObject, str, str]]:
    """The Nodes no host describes share one network (the smallest /24-or-wider holding their InternalIPs, at most a
    /8): a node whose InternalIP is not on it would reach no other node (its routes' gateways unreachable)."""
    from .cluster import _node, node_network

    hosted = {h.name for h in topo.hosts}
    nodes = [(o, n) for o in topo.objects if o.kind == "Node" and o.name not in hosted
             and (n := _node(o)).internal_ip is not None and n.internal_ip.version == 4]
    if len(nodes) < 2:
        return []
    net = node_network([n for _, n in nodes])
    first = next(n for _, n in nodes if n.internal_ip in net)
    return [(o, "status.addresses", f"InternalIP {n.internal_ip} is not on one network with node {first.name}'s {first.internal_ip} "
                                    f"({net}, the widest the nodes no host describes can share): describe the nodes as hosts "
                                    "on networks of their own, with the routes between them")
            for o, n in nodes if n.internal_ip not in net]


def _any_overlap(objects) -> bool:
    """Whether any two nodes' pod CIDRs overlap (sorted by start, each against the furthest end before it):
    only then are they compared pair by pair, to name every pair."""
    spans = []
    for o in objects:
        if o.kind == "Node":
            text = (o.body.get("spec") or {}).get("podCIDR")
            if text:
                try:
                    net = ipaddress.ip_network(text, strict=False)
                except (ValueError, TypeError):
                    continue
                spans.append((net.version, int(net.network_address), int(net.broadcast_address)))
    spans.sort()
    for (v0, _, end), (v1, start, _) in zip(spans, spans[1:], strict=False):
        if v0 == v1 and start <= end:
            return True
    return False
