"""A NetworkPolicy's spec checked as the API server validates it (networking.k8s.io/v1, ValidateNetworkPolicySpec):
label selectors, policyTypes, peers and their ipBlocks, ports. Each mistake is a located error; the object is kept.

CIDRs are read as the API server reads them by default (``ParseCIDRSloppy``, the StrictIPCIDRValidation gate off):
host bits (``10.0.0.1/24``, read as ``10.0.0.0/24``), leading zeros and IPv4-mapped IPv6 addresses are accepted,
with the warnings it returns for them.
"""

from __future__ import annotations

import ipaddress
import re

from .errors import did_you_mean
from .fields import Fields, type_name
from .kube import _LABEL_NAME, _LABEL_VALUE, PROTOCOLS
from .values import dns1123_subdomain
from .yamlsrc import YList, YMap

POLICY_TYPES = ("Ingress", "Egress")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
PEERS = ("podSelector", "namespaceSelector", "ipBlock")
_V4 = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)")
_DIGITS = re.compile(r"[0-9]+")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def label_key_error(key: str) -> str | None:
    """Why ``key`` is not a label key (a qualified name: an optional DNS subdomain and "/", then a name)."""
    prefix, slash, name = key.rpartition("/")
    if (not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name) or (slash and not prefix)
            or (prefix and dns1123_subdomain(prefix))):
        return (f'"{key}" is not a valid label key: an optional DNS subdomain prefix and "/", then at most 63 letters, '
                'digits, "-", "_" and ".", starting and ending with a letter or digit')
    return None


def label_value_error(value: str) -> str | None:
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        return (f'"{value}" is not a valid label value: at most 63 letters, digits, "-", "_" and ".", '
                "starting and ending with a letter or digit")
    return None


def port_name_error(name: str) -> str | None:
    """Why ``name`` is not an IANA_SVC_NAME (validation.IsValidPortName)."""
    why = ("is empty" if not name else "is longer than 15 characters" if len(name) > 15 else
           'has a character other than lower-case letters, digits and "-"' if not re.fullmatch(r"[-a-z0-9]+", name) else
           f"has no letter (a port number is written without quotes: {name.lstrip('0') or 0})" if not re.search(r"[a-z]", name) else
           'has "--"' if "--" in name else
           'begins or ends with "-"' if name[0] == "-" or name[-1] == "-" else None)
    if why:
        return (f'"{name}" is not a valid port name: it {why} (IANA_SVC_NAME: at most 15 lower-case letters, '
                'digits and "-", with a letter, no "--", not starting or ending with "-")')
    return None


def _sloppy_ip(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, str]:
    """An address as the API server's ParseIPSloppy reads it, and what is not standard in it ("" when nothing)."""
    def v4(s: str):
        m = _V4.fullmatch(s)
        if not m or any(int(o) > 255 for o in m.groups()):
            raise ValueError
        zeros = any(len(o) > 1 and o[0] == "0" for o in m.groups())
        return ipaddress.IPv4Address(".".join(str(int(o)) for o in m.groups())), "leading zeros" if zeros else ""
    if _V4.fullmatch(text):
        return v4(text)
    if "%" in text or ":" not in text:
        raise ValueError
    head, _, tail = text.rpartition(":")
    zeros = ""
    if "." in tail:  # an embedded IPv4 address (::ffff:1.2.3.4), its octets sloppy too
        ip4, zeros = v4(tail)
        text = f"{head}:{ip4}"
    ip = ipaddress.IPv6Address(text)
    return ip, zeros or ("an IPv4-mapped IPv6 address" if ip.ipv4_mapped is not None else "")


def _go_network(net: Network) -> Network:
    """The network as Go's net.IPNet sees it: an IPv4-mapped one is IPv4 (``::ffff:10.0.0.0/104`` is 10.0.0.0/8)."""
    if net.version == 6 and net.prefixlen >= 96 and net.network_address.ipv4_mapped is not None:
        return ipaddress.ip_network((net.network_address.ipv4_mapped, net.prefixlen - 96))
    return net


