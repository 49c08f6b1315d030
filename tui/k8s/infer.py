"""A cluster's settings read off its objects, for a dump loaded without a Topology.

kube-apiserver's ``--service-cluster-ip-range`` and kube-controller-manager's
``--cluster-cidr`` are not in a ``kubectl get -o yaml`` dump, but the objects
imply them: every node's ``spec.podCIDR`` lies in the pod CIDR and every
ClusterIP in the service CIDR. :func:`infer` keeps the defaults when they
already cover the objects (kubeadm's 10.244.0.0/16 and 10.96.0.0/12), and
otherwise takes the smallest network covering them, widened to a /16 when
that stays clear of the other range (k3s: 10.42.0.0/16 and 10.43.0.0/16).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from ..model.topology import ClusterConfig, KubeObject
from .cluster import _ip


def _net(text) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None
    return net if net.version == 4 else None


def _cover(nets: list[ipaddress.IPv4Network], default: ipaddress.IPv4Network, ips: list[int] = ()) -> ipaddress.IPv4Network:
    """``default`` if it holds every net and address (``ips``, IPv4 as integers), else the smallest supernet
    of the first of them that does."""
    if not nets and not ips:
        return default
    lo = min([int(n.network_address) for n in nets] + ([min(ips)] if ips else []))
    hi = max([int(n.broadcast_address) for n in nets] + ([max(ips)] if ips else []))
    if default.version == 4 and int(default.network_address) <= lo and hi <= int(default.broadcast_address):
        return default
    net = nets[0] if nets else ipaddress.IPv4Network(ips[0])
    while not (int(net.network_address) <= lo and hi <= int(net.broadcast_address)):
        net = net.supernet()
    return net


def _widen(net: ipaddress.IPv4Network, other: ipaddress.IPv4Network, to: int = 16) -> ipaddress.IPv4Network:
    if net.prefixlen <= to:
        return net
    wide = net.supernet(new_prefix=to)
    return net if wide.overlaps(other) else wide


def infer(cfg: ClusterConfig, objects: tuple[KubeObject, ...] | list[KubeObject]) -> ClusterConfig:
    """``cfg`` with the pod and service CIDRs (and the node mask size) the objects imply."""
    node_nets, pod_ips, cluster_ips = [], [], []
    for o in objects:
        spec, status = o.body.get("spec") or {}, o.body.get("status") or {}
        if o.kind == "Node" and (net := _net(spec.get("podCIDR"))) is not None:
            node_nets.append(net)
        elif o.kind == "Pod" and not spec.get("hostNetwork") and (ip := _ip(status.get("podIP"))) is not None and ip.version == 4:
            pod_ips.append(int(ip))
        elif o.kind == "Service" and spec.get("clusterIP") not in (None, "None", "") and (net := _net(spec["clusterIP"])) is not None:
            cluster_ips.append(net)
    pod = _cover(node_nets, cfg.pod_cidr, pod_ips)
    svc = _cover(cluster_ips, cfg.service_cidr)
    if pod.overlaps(svc):
        return cfg  # objects that mix the two ranges: keep the defaults, the conflicts are reported as such
    pod, svc = _widen(pod, svc), _widen(svc, pod)
    if pod.overlaps(svc):
        return cfg
    sizes = {n.prefixlen for n in node_nets}
    mask = sizes.pop() if len(sizes) == 1 and pod.prefixlen <= min(n.prefixlen for n in node_nets) else cfg.node_cidr_mask_size
    if mask < pod.prefixlen:
        mask = pod.prefixlen
    return replace(cfg, pod_cidr=pod, service_cidr=svc, node_cidr_mask_size=mask, dns_cluster_ip=svc.network_address + 10)
