"""Standard Kubernetes objects: their generic shape, as the API server checks it.

Here an object is validated for apiVersion, kind, metadata (names, labels,
annotations), a few fields the simulator relies on (Service ports, replicas)
and the types of every field it reads (:mod:`.shapes`); it is then kept whole
as a :class:`KubeObject` for later layers to give it meaning.
"""

from __future__ import annotations

import re

from ..model.topology import KubeObject
from . import shapes
from .errors import Problems, did_you_mean
from .fields import Fields, type_name
from .values import dns1035_label, dns1123_label, dns1123_subdomain
from .yamlsrc import YList, YMap, plain

# kind -> (apiVersions, namespaced, name rule)
KINDS: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "Pod": (("v1",), True, "subdomain"),
    "Service": (("v1",), True, "dns1035"),
    "Endpoints": (("v1",), True, "subdomain"),
    "Namespace": (("v1",), False, "label"),
    "Node": (("v1",), False, "subdomain"),
    "ConfigMap": (("v1",), True, "subdomain"),
    "Secret": (("v1",), True, "subdomain"),
    "ServiceAccount": (("v1",), True, "subdomain"),
    "PersistentVolumeClaim": (("v1",), True, "subdomain"),
    "PersistentVolume": (("v1",), False, "subdomain"),
    "ResourceQuota": (("v1",), True, "subdomain"),
    "LimitRange": (("v1",), True, "subdomain"),
    "PodTemplate": (("v1",), True, "subdomain"),
    "ReplicationController": (("v1",), True, "subdomain"),
    "ControllerRevision": (("apps/v1",), True, "subdomain"),
    "Deployment": (("apps/v1",), True, "subdomain"),
    "ReplicaSet": (("apps/v1",), True, "subdomain"),
    "StatefulSet": (("apps/v1",), True, "subdomain"),
    "DaemonSet": (("apps/v1",), True, "subdomain"),
    "EndpointSlice": (("discovery.k8s.io/v1",), True, "subdomain"),
    "Ingress": (("networking.k8s.io/v1",), True, "subdomain"),
    "IngressClass": (("networking.k8s.io/v1",), False, "subdomain"),
    "NetworkPolicy": (("networking.k8s.io/v1",), True, "subdomain"),
    "Job": (("batch/v1",), True, "subdomain"),
    "CronJob": (("batch/v1",), True, "subdomain"),
}
# The kinds the simulation finds by their name alone (it matches Ingress, IngressClass and NetworkPolicy with their
# apiVersion: tui.ingress.controllers.is_ingress, tui.netpol.policy.is_policy).
BY_KIND_ONLY = frozenset(KINDS) - {"Ingress", "IngressClass", "NetworkPolicy"}
# Kinds a real dump carries that the simulation does not use: skipped with a note (core ones first).
UNUSED_CORE = ("Event", "ComponentStatus", "Binding")
NOT_SIMULATED = ("ServiceAccount", "PersistentVolumeClaim", "PersistentVolume", "ResourceQuota", "LimitRange", "PodTemplate",
                 "ControllerRevision", "Job", "CronJob", "ReplicationController")
KNOWN_GROUPS = {"v1", "apps/v1", "discovery.k8s.io/v1", "networking.k8s.io/v1", "batch/v1", "kubenet/v1"}
_GROUP_NAMES = {v.rpartition("/")[0] for v in KNOWN_GROUPS}  # "" for the core group


def _other_group(api_version: str) -> bool:
    """Another project's API group (``monitoring.coreos.com/v1``): its kinds are its own, not typos of ours."""
    group = api_version.rpartition("/")[0]
    return "." in group and group not in _GROUP_NAMES
TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status", "data", "binaryData", "stringData", "type",
              "immutable", "subsets", "addressType", "endpoints", "ports", "secrets", "imagePullSecrets",
              "automountServiceAccountToken", "handler", "overhead", "scheduling", "template", "revision")
