"""kubeadm's CoreDNS add-on, as the objects it installs: what every simulated cluster gets unless a Service
already holds the cluster DNS address."""

from __future__ import annotations

from ..model.source import Mark
from ..model.topology import KubeObject, Topology
from .cluster import _ip

IMPLICIT = Mark("<cluster>", 0, 0)  # where the objects the simulator adds (kubeadm's CoreDNS) come from
DNS_LABELS = {"k8s-app": "kube-dns"}


def coredns_objects(topo: Topology, objs: list[KubeObject] | tuple[KubeObject, ...], has_nodes: bool = True) -> list[KubeObject]:
    """kubeadm's CoreDNS add-on, unless a Service already holds the cluster DNS address (whatever its name):
    the Service ``kube-system/kube-dns`` at the DNS address (ports 53/UDP, 53/TCP, 9153/TCP) and, when the
    cluster has nodes and the objects no kube-system/coredns Deployment of their own, the Deployment
    ``coredns`` (2 replicas). Nothing for a topology that is no cluster."""
    if not (topo.cluster.present or objs or any(h.role == "node" for h in topo.hosts)):
        return []
    dns_ip = topo.cluster.dns_cluster_ip
    for o in objs:
        spec = o.body.get("spec") or {}
        if o.kind == "Service" and any(_ip(t) == dns_ip for t in [spec.get("clusterIP")] + list(spec.get("clusterIPs") or [])):
            return []
    own_deployment = any((o.kind, o.namespace, o.name) == ("Deployment", "kube-system", "coredns") for o in objs)
    dns_ip = str(dns_ip)
    ports = [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
             {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]
    template = {"metadata": {"labels": dict(DNS_LABELS)},
                "spec": {"dnsPolicy": "Default", "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                         "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                         {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                         "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                                         "args": ["-conf", "/etc/coredns/Corefile"], "ports": ports}]}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(DNS_LABELS)},
                  "spec": {"replicas": 2, "selector": {"matchLabels": dict(DNS_LABELS)}, "template": template}}
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "kube-dns", "namespace": "kube-system",
                            "labels": {**DNS_LABELS, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}},
               "spec": {"type": "ClusterIP", "clusterIP": dns_ip, "clusterIPs": [dns_ip], "selector": dict(DNS_LABELS),
                        "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                  {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                                  {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}
    out = [KubeObject("v1", "Service", "kube-dns", "kube-system", service, IMPLICIT)]
    if has_nodes and not own_deployment:
        out.append(KubeObject("apps/v1", "Deployment", "coredns", "kube-system", deployment, IMPLICIT))
    return out


def addon_objects(topo: Topology, objs: list[KubeObject] | tuple[KubeObject, ...], has_nodes: bool = True) -> list[KubeObject]:
    """Everything the simulator adds to a cluster: kubeadm's CoreDNS, and the Ingress controller the topology asks
    for (:mod:`tui.k8s.ingress_addon`) when the files do not run it themselves."""
    out = coredns_objects(topo, objs, has_nodes)
    if has_nodes:
        from .ingress_addon import controller_objects

        out += controller_objects(topo, objs, IMPLICIT)
    return out
