"""Ingresses and IngressClasses as the dashboard's forms write them (no UI).

An Ingress's rules are a list of hosts, each with a list of paths; the forms show them flat, one line per
(host, path) pair, as :func:`rule_paths` lists them, so that a rule's place in the tree is one number. The
builders take the forms' text fields and return a function from the object as it is in the file (or None,
for a new one) to the object to write, keeping what the form does not show. Text that cannot be written raises
:class:`~tui.edit.edits.FieldErrors` by form field; the rest (host syntax, path rules, names) is the loader's
(:mod:`tui.load.ingress`), whose located messages the edit's ``field_paths`` place beside the fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .edits import EditRefused, FieldErrors

PATH_TYPES = ("Prefix", "Exact", "ImplementationSpecific")
LEGACY_CLASS = "kubernetes.io/ingress.class"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
CONTROLLERS = ("k8s.io/ingress-nginx", "haproxy.org/ingress-controller/haproxy", "traefik.io/ingress-controller")
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class RulePath:
    """One (host, path) pair of an Ingress: where it is (``spec.rules[rule].http.paths[path]``) and what it says."""

    rule: int
    path_index: int
    host: str
    path: str
    path_type: str
    backend: dict

    @property
    def backend_text(self) -> str:
        return format_backend(self.backend)


def _spec(body: dict | None) -> dict:
    spec = (body or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def rule_paths(body: dict | None) -> list[RulePath]:
    """Every (host, path) pair of an Ingress in the order of the file: rules, then each rule's paths."""
    out: list[RulePath] = []
    for i, rule in enumerate(_spec(body).get("rules") or []):
        if not isinstance(rule, dict):
            continue
        http = rule.get("http") if isinstance(rule.get("http"), dict) else {}
        for j, p in enumerate(http.get("paths") or []):
            if isinstance(p, dict):
                out.append(RulePath(i, j, str(rule.get("host") or ""), str(p.get("path") or ""), str(p.get("pathType") or ""),
                                    p.get("backend") if isinstance(p.get("backend"), dict) else {}))
    return out


