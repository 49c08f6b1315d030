"""How an Ingress controller routes one HTTP request, as the Kubernetes Ingress specification defines it.

Hosts: exact (case-insensitive) before a wildcard ``*.foo.com`` (exactly one more label) before the
rules without a host. Paths: Exact, Prefix (element-wise on ``/``, a trailing slash ignored) and
ImplementationSpecific as the controller does it (NGINX: a string prefix, or a case-insensitive regex
under ``use-regex``/``rewrite-target``). Precedence: the longest matching path; at equal length Exact
before Prefix; the rules for one host merged across the Ingresses the controller serves. No match: the
Ingress's defaultBackend, else the controller's default backend (404). A backend without ready
endpoints: 503."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from .controllers import Controller

REWRITE_TARGET = "nginx.ingress.kubernetes.io/rewrite-target"
REGEX_ANNOTATIONS = ("nginx.ingress.kubernetes.io/use-regex", REWRITE_TARGET)
SSL_REDIRECT = ("nginx.ingress.kubernetes.io/ssl-redirect", "nginx.ingress.kubernetes.io/force-ssl-redirect")


@dataclass
class Request:
    scheme: str  # http | https
    host: str | None  # the Host header / SNI, lower case, without port; None: none, or an IP literal
    path: str  # the path, query string removed
    raw_host: str = ""

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.raw_host}{self.path}"


def parse_request(url: str, host_header: str | None = None) -> Request:
    """``http://host[:port]/path?q`` -> Request; ``host_header`` (the -H 'Host: x' value) overrides the URL's host.
    Raises ValueError with a clear message."""
    m = re.match(r"^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?([^/?#]*)([^?#]*)", url.strip())
    if not m or (not m.group(2) and host_header is None):
        raise ValueError(f"{url!r} is not an http(s) URL (http://HOST/PATH)")
    scheme = (m.group(1) or "http").lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r}: scheme {scheme} is not http or https")
    raw = host_header if host_header is not None else m.group(2)
    raw = raw.strip()
    if "@" in raw:
        raw = raw.rsplit("@", 1)[1]
    host = raw
    if host.startswith("["):  # [v6]:port
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        host = ""  # an IP literal carries no rule's host
    except ValueError:
        pass
    if host and not re.fullmatch(r"[a-z0-9_*]([a-z0-9_.-]*[a-z0-9_])?", host):
        raise ValueError(f"{raw!r} is not a host name")
    path = m.group(3) or "/"
    if not path.startswith("/"):
        path = "/" + path
    return Request(scheme, host or None, path, m.group(2) if host_header is None else raw)


def host_matches(rule_host: str, host: str | None) -> str | None:
    """How ``rule_host`` matches: "exact", "wildcard", "any" (no host in the rule) or None."""
    if not rule_host:
        return "any"
    if host is None:
        return None
    rh = rule_host.lower().rstrip(".")
    if rh.startswith("*."):
        suffix = rh[1:]  # ".foo.com"
        if host.endswith(suffix):
            first = host[: -len(suffix)]
            return "wildcard" if first and "." not in first else None
        return None
    return "exact" if rh == host else None


def _elements(p: str) -> list[str]:
    return [e for e in p.split("/") if e]


def path_match(path: str, path_type: str, req: str, regex: bool = False) -> int | None:
    """The matched length (for precedence) when ``path`` of ``path_type`` matches request path ``req``, else None."""
    if path_type == "Exact":
        return len(path) if req == path else None
    if path_type == "Prefix":
        pe, re_ = _elements(path), _elements(req)
        if re_[: len(pe)] == pe:
            return len("/" + "/".join(pe)) if pe else 1
        return None
    # ImplementationSpecific (NGINX): a case-insensitive regex location under use-regex, else a string prefix
    if regex:
        try:
            return len(path) if re.match(path, req, re.IGNORECASE) else None
        except re.error:
            return None
    return len(path) if req.startswith(path) else None


@dataclass
class Candidate:
    ingress: object  # KubeObject
    host: str
    path: str
    path_type: str
    backend: dict
    order: int

    @property
    def ingress_key(self) -> str:
        return f"{self.ingress.namespace}/{self.ingress.name}"


@dataclass
class Decision:
    status: int
    request: Request
    controller: Controller
    backend: dict | None = None  # {"namespace", "service", "port"}
    rule: dict | None = None  # {"ingress", "host", "path", "pathType"}
    endpoint: str | None = None
    tried: list = field(default_factory=list)
    trace: list = field(default_factory=list)
    reason: str = ""
    tls: dict | None = None
    location: str | None = None  # a redirect's Location
    upstream_path: str | None = None  # the path the backend gets (NGINX's rewrite-target changes it)
    endpoint_obj: object = None
    service_obj: object = None
    port_obj: object = None

    def to_dict(self) -> dict:
        d = {"status": self.status, "backend": self.backend, "rule": self.rule, "endpoint": self.endpoint,
             "tried": self.tried, "trace": self.trace, "reason": self.reason,
             "controller": {"kind": self.controller.kind, "ingressClass": self.controller.class_name,
                            "controller": self.controller.controller}}
        if self.tls is not None:
            d["tls"] = self.tls
        if self.location is not None:
            d["location"] = self.location
        if self.upstream_path is not None and self.upstream_path != self.request.path:
            d["upstreamPath"] = self.upstream_path
        return d


def annotations_of(o) -> dict:
    if o is None:
        return {}
    return (o.body.get("metadata") or {}).get("annotations") or {}


def _candidates(ctl: Controller) -> list[Candidate]:
    out: list[Candidate] = []
    for ing in ctl.ingresses:
        for rule in (ing.body.get("spec") or {}).get("rules") or []:
            rule = rule or {}
            host = str(rule.get("host") or "")
            for p in ((rule.get("http") or {}).get("paths") or []):
                p = p or {}
                out.append(Candidate(ing, host, str(p.get("path") or "/"), str(p.get("pathType") or "ImplementationSpecific"),
                                     p.get("backend") or {}, len(out)))
    return out


def _backend_text(b: dict) -> str:
    s = b.get("service") or {}
    if s:
        port = s.get("port") or {}
        return f"{s.get('name')}:{port.get('number', port.get('name'))}"
    r = b.get("resource") or {}
    return f"{r.get('kind', 'resource')}/{r.get('name')}"


def _tls_hosts(ctl: Controller):
    for ing in ctl.ingresses:
        for t in (ing.body.get("spec") or {}).get("tls") or []:
            t = t or {}
            yield ing, [str(h) for h in t.get("hosts") or []], t.get("secretName")


def certificate(ctl: Controller, sni: str | None, objects=()) -> dict:
    """The certificate the controller presents for ``sni``: the first tls entry listing the host, else its fake one."""
    secrets = {(o.namespace, o.name) for o in objects if o.kind == "Secret"}
    if sni is not None:
        for ing, hosts, secret in _tls_hosts(ctl):
            if any(host_matches(h, sni) in ("exact", "wildcard") for h in hosts) and secret:
                found = (ing.namespace, secret) in secrets
                return {"sni": sni, "secret": f"{ing.namespace}/{secret}", "ingress": f"{ing.namespace}/{ing.name}",
                        "fake": False, "secretFound": found,
                        "certificate": f"from Secret {ing.namespace}/{secret}" + ("" if found else " (referenced, not in the files)")}
    return {"sni": sni, "secret": None, "ingress": None, "fake": True, "secretFound": False,
            "certificate": f"{ctl.fake_cert} (no tls entry lists {sni or 'this request (no SNI)'})"}


def _has_tls(ctl: Controller, host: str | None) -> bool:
    return host is not None and any(any(host_matches(h, host) in ("exact", "wildcard") for h in hosts)
                                    for _, hosts, _s in _tls_hosts(ctl))


def route(ctl: Controller, cluster, req: Request, objects=()) -> Decision:
    """Route ``req`` through ``ctl``: the winning rule, its backend, an endpoint, and every rule tried."""
    cands = _candidates(ctl)
    d = Decision(404, req, ctl)
    if req.scheme == "https":
        d.tls = certificate(ctl, req.host, objects)
    # 1. the host: exact, else wildcard, else the rules without a host (NGINX's server_name order)
    levels = {c.order: host_matches(c.host, req.host) for c in cands}
    group = "exact" if "exact" in levels.values() else "wildcard" if "wildcard" in levels.values() else "any"
    chosen = [c for c in cands if levels[c.order] == group]
    if ctl.kind == "traefik" and group != "any":  # Traefik's routers: the host-less rules still match, at lower priority
        chosen += [c for c in cands if levels[c.order] == "any"]
    regex = ctl.kind == "nginx" and any(annotations_of(c.ingress).get(a) not in (None, "false", False)
                                        for c in chosen for a in REGEX_ANNOTATIONS)
    # 2. the path: longest match, Exact before Prefix at equal length, then the oldest (first loaded)
    matched = []
    for c in cands:
        if c not in chosen:
            lv = levels[c.order]
            why = (f"host {c.host or '(any)'} does not match {req.host or 'a request without a host'}" if lv is None
                   else f"host {c.host or '(any)'} matches ({lv}) but a more specific host ({group}) takes the request")
            d.tried.append(_tried(c, "lost", why))
            continue
        n = path_match(c.path, c.path_type, req.path, regex and c.path_type != "Exact")
        kind = c.path_type if c.path_type != "ImplementationSpecific" else f"ImplementationSpecific: {_specific(ctl.kind, regex)}"
        if n is None:
            d.tried.append(_tried(c, "lost", f"path {c.path} ({kind}) does not match {req.path}"))
            continue
        rank = (0 if levels[c.order] == group else 1,)  # traefik: host rules first
        if regex:
            key = rank + (0 if c.path_type == "Exact" else 1, -len(c.path), c.order)
        else:
            key = rank + (-n, 0 if c.path_type == "Exact" else 1, c.order)
        matched.append((key, n, c))
        d.tried.append(_tried(c, "matched", f"path {c.path} ({kind}) matches {req.path} (length {n})"))
    matched.sort(key=lambda t: t[0])
    winner = matched[0][2] if matched else None
    for entry in d.tried:
        if entry["result"] == "matched":
            if winner is not None and entry["order"] == winner.order:
                entry["result"] = "won"
                entry["why"] += ("; the longest match" if len(matched) > 1 else "; the only match") + \
                                ((" (regex locations, use-regex on this host)") if regex else "")
            else:
                entry["result"] = "lost"
                entry["why"] += f"; {winner.path} ({winner.path_type}) of {winner.ingress_key} takes precedence"
    for entry in d.tried:
        entry.pop("order", None)
    backend, ing = None, None
    if winner is not None:
        backend, ing = winner.backend, winner.ingress
        d.rule = {"ingress": winner.ingress_key, "host": winner.host, "path": winner.path, "pathType": winner.path_type}
    else:
        ing = _default_backend_owner(ctl, chosen)
        if ing is not None:
            backend = (ing.body.get("spec") or {}).get("defaultBackend")
            d.tried.append({"ingress": f"{ing.namespace}/{ing.name}", "host": None, "path": None, "pathType": None,
                            "backend": _backend_text(backend), "result": "won", "why": "no rule matches: the Ingress's defaultBackend"})
    if backend is None:
        d.status = 404
        d.reason = f"no rule matches and no defaultBackend: the {ctl.kind} controller's default backend answers 404"
        return d
    _resolve(d, cluster, ing, backend)
    d.upstream_path = req.path
    if winner is not None and ctl.kind == "nginx" and annotations_of(ing).get(REWRITE_TARGET):
        d.upstream_path = rewrite(winner.path, str(annotations_of(ing)[REWRITE_TARGET]), req.path)
    redirect = _redirect(ctl, ing, req) if d.status == 200 and req.scheme == "http" else None
    if redirect is not None:
        d.status, why = redirect
        d.location = f"https://{req.raw_host}{req.path}"
        d.endpoint, d.endpoint_obj = None, None  # the controller answers itself; the HTTPS request is proxied
        d.reason = f"{why}; the HTTPS request then goes to {d.backend['service']}:{d.backend['port']}"
    return d


def _redirect(ctl: Controller, ing, req: Request) -> tuple[int, str] | None:
    """The controller's own redirect of plain HTTP to HTTPS: (status, why), or None when it proxies.
    NGINX: 308 for a host with TLS (ssl-redirect, default true) or always with force-ssl-redirect. HAProxy: for a
    host with TLS (haproxy.org/ssl-redirect, default on with TLS), 302 unless haproxy.org/ssl-redirect-code says.
    Traefik: never by default (a redirect middleware on the entrypoint does it)."""
    ann = {k: str(v).lower() for k, v in annotations_of(ing).items()}
    tls = _has_tls(ctl, req.host)
    if ctl.kind == "nginx":
        if ann.get(SSL_REDIRECT[1]) == "true":
            return 308, f"NGINX redirects HTTP to HTTPS (308): {SSL_REDIRECT[1]} is true"
        if tls and ann.get(SSL_REDIRECT[0], "true") != "false":
            return 308, f"NGINX redirects HTTP to HTTPS (308) for {req.host}, a host with TLS (ssl-redirect is on by default)"
    elif ctl.kind == "haproxy":
        on = ann.get("haproxy.org/ssl-redirect", "true" if tls else "false") == "true"
        if on:
            code = ann.get("haproxy.org/ssl-redirect-code", "302")
            code = int(code) if code in ("301", "302", "303", "307", "308") else 302
            return code, (f"HAProxy redirects HTTP to HTTPS ({code}) for {req.host}, a host with TLS" if tls
                          else f"HAProxy redirects HTTP to HTTPS ({code}): haproxy.org/ssl-redirect is true")
    return None


def _specific(kind: str, regex: bool) -> str:
    """How a controller reads an ImplementationSpecific path."""
    if kind == "nginx":
        return "NGINX's case-insensitive regex location, as use-regex/rewrite-target make it" if regex else \
            "NGINX's string prefix location"
    if kind == "haproxy":
        return "HAProxy's string prefix (path_beg)"
    return "Traefik's PathPrefix, a string prefix"


def rewrite(path: str, target: str, req: str) -> str:
    """NGINX's ``rewrite "(?i)<path>" <target> break;``: when the path's regex matches the request, the whole URI
    becomes ``target`` with ``$1``.. replaced by the groups (empty when a group took no part)."""
    try:
        m = re.search(path, req, re.IGNORECASE)
    except re.error:
        return req
    if m is None:
        return req

    def group(g) -> str:
        n = int(g.group(1))
        return (m.group(n) or "") if n <= (m.re.groups or 0) else ""

    out = re.sub(r"\$(\d)", group, target)
    return out if out.startswith("/") else "/" + out


def _tried(c: Candidate, result: str, why: str) -> dict:
    return {"ingress": c.ingress_key, "host": c.host, "path": c.path, "pathType": c.path_type,
            "backend": _backend_text(c.backend), "result": result, "why": why, "order": c.order}


def _default_backend_owner(ctl: Controller, chosen: list[Candidate]):
    with_default = [i for i in ctl.ingresses if (i.body.get("spec") or {}).get("defaultBackend")]
    for c in chosen:  # the Ingress whose rules the host matched: its defaultBackend serves its other paths
        if c.host and c.ingress in with_default:
            return c.ingress
    no_rules = [i for i in with_default if not (i.body.get("spec") or {}).get("rules")]
    return (no_rules or with_default or [None])[0]


def _resolve(d: Decision, cluster, ing, backend: dict) -> None:
    svc_ref = backend.get("service") or {}
    if not svc_ref:
        r = backend.get("resource") or {}
        d.status = 503
        d.reason = f"the backend is a resource ({r.get('kind')}/{r.get('name')}), not a Service: nothing simulated serves it"
        return
    name, port_ref = str(svc_ref.get("name")), svc_ref.get("port") or {}
    svc = next((s for s in (cluster.services if cluster is not None else []) if s.namespace == ing.namespace and s.name == name), None)
    number = port_ref.get("number")
    sp = None
    if svc is not None:
        if "name" in port_ref and number is None:
            sp = next((p for p in svc.ports if p.name == str(port_ref["name"])), None)
        else:
            sp = next((p for p in svc.ports if p.port == number), None)
    port = sp.port if sp is not None else (number if isinstance(number, int) else None)
    d.backend = {"namespace": ing.namespace, "service": name, "port": port}
    if svc is None:
        d.status = 503
        d.reason = f"Service {ing.namespace}/{name} does not exist: 503"
        return
    if sp is None:
        d.status = 503
        d.reason = f"Service {ing.namespace}/{name} has no port {port_ref.get('name', number)}: 503"
        return
    eps = cluster.ready_endpoints(svc, sp)
    d.service_obj, d.port_obj = svc, sp
    if not eps:
        d.status = 503
        d.reason = f"Service {ing.namespace}/{name} port {sp.port} has no ready endpoints: 503 Service Unavailable"
        return
    d.endpoint_obj = eps[0]
    d.endpoint = str(eps[0])
    d.status = 200
    d.reason = f"routed to Service {ing.namespace}/{name} port {sp.port}, endpoint {eps[0]}"
