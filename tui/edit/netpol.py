"""NetworkPolicies as the dashboard's forms write them (no UI).

A form says a label selector as kubectl prints one (``app=web,tier in (a,b),!legacy``), a rule's peers as
``pods(app=web)``, ``namespaces(team=a)``, both in one peer (``namespaces(team=a) pods(app=web)``: AND) or
``ipBlock(10.0.0.0/8 except 10.0.1.0/24)``, ``;`` between peers (OR), and its ports as ``TCP/80, UDP/53,
8000-8080, http``. This module turns that text into the manifest's fields (and back, to fill a form). Only
the shape is read here: the values (label keys, CIDRs, port numbers and names, protocols, policyTypes) are
written as typed and left to the loader (:mod:`tui.load.netpol`), whose located messages the edits'
``field_paths`` place beside the form's fields, so that the form and ``kubenet-tui check`` say the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .edits import Edit, EditRefused, FieldErrors, _upsert_object

API_VERSION = "networking.k8s.io/v1"
DIRECTIONS = ("ingress", "egress")
PEER_KEY = {"ingress": "from", "egress": "to"}
POLICY_PATHS = {"metadata.name": "name", "metadata.namespace": "namespace", "spec.podSelector": "podSelector",
                "spec.policyTypes": "policyTypes", "spec": "podSelector"}
_PEER_WORDS = {"pods": "podSelector", "pod": "podSelector", "podselector": "podSelector", "namespaces": "namespaceSelector",
               "namespace": "namespaceSelector", "ns": "namespaceSelector", "namespaceselector": "namespaceSelector",
               "ipblock": "ipBlock", "cidr": "ipBlock"}
_TERM = re.compile(r"^\s*([A-Za-z]+)\s*\(")


# -- splitting ------------------------------------------------------------------------------
def _split(text: str, sep: str) -> list[str]:
    """``text`` cut at ``sep`` outside parentheses (a selector's ``in (a,b)`` stays whole)."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f'"{text.strip()}" has a ")" with no "(" before it')
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise ValueError(f'"{text.strip()}" has a "(" that is not closed')
    out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


# -- label selectors ----------------------------------------------------------------------------
_SET = re.compile(r"^([^\s(),!=]+)\s+(in|notin)\s*\((.*)\)$", re.I)
_EQ = re.compile(r"^([^\s(),!=]+)\s*(==|=|!=)\s*([^\s(),!=]*)$")
_KEY = re.compile(r"^(!?)\s*([^\s(),!=]+)$")


def parse_selector(text: str) -> dict:
    """A label selector as kubectl writes one: ``app=web, tier in (a,b), env!=prod, release, !legacy``; empty (or
    ``{}``) selects everything. Returns ``{"matchLabels": ..., "matchExpressions": [...]}`` without the empty parts."""
    t = text.strip()
    if t in ("", "{}", "*"):
        return {}
    labels: dict[str, str] = {}
    exprs: list[dict] = []
    for term in _split(t, ","):
        if m := _SET.match(term):
            values = [v.strip() for v in m.group(3).split(",") if v.strip()]
            exprs.append({"key": m.group(1), "operator": "In" if m.group(2).lower() == "in" else "NotIn", "values": values})
        elif m := _EQ.match(term):
            key, op, value = m.groups()
            if op == "!=":
                exprs.append({"key": key, "operator": "NotIn", "values": [value]})
            elif key in labels:
                raise ValueError(f'label "{key}" given twice')
            else:
                labels[key] = value
        elif m := _KEY.match(term):
            exprs.append({"key": m.group(2), "operator": "DoesNotExist" if m.group(1) else "Exists"})
        else:
            raise ValueError(f'"{term}" is not a selector term: key=value, key!=value, key in (a,b), key notin (a,b), key or !key')
    out: dict = {}
    if labels:
        out["matchLabels"] = labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


def format_selector(sel) -> str:
    """A selector of a manifest as :func:`parse_selector` reads it ("" for every pod or namespace)."""
    if not isinstance(sel, dict):
        return ""
    parts = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items()] if isinstance(sel.get("matchLabels"), dict) else []
    for e in sel.get("matchExpressions") or []:
        if not isinstance(e, dict):
            continue
        key, op, values = e.get("key", ""), e.get("operator", ""), ",".join(str(v) for v in e.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": f"{key}",
                      "DoesNotExist": f"!{key}"}.get(op, f"{key} {op} ({values})"))
    return ",".join(parts)