def ingress_class_of(body: dict | None) -> str:
    """``spec.ingressClassName``, else the legacy ``kubernetes.io/ingress.class`` annotation, else ""."""
    meta = (body or {}).get("metadata") if isinstance((body or {}).get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    return str(_spec(body).get("ingressClassName") or ann.get(LEGACY_CLASS) or "")


# -- text <-> fields ----------------------------------------------------------------
def parse_port(text: str) -> dict:
    """``80`` as ``{"number": 80}``, ``http`` as ``{"name": "http"}`` (a Service port's name)."""
    t = text.strip()
    if t.isdigit():
        n = int(t)
        if not 1 <= n <= 65535:
            raise ValueError(f"port {n} must be between 1 and 65535, inclusive")
        return {"number": n}
    if not t:
        raise ValueError("required: the Service's port, a number (80) or its name (http)")
    if len(t) > 15 or not _PORT_NAME.match(t):
        raise ValueError(f'"{t}" is neither a port number nor a port name (at most 15 lower-case letters, digits and "-")')
    return {"name": t}


def format_port(port) -> str:
    if not isinstance(port, dict):
        return ""
    return str(port.get("number", port.get("name", "")))


def format_backend(backend) -> str:
    """A backend as the forms write it: ``videos:80``, ``videos:http``, or ``Kind/name`` for a resource."""
    if not isinstance(backend, dict):
        return ""
    svc = backend.get("service")
    if isinstance(svc, dict):
        return f"{svc.get('name', '')}:{format_port(svc.get('port'))}"
    res = backend.get("resource")
    if isinstance(res, dict):
        return f"{res.get('kind', 'resource')}/{res.get('name', '')}"
    return ""


def parse_backend(text: str) -> dict:
    """``SERVICE:PORT`` (PORT a number or a port's name) as an Ingress backend."""
    name, colon, port = text.strip().rpartition(":")
    if not colon or not name.strip():
        raise ValueError(f'"{text.strip()}" is not SERVICE:PORT (e.g. web:80 or web:http)')
    return {"service": {"name": name.strip(), "port": parse_port(port)}}


def parse_tls(text: str) -> list[dict]:
    """``shop.example,www.shop.example -> shop-tls; api.example -> api-tls`` as ``spec.tls``."""
    out: list[dict] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        hosts, arrow, secret = part.partition("->")
        if not arrow or not secret.strip():
            raise ValueError(f'"{part}" is not HOST[,HOST] -> SECRET (e.g. shop.example -> shop-tls)')
        entry: dict = {}
        names = [h.strip() for h in hosts.replace(" ", ",").split(",") if h.strip()]
        if names:
            entry["hosts"] = names
        entry["secretName"] = secret.strip()
        out.append(entry)
    return out


def format_tls(tls) -> str:
    out = []
    for t in tls if isinstance(tls, list) else []:
        if isinstance(t, dict):
            out.append(f"{','.join(str(h) for h in t.get('hosts') or [])} -> {t.get('secretName', '')}".strip())
    return "; ".join(out)


def _text(fields: dict, key: str) -> str:
    return str(fields.get(key) or "").strip()


def _path_type(text: str) -> str:
    known = {t.lower(): t for t in PATH_TYPES}
    if not text:
        return "Prefix"
    if text.lower() not in known:
        raise ValueError(f'unsupported value "{text}": one of {", ".join(PATH_TYPES)}')
    return known[text.lower()]


def _rule_fields(fields: dict, errors: dict, before: dict | None = None) -> tuple[str, dict]:
    """The host and the path entry a rule form describes (the backend kept when the form leaves it alone)."""
    host = _text(fields, "host")
    path = _text(fields, "path") or "/"
    ptype = None
    try:
        ptype = _path_type(_text(fields, "pathType"))
    except ValueError as e:
        errors["pathType"] = str(e)
    backend = None
    service, port = _text(fields, "service"), _text(fields, "port")
    if not service and not port and before is not None and "resource" in (before.get("backend") or {}):
        return host, {**before, "path": path, "pathType": ptype}  # a resource backend, which the form does not show
    try:
        backend = {"service": {"name": service, "port": parse_port(port)}}
    except ValueError as e:
        errors["port"] = str(e)
    if not service:
        errors["service"] = "required: the Service the rule sends to (in the Ingress's namespace)"
    entry = dict(before or {})
    entry.update({"path": path, "pathType": ptype, "backend": backend})
    return host, entry


def _rule_paths_map(loc: dict, rule: int, path: int) -> None:
    """The form's fields for the loader's messages about rule ``rule``, path ``path``."""
    at = f"spec.rules[{rule}].http.paths[{path}]"
    loc.update({f"spec.rules[{rule}].host": "host", f"spec.rules[{rule}]": "host", f"{at}.path": "path", f"{at}.pathType": "pathType",
                f"{at}.backend": "service", f"{at}.backend.service.name": "service", f"{at}.backend.service.port": "port", at: "path"})


# -- builders -------------------------------------------------------------------------
def ingress(fields: dict, paths: dict) -> Callable[[dict | None], dict]:
    """A ``networking.k8s.io/v1`` Ingress: namespace, name and class; a new one also its first rule (host, path,
    pathType, service, port) and TLS secret for that host; an existing one its TLS list and default backend."""

    def build(body: dict | None) -> dict:
        errors: dict[str, str] = {}
        adding = body is None
        body = body or {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {}, "spec": {}}
        from .manifests import _metadata, _put, _sub

        meta = _metadata(body, fields)
        spec = _sub(body, "spec")
        cls = _text(fields, "class")
        if cls != ingress_class_of(body):
            ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
            ann.pop(LEGACY_CLASS, None)  # the API server refuses both: the field replaces the annotation
            _put(meta, "annotations", ann)
            _put(spec, "ingressClassName", cls)
        if "tls" in fields and _text(fields, "tls") != format_tls(spec.get("tls")):  # unchanged text: the entries as they are
            try:
                _put(spec, "tls", parse_tls(_text(fields, "tls")))
            except ValueError as e:
                errors["tls"] = str(e)
        if "default" in fields and _text(fields, "default") != format_backend(spec.get("defaultBackend")):
            text = _text(fields, "default")
            try:
                _put(spec, "defaultBackend", parse_backend(text) if text else None)
            except ValueError as e:
                errors["default"] = str(e)
        if adding and "service" in fields:
            host, entry = _rule_fields(fields, errors)
            secret = _text(fields, "secret")
            if secret and not host:
                errors["secret"] = "a certificate is chosen by SNI, the host name: give the rule a host for it"
            if errors:
                raise FieldErrors(errors)
            rule: dict = {"host": host} if host else {}
            rule["http"] = {"paths": [entry]}
            order = {"ingressClassName": spec.pop("ingressClassName", None), "tls": [{"hosts": [host], "secretName": secret}] if secret else None,
                     "rules": [rule]}
            for k, v in order.items():
                _put(spec, k, v)
            _rule_paths_map(paths, 0, 0)
            if secret:
                paths["spec.tls"] = "secret"
        if errors:
            raise FieldErrors(errors)
        return body

    return build


def rule(fields: dict, index: int | None, where: dict) -> Callable[[dict | None], dict]:
    """Add a (host, path) pair (``index`` None) or change the ``index``-th of :func:`rule_paths`. A path joins the
    rule of its host, or a new rule; a changed host moves it. ``where`` gets its place: rule, path and flat index."""

    def build(body: dict | None) -> dict:
        if body is None:
            raise EditRefused("the Ingress is gone")
        errors: dict[str, str] = {}
        flat = rule_paths(body)
        if index is not None and index >= len(flat):
            raise EditRefused("that rule is gone")
        old = flat[index] if index is not None else None
        rules = _spec(body).get("rules")
        before = rules[old.rule]["http"]["paths"][old.path_index] if old is not None else None
        host, entry = _rule_fields(fields, errors, before)
        for k, rp in enumerate(flat):
            if k != index and rp.host.lower() == host.lower() and rp.path == entry["path"] and rp.path_type == entry["pathType"]:
                errors["path"] = f"this Ingress already has {host or '(any host)'} {entry['path']} ({rp.path_type}): edit that rule instead"
        if errors:
            raise FieldErrors(errors)
        spec = body.setdefault("spec", {})
        rules = spec.setdefault("rules", [])
        if old is not None:
            r = rules[old.rule]
            paths = r["http"]["paths"]
            if str(r.get("host") or "") == host or len(paths) == 1:  # in place (a lone path takes its rule's new host along)
                paths[old.path_index] = entry
                if host:
                    rules[old.rule] = {"host": host, **{k: v for k, v in r.items() if k != "host"}}
                else:
                    r.pop("host", None)
                where.update(rule=old.rule, path=old.path_index)
                where["flat"] = index
                return body
            del paths[old.path_index]
        k = next((i for i, r in enumerate(rules) if isinstance(r, dict) and str(r.get("host") or "") == host), None)
        if k is None:
            rules.append({"host": host, "http": {"paths": [entry]}} if host else {"http": {"paths": [entry]}})
            k = len(rules) - 1
        else:
            http = rules[k].setdefault("http", {})
            http.setdefault("paths", []).append(entry)
        where.update(rule=k, path=len(rules[k]["http"]["paths"]) - 1)
        where["flat"] = next(n for n, rp in enumerate(rule_paths(body)) if (rp.rule, rp.path_index) == (k, where["path"]))
        return body

    return build


def without_rule(index: int) -> Callable[[dict | None], dict]:
    """The Ingress without the ``index``-th (host, path) pair; a rule left without paths goes too."""

    def build(body: dict | None) -> dict:
        flat = rule_paths(body)
        if body is None or index >= len(flat):
            raise EditRefused("that rule is gone")
        rp = flat[index]
        spec = body["spec"]
        rules = spec["rules"]
        paths = rules[rp.rule]["http"]["paths"]
        if len(flat) == 1 and not spec.get("defaultBackend"):
            raise EditRefused("it is the Ingress's only rule, and an Ingress needs rules or a defaultBackend: "
                              "delete the Ingress instead, or give it a default backend first")
        del paths[rp.path_index]
        if not paths:
            del rules[rp.rule]
        if not rules:
            del spec["rules"]
        return body

    return build


def ingress_class(fields: dict) -> Callable[[dict | None], dict]:
    """A ``networking.k8s.io/v1`` IngressClass: its name, ``spec.controller`` and whether it is the default."""

    def build(body: dict | None) -> dict:
        from .manifests import _metadata, _put, _sub

        controller = _text(fields, "controller")
        if not controller:
            raise FieldErrors({"controller": f"required: the controller that implements the class, e.g. {CONTROLLERS[0]}"})
        body = body or {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {}, "spec": {}}
        meta = _metadata(body, fields, namespaced=False)
        ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        if str(fields.get("default")).lower() == "true":
            ann[DEFAULT_CLASS] = "true"
        else:
            ann.pop(DEFAULT_CLASS, None)
        _put(meta, "annotations", ann)
        if "annotations" in meta:  # annotations after the name, as kubectl writes them
            meta["annotations"] = meta.pop("annotations")
        _sub(body, "spec")["controller"] = controller
        return body

    return build
