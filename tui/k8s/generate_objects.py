"""The objects ``kubenet-tui generate`` (:mod:`tui.k8s.generate`) writes, and the text it writes them as.

From a :class:`tui.k8s.generate.Plan`: Namespace, Node, Service and Deployment objects, as the API server
returns them (a dump) or as manifests; a running pod of each Deployment as a template with placeholders for
what differs per pod (``_pod_template``, rendered once as a ``str.format`` pattern by ``_pod_format``); and
YAML as kubectl writes it (:func:`to_yaml`) or compact JSON. :func:`tui.k8s.generate.chunks` streams them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .generate import App, NodePlan, Plan, Svc


# ---------------------------------------------------------------------------------------------- objects


def _meta(name: str, namespace: str | None, created: str, uid: str, labels: dict | None = None, **extra) -> dict:
    out: dict = {"creationTimestamp": created}
    out.update(extra)
    if labels:
        out["labels"] = labels
    out["name"] = name
    if namespace is not None:
        out["namespace"] = namespace
    out["uid"] = uid
    return out


def namespace_object(name: str, created: str, uid: str | None) -> dict:
    labels = {"kubernetes.io/metadata.name": name}
    if uid is None:  # a manifest
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, created, uid, labels),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def node_object(node: NodePlan, p: Plan, uid: str | None) -> dict:
    from .generate import K8S_VERSION, _ts

    labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux",
              "node.kubernetes.io/instance-type": "standard-8", "topology.kubernetes.io/region": "region-1",
              "topology.kubernetes.io/zone": node.zone}
    cidr = str(node.cidr)
    addresses = [{"address": node.ip, "type": "InternalIP"}, {"address": node.name, "type": "Hostname"}]
    if uid is None:
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name, "labels": labels},
                "spec": {"podCIDR": cidr, "podCIDRs": [cidr]}, "status": {"addresses": addresses}}
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", **labels}
    capacity = {"cpu": "8", "ephemeral-storage": "101430960Ki", "memory": "32822420Ki", "pods": str(max(110, p.params.pods_per_node))}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": _meta(node.name, None, node.created, uid, labels,
                              annotations={"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "providerID": f"generated://{node.zone}/{node.name}"},
            "status": {"addresses": addresses, "allocatable": capacity, "capacity": capacity,
                       "conditions": [{"lastHeartbeatTime": _ts(86400 * 30), "lastTransitionTime": node.created,
                                       "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True",
                                       "type": "Ready"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": {"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.22",
                                    "kernelVersion": "6.8.0-47-generic", "kubeProxyVersion": K8S_VERSION, "kubeletVersion": K8S_VERSION,
                                    "operatingSystem": "linux", "osImage": "Ubuntu 24.04.1 LTS"}}}


def service_object(sv: Svc, manifest: bool) -> dict:
    labels = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"} \
        if sv.name == "kube-dns" and sv.namespace == "kube-system" else dict(sv.app.labels)
    cip = "None" if sv.headless else sv.cluster_ip
    spec: dict = {"clusterIP": cip}
    if not manifest:
        spec["clusterIPs"] = [cip]
    if sv.type != "ClusterIP":
        spec["externalTrafficPolicy"] = sv.external_traffic_policy
    if not manifest:
        spec.update({"internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"})
    spec["ports"] = [dict(p) for p in sv.ports]
    spec["selector"] = dict(sv.selector)
    if not manifest:
        spec["sessionAffinity"] = "None"
    spec["type"] = sv.type
    if manifest:
        meta = {"name": sv.name, "namespace": sv.namespace, "labels": labels}
    else:
        meta = _meta(sv.name, sv.namespace, sv.created, sv.uid, labels)
    out = {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}
    if sv.lb_ip is not None:  # the cloud's (or MetalLB's) address: in a manifest too, for the simulator's load balancer
        out["status"] = {"loadBalancer": {"ingress": [{"ip": sv.lb_ip, "ipMode": "VIP"}]}}
    elif not manifest:
        out["status"] = {"loadBalancer": {}}
    return out


def deployment_object(app: App) -> dict:
    selector = dict(app.labels)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app.name, "namespace": app.namespace, "labels": dict(app.labels)},
            "spec": {"replicas": app.replicas, "selector": {"matchLabels": selector}, "template": app.template}}


# Placeholders of a pod's text template: filled in per pod with str.format
_PH = {"name": "QQNAMEQQ", "uid": "QQUIDQQ", "node": "QQNODEQQ", "host": "QQHOSTQQ", "ip": "QQPODIPQQ"}


class _Quoted(str):
    """A string the YAML writer always quotes (a placeholder whose values may look like numbers)."""


def _pod_template(app: App) -> dict:
    """A running pod of ``app`` as the API server returns it, with placeholders for what differs per pod."""
    spec = json.loads(json.dumps(app.template["spec"]))
    for c in spec["containers"]:
        c.update({"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                  "terminationMessagePolicy": "File"})
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.update({"enableServiceLinks": True, "nodeName": _PH["node"], "preemptionPolicy": "PreemptLowerPriority",
                 "priority": 2000000000 if app.namespace == "kube-system" else 0, "restartPolicy": "Always",
                 "schedulerName": "default-scheduler", "securityContext": {}})
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    spec["terminationGracePeriodSeconds"] = 30
    spec["tolerations"] = list(spec.get("tolerations") or []) + [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}]
    started = app.created
    meta = _meta(_PH["name"], app.namespace, started, _Quoted(_PH["uid"]),
                 {**app.template["metadata"]["labels"], "pod-template-hash": app.hash}, generateName=f"{app.rs}-")
    if app.template["metadata"].get("annotations"):
        meta["annotations"] = dict(app.template["metadata"]["annotations"])
    meta["ownerReferences"] = [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True, "kind": "ReplicaSet",
                                "name": app.rs, "uid": app.rs_uid}]
    meta["uid"] = meta.pop("uid")
    conditions = [{"lastProbeTime": None, "lastTransitionTime": started, "status": "True", "type": t}
                  for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]
    status = {"conditions": conditions, "hostIP": _PH["host"], "hostIPs": [{"ip": _PH["host"]}], "phase": "Running",
              "podIP": _PH["ip"], "podIPs": [{"ip": _PH["ip"]}], "qosClass": "Burstable", "startTime": started}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


# ---------------------------------------------------------------------------------------------- text


_PLAIN = re.compile(r"[A-Za-z/][A-Za-z0-9._/@+-]*(?::[A-Za-z0-9._/@+-]+)*")
_PLAIN_IP = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:/\d{1,2})?")
_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if not isinstance(v, _Quoted) and ((_PLAIN.fullmatch(v) and v.lower() not in _SPECIAL) or _PLAIN_IP.fullmatch(v)):
        return v
    return json.dumps(v)  # a JSON string is a YAML double-quoted scalar


def _yaml_lines(v, indent: int, out: list[str]) -> None:
    """Block-style YAML as kubectl writes it (a list under a key not indented)."""
    pad = " " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            key = f"{pad}{_scalar(k)}:"
            if isinstance(x, dict) and x:
                out.append(key)
                _yaml_lines(x, indent + 2, out)
            elif isinstance(x, list) and x:
                out.append(key)
                _yaml_lines(x, indent, out)
            else:
                out.append(f"{key} {_flow(x)}")
    else:
        for x in v:
            if isinstance(x, (dict, list)) and x:
                sub: list[str] = []
                _yaml_lines(x, indent + 2, sub)
                sub[0] = f"{pad}- {sub[0][indent + 2:]}"
                out.extend(sub)
            else:
                out.append(f"{pad}- {_flow(x)}")


def _flow(x) -> str:
    if isinstance(x, dict):
        return "{}"
    if isinstance(x, list):
        return "[]"
    return _scalar(x)


def to_yaml(obj: dict, item: bool = False) -> str:
    """One object as YAML text: a document, or (``item``) an entry of a top-level ``items:`` list."""
    lines: list[str] = []
    _yaml_lines([obj] if item else obj, 0, lines)
    return "\n".join(lines) + "\n"


def _to_json(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _pod_format(app: App, output: str) -> str:
    """The pod template rendered once, as a str.format pattern over the placeholders."""
    text = to_yaml(_pod_template(app), item=True) if output == "yaml" else _to_json(_pod_template(app))
    text = text.replace("{", "{{").replace("}", "}}")
    for key, ph in _PH.items():
        text = text.replace(ph, "{" + key + "}")
    return text