# -- peers ----------------------------------------------------------------------------------------
def _ip_block(text: str) -> dict:
    cidr, *rest = re.split(r"\s+except(?:\s+|$)", text.strip(), maxsplit=1, flags=re.I)
    cidr = cidr.strip()
    if not cidr or " " in cidr:
        raise ValueError(f'"{text.strip()}" is not CIDR [except CIDR,CIDR] (e.g. 10.0.0.0/8 except 10.0.1.0/24)')
    block: dict = {"cidr": cidr}
    excepts = [e.strip() for e in (rest[0] if rest else "").replace(" ", ",").split(",") if e.strip()]
    if excepts:
        block["except"] = excepts
    return block


def parse_peer(text: str) -> dict:
    """One peer: ``pods(SEL)``, ``namespaces(SEL)``, both (AND), ``ipBlock(CIDR except CIDR,...)``, or a bare CIDR."""
    t = text.strip()
    if t and (t[0].isdigit() or (":" in t.split("(")[0] and "(" not in t)):
        return {"ipBlock": _ip_block(t)}
    peer: dict = {}
    rest = t
    while rest:
        m = _TERM.match(rest)
        word = m.group(1).lower() if m else ""
        if word not in _PEER_WORDS:
            hint = f" (did you mean pods({rest})?)" if "(" not in rest and "=" in rest else ""
            raise ValueError(f'"{rest}" is not a peer: pods(SEL), namespaces(SEL), both (AND), or ipBlock(CIDR except CIDR){hint}')
        depth, end = 0, None
        for i in range(m.end() - 1, len(rest)):
            depth += {"(": 1, ")": -1}.get(rest[i], 0)
            if depth == 0:
                end = i
                break
        if end is None:
            raise ValueError(f'"{rest}" has a "(" that is not closed')
        field, inner = _PEER_WORDS[word], rest[m.end():end]
        if field in peer:
            raise ValueError(f'{m.group(1)}(...) given twice in one peer: ";" separates peers')
        peer[field] = _ip_block(inner) if field == "ipBlock" else parse_selector(inner)
        rest = rest[end + 1:].strip()
        if rest.lower().startswith("and "):
            rest = rest[4:].strip()
    return peer


def parse_peers(text: str) -> list[dict]:
    """Peers separated by ``;`` (a connection needs to match one); empty: every peer."""
    return [parse_peer(p) for p in _split(text, ";")]


def format_peer(peer) -> str:
    if not isinstance(peer, dict):
        return ""
    if isinstance(peer.get("ipBlock"), dict):
        b = peer["ipBlock"]
        excepts = ",".join(str(e) for e in b.get("except") or [])
        return f"ipBlock({b.get('cidr', '')}{' except ' + excepts if excepts else ''})"
    parts = []
    if peer.get("namespaceSelector") is not None:
        parts.append(f"namespaces({format_selector(peer['namespaceSelector'])})")
    if peer.get("podSelector") is not None:
        parts.append(f"pods({format_selector(peer['podSelector'])})")
    return " ".join(parts)


def format_peers(peers) -> str:
    return "; ".join(format_peer(p) for p in peers or [] if isinstance(peers, list))


# -- ports ----------------------------------------------------------------------------------------
_PROTOCOL_WORDS = ("tcp", "udp", "sctp")


def _port_value(text: str):
    return int(text) if text.isdigit() else text


