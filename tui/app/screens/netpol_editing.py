"""The dashboard's NetworkPolicy forms: add a policy (or a ready-made default deny), edit its namespace, name,
podSelector and policyTypes; add, edit and delete its ingress and egress rules (peers and ports); delete it (a part
of :class:`MainScreen`). What the right pane shows for a policy, and for a pod the policies that isolate it.

The same keys as every other edit (a, e, d) act on the tree's "NetworkPolicies" items and on the objects; from the
matrix (``p``), ``a`` offers a rule for the selected pair on the policies that isolate it, filled in. Each change is
a manifest written through the workspace (undo, save) and checked by the loader, whose messages appear beside the
fields; a rule its policy's policyTypes would ignore, or that turns egress isolation on, is said once first.
"""

from __future__ import annotations

import re

from ..lazy import lazy

kube = lazy("tui.edit.kube")
np = lazy("tui.edit.netpol")
netpol_matrix = lazy("tui.edit.netpol_matrix")
form = lazy("tui.app.forms.form")

NETPOL_ITEMS = ("netpol", "netpol-ingress", "netpol-egress")
NETPOL_ADD = ("NetworkPolicy", "DefaultDeny", "NetworkPolicyRule")

HELP = {
    "namespace": "The policy's namespace: it selects pods of this namespace only, and a bare pods(...) peer means pods of it too.",
    "name": "metadata.name: lower-case letters, digits, '-' and '.'.",
    "podSelector": "The pods it applies to, as kubectl writes selectors: app=web,tier in (a,b),!legacy. Empty: every pod of the namespace.",
    "policyTypes": "Ingress, Egress or both: the directions it isolates its pods for. Empty: Ingress, plus Egress when it has egress rules.",
    "direction": "ingress: connections to the pods the policy selects (from peers); egress: connections they open (to peers).",
    "peers": "pods(app=web): pods of the policy's namespace; namespaces(team=a): every pod there; namespaces(team=a) pods(app=web): both "
             "must match; ipBlock(10.0.0.0/8 except 10.0.1.0/24). ';' between peers (any of them). Empty: every peer.",
    "ports": "TCP/80, UDP/53, 8000-8080 (a range: endPort), http (a container port's name), UDP (every UDP port); ',' between. "
             "Empty: every port.",
}