def parse_ipblock_cidr(text: str) -> tuple[Network, int, list[str]]:
    """``(network, prefix length as written, warnings)`` for an ipBlock CIDR as the API server accepts it."""
    addr, slash, plen = text.partition("/")
    if not slash:
        raise ValueError(f'"{text}" is not a CIDR: it needs a prefix length, like {text}/32 or 10.0.0.0/16')
    try:
        ip, odd = _sloppy_ip(addr)
    except ValueError:
        raise ValueError(f'"{text}" is not a CIDR: "{addr}" is not an IP address (like 10.0.0.0/16 or 2001:db8::/64)') from None
    bits = ip.max_prefixlen
    if not _DIGITS.fullmatch(plen) or int(plen) > bits:
        raise ValueError(f'"{text}" is not a CIDR: the prefix length is a number from 0 to {bits}')
    odd = odd or ("leading zeros" if len(plen) > 1 and plen[0] == "0" else "")
    net = ipaddress.ip_network((ip, int(plen)), strict=False)
    seen = _go_network(net)
    warnings = []
    if ip != net.network_address:
        single = _go_network(ipaddress.ip_network((ip, bits)))
        warnings.append(f'"{text}" has host bits set: it is read as {seen} (did you mean {seen} or {single}?)')
    if odd:
        warnings.append(f'"{text}" is not in a standard form ({odd}): use "{seen}" '
                        "(the API server's strict IP/CIDR validation refuses it)")
    if not warnings and ip.version == 6 and f"{ip}/{int(plen)}" != text:
        warnings.append(f'"{text}" should be written in canonical form, "{ip}/{int(plen)}" (RFC 5952)')
    return net, int(plen), warnings


def check_network_policy(f: Fields) -> None:
    spec_map = f.get("spec", YMap)
    if spec_map is None:
        return
    spec = Fields(spec_map, f.at("spec"), f.problems, ("podSelector", "policyTypes", "ingress", "egress"))
    if not spec.has("podSelector"):  # null is {} to the API server
        f.problems.error(spec_map.mark, spec.at("podSelector"), "required field is missing (podSelector: {} selects every pod of the namespace)")
    sel = spec.sub("podSelector", ("matchLabels", "matchExpressions"))
    if sel is not None:
        _selector(sel)
    _policy_types(spec)
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        other = "to" if peers == "from" else "from"
        for _i, rule, path in spec.maps(direction):
            r = Fields(rule, path, f.problems, (peers, "ports") + ((other,) if other in rule else ()))
            if other in rule:
                f.problems.error(rule.kmark(other), r.at(other),
                                 f'unknown field "{other}": an {direction} rule has "{peers}" ("{other}" is for {"egress" if direction == "ingress" else "ingress"} rules)')
            for _j, peer, ppath in r.maps(peers):
                _peer(Fields(peer, ppath, f.problems, PEERS))
            for _j, port, ppath in r.maps("ports"):
                _port(Fields(port, ppath, f.problems, ("protocol", "port", "endPort")))
            r.done()
    spec.done()


def _policy_types(spec: Fields) -> None:
    items = spec.get("policyTypes", YList)
    if items is None:
        return
    if len(items) > len(POLICY_TYPES):
        spec.error("policyTypes", f"may not specify more than two policyTypes (Ingress, Egress), got {len(items)}")
    seen = set()
    for _i, t, mark, path in spec.items("policyTypes"):
        if not isinstance(t, str):
            spec.problems.error(mark, path, f"expected a string, got {type_name(t)}")
        elif t not in POLICY_TYPES:
            spec.problems.error(mark, path, f'unsupported value "{t}": one of {", ".join(POLICY_TYPES)}{did_you_mean(t, POLICY_TYPES)}')
        elif t in seen:
            spec.problems.warn(mark, path, f'"{t}" is listed twice (the API server accepts it; once is enough)')
        else:
            seen.add(t)


def _selector(s: Fields) -> None:
    """A metav1.LabelSelector (ValidateLabelSelector): matchLabels and matchExpressions; {} selects everything."""
    labels = s.get("matchLabels", YMap)
    for k, v in (labels or {}).items():
        at = f"{s.at('matchLabels')}.{k}"
        if (why := label_key_error(str(k))):
            s.problems.error(labels.kmark(k), at, why)
        if not isinstance(v, str):
            s.problems.error(labels.vmark(k), at, f"a label value is a string, got {type_name(v)} (quote it)")
        elif (why := label_value_error(v)):
            s.problems.error(labels.vmark(k), at, why)
    for _i, expr, path in s.maps("matchExpressions"):
        e = Fields(expr, path, s.problems, ("key", "operator", "values"))
        key = e.get("key", str, required=True)
        if key is not None and (why := label_key_error(key)):
            e.error("key", why)
        op = e.get("operator", str, required=True)
        if op is not None and op not in OPERATORS:
            e.error("operator", f'unsupported value "{op}": one of {", ".join(OPERATORS)}{did_you_mean(op, OPERATORS)}')
        values = e.get("values", YList)
        if op in ("In", "NotIn") and not values:
            where = e.mark("values")
            e.problems.error(where, e.at("values"), f"required when operator is {op}: at least one value")
        elif op in ("Exists", "DoesNotExist") and values:
            e.error("values", f"may not be specified when operator is {op} (it tests the key only)")
        for _j, v, mark, vpath in e.items("values"):
            if not isinstance(v, str):
                e.problems.error(mark, vpath, f"expected a string, got {type_name(v)} (quote it)")
            elif (why := label_value_error(v)):
                e.problems.error(mark, vpath, why)
        e.done()
    s.done()