def parse_port(text: str) -> dict:
    """``TCP/80``, ``80/TCP``, ``80``, ``8000-8080``, ``UDP/53``, ``http`` (a named container port) or ``UDP`` (every
    port of the protocol) as a NetworkPolicyPort. The protocol is written as typed, upper-cased: the loader checks it."""
    t = text.strip()
    proto, port = None, t
    if "/" in t:
        a, _, b = t.partition("/")
        a, b = a.strip(), b.strip()
        if a.lower() in _PROTOCOL_WORDS or (not a[:1].isdigit() and b[:1].isdigit()):
            proto, port = a, b
        else:
            port, proto = a, b
    elif t.lower() in _PROTOCOL_WORDS:
        proto, port = t, ""
    out: dict = {}
    if proto is not None:
        if not proto:
            raise ValueError(f'"{t}": the protocol is missing (TCP, UDP or SCTP)')
        out["protocol"] = proto.upper()
    if port:
        first, dash, last = port.partition("-")
        if dash and first.isdigit():
            if not last.strip().isdigit():
                raise ValueError(f'"{port}" is not a port range: FIRST-LAST, two numbers (e.g. 8000-8080)')
            out["port"], out["endPort"] = int(first), int(last)
        else:
            out["port"] = _port_value(port)
    elif proto is None:
        raise ValueError("an empty port")
    return out


def parse_ports(text: str) -> list[dict]:
    return [parse_port(p) for p in text.replace(";", ",").split(",") if p.strip()]


def format_port(p) -> str:
    if not isinstance(p, dict):
        return ""
    port = p.get("port")
    text = "" if port is None else str(port) + (f"-{p['endPort']}" if p.get("endPort") is not None else "")
    proto = p.get("protocol")
    return f"{proto}/{text}" if proto and text else (proto or text)


def format_ports(ports) -> str:
    return ", ".join(format_port(p) for p in ports or [] if isinstance(ports, list))


# -- policyTypes ------------------------------------------------------------------------------
def parse_policy_types(text: str) -> list[str]:
    """``Ingress, Egress`` (any case, ``+`` or spaces between); an unknown word is written as typed for the loader to name."""
    known = {"ingress": "Ingress", "egress": "Egress"}
    return [known.get(w.lower(), w) for w in re.split(r"[\s,+/]+", text.strip()) if w]


def policy_types_of(spec: dict) -> list[str]:
    """``spec.policyTypes``, or what the API server defaults it to: Ingress, and Egress when there are egress rules."""
    types = spec.get("policyTypes")
    if isinstance(types, list) and types:
        return [str(t) for t in types]
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


# -- builders -------------------------------------------------------------------------------------
def _text(fields: dict, key: str) -> str:
    return str(fields.get(key) or "").strip()


def _spec(body: dict) -> dict:
    if not isinstance(body.get("spec"), dict):
        body["spec"] = {}
    return body["spec"]


def rules_of(body: dict | None, direction: str) -> list:
    spec = (body or {}).get("spec")
    rules = spec.get(direction) if isinstance(spec, dict) else None
    return rules if isinstance(rules, list) else []


def policy(fields: dict) -> Callable[[dict | None], dict]:
    """A NetworkPolicy: namespace, name, ``podSelector`` and ``policyTypes`` (its rules kept)."""

    def build(body: dict | None) -> dict:
        from .manifests import _metadata, _put

        errors: dict[str, str] = {}
        body = body or {"apiVersion": API_VERSION, "kind": "NetworkPolicy", "metadata": {}, "spec": {"podSelector": {}}}
        meta = _metadata(body, fields)
        meta["namespace"] = _text(fields, "namespace") or "default"  # a policy's namespace is what it is about: always written
        spec = _spec(body)
        sel_text = _text(fields, "podSelector")
        if sel_text != format_selector(spec.get("podSelector")) or "podSelector" not in spec:
            try:
                spec["podSelector"] = parse_selector(sel_text)
            except ValueError as e:
                errors["podSelector"] = str(e)
        types = parse_policy_types(_text(fields, "policyTypes"))
        if types != (spec.get("policyTypes") or []):
            _put(spec, "policyTypes", types)
        if errors:
            raise FieldErrors(errors)
        order = ["podSelector", "policyTypes", "ingress", "egress"]  # as kubectl writes a policy
        body["spec"] = {k: spec[k] for k in order if k in spec} | {k: v for k, v in spec.items() if k not in order}
        return body

    return build


