"""The types of the Kubernetes fields the simulation reads, checked as the API server's decoder checks them.

``spec.containers: 3`` or ``status.podIP: [..]`` is refused by the API server before anything else ("cannot
unmarshal number into Go struct field PodSpec.spec.containers of type []v1.Container"). The simulation reads
such fields (a pod's ports, its node, its addresses; a Node's pod CIDR; an EndpointSlice's endpoints, ...), so
an object with one of them of the wrong type is reported here, at the value, and not kept: whatever is kept
has every field below of its type (or null, which is the field left unset). Fields not listed are not
looked at; the kinds with a validator of their own (a Service's ports, Ingress, NetworkPolicy) are checked
there.
"""

from __future__ import annotations

from .errors import Problems
from .fields import type_name
from .yamlsrc import YList, YMap

INT32 = (-(2**31), 2**31 - 1)  # the API's integers are int32 (replicas, ports, timeouts)


class ListOf:
    """A list of items of one shape."""

    __slots__ = ("item",)

    def __init__(self, item) -> None:
        self.item = item


class MapOf:
    """A mapping of any keys to values of one type (labels, a selector, a ConfigMap's data)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


PORT = {"name": str, "port": int, "protocol": str}
CONTAINER = {"name": str, "ports": ListOf({"name": str, "containerPort": int, "hostPort": int, "protocol": str})}
POD_SPEC = {
    "containers": ListOf(CONTAINER), "initContainers": ListOf(CONTAINER), "nodeName": str, "hostNetwork": bool,
    "hostname": str, "subdomain": str, "setHostnameAsFQDN": bool, "dnsPolicy": str,
    "dnsConfig": {"nameservers": ListOf(str), "searches": ListOf(str), "options": ListOf({"name": str, "value": str})},
    "tolerations": ListOf({"key": str, "operator": str, "value": str, "effect": str}), "nodeSelector": MapOf(str),
}
TEMPLATE = {"metadata": {"labels": MapOf(str), "annotations": MapOf(str)}, "spec": POD_SPEC}
WORKLOAD = {"spec": {"replicas": int, "selector": {"matchLabels": MapOf(str)}, "template": TEMPLATE, "serviceName": str}}
OWNED = {"metadata": {"ownerReferences": ListOf({"kind": str, "name": str})}}
TARGET = {"kind": str, "name": str, "namespace": str}
ADDRESS = {"ip": str, "hostname": str, "nodeName": str, "targetRef": TARGET}

SHAPES: dict[str, dict] = {
    "Pod": {**OWNED, "spec": POD_SPEC,
            "status": {"phase": str, "podIP": str, "podIPs": ListOf({"ip": str}), "hostIP": str,
                       "conditions": ListOf({"type": str, "status": str})}},
    "Node": {"spec": {"podCIDR": str, "podCIDRs": ListOf(str), "unschedulable": bool,
                      "taints": ListOf({"key": str, "value": str, "effect": str})},
             "status": {"addresses": ListOf({"type": str, "address": str})}},
    "Service": {"spec": {"type": str, "ports": ListOf({**PORT, "targetPort": (int, str), "nodePort": int}), "clusterIP": str,
                         "clusterIPs": ListOf(str), "selector": MapOf(str), "externalName": str, "externalTrafficPolicy": str, "internalTrafficPolicy": str, "sessionAffinity": str,
                         "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": int}}, "ipFamilyPolicy": str,
                         "ipFamilies": ListOf(str), "loadBalancerIP": str, "publishNotReadyAddresses": bool},
                "status": {"loadBalancer": {"ingress": ListOf({"ip": str, "hostname": str})}}},
    "Endpoints": {"subsets": ListOf({"addresses": ListOf(ADDRESS), "notReadyAddresses": ListOf(ADDRESS), "ports": ListOf(PORT)})},
    "EndpointSlice": {"addressType": str, "ports": ListOf(PORT),
                      "endpoints": ListOf({"addresses": ListOf(str), "hostname": str, "nodeName": str, "targetRef": TARGET,
                                           "conditions": {"ready": bool, "serving": bool, "terminating": bool}})},
    "Deployment": WORKLOAD, "ReplicaSet": {**OWNED, **WORKLOAD}, "StatefulSet": WORKLOAD, "DaemonSet": WORKLOAD,
    "ConfigMap": {"data": MapOf(str)},
    "IngressClass": {"spec": {"controller": str}},
}

# A Pod's fields but its spec (a big dump's reader checks the spec once for the pods of one owner).
SHAPES["Pod.rest"] = {k: v for k, v in SHAPES["Pod"].items() if k != "spec"}

_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _want(shape) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_want(s) for s in shape)
    if isinstance(shape, dict):
        return "a mapping"
    if isinstance(shape, ListOf):
        return "a list"
    if isinstance(shape, MapOf):
        return f"a mapping of {_NAMES[shape.value].split(' ', 1)[1]}s" if shape.value is not bool else "a mapping"
    return _NAMES[shape]


def _fits(v, shape) -> bool:
    """Whether ``v`` (not null) is of the shape's own type (its items not looked at)."""
    if isinstance(shape, (dict, MapOf)):
        return isinstance(v, dict)
    if isinstance(shape, ListOf):
        return isinstance(v, list)
    if isinstance(shape, tuple):
        return any(_fits(v, s) for s in shape)
    if shape is int:
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, shape)


