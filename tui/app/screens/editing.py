"""The dashboard's forms: add, edit and delete things; trace; open and save files."""

from __future__ import annotations

from pathlib import Path

from ..lazy import lazy

form = lazy("tui.app.forms.form")


def _item_after(kind: str, host: str | None, values: dict, item):
    """What to select once a form's edit is made: the item as it is named now."""
    from ..widgets.topology_tree import Item

    name = (values.get("name") or "").strip()
    if not name:
        return item
    return {
        "network": Item("network", name),
        "host": Item("host", name),
        "interface": Item("interface", name, host=host, ns=host),
        "container": Item("container", name, host=host),
    }.get(kind, item)


def _described_addresses(net) -> list[str]:
    """The addresses of a big network without compiling it: the compiled namespaces', the hosts' (as described)
    and the pods'."""
    seen: dict[str, None] = {}
    for ns in net.namespaces.built().values():
        for d in ns.devices.values():
            seen.update((str(a.ip), None) for a in d.addresses if not a.ip.is_loopback)
    for h in net.topology.hosts:
        for i in h.interfaces:
            seen.update((str(a.ip), None) for a in i.addresses if not a.ip.is_loopback)
    for p in net.cluster.pods if net.cluster is not None else ():
        if p.ip is not None and not p.host_network:
            seen[str(p.ip)] = None
    return list(seen)


def _route_to(r) -> str:
    return "default" if r.to.prefixlen == 0 else str(r.to)


