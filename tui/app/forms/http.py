"""`h`: the fields of an HTTP request to the cluster's Ingress controller, and their check through the core.

URL, an optional Host header (it, not the URL's address, picks the rule and the certificate), the client
(the external client by default) and an optional IngressClass (the default class's controller otherwise).
Each problem is reported beside its field in the core's own words (:mod:`tui.ingress`)."""

from __future__ import annotations

from .form import Field

HELP = {
    "url": "http(s)://HOST[:PORT]/PATH: the scheme decides TLS (https: SNI picks the certificate), the path the rule.",
    "host": "A Host header that replaces the URL's host for routing, as curl -H 'Host: shop.example' http://192.168.100.241/ "
            "sends it. Empty: the URL's host.",
    "client": "Who sends it: a host or pod of the topology (its address). The default is the external client: the packets "
              "reach the controller through its LoadBalancer or NodePort Service.",
    "class": "The IngressClass whose controller answers. Empty: the default IngressClass's (else the only one).",
}


def suggestions(net) -> dict[str, list[str]]:
    """URLs from the Ingresses' rules (https for a host with TLS), clients, classes."""
    from ...edit.ingress import rule_paths

    urls: list[str] = []
    for o in net.topology.objects:
        if o.kind != "Ingress":
            continue
        tls = {str(h) for t in (o.body.get("spec") or {}).get("tls") or [] if isinstance(t, dict) for h in t.get("hosts") or []}
        for rp in rule_paths(o.body):
            host = rp.host.replace("*", "www") or "example.com"
            urls.append(f"{'https' if rp.host in tls else 'http'}://{host}{rp.path}")
    classes = [o.name for o in net.topology.objects if o.kind == "IngressClass"]
    return {"url": list(dict.fromkeys(urls)), "host": [], "client": sorted(net.namespaces), "class": classes}


def fields(net, last: dict | None) -> list[Field]:
    from ...ingress.request import default_client

    last = last or {}
    s = suggestions(net)
    client = last.get("client") if last else default_client(net)
    url = last.get("url") or (s["url"][0] if s["url"] else "")
    out = [Field("url", "URL", url, "e.g. https://shop.example/videos", s["url"]),
           Field("host", "Host header (optional)", last.get("host", ""), "the URL's host"),
           Field("client", "From (client)", client or "", "the external client" if default_client(net) else "no external client here",
                 s["client"]),
           Field("class", "IngressClass (optional)", last.get("class", ""), "the default class", s["class"])]
    for f in out:
        f.help = HELP[f.key]
    return out


def check(net, values: dict) -> tuple[dict | None, dict[str, str]]:
    """The request the values describe (url, host, client, class; None for the empty ones) and no problems, or
    None and the problems by field ("" for the request as a whole)."""
    from ...ingress.controllers import ControllerError, controller_for
    from ...ingress.match import parse_request
    from ...sim.query import QueryError, source

    url, host = values.get("url", "").strip(), values.get("host", "").strip()
    client, cls = values.get("client", "").strip(), values.get("class", "").strip()
    errors: dict[str, str] = {}
    if not url:
        errors["url"] = "required: http(s)://HOST/PATH, e.g. https://shop.example/videos"
    else:
        try:
            parse_request(url, host or None)
        except ValueError as e:
            errors["host" if host and repr(host) in str(e) else "url"] = str(e)
    if client:
        try:
            source(net, client)
        except QueryError as e:
            errors["client"] = str(e)
    objects = net.cluster.topology.objects if net.cluster is not None else net.topology.objects
    try:
        controller_for(objects, cls or None)
    except ControllerError as e:
        errors["class"] = str(e)
    if not any(o.kind == "Ingress" for o in net.topology.objects):
        errors[""] = "this topology has no Ingress: add one with a (a, then Ingress)"
    if errors:
        return None, errors
    return {"url": url, "host": host or None, "client": client or None, "class": cls or None}, {}
