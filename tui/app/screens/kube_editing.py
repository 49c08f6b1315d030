"""The dashboard's Kubernetes forms: add, edit and delete Nodes, Pods, Deployments and Services.

The same keys as every other edit (a, e, d) act on the cluster's items of the
tree: a node, a pod, a Service, or the object itself under "Kubernetes
objects". What the simulator generates (a Deployment's pods, the API
server's ``default/kubernetes``, nodes no object describes, the cloud's load
balancer) is not edited as if it were in the file: the screen says where it
comes from and offers its owner instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy
from ..scale import facts_of

if TYPE_CHECKING:
    from ..forms.form import Field

kube = lazy("tui.edit.kube")
form = lazy("tui.app.forms.form")

KUBE_FORMS = ("Node", "Pod", "Deployment", "Service")

HELP = {
    "namespace": "The object's namespace (metadata.namespace); empty is default.",
    "labels": "Labels as key=value, comma separated: app=web,tier=front.",
    "node": "The node it runs on (spec.nodeName); empty: the simulator schedules it round robin.",
    "image": "The container image, e.g. nginx or ghcr.io/org/app:1.2 (not pulled: the simulation needs only the ports).",
    "cports": "Container ports as [name:]port[/protocol], comma separated: http:8080/TCP,9090. A Service's targetPort may name them.",
    "replicas": "How many pods the Deployment keeps (its ReplicaSet names them NAME-<hash>-<suffix>).",
    "dlabels": "The pod template's labels, and the selector that finds its pods: app=web. Empty: app=NAME.",
    "type": "ClusterIP (a virtual IP), NodePort (and a port on every node), LoadBalancer (and an external IP), "
            "headless (clusterIP: None, DNS only) or ExternalName (a DNS alias).",
    "selector": "The labels of the pods it sends to: app=web. Empty: endpoints only from Endpoints or EndpointSlice objects.",
    "sports": "[name:]port[:nodePort][->targetPort][/protocol], comma separated: http:80->8080/TCP, http:80:30080->http, 53/UDP.",
    "clusterIP": "A fixed cluster IP inside the service CIDR; empty: the API server allocates the next free one.",
    "externalName": "For ExternalName only: the DNS name the Service is a CNAME for (db.example.com).",
    "sessionAffinity": "None, or ClientIP: kube-proxy sends a client to the same endpoint (the recent match).",
    "externalTrafficPolicy": "Cluster (any node's pods, client masqueraded) or Local (only this node's pods, client kept); NodePort and LoadBalancer only.",
    "internalIP": "The node's InternalIP (status.addresses); empty: the next free address of the node network (.11 on).",
    "podCIDR": "The node's pod subnet (spec.podCIDR); empty: the next free block of the cluster's podCIDR.",
}


def _split(key: str) -> tuple[str, str | None, str]:
    """``Pod/default/web`` (an object item's key) as (kind, namespace, name)."""
    kind, _, rest = key.partition("/")
    ns, _, name = rest.rpartition("/")
    return kind, ns or None, name


_COREDNS = {  # what the simulator adds as kubeadm's CoreDNS, and how to say so
    ("Pod", "kube-system", "coredns"): "is a pod of kubeadm's CoreDNS Deployment, not in the file.",
    ("Service", "kube-system", "kube-dns"): "is kubeadm's DNS Service, not in the file.",
}


class KubeEditingMixin:
    """Kubernetes object forms for :class:`MainScreen` (beside :class:`EditingMixin`)."""

    # -- what an item stands for ----------------------------------------------------
    def kube_item(self, item) -> tuple[str, str | None, str] | None:
        """The Kubernetes object a tree item stands for, as (kind, namespace, name); None for other items."""
        cluster = self.net.cluster if self.net is not None else None
        if item is None:
            return None
        if item.kind == "object":
            return _split(item.name)
        if item.kind in ("ingress", "ingress-rule", "ingress-tls", "ingress-default"):
            ns, _, name = item.name.partition("/")
            return "Ingress", ns, name
        if item.kind == "ingressclass":
            return "IngressClass", None, item.name
        if item.kind in ("netpol", "netpol-ingress", "netpol-egress"):
            ns, _, name = item.name.partition("/")
            return "NetworkPolicy", ns, name
        if cluster is None:
            return None
        if item.kind == "service":
            ns, _, name = item.name.partition("/")
            return "Service", ns, name
        if item.kind == "namespace" and item.name in facts_of(self.net).pod_keys:
            ns, _, name = item.name.partition("/")
            return "Pod", ns, name
        if item.kind == "host" and item.name in cluster.nodes:
            return "Node", None, item.name
        return None

    def kube_editable(self, item) -> bool:
        target = self.kube_item(item)
        return target is not None and (target[0] in KUBE_FORMS + ("Ingress", "IngressClass", "NetworkPolicy") or item.kind != "object")

    def _kube_namespaces(self) -> list[str]:
        cluster = self.net.cluster if self.net is not None else None
        names = {"default"} | {o.namespace for o in self.workspace.loaded.topology.objects if o.namespace}
        if cluster is not None:
            names |= set(facts_of(self.net).kube_namespaces)
        return sorted(names)

    def _kube_nodes(self) -> list[str]:
        cluster = self.net.cluster if self.net is not None else None
        return list(cluster.nodes) if cluster is not None else []

    def kube_node_of(self, item) -> str | None:
        """The node the selection is on (a node, or a pod, device or route of one)."""
        if item is None:
            return None
        nodes = facts_of(self.net).nodes if self.net is not None else ()
        if item.kind == "host" and item.name in nodes:
            return item.name
        return item.host if item.host in nodes else None

    # -- e and d --------------------------------------------------------------------------
    def kube_action(self, item, delete: bool = False) -> bool:
        """Edit (or delete) the object behind ``item``; False when ``item`` is no Kubernetes item."""
        from ..forms.choice import ChoiceScreen
        from ..forms.confirm import ConfirmScreen

        if self.netpol_action(item, delete) or self.ingress_action(item, delete):
            return True
        target = self.kube_item(item)
        if target is None:
            return self._kube_load_balancer(item, delete)
        kind, ns, name = target
        topo = self.workspace.loaded.topology
        obj = kube.kube_object(topo, kind, ns, name)
        verb = "Delete" if delete else "Edit"
        if kind == "Node" and item.kind == "host":
            if topo.host(name) is not None:
                if obj is None:
                    return False  # a host of the Topology document: its own form, as for any host
                choices = [("host", f"Host {name}: its interfaces and routes (the Topology document)"),
                           ("node", f"Node object {name}: InternalIP and pod CIDR")]

                def chosen(choice: str | None) -> None:
                    if choice == "host":
                        self.host_action(item, delete)
                    elif choice == "node":
                        self._kube_act(obj, delete)

                self.app.push_screen(ChoiceScreen(f"{verb} what?", choices), chosen)
                return True
            if obj is None:
                why = kube.why_node(topo, name)
                if delete:
                    self.notify(f"{name} is not in the file, the simulator adds it: {why}. Change what names it instead.",
                                severity="warning", timeout=6)
                    return True
                node = self.net.cluster.nodes[name]
                cidr = self.net.cluster.pod_cidrs.get(name)
                defaults = {"name": name, "internalIP": str(node.internal_ip or ""), "podCIDR": str(cidr or "")}
                self.app.push_screen(
                    ConfirmScreen(f"{name} is made by the simulator", f"No Node object or host describes {name}: {why}. "
                                  "Add a Node object for it, with the address and pod CIDR it has now?", "Add a Node object", "Cancel"),
                    lambda yes: self.open_kube_form("Node", None, defaults) if yes else None)
                return True
        if obj is None and self.explain_generated(kind, ns, name):
            return True
        implicit = _COREDNS.get((kind, ns, name.rsplit("-", 2)[0] if kind == "Pod" else name))
        if obj is None and implicit is not None:
            self.notify(f"{ns}/{name} {implicit} The simulator adds kubeadm's CoreDNS (Deployment kube-system/coredns, Service "
                        "kube-system/kube-dns) when no Service holds the cluster DNS address: add your own DNS Service, or a "
                        "kube-system/coredns Deployment, to the file to replace it.", severity="warning", timeout=8)
            return True
        if kind == "Pod" and obj is None:
            owner = kube.pod_owner(topo, self._kube_nodes(), ns, name)
            if owner is not None and owner.kind == "Deployment":
                self.app.push_screen(
                    ConfirmScreen(f"{ns}/{name} is made by Deployment {owner.namespace}/{owner.name}",
                                  "Its ReplicaSet creates the pod from the Deployment's template and would put back any change made "
                                  f"here. {'Scale' if delete else 'Edit'} the Deployment instead (replicas, labels, image, ports)?",
                                  "Edit the Deployment", "Cancel"),
                    lambda yes: self.open_kube_form("Deployment", owner) if yes else None)
            elif owner is not None:
                self.notify(f"{ns}/{name} is made by {owner.kind} {owner.namespace}/{owner.name}: change the {owner.kind} in the file "
                            "(the dashboard's forms edit Deployments).", severity="warning", timeout=6)
            else:
                self.notify(f"{ns}/{name} is not in the file.", severity="warning", timeout=4)
            return True
        if kind == "Service" and obj is None:
            self.notify(f"{ns}/{name} is added by the API server: it stands for the control plane (the first node, port 6443) and "
                        "is not in the file. A Service object of that name in the file replaces it.", severity="warning", timeout=6)
            return True
        if obj is None:
            self.notify(f"No {kind} {name} in the file.", severity="warning", timeout=4)
            return True
        if kind not in KUBE_FORMS:
            self.notify(f"{kind} objects are kept as they are written: the dashboard's forms edit Nodes, Pods, Deployments and "
                        "Services. Change this one in the file.", severity="warning", timeout=6)
            return True
        self._kube_act(obj, delete)
        return True

    def _kube_load_balancer(self, item, delete: bool) -> bool:
        """The cloud's load balancer host (not in the file) stands for the LoadBalancer Services: offer the first."""
        from ...k8s.datapath import LB_HOST
        from ..forms.confirm import ConfirmScreen

        cluster = self.net.cluster if self.net is not None else None
        if cluster is None or item is None or (item.host or item.name) != LB_HOST or self.workspace.loaded.topology.host(LB_HOST):
            return False
        svc = next((s for s in cluster.services if s.type == "LoadBalancer" and s.load_balancer_ip is not None), None)
        obj = kube.kube_object(self.workspace.loaded.topology, "Service", svc.namespace, svc.name) if svc else None
        if obj is None:
            return False
        self.app.push_screen(
            ConfirmScreen(f"{LB_HOST} is made by the simulator",
                          f"It stands for the cloud's load balancer of the LoadBalancer Services ({svc.key} at {svc.load_balancer_ip}), "
                          "from the cluster's loadBalancerPool. Edit the Service instead?", f"Edit {svc.key}", "Cancel"),
            lambda yes: self.open_kube_form("Service", obj) if yes else None)
        return True

    def _kube_act(self, obj, delete: bool) -> None:
        from ...edit import edits
        from ..forms.confirm import ConfirmScreen

        if not delete:
            self.open_kube_form(obj.kind, obj)
            return
        what = f"{obj.kind} {obj.namespace + '/' if obj.namespace else ''}{obj.name}"
        detail = {"Deployment": "Its pods go with it. ", "Node": "Pods that name it keep it as an implicit node. ",
                  "Ingress": "Its rules go with it: requests they took get the controller's 404. ",
                  "IngressClass": "The Ingresses it serves lose their controller. ",
                  "NetworkPolicy": "The pods it selects lose the isolation and the rules it gives them. "}.get(obj.kind, "")

        def answer(yes: bool) -> None:
            if yes:
                errors = self.apply(edits.delete_object(obj.kind, obj.namespace, obj.name))
                if errors:
                    self.notify("\n".join(errors.values()), severity="error", timeout=6)

        self.app.push_screen(ConfirmScreen(f"Delete {what}?", detail + "Undo (ctrl+z) brings it back."), answer)

    # -- the forms ----------------------------------------------------------------------
    def kube_add_choices(self) -> list[tuple[str, str]]:
        node = self.kube_node_of(self.selected)
        return [("Node", "Kubernetes Node (InternalIP, pod CIDR)"),
                ("Pod", "Kubernetes Pod" + (f" on {node}" if node else "")),
                ("Deployment", "Kubernetes Deployment (replicas of a pod)"),
                ("Service", "Kubernetes Service (ClusterIP, NodePort, LoadBalancer, headless)")] + self.ingress_add_choices() \
            + self.netpol_add_choices()

    def open_kube_form(self, kind: str, obj=None, defaults: dict | None = None) -> None:
        """The form of a Node, Pod, Deployment or Service: ``obj`` (a KubeObject) to edit, else a new one."""
        from ...edit import edits, manifests

        body = obj.body if obj is not None else {}
        meta = body.get("metadata") or {}
        spec = body.get("spec") or {}
        sel = self.selected
        ns_default = sel.name.partition("/")[0] if sel is not None and sel.kind in ("namespace", "service") and "/" in sel.name else "default"
        v = {"namespace": obj.namespace if obj is not None else ns_default, "name": meta.get("name", ""), **(defaults or {})}
        old = (obj.namespace, obj.name) if obj is not None else None

        def f(key: str, label: str, placeholder: str = "", suggestions: list[str] | None = None, help_key: str | None = None) -> Field:
            return form.Field(key, label, str(v.get(key) or ""), placeholder, suggestions or [], help=HELP.get(help_key or key, ""))

        name = f("name", "Name", "e.g. web", help_key="")
        name.help = "metadata.name: lower-case letters, digits, '-' (and '.' except for Services)."
        note = ""
        if kind == "Node":
            status = body.get("status") or {}
            v["internalIP"] = v.get("internalIP") or next((a.get("address") for a in status.get("addresses") or []
                                                           if isinstance(a, dict) and a.get("type") == "InternalIP"), "")
            v["podCIDR"] = v.get("podCIDR") or spec.get("podCIDR", "")
            fields = [f("name", "Name", "e.g. node-3"), f("internalIP", "InternalIP (optional)", "e.g. 192.168.1.13"),
                      f("podCIDR", "Pod CIDR (optional)", "e.g. 10.244.3.0/24")]
            fields[0].help = "metadata.name of the Node: the machine kubelet runs on."
            host_of = self.workspace.loaded.topology.host(v["name"]) if v["name"] else None
            if host_of is not None:
                note = f"{host_of.name} is also a host of the Topology: the node's address is its interface's."
            edit = lambda values: edits.upsert_node(obj.name if obj else None, values)  # noqa: E731
        elif kind == "Pod":
            containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
            v.setdefault("labels", kube.format_labels(meta.get("labels")))
            v.setdefault("node", spec.get("nodeName") or ("" if obj else self.kube_node_of(sel) or ""))
            v.setdefault("image", containers[0].get("image", "") if containers else "nginx")
            v.setdefault("ports", kube.format_container_ports([p for c in containers for p in c.get("ports") or []]))
            fields = [f("namespace", "Namespace", "default", self._kube_namespaces()), name,
                      f("labels", "Labels", "e.g. app=web,tier=front"), f("node", "Node (optional)", "scheduled round robin", self._kube_nodes()),
                      f("image", "Image", "e.g. nginx"), f("ports", "Container ports", "e.g. http:8080/TCP,9090", help_key="cports")]
            edit = lambda values: edits.upsert_pod(old, values)  # noqa: E731
        elif kind == "Deployment":
            template = spec.get("template") or {}
            tspec = template.get("spec") or {}
            containers = [c for c in tspec.get("containers") or [] if isinstance(c, dict)]
            v.setdefault("replicas", str(spec.get("replicas", 1)) if obj else "2")
            v.setdefault("labels", kube.format_labels((template.get("metadata") or {}).get("labels")))
            v.setdefault("image", containers[0].get("image", "") if containers else "nginx")
            v.setdefault("ports", kube.format_container_ports([p for c in containers for p in c.get("ports") or []]))
            fields = [f("namespace", "Namespace", "default", self._kube_namespaces()), name, f("replicas", "Replicas", "e.g. 3"),
                      f("labels", "Labels and selector", "app=NAME", help_key="dlabels"), f("image", "Image", "e.g. nginx"),
                      f("ports", "Container ports", "e.g. http:8080/TCP,9090", help_key="cports")]
            edit = lambda values: edits.upsert_deployment(old, values)  # noqa: E731
        else:
            v.setdefault("type", manifests.service_type(body) if obj else "ClusterIP")
            v.setdefault("selector", kube.format_labels(spec.get("selector")))
            v.setdefault("ports", kube.format_service_ports(spec.get("ports")))
            v.setdefault("clusterIP", "" if spec.get("clusterIP") == "None" else spec.get("clusterIP", ""))
            for key in ("externalName", "sessionAffinity", "externalTrafficPolicy"):
                v.setdefault(key, spec.get(key, ""))
            labels = sorted({f"{k}={val}" for p in (self.net.cluster.pods if self.net and self.net.cluster else ()) for k, val in p.labels.items()})
            fields = [f("namespace", "Namespace", "default", self._kube_namespaces()), name, f("type", "Type", "ClusterIP", list(kube.SERVICE_TYPES)),
                      f("selector", "Selector", "e.g. app=web", labels), f("ports", "Ports", "e.g. http:80->8080/TCP", help_key="sports"),
                      f("clusterIP", "Cluster IP (optional)", "allocated from serviceCIDR"),
                      f("externalName", "External name", "ExternalName only: e.g. db.example.com"),
                      f("sessionAffinity", "Session affinity", "None", ["None", "ClientIP"]),
                      f("externalTrafficPolicy", "External traffic policy", "Cluster", ["Cluster", "Local"])]
            edit = lambda values: edits.upsert_service(old, values)  # noqa: E731

        def submit(values: dict) -> dict | None:
            return self.apply(edit(values), select=self._kube_item_after(kind, values))

        title = f"{'Edit' if obj else 'Add'} {kind}" + (f" {obj.namespace + '/' if obj.namespace else ''}{obj.name}" if obj else "")
        self.app.push_screen(form.FormScreen(title, fields, submit, form_id=f"{kind.lower()}-form", compact=True, note=note))

    def _kube_item_after(self, kind: str, values: dict):
        """What to select once the object is written: the node, the pod's namespace, the Service, the object."""
        from ..widgets.topology_tree import Item

        name = (values.get("name") or "").strip()
        ns = (values.get("namespace") or "").strip() or "default"
        if not name:
            return None
        if kind == "Node":
            return Item("host", name)
        if kind == "Pod":
            return Item("namespace", f"{ns}/{name}")  # the tree finds it on whichever node it lands
        if kind == "Service":
            return Item("service", f"{ns}/{name}")
        return Item("object", f"{kind}/{ns}/{name}")