METADATA_FIELDS = ("name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion",
                   "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "ownerReferences", "finalizers", "managedFields", "selfLink")
WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet")  # (a DaemonSet has no replicas: a pod on each node)
MAX_REPLICAS = 150_000  # Kubernetes' scalability limit: "no more than 150,000 total pods"
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")
NODE_PORT_RANGE = (30000, 32767)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def all_kinds() -> list[str]:
    return sorted(KINDS) + ["Topology", "List"]


def read_object(m: YMap, path: str, problems: Problems, api_version: str, kind: str, body: dict | None = None) -> KubeObject | None:
    """Validate one standard object's shape; None when it cannot be kept. ``body``: the object as plain
    data when the caller has it already (else it is made from ``m``)."""
    f = Fields(m, path, problems, TOP_FIELDS)
    start = len(problems.items)
    spec = KINDS.get(kind)
    if api_version == "v1" and kind in UNUSED_CORE:
        return _skipped(m, problems, api_version, kind, body)
    if spec is None or _other_group(api_version):
        close = did_you_mean(kind, all_kinds())
        if api_version in KNOWN_GROUPS or (close and not _other_group(api_version)):
            if not close:  # (what to write instead: the group's kinds, or a group of the custom resource's own)
                served = sorted(k for k, (vs, _, _) in KINDS.items() if api_version in vs)
                close = (f": apiVersion {api_version} serves {', '.join(served)}; a custom resource's apiVersion names its own group "
                         "(it is then kept, not simulated)" if served else "")
            f.error("kind", f'unknown kind "{kind}" for apiVersion {api_version}{close}')
            return None
        # A kind of another API group (a CRD, RBAC, ...): kept as it is, not simulated.
        return _skipped(m, problems, api_version, kind, body)
    versions, namespaced, rule = spec
    if api_version not in versions:
        f.error("apiVersion", f'{kind} is served as apiVersion {" or ".join(versions)}, not "{api_version}"')
    meta = f.sub("metadata", METADATA_FIELDS, required=True)
    name = namespace = None
    if meta is not None:
        name = meta.get("name", str)
        if name is None and not meta.has("generateName"):
            meta.error("name", "required field is missing") if meta.has("name") else problems.error(meta.m.mark, meta.at("name"), "required field is missing")
        elif name is not None:
            why = {"label": dns1123_label, "dns1035": dns1035_label}.get(rule, dns1123_subdomain)(name)
            if why:
                meta.error("name", why)
        namespace = meta.get("namespace", str)
        if namespace is not None:
            if not namespaced:
                meta.error("namespace", f"{kind} is not namespaced: a {kind} has no namespace")
            elif (why := dns1123_label(namespace)):
                meta.error("namespace", why)
        _labels(meta, "labels")
        ann = meta.get("annotations", YMap)
        if ann:
            for k, v in ann.items():
                if not isinstance(v, str):
                    problems.error(ann.vmark(k), f"{meta.at('annotations')}.{k}", f"an annotation value is a string, got {type_name(v)}")
        meta.done()
    keep = True
    if kind == "Service":
        _service(f)
    elif kind in WORKLOADS:
        keep = _replicas(f)  # (else not kept: its pods would be made all the same, by the millions)
    elif kind == "Ingress":
        from .ingress import check_ingress

        check_ingress(f)
    elif kind == "NetworkPolicy":
        from .netpol import check_network_policy
        check_network_policy(f)
    f.done()
    if namespaced and namespace is None:
        namespace = "default"
    if not shapes.check(kind, m, path, problems, {p.path for p in problems.items[start:]}) or not keep:
        return None  # (not kept: what reads it may count on the types of its fields)
    if name is None:
        return None
    if _unused(kind, namespace, name, m):
        problems.skipped(m.vmark("kind"), f"{api_version} {kind}")
    if body is not None:
        return KubeObject(api_version, kind, name, namespace if namespaced else None, body, m.mark)
    return KubeObject(api_version, kind, name, namespace if namespaced else None, plain(m), m.mark, _field_marks(m))


def _skipped(m: YMap, problems: Problems, api_version: str, kind: str, body: dict | None = None) -> KubeObject:
    """An object the simulation does not use, kept as it is (saving writes it back) and noted."""
    problems.skipped(m.vmark("kind"), f"{api_version} {kind}")
    meta = m.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    if kind in BY_KIND_ONLY and _other_group(api_version):  # another group's kind of the same name (Knative's Service):
        kind = f"{kind}.{api_version.rpartition('/')[0]}"  # kept by its full name, so that what looks for a Service passes it by
    return KubeObject(api_version, kind, str(name or ""), str(ns) if ns else None, plain(m) if body is None else body, m.mark)


def _unused(kind: str, namespace: str | None, name: str, m: YMap) -> bool:
    """Standard kinds read but not simulated: most ConfigMaps (CoreDNS's is used) and Secrets (TLS ones are)."""
    if kind in NOT_SIMULATED:
        return True
    if kind == "ConfigMap":
        return (namespace, name) != ("kube-system", "coredns")
    if kind == "Secret":
        return m.get("type") != "kubernetes.io/tls"
    return False


def _field_marks(m: YMap) -> dict:
    """Where the fields the cluster checks were written, to locate their errors."""
    out = {}
    for section, key in (("spec", "clusterIP"), ("spec", "podCIDR"), ("status", "podIP"), ("spec", "ipFamilyPolicy"), ("spec", "clusterIPs"),
                         ("metadata", "namespace"), ("data", "Corefile"), ("status", "addresses")):
        sec = m.get(section)
        if isinstance(sec, YMap) and key in sec:
            out[f"{section}.{key}"] = sec.vmark(key)
    if m.get("kind") == "NetworkPolicy" and isinstance(m.get("spec"), YMap):  # every field: lint warnings point at it
        _all_marks(m["spec"], "spec", m.vmark("spec"), out)
    ports = m.get("spec", {}).get("ports") if isinstance(m.get("spec"), YMap) else None
    if isinstance(ports, YList):
        for i, p in enumerate(ports):
            if isinstance(p, YMap) and "nodePort" in p:
                out[f"spec.ports[{i}].nodePort"] = p.vmark("nodePort")
    return out


def _all_marks(node, path: str, mark, out: dict) -> None:
    out[path] = mark
    if isinstance(node, YMap):
        for k in node:
            _all_marks(node[k], f"{path}.{k}", node.vmark(k), out)
    elif isinstance(node, YList):
        for i, item in enumerate(node):
            _all_marks(item, f"{path}[{i}]", node.imark(i), out)


def _labels(meta: Fields, key: str) -> None:
    labels = meta.get(key, YMap)
    if not labels:
        return
    for k, v in labels.items():
        at = f"{meta.at(key)}.{k}"
        kname = str(k)
        prefix, _, base = kname.rpartition("/")
        if not base or len(base) > 63 or not _LABEL_NAME.match(base) or (prefix and dns1123_subdomain(prefix)):
            meta.problems.error(labels.kmark(k), at, f'"{kname}" is not a valid label key')
        if not isinstance(v, str):
            meta.problems.error(labels.vmark(k), at, f"a label value is a string, got {type_name(v)} (quote it)")
        elif len(v) > 63 or not _LABEL_VALUE.match(v):
            meta.problems.error(labels.vmark(k), at, f'"{v}" is not a valid label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit')


def _replicas(f: Fields) -> bool:
    """A workload's spec.replicas: the API server's floor, and the pods a cluster can run at all (each one is
    simulated: a typo of a few zeros would have the simulator make pods for hours). Whether it is right."""
    spec = f.m.get("spec")
    n = spec.get("replicas") if isinstance(spec, YMap) else None
    if type(n) is not int:
        return True  # (its type: tui.load.shapes)
    at, mark = f"{f.at('spec')}.replicas", spec.vmark("replicas")
    if n < 0:
        f.problems.error(mark, at, f"{n}: must be greater than or equal to 0")
    elif n > MAX_REPLICAS:
        f.problems.error(mark, at, f"{n:,} pods is more than a cluster runs (Kubernetes supports {MAX_REPLICAS:,} pods in all)")
    return 0 <= n <= MAX_REPLICAS


def _service(f: Fields) -> None:
    spec = f.get("spec", YMap)
    if spec is None:
        return
    s = Fields(spec, f.at("spec"), f.problems, tuple(spec.keys()))
    stype = s.get("type", str, "ClusterIP")
    if stype not in SERVICE_TYPES:
        s.error("type", f'unsupported value "{stype}": one of {", ".join(SERVICE_TYPES)}{did_you_mean(stype, SERVICE_TYPES)}')
    ports = s.get("ports", YList)
    if not ports:
        return
    names = set()
    for i, port in enumerate(ports):
        at = f"{s.at('ports')}[{i}]"
        if not isinstance(port, YMap):
            f.problems.error(ports.imark(i), at, f"expected a mapping, got {type_name(port)}")
            continue
        p = Fields(port, at, f.problems, ("name", "port", "targetPort", "nodePort", "protocol", "appProtocol"))
        number = p.get("port", int, required=True)
        if number is not None and not 1 <= number <= 65535:
            p.error("port", f"port {number} must be between 1 and 65535, inclusive")
        name = p.get("name", str)
        if name is None and len(ports) > 1:
            f.problems.error(port.mark, f"{at}.name", "required when a Service has more than one port")
        elif name is not None:
            if (why := dns1123_label(name)):
                p.error("name", why)
            if name in names:
                p.error("name", f'duplicate port name "{name}"')
            names.add(name)
        proto = p.get("protocol", str, "TCP")
        if proto not in PROTOCOLS:
            p.error("protocol", f'unsupported value "{proto}": one of TCP, UDP, SCTP{did_you_mean(proto, PROTOCOLS)}')
        if p.has("targetPort"):
            tp = port["targetPort"]
            if isinstance(tp, bool) or not isinstance(tp, (int, str)):
                p.error("targetPort", f"expected a port number or name, got {type_name(tp)}")
            elif isinstance(tp, int) and not 1 <= tp <= 65535:
                p.error("targetPort", f"port {tp} must be between 1 and 65535, inclusive")
            elif isinstance(tp, str) and (len(tp) > 15 or not _IANA_SVC_NAME.match(tp) or tp.isdigit()):
                p.error("targetPort", f'"{tp}" is not a valid port name (IANA_SVC_NAME: at most 15 lower-case letters, digits and "-")')
        node_port = p.get("nodePort", int)
        if node_port is not None:
            lo, hi = NODE_PORT_RANGE
            if stype not in ("NodePort", "LoadBalancer"):
                p.error("nodePort", f"may not be used when type is '{stype}'")
            elif not lo <= node_port <= hi:
                p.error("nodePort", f"nodePort {node_port} is not in the valid range {lo}-{hi} (kube-apiserver --service-node-port-range)")
        p.done()
