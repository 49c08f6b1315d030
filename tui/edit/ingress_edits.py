"""The edits of Ingresses and IngressClasses the dashboard's forms ask for (no UI): each an :class:`Edit` of the
workspace's documents, with the undo history's label and the map from the manifest's fields to the form's."""

from __future__ import annotations

from collections.abc import Callable

from .edits import Edit, EditRefused, _upsert_object
from .ingress import _rule_paths_map, _text, ingress, ingress_class, rule, rule_paths, without_rule

INGRESS_PATHS = {"metadata.name": "name", "metadata.namespace": "namespace", "spec.ingressClassName": "class", "spec.tls": "tls",
                 "spec.defaultBackend": "default", "spec.rules": "default", "spec.backend": "default"}
CLASS_PATHS = {"metadata.name": "name", "spec.controller": "controller", "metadata.annotations": "default"}


def _label(old, fields: dict, what: str = "Ingress") -> str:
    ns = _text(fields, "namespace") or "default"
    return f"{'edit' if old else 'add'} {what} {ns}/{_text(fields, 'name')}"


def upsert_ingress(old: tuple[str, str] | None, fields: dict) -> Edit:
    """Add an Ingress with its first rule, or change one's name, namespace, class, TLS and default backend."""
    paths = dict(INGRESS_PATHS)
    return _upsert_object("Ingress", old, _label(old, fields), ingress(fields, paths), paths)


def upsert_rule(ingress_key: tuple[str, str], index: int | None, fields: dict, where: dict | None = None) -> Edit:
    """Add a (host, path) rule to the Ingress ``(namespace, name)``, or change its ``index``-th."""
    where = {} if where is None else where
    paths: dict[str, str] = {}
    inner = rule(fields, index, where)

    def build(body: dict | None) -> dict:
        out = inner(body)
        _rule_paths_map(paths, where["rule"], where["path"])
        return out

    ns, name = ingress_key
    host, path = _text(fields, "host"), _text(fields, "path") or "/"
    label = f"{'edit' if index is not None else 'add'} rule {host or '(any host)'}{path} of Ingress {ns}/{name}"
    return _upsert_object("Ingress", ingress_key, label, build, paths)


def delete_rule(ingress_key: tuple[str, str], index: int, text: str = "") -> Edit:
    ns, name = ingress_key
    return _upsert_object("Ingress", ingress_key, f"delete rule {text or index} of Ingress {ns}/{name}", without_rule(index), {})


def _spec_change(ingress_key: tuple[str, str], label: str, change: Callable[[dict], None]) -> Edit:
    def build(body: dict | None) -> dict:
        if body is None:
            raise EditRefused("the Ingress is gone")
        change(body.setdefault("spec", {}))
        return body

    return _upsert_object("Ingress", ingress_key, label, build, dict(INGRESS_PATHS))


def delete_tls(ingress_key: tuple[str, str], index: int) -> Edit:
    """The Ingress without its ``index``-th TLS entry: its hosts get the controller's default certificate."""

    def change(spec: dict) -> None:
        tls = spec.get("tls") if isinstance(spec.get("tls"), list) else []
        if index >= len(tls):
            raise EditRefused("that TLS entry is gone")
        del tls[index]
        if not tls:
            spec.pop("tls", None)

    return _spec_change(ingress_key, f"delete TLS entry {index + 1} of Ingress {'/'.join(ingress_key)}", change)


def delete_default(ingress_key: tuple[str, str]) -> Edit:
    """The Ingress without its default backend (refused when it has no rules: it would have nothing)."""

    def change(spec: dict) -> None:
        if not rule_paths({"spec": spec}):
            raise EditRefused("the Ingress has no rules: without its default backend it would have nothing (delete the Ingress instead)")
        spec.pop("defaultBackend", None)

    return _spec_change(ingress_key, f"delete the default backend of Ingress {'/'.join(ingress_key)}", change)


def upsert_ingress_class(old: str | None, fields: dict) -> Edit:
    """An IngressClass; the Ingresses that name it (``spec.ingressClassName``) follow a rename."""
    from . import kube

    def follow(e: Edit, files: list, before: dict | None, new: dict) -> None:
        name = (new.get("metadata") or {}).get("name")
        if old is None or name == old:
            return
        for _, _, d, _ in kube.walk(files):
            spec = d.get("spec") if d.get("kind") == "Ingress" else None
            if isinstance(spec, dict) and spec.get("ingressClassName") == old:
                spec["ingressClassName"] = name
                e.notes.append(f"Ingress {kube.identity(d)[2]} follows to {name}")

    label = f"{'edit' if old else 'add'} IngressClass {_text(fields, 'name') or old}"
    return _upsert_object("IngressClass", None if old is None else (None, old), label, ingress_class(fields), dict(CLASS_PATHS), follow)