class EditingMixin:
    """Form-driven actions of :class:`MainScreen` (kept apart to keep each file small)."""

    EDITABLE = ("network", "host", "interface", "route", "docker", "container")

    # -- names for completion -----------------------------------------------
    def _names(self) -> list[str]:
        return sorted(self.net.namespaces)

    def _destinations(self) -> list[str]:
        from ..scale import facts_of

        out = self._names()
        net = self.net
        if facts_of(net).big:  # every namespace's devices would compile every node: the description's addresses instead
            return out + _described_addresses(net)
        for ns in net.namespaces.values():
            for d in ns.devices.values():
                out += [str(a.ip) for a in d.addresses if not a.ip.is_loopback]
        return out

    def _host_of(self, item) -> str | None:
        if item is None:
            return None
        if item.kind == "host":  # a node no host of the file describes has nothing of the Topology document to add to
            return item.name if self.workspace.loaded.topology.host(item.name) else None
        if item.host and self.workspace.loaded.topology.host(item.host):
            return item.host
        return None

    # -- trace ------------------------------------------------------------------
    def action_trace(self) -> None:
        from ...sim.query import QueryError, destination, resolvable, source

        req = self.trace_request or {}
        default_src = req.get("src") or (self.selected.namespace if self.selected and self.selected.namespace else "")
        fields = [
            form.Field("src", "Source (host, container, namespace or its address)", default_src, "e.g. laptop", self._names()),
            form.Field("dst", "Destination (name or IP, optionally :PORT; from a pod, a DNS name)", req.get("dst", ""), "e.g. web:80 or 8.8.8.8",
                  self._destinations()),
            form.Field("port", "Port (tcp/udp; default 80)", str(req.get("port") or ""), "80"),
            form.Field("proto", "Protocol", req.get("proto", "tcp"), "tcp, udp or icmp", ["tcp", "udp", "icmp"]),
        ]

        def submit(v: dict) -> dict | None:
            errors: dict[str, str] = {}
            proto = v["proto"].strip().lower() or "tcp"
            if proto not in ("tcp", "udp", "icmp"):
                errors["proto"] = f'"{v["proto"]}" is not a protocol: tcp, udp or icmp'
            port = None
            if v["port"].strip():
                try:
                    port = int(v["port"])
                    if not 1 <= port <= 65535:
                        raise ValueError
                except ValueError:
                    errors["port"] = f'"{v["port"]}" is not a port number (1-65535)'
                if proto == "icmp":
                    errors["port"] = "ICMP has no ports"
            for key, check in (("src", source), ("dst", destination)):
                if not v[key].strip():
                    errors[key] = "required"
                    continue
                try:
                    found = check(self.net, v[key].strip())
                except QueryError as e:
                    if key == "dst" and resolvable(self.net, v["src"].strip(), v[key].strip()):
                        continue  # a DNS name: the trace asks the pod's resolver first
                    errors[key] = str(e)
                    continue
                if key == "dst" and found.port is not None and port is not None and found.port != port:
                    errors["port"] = f"the destination already names port {found.port}: leave this empty or make them agree"
                elif key == "dst" and found.port is not None and proto == "icmp":
                    errors["dst"] = "ICMP has no ports: drop the :PORT"
            if errors:
                return errors
            self.run_trace({"src": v["src"].strip(), "dst": v["dst"].strip(), "proto": proto, "port": port})
            return None

        self.app.push_screen(form.FormScreen("Trace a packet", fields, submit, form_id="trace-form"))

    # -- add / edit / delete ----------------------------------------------------
    def action_add(self) -> None:
        from ..forms.choice import ChoiceScreen

        host = self._host_of(self.selected)
        choices = [("network", "Network (a switch)"), ("host", "Host")]
        if host:
            has_docker = self.workspace.loaded.topology.host(host).docker is not None
            choices += [("interface", f"Interface on {host}"), ("route", f"Route on {host}"),
                        ("docker", f"Docker bridge on {host}"),
                        ("container", f"Container on {host}" + ("" if has_docker else " (adds Docker's bridge docker0)"))]
        choices += self.kube_add_choices()
        if not host:
            choices.append(("hint", "(select a host to add its interfaces, routes, Docker bridge or containers)"))

        def chosen(kind: str | None) -> None:
            if kind in ("Node", "Pod", "Deployment", "Service"):
                self.open_kube_form(kind)
            elif kind in ("Ingress", "IngressRule", "IngressClass"):
                self.ingress_add(kind)
            elif kind in ("NetworkPolicy", "DefaultDeny", "NetworkPolicyRule"):
                self.netpol_add(kind)
            elif kind and kind != "hint":
                self.open_form(kind, host, None)

        self.app.push_screen(ChoiceScreen("Add what?", choices), chosen)

    def generated(self, item) -> bool:
        """Whether ``item`` was made by the cluster (the CNI plugin, kube-proxy), not written in the file."""
        if item is None or item.kind not in ("route", "host", "interface"):
            return False
        host = self.workspace.loaded.topology.host(item.host or item.name)
        if host is None:
            return True  # an implicit node
        if item.kind == "route":
            return item.index is None or item.index >= len(host.routes)
        if item.kind == "interface":
            return all(i.name != item.name for i in host.interfaces)
        return False

    def _refuse_generated(self, item) -> bool:
        if self.generated(item):
            self.notify("This comes from the cluster (its nodes, pods and CNI plugin), not from the file: change the Kubernetes objects instead.",
                        severity="warning", timeout=5)
            return True
        return False

    def action_edit(self) -> None:
        if not self.kube_action(self.selected):
            self.host_action(self.selected)

    def action_delete(self) -> None:
        if not self.kube_action(self.selected, delete=True):
            self.host_action(self.selected, delete=True)

    def host_action(self, item, delete: bool = False) -> None:
        """Edit or delete a thing of the Topology document (a network, host, interface, route, Docker bridge, container)."""
        if item is None or item.kind not in self.EDITABLE or self._refuse_generated(item):
            return
        if delete:
            self._delete(item)
        else:
            self.open_form(item.kind, self._host_of(item), item)

    def open_form(self, kind: str, host: str | None, item) -> None:
        from ...edit import edits

        topo = self.workspace.loaded.topology
        h = topo.host(host) if host else None
        networks = [n.name for n in topo.networks]
        if kind == "network":
            n = next((x for x in topo.networks if item and x.name == item.name), None)
            fields = [form.Field("name", "Name", n.name if n else "", "e.g. lan"),
                      form.Field("cidr", "CIDR (optional)", str(n.cidr) if n and n.cidr else "", "e.g. 192.168.1.0/24")]
            edit = lambda v: edits.upsert_network(n.name if n else None, v)
            title = f"{'Edit' if n else 'Add'} network"
        elif kind == "host":
            fields = [form.Field("name", "Name", h.name if item and h else "", "e.g. system-a"),
                      form.Field("forwarding", "Forwarding (a router: net.ipv4.ip_forward = 1)", "true" if item and h and h.forwarding else "false", kind="bool")]
            old = h.name if item and h else None
            edit = lambda v: edits.upsert_host(old, v)
            title = f"{'Edit' if old else 'Add'} host"
        elif kind == "interface":
            i = next((x for x in h.interfaces if item and item.kind == "interface" and x.name == item.name), None)
            fields = [form.Field("name", "Name", i.name if i else "", "e.g. eth0"),
                      form.Field("network", "Network (switch)", (i.network or "") if i else (networks[0] if networks else ""), "", networks),
                      form.Field("address", "Address with prefix", " ".join(map(str, i.addresses)) if i else "", "e.g. 192.168.1.10/24"),
                      form.Field("metric", "Metric of its connected route (optional)", str(i.metric) if i and i.metric else "", "e.g. 600")]
            edit = lambda v: edits.upsert_interface(host, i.name if i else None, v)
            title = f"{'Edit' if i else 'Add'} interface on {host}"
        elif kind == "route":
            r = h.routes[item.index] if item and item.kind == "route" and item.index is not None else None
            devs = [x.name for x in h.interfaces] + [b.name for b in h.bridges]
            fields = [form.Field("to", "Destination (CIDR or default)", _route_to(r) if r else "", "e.g. 10.0.0.0/8 or default", ["default"]),
                      form.Field("via", "Gateway (via)", str(r.via) if r and r.via else "", "e.g. 192.168.1.1"),
                      form.Field("dev", "Device (optional)", r.dev or "" if r else "", "", devs),
                      form.Field("metric", "Metric (optional)", str(r.metric) if r and r.metric else "", "e.g. 100")]
            index = item.index if r else None
            edit = lambda v: edits.upsert_route(host, index, v)
            title = f"{'Edit' if r else 'Add'} route on {host}"
        elif kind == "docker":
            d = h.docker
            fields = [form.Field("bridge", "Bridge", d.bridge if d else "docker0"),
                      form.Field("cidr", "Network", str(d.cidr) if d else "172.17.0.0/16")]
            edit = lambda v: edits.set_docker(host, v)
            title = f"Docker bridge on {host}"
        else:  # container
            c = next((x for x in h.containers if item and item.kind == "container" and x.name == item.name), None)
            fields = [form.Field("name", "Name", c.name if c else "", "e.g. web"),
                      form.Field("address", "Address (optional: Docker assigns the next free one)", str(c.address.ip) if c else "", "e.g. 172.17.0.5"),
                      form.Field("ports", "Published ports (optional, like docker run -p)",
                            " ".join(f"{h}:{p}" + ("" if pr == "tcp" else f"/{pr}") for h, p, pr in c.ports) if c else "", "e.g. 8080:80 5353:53/udp")]
            edit = lambda v: edits.upsert_container(host, c.name if c else None, v)
            title = f"{'Edit' if c else 'Add'} container on {host}"
        def submit(v: dict) -> dict | None:
            return self.apply(edit(v), select=_item_after(kind, host, v, item))

        self.app.push_screen(form.FormScreen(title, fields, submit, form_id=f"{kind}-form"))

    def _delete(self, item) -> None:
        from ...edit import edits
        from ..forms.confirm import ConfirmScreen

        host = self._host_of(item)
        if item.kind == "network":
            edit, what = edits.delete_network(item.name), f"network {item.name}"
        elif item.kind == "host":
            edit, what = edits.delete_host(item.name), f"host {item.name} and everything in it"
        elif item.kind == "interface":
            edit, what = edits.delete_interface(host, item.name), f"interface {item.name} of {host}"
        elif item.kind == "route":
            edit, what = edits.delete_route(host, item.index), f"route {item.name} of {host}"
        elif item.kind == "docker":
            edit, what = edits.set_docker(host, None), f"the Docker bridge of {host} and its containers"
        else:
            edit, what = edits.delete_container(item.name), f"container {item.name}"

        def answer(yes: bool) -> None:
            if yes:
                errors = self.apply(edit)
                if errors:
                    self.notify("\n".join(errors.values()), severity="error", timeout=6)

        self.app.push_screen(ConfirmScreen(f"Delete {what}?", "Undo (ctrl+z) brings it back."), answer)

    # -- files ------------------------------------------------------------------
    def action_save(self) -> None:
        from ...bundled import topologies_dir

        bundled = str(topologies_dir())
        if any(str(Path(p).resolve()).startswith(bundled) for p in self.workspace.paths):
            self.action_save_as()
            return
        try:
            written = self.workspace.save()
        except OSError as e:
            self.notify(f"Cannot save: {e}", severity="error", timeout=6)
            return
        self.refresh_model()
        self.notify(f"Saved {', '.join(written)}" if written else "Nothing to save", timeout=3)

    def action_save_as(self) -> None:
        from ..forms.paths import PathSuggester

        asked: set[str] = set()

        def submit(v: dict) -> dict | None:
            path = v["path"].strip()
            if not path:
                return {"path": "required"}
            if not path.endswith((".yaml", ".yml", ".json")):
                return {"path": "a topology file ends in .yaml, .yml or .json"}
            mine = {str(Path(p).resolve()) for p in self.workspace.paths}
            if Path(path).exists() and str(Path(path).resolve()) not in mine and path not in asked:
                asked.add(path)
                return {"path": f"{path} exists: Enter again replaces it (its old text is kept as {path}.bak)"}
            try:
                self.workspace.save(path)
            except OSError as e:
                return {"path": f"cannot write: {e.strerror or e}"}
            self.refresh_model()
            self.notify(f"Saved as {path}", timeout=3)
            return None

        current = self.workspace.paths[0] if self.workspace.paths else ""
        from ...bundled import topologies_dir

        bundled_copy = bool(current) and str(Path(current).resolve()).startswith(str(topologies_dir()))
        if bundled_copy:
            current = Path(current).name  # a copy in the working directory, not inside the package
        hint = "The bundled examples are read-only: save your own copy. " if bundled_copy else ""
        self.app.push_screen(form.FormScreen("Save as", [form.Field("path", "File", current, "e.g. my-topology.yaml", suggester=PathSuggester())],
                                        submit, hint=hint + "Enter saves · Esc cancels", form_id="save-as-form"))

    def action_open(self) -> None:
        from ..forms.confirm import ConfirmScreen
        from ..forms.paths import PathSuggester

        def submit(v: dict) -> dict | None:
            path = v["path"].strip()
            if not path:
                return {"path": "required"}
            return self.app.open_paths([path])

        def ask() -> None:
            self.app.push_screen(form.FormScreen("Open a topology file or directory", [form.Field("path", "Path", "", "e.g. topologies/02-router-gateway.yaml",
                                                                                       suggester=PathSuggester())], submit, form_id="open-form"))

        if self.workspace.dirty:
            self.app.push_screen(ConfirmScreen("Discard unsaved changes?", "Opening another file drops the edits not saved."),
                                 lambda yes: ask() if yes else None)
        else:
            ask()
