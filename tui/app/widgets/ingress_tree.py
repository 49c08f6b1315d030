"""The tree's Ingress section: IngressClasses (the default marked), then each Ingress with its class, its
rules (host and path, pathType, the backend Service and port), TLS hosts and secret, and default backend."""

from __future__ import annotations

from ...edit.ingress import DEFAULT_CLASS, format_backend, format_tls, ingress_class_of, rule_paths


def is_default_class(o) -> bool:
    ann = (o.body.get("metadata") or {}).get("annotations") or {}
    return str(ann.get(DEFAULT_CLASS, "")).lower() == "true"


def effective_class(topo, o) -> tuple[str, str]:
    """The class an Ingress is served under, and how the tree says it."""
    cls = ingress_class_of(o.body)
    if cls:
        known = any(c.kind == "IngressClass" and c.name == cls for c in topo.objects)
        return cls, f"class {cls}" + ("" if known or not _classes(topo) else " (no such IngressClass)")
    defaults = [c for c in _classes(topo) if is_default_class(c)]
    if len(defaults) == 1:
        return defaults[0].name, f"no class: the default, {defaults[0].name}"
    if not _classes(topo):
        return "", "no class (the controller serves every Ingress)"
    return "", "no class and no default IngressClass: no controller serves it"


def _classes(topo) -> list:
    return [o for o in topo.objects if o.kind == "IngressClass"]


def rule_text(rp) -> tuple[str, str]:
    """A rule's line in the tree: ``shop.example/videos → videos:http`` and its pathType (a narrow pane cuts that first)."""
    return f"{rp.host or '(any host)'}{rp.path} → {rp.backend_text}", rp.path_type


def add_ingresses(root, topo, add, keep, path: set[str], filtering: bool = False) -> None:
    """The "Ingresses" group under ``root``; ``add`` and ``keep`` are the tree's own (adding, filtering)."""
    from .topology_tree import Item

    classes = _classes(topo)
    ingresses = [o for o in topo.objects if o.kind == "Ingress"]
    detail = f"{len(classes)} IngressClass{'es' if len(classes) != 1 else ''}" if classes else ""
    group = add(root, "group", f"Ingresses ({len(ingresses)})", detail, Item("group", "ingresses"), False)
    for c in classes:
        controller = str((c.body.get("spec") or {}).get("controller") or "")
        serving = sum(1 for o in ingresses if effective_class(topo, o)[0] == c.name)
        text = f"IngressClass {c.name}"
        if keep(f"{text} {controller}"):
            add(group, "ingressclass", text, f"{controller}{' · default' if is_default_class(c) else ''} · {serving} Ingress"
                f"{'es' if serving != 1 else ''}", Item("ingressclass", c.name), True)
    for o in ingresses:
        key = f"{o.namespace}/{o.name}"
        spec = o.body.get("spec") or {}
        rps = rule_paths(o.body)
        words = " ".join([key, "ingress"] + [" ".join(rule_text(rp)) for rp in rps] + [format_tls(spec.get("tls"))])
        if not keep(words):
            continue
        node = add(group, "ingress", key, effective_class(topo, o)[1], Item("ingress", key), False, f"ingress:{key}" in path)
        for k, rp in enumerate(rps):
            text, what = rule_text(rp)
            add(node, "ingress-rule", text, what, Item("ingress-rule", key, index=k), True, f"rule:{key}:{k}" in path)
        if spec.get("defaultBackend"):
            add(node, "ingress-default", "default backend", f"→ {format_backend(spec['defaultBackend'])}", Item("ingress-default", key), True,
                f"rule:{key}:default" in path)
        for k, t in enumerate(spec.get("tls") or []):
            if isinstance(t, dict):
                hosts = ",".join(str(h) for h in t.get("hosts") or []) or "(every host)"
                add(node, "ingress-tls", f"TLS {hosts}", f"secret {t.get('secretName', '(none: the default certificate)')}",
                    Item("ingress-tls", key, index=k), True, f"tls:{key}:{k}" in path)
    if not group.children and filtering:
        group.remove()