class NetpolEditingMixin:
    """NetworkPolicy forms and descriptions for :class:`MainScreen`."""

    # -- what an item stands for ------------------------------------------------------------
    def _netpol_key(self, item) -> tuple[str, str] | None:
        if item is None:
            return None
        if item.kind in NETPOL_ITEMS:
            ns, _, name = item.name.partition("/")
            return ns, name
        if item.kind == "object" and item.name.startswith("NetworkPolicy/"):
            _, ns, name = item.name.split("/", 2)
            return ns, name
        return None

    def _netpol_obj(self, key):
        return kube.kube_object(self.workspace.loaded.topology, "NetworkPolicy", key[0], key[1]) if key else None

    def _policy(self, key: str):
        ix = netpol_matrix.index_of(self.net)
        return next((p for p in ix.policies if p.key == key), None) if ix is not None else None

    def netpol_info(self, item) -> tuple[str, str, object] | None:
        """What the right pane shows for a policy item: (title, subtitle, text); None for other items."""
        key = self._netpol_key(item)
        if key is None or self.net.cluster is None:
            return None
        from ..widgets.netpol_view import policy_text

        text = "/".join(key)
        return "NetworkPolicy", f"{text} · NetworkPolicy", policy_text(self.net, text, (item.kind, item.index))

    def pod_policies(self, ns_name: str | None):
        """A pod's NetworkPolicies, below its routes, when the cluster has policies."""
        if not (ns_name and self.has_policies()):
            return None
        from ..widgets.netpol_view import pod_text

        return pod_text(self.net, ns_name)

    # -- e and d ----------------------------------------------------------------------------------
    def netpol_action(self, item, delete: bool = False) -> bool:
        """Edit (or delete) what a NetworkPolicy item stands for; False when ``item`` is no such item."""
        key = self._netpol_key(item)
        if key is None:
            return False
        obj = self._netpol_obj(key)
        if obj is None:
            self.notify(f"No NetworkPolicy {'/'.join(key)} in the file.", severity="warning", timeout=4)
        elif item.kind in ("netpol-ingress", "netpol-egress"):
            d = item.kind.split("-")[1]
            if item.index is None and delete:
                self.notify(f"This line says that {'/'.join(key)} has no {d} rule (so it allows nothing): nothing to delete. e edits its "
                            "policyTypes, a adds a rule.", severity="warning", timeout=5)
            elif item.index is None:
                self.open_policy_form(obj, focus="policyTypes")
            elif delete:
                self._delete_netpol_rule(obj, d, item.index)
            else:
                self.open_netpol_rule_form(obj, d, item.index)
        elif delete:
            self._kube_act(obj, True)
        else:
            self.open_policy_form(obj)
        return True

    def _delete_netpol_rule(self, obj, direction: str, index: int) -> None:
        key = f"{obj.namespace}/{obj.name}"
        pol = self._policy(key)
        rules = np.rules_of(obj.body, direction)
        if index >= len(rules):
            return
        from ..widgets.netpol_tree import peers_text, ports_text

        rule = pol.rules(direction)[index] if pol is not None and index < len(pol.rules(direction)) else None
        text = f" ({peers_text(rule, direction, obj.namespace)}; on {ports_text(rule)})" if rule is not None else ""
        detail = ""
        spec = obj.body.get("spec") or {}
        if len(rules) == 1 and direction == "egress" and not spec.get("policyTypes"):
            detail = ("It is its only egress rule and policyTypes is not written: the API server then defaults it to Ingress only, so "
                      "the policy no longer isolates egress at all. ")
        elif len(rules) == 1 and direction.capitalize() in np.policy_types_of(spec):
            detail = f"It is its only {direction} rule: the policy then allows no {direction} to the pods it selects. "
        self._confirm(f"Delete {direction} rule {index}{text} of NetworkPolicy {key}?", detail + "Undo (ctrl+z) brings it back.",
                      np.delete_rule((obj.namespace, obj.name), direction, index))

    # -- a ------------------------------------------------------------------------------------------
    def _netpol_namespace(self) -> str:
        key = self._netpol_key(self.selected)
        if key:
            return key[0]
        sel = self.selected
        if sel is not None and sel.kind in ("namespace", "service") and "/" in sel.name:
            return sel.name.partition("/")[0]
        return "default"

    def _rule_target(self):
        key = self._netpol_key(self.selected)
        policies = [o for o in self.workspace.loaded.topology.objects if o.kind == "NetworkPolicy"]
        if key is None and len(policies) == 1:
            key = (policies[0].namespace, policies[0].name)
        return self._netpol_obj(key)

    def netpol_add_choices(self) -> list[tuple[str, str]]:
        if self.net is None or self.net.cluster is None:
            return []
        ns = self._netpol_namespace()
        out = [("NetworkPolicy", "Kubernetes NetworkPolicy (the pods it selects, Ingress and Egress isolation)"),
               ("DefaultDeny", f"NetworkPolicy: default deny in {ns} (every pod, Ingress and Egress, no rule)")]
        obj = self._rule_target()
        if obj is not None:
            out.append(("NetworkPolicyRule", f"Rule (peers and ports) on NetworkPolicy {obj.namespace}/{obj.name}"))
        return out

    def netpol_add(self, kind: str) -> None:
        if kind == "NetworkPolicy":
            self.open_policy_form(namespace=self._netpol_namespace())
        elif kind == "DefaultDeny":
            self.open_default_deny(self._netpol_namespace())
        elif (obj := self._rule_target()) is not None:
            sel = self.selected
            d = sel.kind.split("-")[1] if sel is not None and sel.kind in ("netpol-ingress", "netpol-egress") else None
            self.open_netpol_rule_form(obj, defaults={"direction": d} if d else None)

    def open_default_deny(self, namespace: str) -> None:
        self.open_policy_form(namespace=namespace, defaults={"name": "default-deny", "podSelector": "", "policyTypes": "Ingress, Egress"},
                              title=f"Add a default deny in {namespace}",
                              note="An empty podSelector selects every pod of the namespace; without rules the policy allows nothing: "
                                   "every connection to and from them is refused unless another policy allows it (DNS too: allow it "
                                   "with an egress rule to kube-system's kube-dns pods).")

    def matrix_add(self, pair: tuple[str, str] | None) -> None:
        """``a`` on the matrix: a policy, a default deny in the destination's namespace, or a rule letting the pair
        through on a policy that isolates it (its peer and port filled in)."""
        from ..forms.choice import ChoiceScreen

        ix = netpol_matrix.index_of(self.net)
        src, dst = pair if pair is not None else (None, None)
        ns = dst.partition("/")[0] if dst else "default"
        port, proto = self.matrix_ports()
        choices = [("NetworkPolicy", f"NetworkPolicy in {ns}"), ("DefaultDeny", f"Default deny in {ns} (every pod, Ingress and Egress)")]
        rules = {}
        if pair is not None and ix is not None and src != dst:
            for d, me, other in (("ingress", dst, src), ("egress", src, dst)):
                for p in ix.isolating[d].get(me, []):
                    choice = f"{d}|{p.key}"
                    rules[choice] = (p, d, other)
                    choices.append((choice, f"{d.capitalize()} rule on {p.key}: let {src} {'in to' if d == 'ingress' else 'out to'} {dst}"))

        def chosen(choice: str | None) -> None:
            if choice == "NetworkPolicy":
                self.open_policy_form(namespace=ns)
            elif choice == "DefaultDeny":
                self.open_default_deny(ns)
            elif choice in rules:
                p, d, other = rules[choice]
                self.open_netpol_rule_form(p.obj, defaults={"direction": d, "peers": self._peer_for(other, p.namespace),
                                                            "ports": f"{proto}/{port}"})

        self.app.push_screen(ChoiceScreen("Add what?", choices), chosen)

    def _peer_for(self, pod: str, policy_namespace: str) -> str:
        """A peer that matches ``pod`` (by all its labels), written for a policy of ``policy_namespace``."""
        ix = netpol_matrix.index_of(self.net)
        p = ix.pods.get(pod) if ix is not None else None
        if p is None:
            return ""
        sel = f"pods({kube.format_labels(p.labels)})"
        return sel if p.namespace == policy_namespace else f"namespaces(kubernetes.io/metadata.name={p.namespace}) {sel}"

    # -- the forms ----------------------------------------------------------------------------------
    def _label_suggestions(self) -> list[str]:
        cluster = self.net.cluster if self.net is not None else None
        return sorted({f"{k}={v}" for p in (cluster.pods if cluster else ()) for k, v in p.labels.items()})

    def open_policy_form(self, obj=None, focus: str | None = None, namespace: str = "default", defaults: dict | None = None,
                         title: str = "", note: str = "") -> None:
        """Add a policy (``obj`` None) or edit one's namespace, name, podSelector and policyTypes."""
        from ..widgets.topology_tree import Item

        if obj is not None:
            spec = obj.body.get("spec") or {}
            types = spec.get("policyTypes") if isinstance(spec.get("policyTypes"), list) else []
            v = {"namespace": obj.namespace, "name": obj.name, "podSelector": np.format_selector(spec.get("podSelector")),
                 "policyTypes": ", ".join(str(t) for t in types)}
            n = sum(len(np.rules_of(obj.body, d)) for d in np.DIRECTIONS)
            note = note or f"Its {n} rule{'s are' if n != 1 else ' is'} under it in the tree: e edits one, d deletes one, a adds one."
        else:
            v = {"namespace": namespace, "name": "", "podSelector": "", "policyTypes": "Ingress", **(defaults or {})}
            note = note or "Without rules it allows nothing for its policyTypes: a (with the policy selected) adds rules."
        placeholder = ", ".join(np.policy_types_of(obj.body.get("spec") or {})) + " (defaulted)" if obj is not None else "Ingress, Egress"
        fields = [form.Field("namespace", "Namespace", v["namespace"], "default", self._kube_namespaces(), help=HELP["namespace"]),
                  form.Field("name", "Name", v["name"], "e.g. allow-web", help=HELP["name"]),
                  form.Field("podSelector", "Pod selector", v["podSelector"], "empty: every pod of the namespace", self._label_suggestions(),
                        help=HELP["podSelector"]),
                  form.Field("policyTypes", "Policy types", v["policyTypes"], placeholder, ["Ingress, Egress", "Ingress", "Egress"],
                        help=HELP["policyTypes"])]
        if focus:
            fields.insert(0, fields.pop(next(i for i, f in enumerate(fields) if f.key == focus)))
        old = (obj.namespace, obj.name) if obj is not None else None

        def submit(values: dict) -> dict | None:
            ns = values.get("namespace", "").strip() or "default"
            return _tidy(self.apply(np.upsert_policy(old, values), select=Item("netpol", f"{ns}/{values['name'].strip()}")))

        title = title or (f"Edit NetworkPolicy {obj.namespace}/{obj.name}" if obj is not None else "Add NetworkPolicy")
        self.app.push_screen(form.FormScreen(title, fields, submit, form_id="netpol-form", compact=True, note=note))

    def open_netpol_rule_form(self, obj, direction: str | None = None, index: int | None = None, defaults: dict | None = None) -> None:
        """Add a rule to a policy, or edit its ``direction`` rule ``index``: direction, peers, ports."""
        from ..widgets.topology_tree import Item

        key = f"{obj.namespace}/{obj.name}"
        spec = obj.body.get("spec") or {}
        rule = np.rules_of(obj.body, direction)[index] if direction and index is not None else None
        rule = rule if isinstance(rule, dict) else {}
        first = np.policy_types_of(spec)[0].lower() if np.policy_types_of(spec) else "ingress"
        v = {"direction": direction or first, "peers": np.format_peers(rule.get(np.PEER_KEY.get(direction or "", ""))),
             "ports": np.format_ports(rule.get("ports"))}
        v.update({k: val for k, val in (defaults or {}).items() if val is not None})
        peers = [f"pods({s})" for s in self._label_suggestions()] + [f"namespaces(kubernetes.io/metadata.name={n})" for n in self._kube_namespaces()]
        cluster = self.net.cluster
        ports = [f"{proto}/{port}" for port, proto in _container_ports(self.net)] + sorted({c.name for p in cluster.pods for c in p.ports if c.name})
        fields = [form.Field("direction", "Direction", v["direction"], "ingress or egress", ["ingress", "egress"], help=HELP["direction"]),
                  form.Field("peers", "Peers (from/to)", v["peers"], "empty: every peer", peers, help=HELP["peers"]),
                  form.Field("ports", "Ports", v["ports"], "empty: every port", ports, help=HELP["ports"])]
        where: dict = {}
        asked: set = set()

        def submit(values: dict) -> dict | None:
            edit = np.upsert_rule((obj.namespace, obj.name), direction, index, values, where)
            warn = self._types_check(obj, values["direction"].strip().lower() or direction or "ingress", asked, edit)
            if warn:
                return warn
            return _tidy(self.apply(edit, select=lambda: Item(f"netpol-{where['direction']}", key, index=where["index"])))

        title = f"Edit {direction} rule {index} of NetworkPolicy {key}" if index is not None else f"Add a rule to NetworkPolicy {key}"
        note = (f"A connection passes when any rule of any policy selecting the pod allows it. pods(...) alone means pods of "
                f"{obj.namespace}.")
        self.app.push_screen(form.FormScreen(title, fields, submit, form_id="netpol-rule-form", compact=True, note=note))

    def _types_check(self, obj, direction: str, asked: set, edit) -> dict[str, str]:
        """A rule its policyTypes ignores, or an egress rule that turns egress isolation on: said once (Enter again keeps
        it), with the edit's other problems."""
        spec = obj.body.get("spec") or {}
        written = spec.get("policyTypes") if isinstance(spec.get("policyTypes"), list) else []
        if direction not in np.DIRECTIONS or direction in asked:
            return {}
        cap = direction.capitalize()
        if written and cap not in written:
            warn = {"direction": f"policyTypes is {', '.join(written)}: an {direction} rule is ignored until it has {cap} (e on the "
                                 "policy edits it). Enter again keeps it"}
        elif not written and direction == "egress" and not np.rules_of(obj.body, "egress"):
            warn = {"direction": "policyTypes is not written: with an egress rule the API server defaults it to Ingress and Egress, so "
                                 "the pods it selects become isolated for egress (only what egress rules allow). Enter again keeps it"}
        else:
            return {}
        problems = self._dry_run(edit)
        if not problems:
            asked.add(direction)
        return {**warn, **problems}


