"""Cilium without kube-proxy: the eBPF service map that replaces the KUBE-* chains.

Cilium (``kubeProxyReplacement``) translates Services in eBPF: a pod's
``connect()`` to a ClusterIP is rewritten in the socket layer (the packet
never carries the virtual IP), and a NodePort reaching a node is translated
by ``bpf_host`` on its device, SNATed to the node when the backend lives on
another node. :func:`service_map` gives the walker the same frontends and
backends ``cilium-dbg service list`` shows; :func:`service_list` prints them.
"""

from __future__ import annotations

from .cluster import Cluster


def service_map(cluster: Cluster) -> dict:
    """``{"services": {(proto, ip, port): (name, backends)}, "nodeports": {(proto, port): (name, backends, local)}}``."""
    services: dict = {}
    nodeports: dict = {}
    for svc in sorted(cluster.services, key=lambda s: s.key):
        if svc.cluster_ip is None or svc.type == "ExternalName":
            continue
        for p in svc.ports:
            proto = p.protocol.lower()
            every = cluster.ready_endpoints(svc, p)
            for ip in svc.cluster_ips:  # a frontend per family (dual-stack), with that family's backends
                services[(proto, ip, p.port)] = (svc.port_name(p), [b for b in every if b.ip.version == ip.version])
            backends = [b for b in every if b.ip.version == svc.cluster_ip.version]
            if svc.type == "LoadBalancer" and svc.load_balancer_ip is not None:
                services[(proto, svc.load_balancer_ip, p.port)] = (svc.port_name(p), backends)
            if svc.type in ("NodePort", "LoadBalancer") and p.node_port:  # every family's backends: the walker takes the packet's
                families = {ip.version for ip in svc.cluster_ips}
                nodeports[(proto, p.node_port)] = (svc.port_name(p), [b for b in every if b.ip.version in families],
                                                   svc.external_traffic_policy == "Local")
    return {"services": services, "nodeports": nodeports}


def service_list(cluster: Cluster, node: str) -> str:
    """What ``cilium-dbg service list`` prints on ``node``: frontends, their type and backends."""
    rows = [("ID", "Frontend", "Service Type", "Backend")]
    ip = cluster.nodes[node].internal_ip if node in cluster.nodes else None
    n = 0
    for svc in sorted(cluster.services, key=lambda s: s.key):
        if svc.cluster_ip is None or svc.type == "ExternalName":
            continue
        for p in svc.ports:
            every = cluster.ready_endpoints(svc, p)
            backends = [b for b in every if b.ip.version == svc.cluster_ip.version]
            fronts = [(f"{svc.cluster_ip}:{p.port}", "ClusterIP")]
            if svc.cluster_ip6 is not None:
                fronts.append((f"[{svc.cluster_ip6}]:{p.port}", "ClusterIP"))
            if svc.type in ("NodePort", "LoadBalancer") and p.node_port:
                fronts.append((f"0.0.0.0:{p.node_port}", "NodePort"))
                if ip is not None:
                    fronts.append((f"{ip}:{p.node_port}", "NodePort"))
            if svc.type == "LoadBalancer" and svc.load_balancer_ip is not None:
                fronts.append((f"{svc.load_balancer_ip}:{p.port}", "LoadBalancer"))
            for front, kind in fronts:
                n += 1
                shown = [b for b in every if b.ip.version == 6] if front.startswith("[") else backends
                if kind != "ClusterIP" and svc.external_traffic_policy == "Local":
                    shown = [b for b in backends if b.node == node]
                lines = [f"{i + 1} => {b}/{p.protocol} (active)" for i, b in enumerate(shown)] or [""]
                rows.append((str(n), f"{front}/{p.protocol}", kind, lines[0]))
                rows += [("", "", "", more) for more in lines[1:]]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:<{widths[2]}}   {r[3]}".rstrip() for r in rows) + "\n"