def _peer(p: Fields) -> None:
    """A NetworkPolicyPeer: podSelector and/or namespaceSelector (both: AND), or ipBlock alone. null is absent."""
    present = [k for k in PEERS if p.m.get(k) is not None]
    if not present:
        p.problems.error(p.m.mark, p.path, "must specify a peer: podSelector, namespaceSelector or ipBlock")
    elif "ipBlock" in present and len(present) > 1:
        p.problems.error(p.m.mark, p.path, "may not specify both ipBlock and another peer: an ipBlock stands alone "
                         "(podSelector and namespaceSelector may be combined: both must match)")
    for key in ("podSelector", "namespaceSelector"):
        sel = p.sub(key, ("matchLabels", "matchExpressions"))
        if sel is not None:
            _selector(sel)
    block = p.sub("ipBlock", ("cidr", "except"))
    if block is not None:
        _ip_block(block)
    p.done()


def _ip_block(b: Fields) -> None:
    text = b.get("cidr", str)
    parsed = None
    if text is None and b.m.get("cidr") is None:  # absent, or null: "" to the API server
        b.problems.error(b.mark("cidr"), b.at("cidr"), "required field is missing (a CIDR like 10.0.0.0/16)")
    elif text == "":
        b.error("cidr", "required: a CIDR like 10.0.0.0/16, not an empty string")
    elif text is not None:
        try:
            parsed = parse_ipblock_cidr(text)
        except ValueError as e:
            b.error("cidr", str(e))
        else:
            for w in parsed[2]:
                b.problems.warn(b.mark("cidr"), b.at("cidr"), w)
    for _i, text, mark, path in b.items("except"):
        if not isinstance(text, str):
            b.problems.error(mark, path, f"expected a string, got {type_name(text)}")
            continue
        try:
            net, plen, warnings = parse_ipblock_cidr(text)
        except ValueError as e:
            b.problems.error(mark, path, str(e))
            continue
        for w in warnings:
            b.problems.warn(mark, path, w)
        if parsed is None:
            continue
        cidr, cidr_len, _ = parsed
        outer, inner = _go_network(cidr), _go_network(net)
        if inner.version != outer.version:
            b.problems.error(mark, path, f'"{text}" must be a strict subset of cidr {b.m["cidr"]}: it is IPv{inner.version}, the cidr IPv{outer.version}')
        elif inner.network_address not in outer or cidr_len >= plen:
            mixed = f" (the API server compares the prefix lengths as written, /{plen} and /{cidr_len}: write both as IPv4)" \
                if net.version != cidr.version else ""
            b.problems.error(mark, path, f'"{text}" must be a strict subset of cidr {b.m["cidr"]}: inside it, with a longer prefix{mixed}')
    b.done()


def _port(p: Fields) -> None:
    proto = p.get("protocol", str)
    if proto is not None and proto not in PROTOCOLS:
        p.error("protocol", f'unsupported value "{proto}": one of {", ".join(PROTOCOLS)}{did_you_mean(proto, PROTOCOLS)}')
    port = p.m.get("port")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, (int, str)):
            p.error("port", f"expected a port number or name, got {type_name(port)}")
            port = None
        elif isinstance(port, int) and not 1 <= port <= 65535:
            p.error("port", f"port {port} must be between 1 and 65535, inclusive")
        elif isinstance(port, str) and (why := port_name_error(port)):
            p.error("port", why)
    end = p.get("endPort", int)
    if end is not None:
        if not p.has("port") or p.m["port"] is None:
            p.error("endPort", "may not be specified when port is not specified: endPort ends the range port starts")
        elif isinstance(port, str):
            p.error("endPort", f'may not be specified when port is a name ("{port}"): a range is numeric')
        elif isinstance(port, int) and end < port:
            p.error("endPort", f"endPort {end} must be greater than or equal to port {port}")
        if not 1 <= end <= 65535:
            p.error("endPort", f"endPort {end} must be between 1 and 65535, inclusive")
    p.done()