def fits(kind: str, body: dict, memo: dict | None = None) -> bool:
    """Whether every field of ``body`` (plain data) the simulation reads has its type: the quick check (a big dump's
    pods). ``memo`` (kept by the caller from object to object) remembers the last list found right at each place:
    the pods of one owner, one after the other in a dump, share their containers and tolerations (the reader makes
    them one list), checked once."""
    check = _CHECKERS.get(kind)
    if check is None:
        if kind not in SHAPES:
            return True
        check = _CHECKERS[kind] = _checker(SHAPES[kind])
    return check(body, memo if memo is not None else {})


def _checker(shape):
    """A function ``(value, memo) -> bool`` for a value (not null) of ``shape``: the shape's walk written out once as
    Python source and compiled (no call per field: 150,000 pods of a dump are checked in a fraction of a second).
    The source is made from the constant shapes above only, never from input."""
    lines = ["def check(v, memo):"]
    names: dict = {}  # the globals of the source: memo keys and types
    counter = iter(range(1 << 30))

    def name_of(obj, prefix: str) -> str:
        n = f"{prefix}{next(counter)}"
        names[n] = obj
        return n

    def emit(var: str, sh, depth: int) -> None:
        pad = "    " * depth
        if isinstance(sh, dict):
            lines.append(f"{pad}if not isinstance({var}, dict): return False")
            for k, sub in sh.items():
                x = f"x{next(counter)}"
                lines.append(f"{pad}{x} = {var}.get({k!r})")
                lines.append(f"{pad}if {x} is not None:")
                emit(x, sub, depth + 1)
        elif isinstance(sh, ListOf):
            key, x = name_of(object(), "K"), f"x{next(counter)}"
            lines.append(f"{pad}if not isinstance({var}, list): return False")
            lines.append(f"{pad}if {var} and memo.get({key}) is not {var}:")  # (the very list checked last: a dump's pods share them)
            lines.append(f"{pad}    for {x} in {var}:")
            lines.append(f"{pad}        if {x} is None: return False")
            emit(x, sh.item, depth + 2)
            lines.append(f"{pad}    memo[{key}] = {var}")
        elif isinstance(sh, MapOf):
            x = f"x{next(counter)}"
            lines.append(f"{pad}if not isinstance({var}, dict): return False")
            lines.append(f"{pad}for {x} in {var}.values():")
            lines.append(f"{pad}    if {x} is None: return False")
            emit(x, sh.value, depth + 1)
        elif isinstance(sh, tuple):
            either = name_of(tuple(_checker(one) for one in sh), "E")
            lines.append(f"{pad}if not any(c({var}, memo) for c in {either}): return False")
        elif sh is int:
            lines.append(f"{pad}if type({var}) is not int or not {INT32[0]} <= {var} <= {INT32[1]}: return False")
        elif sh is bool:
            lines.append(f"{pad}if {var} is not True and {var} is not False: return False")
        else:
            lines.append(f"{pad}if not isinstance({var}, {name_of(sh, 'T')}): return False")

    emit("v", shape, 1)
    lines.append("    return True")
    scope = dict(names)
    exec(compile("\n".join(lines), f"<shape checker {next(counter)}>", "exec"), scope)  # noqa: S102 - our own constants
    return scope["check"]


_CHECKERS: dict = {}


def check(kind: str, m: YMap, path: str, problems: Problems, reported: set[str]) -> bool:
    """Report every field of ``m`` (an object of ``kind``) of the wrong type, but at the paths in ``reported``
    (another validator has said so already); whether all are right."""
    shape = SHAPES.get(kind)
    if shape is None or fits(kind, m):  # (the quick check first: the walk below only finds where the wrong types are)
        return True
    bad: list[tuple] = []
    _walk(m, shape, path, None, bad)
    for mark, at, message in bad:
        if not any(at == r or at.startswith((r + ".", r + "[")) for r in reported):
            problems.error(mark, at, message)
    return not bad


def _walk(v, shape, path: str, mark, bad: list) -> None:
    """Collect ``(mark, path, message)`` for ``v`` (not null at the top) against ``shape``."""
    if not _fits(v, shape):
        bad.append((mark, path, f"expected {_want(shape)}, got {type_name(v)}"))
        return
    if isinstance(shape, dict):
        for k, s in shape.items():
            x = v.get(k)
            if x is not None:
                _walk(x, s, f"{path}.{k}" if path else k, v.vmark(k), bad)
    elif isinstance(shape, (ListOf, MapOf)):
        items = enumerate(v) if isinstance(shape, ListOf) else v.items()
        item = shape.item if isinstance(shape, ListOf) else shape.value
        for i, x in items:
            at = f"{path}[{i}]" if isinstance(shape, ListOf) else f"{path}.{i}"
            xmark = v.imark(i) if isinstance(v, YList) else v.vmark(i)
            if x is None:
                bad.append((xmark, at, f"expected {_want(item)}, got null"))
            else:
                _walk(x, item, at, xmark, bad)
    elif (shape is int or isinstance(shape, tuple) and isinstance(v, int)) and not INT32[0] <= v <= INT32[1]:
        bad.append((mark, path, f"{v} is out of range: an integer here is 32 bits ({INT32[0]} to {INT32[1]})"))
