"""The DNS pane: the records the cluster's DNS serves."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...model.topology import Topology


class DnsPane(Static):
    """Until a cluster with CoreDNS is loaded, it says why there is nothing to show."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.border_title = "DNS"

    def show(self, topology: Topology) -> None:
        t = Text()
        services = [o for o in topology.objects if o.kind == "Service"]
        if not topology.cluster.present and not services:
            t.append("No cluster DNS: this topology has no Kubernetes cluster.\n", style="bold")
            t.append(
                "Hosts here find each other by address. In a cluster, CoreDNS answers for "
                f"<service>.<namespace>.svc.{topology.cluster.domain} at {topology.cluster.dns_cluster_ip} "
                "(add a cluster: section and Services to see its records).",
                style="grey62",
            )
        else:
            t.append(f"Cluster domain {topology.cluster.domain}, DNS service {topology.cluster.dns_cluster_ip}.\n", style="bold")
            t.append(f"{len(services)} Service object(s) loaded and routed by kube-proxy. CoreDNS's records "
                     f"(<service>.<namespace>.svc.{topology.cluster.domain}) are not simulated yet: trace to svc/NAME or a cluster IP.",
                     style="grey62")
        self.update(t)
