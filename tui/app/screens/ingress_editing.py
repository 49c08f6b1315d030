"""The dashboard's Ingress forms: add and edit Ingresses, their rules (host and path to a Service's port), TLS
entries and default backend, and IngressClasses; delete any of them (a part of :class:`MainScreen`).

The same keys as every other edit (a, e, d) act on the tree's "Ingresses" items. Each change is a manifest
written through the workspace (undo, save), checked by the loader, whose messages appear beside the fields.
A rule that names a Service (or port) that does not exist is allowed, as the API server allows it, but the
form says first that such a request would get 503. The Ingress controller the simulator runs when the files
run none is not edited as if it were in the file: the screen says why it is there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy

if TYPE_CHECKING:
    from ..forms.form import Field

ing = lazy("tui.edit.ingress")
ie = lazy("tui.edit.ingress_edits")
kube = lazy("tui.edit.kube")
form = lazy("tui.app.forms.form")

INGRESS_ITEMS = ("ingress", "ingress-rule", "ingress-tls", "ingress-default")
ADD_CHOICES = ("Ingress", "IngressRule", "IngressClass")

HELP = {
    "namespace": "The Ingress's namespace: its rules send to Services of this namespace.",
    "name": "metadata.name: lower-case letters, digits, '-' and '.'.",
    "class": "spec.ingressClassName: the IngressClass whose controller serves it. Empty: the default IngressClass's.",
    "host": "The Host header (and SNI) the rule is for: shop.example, or *.shop.example (one more label). Empty: any host.",
    "path": "The path it matches, from /: /videos. Prefix matches whole path elements (/videos/cat.mp4, not /videosx).",
    "pathType": "Prefix (by path elements), Exact (the whole path), or ImplementationSpecific (as the controller reads it).",
    "service": "The backend Service, in the Ingress's namespace. The controller sends to its endpoints (pods) directly.",
    "port": "The Service's port: its number (80) or its name (http).",
    "secret": "Optional: a TLS Secret (kubernetes.io/tls) for the host: https requests for it get this certificate (SNI).",
    "tls": "HOST[,HOST] -> SECRET, separated by ';': shop.example,www.shop.example -> shop-tls. Chosen by SNI.",
    "default": "SERVICE:PORT that answers what no rule matches (spec.defaultBackend). Empty: the controller's 404.",
    "controller": "spec.controller: k8s.io/ingress-nginx, haproxy.org/ingress-controller/haproxy or traefik.io/ingress-controller.",
}


class IngressEditingMixin:
    """Ingress, rule and IngressClass forms for :class:`MainScreen`."""

    # -- what an item stands for ------------------------------------------------------------
    def _ingress_key(self, item) -> tuple[str, str] | None:
        """The Ingress ``(namespace, name)`` an item is, or is part of."""
        if item is None:
            return None
        if item.kind in INGRESS_ITEMS:
            ns, _, name = item.name.partition("/")
            return ns, name
        if item.kind == "object" and item.name.startswith("Ingress/"):
            _, ns, name = item.name.split("/", 2)
            return ns, name
        return None

    def _ingress_obj(self, key: tuple[str, str] | None):
        return kube.kube_object(self.workspace.loaded.topology, "Ingress", key[0], key[1]) if key else None

    def _dry_run(self, edit) -> dict[str, str]:
        """The problems ``edit`` would meet, by form field, without making it."""
        from ...edit import EditError
        from ...edit.edits import EditRefused, FieldErrors

        try:
            self.workspace.check(edit)
        except FieldErrors as e:
            return dict(e.errors)
        except EditRefused as e:
            return {"": str(e)}
        except EditError as e:
            return self._object_problems(e, edit) if edit.where is not None else {"": "\n".join(p.message for p in e.problems[:3])}
        except Exception:  # noqa: BLE001 - apply says it, as for any edit
            return {}
        finally:
            edit.notes.clear()
        return {}

    def _backend_check(self, ns: str, service: str, port: str, asked: set, edit, service_key: str = "service",
                       port_key: str = "port") -> dict[str, str]:
        """A backend no Service answers for: said once (Enter again keeps it), as the API server takes it; with the
        edit's other problems, and then not counted as said."""
        cluster = self.net.cluster if self.net is not None else None
        if not service or (ns, service, port) in asked or cluster is None:
            return {}
        svc = next((s for s in cluster.services if s.namespace == ns and s.name == service), None)
        if svc is None:
            warn = {service_key: f"no Service {ns}/{service}: a request this rule takes gets 503. Enter again keeps it"}
        elif port and not any(str(p.port) == port or p.name == port for p in svc.ports):
            ports = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in svc.ports)
            warn = {port_key: f"Service {ns}/{service} has no port {port} (its ports: {ports}): 503. Enter again keeps it"}
        else:
            return {}
        problems = self._dry_run(edit)
        if not problems:
            asked.add((ns, service, port))
        return {**warn, **problems}

    # -- e and d ------------------------------------------------------------------------------
    def ingress_action(self, item, delete: bool = False) -> bool:
        """Edit (or delete) what an Ingress item stands for; False when ``item`` is no Ingress item."""
        if item is not None and (item.kind == "ingressclass" or (item.kind == "object" and item.name.startswith("IngressClass/"))):
            name = item.name.rpartition("/")[2]
            obj = kube.kube_object(self.workspace.loaded.topology, "IngressClass", None, name)
            if obj is None:
                self.notify(f"No IngressClass {name} in the file.", severity="warning", timeout=4)
            elif delete:
                self._kube_act(obj, True)
            else:
                self.open_class_form(obj)
            return True
        key = self._ingress_key(item)
        if key is None:
            return False
        obj = self._ingress_obj(key)
        if obj is None:
            self.notify(f"No Ingress {key[0]}/{key[1]} in the file.", severity="warning", timeout=4)
        elif item.kind == "ingress-rule":
            self._delete_rule(obj, item.index) if delete else self.open_rule_form(obj, item.index)
        elif item.kind in ("ingress-tls", "ingress-default") and delete:
            self._delete_part(obj, item)
        elif delete:
            self._kube_act(obj, True)
        else:
            self.open_ingress_form(obj, focus={"ingress-tls": "tls", "ingress-default": "default"}.get(item.kind))
        return True

    def _confirm(self, question: str, detail: str, edit, yes: str = "Yes", no: str = "No") -> None:
        from ..forms.confirm import ConfirmScreen

        def answer(ok: bool) -> None:
            if ok:
                errors = self.apply(edit)
                if errors:
                    self.notify("\n".join(errors.values()), severity="error", timeout=6)

        self.app.push_screen(ConfirmScreen(question, detail, yes, no), answer)

    def _delete_rule(self, obj, index: int) -> None:
        rps = ing.rule_paths(obj.body)
        if index is None or index >= len(rps):
            return
        rp = rps[index]
        where = f"{rp.host or '(any host)'}{rp.path}"
        text = f"{where} ({rp.path_type}) → {rp.backend_text}"
        key = f"{obj.namespace}/{obj.name}"
        if len(rps) == 1 and not (obj.body.get("spec") or {}).get("defaultBackend"):
            from ...edit import edits

            self._confirm(f"{text} is the only rule of Ingress {key}", "An Ingress needs rules or a default backend. Delete the "
                          "whole Ingress? Undo (ctrl+z) brings it back.", edits.delete_object("Ingress", obj.namespace, obj.name),
                          "Delete the Ingress", "Cancel")
            return
        self._confirm(f"Delete rule {text} of Ingress {key}?", "Undo (ctrl+z) brings it back.",
                      ie.delete_rule((obj.namespace, obj.name), index, where))

    def _delete_part(self, obj, item) -> None:
        key = f"{obj.namespace}/{obj.name}"
        if item.kind == "ingress-tls":
            what, edit = f"TLS entry {item.index + 1}", ie.delete_tls((obj.namespace, obj.name), item.index)
            detail = "Its hosts then get the controller's default (fake) certificate. "
        else:
            what, edit = "the default backend", ie.delete_default((obj.namespace, obj.name))
            detail = "What no rule matches then gets the controller's 404. "
        self._confirm(f"Delete {what} of Ingress {key}?", detail + "Undo (ctrl+z) brings it back.", edit)

    # -- a --------------------------------------------------------------------------------------
    def ingress_add_choices(self) -> list[tuple[str, str]]:
        if self.net is None or self.net.cluster is None:
            return []
        out = [("Ingress", "Kubernetes Ingress (host and path rules to Services, TLS)")]
        key = self._ingress_key(self.selected)
        ingresses = [o for o in self.workspace.loaded.topology.objects if o.kind == "Ingress"]
        if key is None and len(ingresses) == 1:
            key = (ingresses[0].namespace, ingresses[0].name)
        if key is not None and self._ingress_obj(key) is not None:
            out.append(("IngressRule", f"Rule (host and path) on Ingress {key[0]}/{key[1]}"))
        out.append(("IngressClass", "Kubernetes IngressClass (which controller; the default class)"))
        return out

    def ingress_add(self, kind: str) -> None:
        if kind == "Ingress":
            self.open_ingress_form()
        elif kind == "IngressClass":
            self.open_class_form()
        else:
            key = self._ingress_key(self.selected)
            ingresses = [o for o in self.workspace.loaded.topology.objects if o.kind == "Ingress"]
            obj = self._ingress_obj(key) if key else (ingresses[0] if len(ingresses) == 1 else None)
            if obj is not None:
                self.open_rule_form(obj)

    # -- the forms ------------------------------------------------------------------------------
    def _field(self, v: dict, key: str, label: str, placeholder: str = "", suggestions: list[str] | None = None) -> Field:
        return form.Field(key, label, str(v.get(key) or ""), placeholder, suggestions or [], help=HELP.get(key, ""))

    def _names_of(self, kind: str) -> list[str]:
        cluster = self.net.cluster if self.net is not None else None
        if kind == "Service":
            return sorted({s.name for s in cluster.services}) if cluster is not None else []
        return sorted({o.name for o in self.workspace.loaded.topology.objects if o.kind == kind})

    def _ports(self) -> list[str]:
        cluster = self.net.cluster if self.net is not None else None
        return sorted({str(p.port) for s in cluster.services for p in s.ports} | {p.name for s in cluster.services for p in s.ports if p.name}) \
            if cluster is not None else []

    def open_ingress_form(self, obj=None, focus: str | None = None) -> None:
        """Add an Ingress with its first rule, or edit one's name, class, TLS and default backend."""
        from ..widgets.ingress_tree import is_default_class
        from ..widgets.topology_tree import Item

        topo = self.workspace.loaded.topology
        asked: set = set()
        if obj is None:
            sel = self.selected
            ns = sel.name.partition("/")[0] if sel is not None and "/" in sel.name and sel.kind in ("namespace", "service") else "default"
            ns = self._ingress_key(sel)[0] if self._ingress_key(sel) else ns
            defaults = [o.name for o in topo.objects if o.kind == "IngressClass" and is_default_class(o)]
            v = {"namespace": ns, "class": defaults[0] if len(defaults) == 1 else "", "path": "/", "pathType": "Prefix"}
            f = self._field
            fields = [f(v, "namespace", "Namespace", "default", self._kube_namespaces()), f(v, "name", "Name", "e.g. shop"),
                      f(v, "class", "IngressClass", "empty: the default class", self._names_of("IngressClass")),
                      f(v, "host", "Host (optional)", "e.g. shop.example; empty: any host"), f(v, "path", "Path", "/"),
                      f(v, "pathType", "Path type", "Prefix", list(ing.PATH_TYPES)),
                      f(v, "service", "Service", "e.g. web", self._names_of("Service")), f(v, "port", "Port", "80 or http", self._ports()),
                      f(v, "secret", "TLS secret (optional)", "e.g. shop-tls", self._names_of("Secret"))]
            old, title, note = None, "Add Ingress", "One rule to start with; a (with the Ingress selected) adds more."
        else:
            spec = obj.body.get("spec") or {}
            v = {"namespace": obj.namespace, "name": obj.name, "class": ing.ingress_class_of(obj.body), "tls": ing.format_tls(spec.get("tls")),
                 "default": ing.format_backend(spec.get("defaultBackend"))}
            f = self._field
            fields = [f(v, "namespace", "Namespace", "default", self._kube_namespaces()), f(v, "name", "Name", ""),
                      f(v, "class", "IngressClass", "empty: the default class", self._names_of("IngressClass")),
                      f(v, "tls", "TLS", "HOST[,HOST] -> SECRET; ..."), f(v, "default", "Default backend", "SERVICE:PORT; empty: 404")]
            n = len(ing.rule_paths(obj.body))
            old, title = (obj.namespace, obj.name), f"Edit Ingress {obj.namespace}/{obj.name}"
            note = f"Its {n} rule{'s are' if n != 1 else ' is'} under it in the tree: e edits one, d deletes one, a adds one."
            if focus:
                fields.insert(0, fields.pop(next(i for i, x in enumerate(fields) if x.key == focus)))

        def submit(values: dict) -> dict | None:
            ns = values.get("namespace", "").strip() or "default"
            edit = ie.upsert_ingress(old, values)
            if obj is None:
                warn = self._backend_check(ns, values["service"].strip(), values["port"].strip(), asked, edit)
            else:
                svc, _, port = values["default"].strip().rpartition(":")
                warn = self._backend_check(ns, svc.strip(), port.strip(), asked, edit, "default", "default")
            if warn:
                return warn
            return self.apply(edit, select=Item("ingress", f"{ns}/{values['name'].strip()}"))

        self.app.push_screen(form.FormScreen(title, fields, submit, form_id="ingress-form", compact=True, note=note))

    def open_rule_form(self, obj, index: int | None = None) -> None:
        """Add a rule (host, path, pathType, Service and port) to an Ingress, or edit its ``index``-th."""
        from ..widgets.topology_tree import Item

        rps = ing.rule_paths(obj.body)
        rp = rps[index] if index is not None and index < len(rps) else None
        key = f"{obj.namespace}/{obj.name}"
        sel = self.selected
        near = rps[sel.index] if sel is not None and sel.kind == "ingress-rule" and sel.name == key and sel.index < len(rps) else None
        svc = (rp.backend.get("service") or {}) if rp is not None else {}
        v = {"host": rp.host if rp else (near or (rps[0] if rps else None) or ing.RulePath(0, 0, "", "", "", {})).host,
             "path": rp.path if rp else "/", "pathType": rp.path_type if rp else "Prefix", "service": svc.get("name", ""),
             "port": ing.format_port(svc.get("port"))}
        f = self._field
        fields = [f(v, "host", "Host", "empty: any host", sorted({r.host for r in rps if r.host})), f(v, "path", "Path", "/"),
                  f(v, "pathType", "Path type", "Prefix", list(ing.PATH_TYPES)),
                  f(v, "service", "Service", "e.g. web", self._names_of("Service")), f(v, "port", "Port", "80 or http", self._ports())]
        where: dict = {}
        asked: set = set()

        def submit(values: dict) -> dict | None:
            edit = ie.upsert_rule((obj.namespace, obj.name), index, values, where)
            warn = self._backend_check(obj.namespace, values["service"].strip(), values["port"].strip(), asked, edit)
            if warn:
                return warn
            return self.apply(edit, select=lambda: Item("ingress-rule", key, index=where.get("flat")))

        title = f"Edit rule {rp.host or '(any host)'}{rp.path} of Ingress {key}" if rp else f"Add a rule to Ingress {key}"
        note = "A path joins the rule of its host (a new host, a new rule). Services are those of namespace " + obj.namespace + "."
        self.app.push_screen(form.FormScreen(title, fields, submit, form_id="rule-form", compact=True, note=note))

    def open_class_form(self, obj=None) -> None:
        """Add or edit an IngressClass: its name, controller, and whether it is the default class."""
        from ..widgets.ingress_tree import is_default_class
        from ..widgets.topology_tree import Item

        body = obj.body if obj is not None else {}
        v = {"name": obj.name if obj else "", "controller": (body.get("spec") or {}).get("controller", ing.CONTROLLERS[0])}
        fields = [self._field(v, "name", "Name", "e.g. nginx"), self._field(v, "controller", "Controller", ing.CONTROLLERS[0], list(ing.CONTROLLERS)),
                  form.Field("default", "The default class (Ingresses without a class are its)", "true" if obj and is_default_class(obj) else "false",
                        kind="bool")]
        old = obj.name if obj else None

        def submit(values: dict) -> dict | None:
            return self.apply(ie.upsert_ingress_class(old, values), select=Item("ingressclass", values["name"].strip()))

        title = f"Edit IngressClass {obj.name}" if obj else "Add IngressClass"
        self.app.push_screen(form.FormScreen(title, fields, submit, form_id="ingressclass-form", compact=True))

    # -- what the simulator adds ------------------------------------------------------------------
    def explain_generated(self, kind: str, ns: str | None, name: str) -> bool:
        """Say why an object the simulator added (the Ingress controller, its pods) is there; False if it is not one."""
        from ...k8s.ingress_addon import GENERATED

        cluster = self.net.cluster if self.net is not None else None
        if cluster is None:
            return False

        def why(o) -> str | None:
            return ((o.body.get("metadata") or {}).get("annotations") or {}).get(GENERATED)

        objs = cluster.topology.objects
        if kind == "Pod":
            owner = next((o for o in objs if o.kind == "Deployment" and o.namespace == ns and name.startswith(o.name + "-") and why(o)), None)
        else:
            owner = next((o for o in objs if o.kind == kind and o.namespace == ns and o.name == name and why(o)), None)
        if owner is None:
            return False
        self.notify(f"{ns + '/' if ns else ''}{name} is {'a pod of ' if kind == 'Pod' else ''}{why(owner)}: it is not in the file. "
                    "Add your own controller to the file (a Deployment, and a NodePort or LoadBalancer Service named for it, as its "
                    "install manifest makes them) to replace it.", severity="warning", timeout=8)
        return True
