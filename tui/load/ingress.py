"""An Ingress's spec checked as the API server validates it (networking.k8s.io/v1, ValidateIngressSpec): hosts,
paths and pathTypes, backends, TLS hosts. Each mistake is a located error; the object is kept."""

from __future__ import annotations

import ipaddress
import re

from .errors import did_you_mean
from .fields import Fields, type_name
from .yamlsrc import YList, YMap

PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_BAD_PATH = ("//", "/./", "/../", "%2f", "%2F", "#")  # the API server's strict path check for Exact and Prefix
_IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def host_error(host: str, tls: bool = False) -> str | None:
    """Why ``host`` is not an Ingress host: a DNS subdomain, optionally ``*.`` then one; no IP address, no port."""
    try:
        ipaddress.ip_address(host)
        return f'"{host}" is an IP address: an Ingress host is a DNS name (a rule for every address has no host)'
    except ValueError:
        pass
    name = host[2:] if host.startswith("*.") else host
    if "*" in name:
        return f'"{host}": a wildcard is only "*." as the first label (*.foo.com)'
    if ":" in name:
        return f'"{host}": a host has no port'
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        return f'"{host}" is not a DNS subdomain (lower-case letters, digits, "-" and ".")'
    return None


def check_ingress(f: Fields) -> None:
    spec_map = f.get("spec", YMap)
    if spec_map is None:
        return
    spec = Fields(spec_map, f.at("spec"), f.problems, ("ingressClassName", "defaultBackend", "tls", "rules", "backend"))
    if spec.has("backend"):
        spec.error("backend", "networking.k8s.io/v1 calls it defaultBackend (backend was v1beta1)")
    if spec.has("defaultBackend"):
        _backend(spec, "defaultBackend")
    rules = spec.get("rules", YList)
    if not rules and not spec.has("defaultBackend"):
        f.problems.error(spec_map.mark, spec.at("rules"), "either defaultBackend or rules must be specified")
    for _i, rule, path in spec.maps("rules"):
        r = Fields(rule, path, f.problems, ("host", "http"))
        host = r.get("host", str)
        if host is not None and (why := host_error(host)):
            r.error("host", why)
        http = r.sub("http", ("paths",))
        if http is None:
            continue
        if not http.get("paths", YList):
            http.error("paths", "required: at least one path") if http.has("paths") else \
                f.problems.error(http.m.mark, http.at("paths"), "required field is missing")
        for _j, p_map, ppath in http.maps("paths"):
            _path(Fields(p_map, ppath, f.problems, ("path", "pathType", "backend")))
        http.done()
        r.done()
    for _i, t_map, tpath in spec.maps("tls"):
        t = Fields(t_map, tpath, f.problems, ("hosts", "secretName"))
        for _j, h, mark, hpath in t.items("hosts"):
            if not isinstance(h, str):
                f.problems.error(mark, hpath, f"expected a string, got {type_name(h)}")
            elif (why := host_error(h, tls=True)):
                f.problems.error(mark, hpath, why)
        t.get("secretName", str)
        t.done()
    spec.get("ingressClassName", str)
    spec.done()


def _path(p: Fields) -> None:
    ptype = p.get("pathType", str, required=True)
    if ptype is not None and ptype not in PATH_TYPES:
        p.error("pathType", f'unsupported value "{ptype}": one of {", ".join(PATH_TYPES)}{did_you_mean(ptype, PATH_TYPES)}')
    path = p.get("path", str)
    if path is None and ptype in ("Exact", "Prefix"):
        p.problems.error(p.m.mark, p.at("path"), f"required for pathType {ptype}")
    elif path is not None:
        if not path.startswith("/"):
            p.error("path", f'"{path}" must be an absolute path (start with "/")')
        elif ptype in ("Exact", "Prefix"):
            bad = next((b for b in _BAD_PATH if b in path), None) or \
                next((b for b in ("/..", "/.") if path.endswith(b)), None)
            if bad:
                p.error("path", f'"{path}" must not contain "{bad}" for pathType {ptype}')
    _backend(p, "backend", required=True)
    p.done()


def _backend(f: Fields, key: str, required: bool = False) -> None:
    b = f.sub(key, ("service", "resource"), required=required)
    if b is None:
        return
    if b.has("service") == b.has("resource"):
        f.error(key, "exactly one of service or resource" if b.has("service") else "required: service (name and port) or resource")
    svc = b.sub("service", ("name", "port"))
    if svc is not None:
        name = svc.get("name", str, required=True)
        if name is not None and not re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", name):
            svc.error("name", f'"{name}" is not a Service name (a DNS-1035 label)')
        port = svc.sub("port", ("name", "number"), required=True)
        if port is not None:
            if port.has("name") == port.has("number"):
                svc.error("port", "exactly one of name or number")
            number = port.get("number", int)
            if number is not None and not 1 <= number <= 65535:
                port.error("number", f"port {number} must be between 1 and 65535, inclusive")
            pname = port.get("name", str)
            if pname is not None and not _IANA_SVC_NAME.match(pname):
                port.error("name", f'"{pname}" is not a port name (at most 15 lower-case letters, digits and "-")')
            port.done()
        svc.done()
    res = b.sub("resource", ("apiGroup", "kind", "name"))
    if res is not None:
        res.get("kind", str, required=True)
        res.get("name", str, required=True)
        res.done()
    b.done()