_TYPES_AT = re.compile(r"^spec\.policyTypes(\[\d+\])?: ", re.M)
_PEER_AT = re.compile(r"spec\.(?:ingress|egress)\[\d+\]\.(from|to|ports)\[(\d+)\]\.?([^:]*): ")


def _tidy(errors: dict[str, str] | None) -> dict[str, str] | None:
    """The loader's paths inside the rule or selector a field shows, said in the form's words: ``peer 2, ipBlock.except[0]:``
    for ``spec.ingress[1].from[1].ipBlock.except[0]:``, ``port 1:`` for ``spec.egress[0].ports[0].port:``; none for a
    policyType (the message names the word)."""
    if not errors:
        return errors

    def peer(m: re.Match) -> str:
        what = "port" if m.group(1) == "ports" else "peer"
        rest = m.group(3)
        return f"{what} {int(m.group(2)) + 1}{', ' + rest if rest and rest != 'port' else ''}: "

    return {k: _TYPES_AT.sub("", _PEER_AT.sub(peer, v).replace("spec.podSelector.", "")) for k, v in errors.items()}


def _container_ports(net) -> list[tuple[int, str]]:
    cluster = net.cluster if net is not None else None
    return sorted({(c.port, c.protocol) for p in (cluster.pods if cluster else ()) for c in p.ports})