def rule(fields: dict, direction: str | None, index: int | None, where: dict) -> Callable[[dict | None], dict]:
    """Add a rule (``index`` None) to the direction the form names, or change the ``direction`` rule ``index`` (a
    changed direction moves it to the other list, at its end). ``where`` gets its place: direction and index."""

    def build(body: dict | None) -> dict:
        if body is None:
            raise EditRefused("the NetworkPolicy is gone")
        errors: dict[str, str] = {}
        new_dir = _text(fields, "direction").lower() or direction or "ingress"
        if new_dir not in DIRECTIONS:
            errors["direction"] = f'unsupported value "{_text(fields, "direction")}": ingress or egress'
        peers = ports = None
        try:
            peers = parse_peers(_text(fields, "peers"))
        except ValueError as e:
            errors["peers"] = str(e)
        try:
            ports = parse_ports(_text(fields, "ports"))
        except ValueError as e:
            errors["ports"] = str(e)
        if errors:
            raise FieldErrors(errors)
        spec = _spec(body)
        old = None
        if index is not None:
            rules = rules_of(body, direction)
            if index >= len(rules):
                raise EditRefused("that rule is gone")
            old = rules[index] if isinstance(rules[index], dict) else {}
        entry = {k: v for k, v in (old or {}).items() if k not in ("from", "to", "ports")}
        if peers:
            entry[PEER_KEY[new_dir]] = peers
        if ports:
            entry["ports"] = ports
        if old is not None and new_dir == direction:
            spec[direction][index] = entry
            where.update(direction=direction, index=index)
            return body
        if old is not None:
            del spec[direction][index]
        spec.setdefault(new_dir, [])
        if not isinstance(spec[new_dir], list):
            spec[new_dir] = []
        spec[new_dir].append(entry)
        where.update(direction=new_dir, index=len(spec[new_dir]) - 1)
        return body

    return build


def without_rule(direction: str, index: int) -> Callable[[dict | None], dict]:
    def build(body: dict | None) -> dict:
        rules = rules_of(body, direction)
        if body is None or index >= len(rules):
            raise EditRefused("that rule is gone")
        del rules[index]
        return body

    return build


# -- the edits ------------------------------------------------------------------------------------
def upsert_policy(old: tuple[str, str] | None, fields: dict) -> Edit:
    """Add a NetworkPolicy, or change one's namespace, name, podSelector and policyTypes."""
    label = f"{'edit' if old else 'add'} NetworkPolicy {_text(fields, 'namespace') or 'default'}/{_text(fields, 'name')}"
    return _upsert_object("NetworkPolicy", old, label, policy(fields), dict(POLICY_PATHS))


def upsert_rule(key: tuple[str, str], direction: str | None, index: int | None, fields: dict, where: dict | None = None) -> Edit:
    """Add a rule to the policy ``(namespace, name)``, or change its ``direction`` rule ``index``."""
    where = {} if where is None else where
    paths: dict[str, str] = {}
    inner = rule(fields, direction, index, where)

    def build(body: dict | None) -> dict:
        out = inner(body)
        at = f"spec.{where['direction']}[{where['index']}]"
        paths.update({at: "peers", f"{at}.from": "peers", f"{at}.to": "peers", f"{at}.ports": "ports"})
        return out

    new_dir = _text(fields, "direction").lower() or direction or "ingress"
    what = f"{'edit' if index is not None else 'add'} {new_dir} rule"
    return _upsert_object("NetworkPolicy", key, f"{what} of NetworkPolicy {key[0]}/{key[1]}", build, paths)


def delete_rule(key: tuple[str, str], direction: str, index: int) -> Edit:
    return _upsert_object("NetworkPolicy", key, f"delete {direction} rule {index} of NetworkPolicy {key[0]}/{key[1]}",
                          without_rule(direction, index), {})
