"""CoreDNS's configuration: the Corefile of ConfigMap ``kube-system/coredns`` (key ``Corefile``), or kubeadm's.

The Corefile is read as CoreDNS reads it: server blocks (``ZONES:PORT { ... }``), one directive per line, and
the options of the two plugins that decide answers here: ``kubernetes`` (zones, ``pods``, ``ttl``,
``namespaces``, ``ignore empty_service``, ``fallthrough``, ``endpoint_pod_names``, ``noendpoints``) and
``forward`` (``FROM TO...`` with ``except``). The other plugins of CoreDNS are accepted and change nothing in
the simulation (``cache`` keeps no clock here, ``loadbalance`` only reorders). A mistake CoreDNS would refuse
at start-up (an unknown directive or property, a bad ``pods`` mode, a ``ttl`` out of range) is a
:class:`CorefileError` with the Corefile line.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass

from .records import fqdn, reverse_zones

# plugin.cfg of CoreDNS: every directive a Corefile may use, in the order the plugins run.
PLUGINS = ("root", "metadata", "geoip", "cancel", "tls", "quic", "grpc_server", "https", "https3", "timeouts", "multisocket",
           "reload", "nsid", "bufsize", "bind", "debug", "trace", "ready", "health", "pprof", "prometheus", "errors", "log",
           "dnstap", "local", "dns64", "acl", "any", "chaos", "loadbalance", "tsig", "cache", "rewrite", "header", "dnssec",
           "autopath", "minimal", "template", "transfer", "hosts", "route53", "azure", "clouddns", "k8s_external", "kubernetes",
           "file", "auto", "secondary", "etcd", "loop", "forward", "grpc", "erratic", "whoami", "on", "sign", "view", "nomad",
           "proxyproto", "import")
POD_MODES = ("disabled", "insecure", "verified")
KUBERNETES_PROPERTIES = ("endpoint", "tls", "kubeconfig", "namespaces", "labels", "namespace_labels", "pods", "endpoint_pod_names",
                         "ttl", "noendpoints", "fallthrough", "ignore", "startup_timeout", "multicluster", "apiserver_qps",
                         "apiserver_burst", "apiserver_max_inflight", "ptr_hostname_only", "zonal", "resyncperiod", "upstream")
DEFAULT_TTL = 5  # the kubernetes plugin's default
DNS_SCHEMA_VERSION = "1.1.0"


class CorefileError(ValueError):
    """A Corefile CoreDNS would refuse to start with: ``line`` is 1-based within the Corefile."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Directive:
    """One line of a server block (``name args...``), with its own block of lines when it opens one."""

    name: str
    args: tuple[str, ...] = ()
    block: tuple[Directive, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class KubernetesConfig:
    """The kubernetes plugin's options (plugin/kubernetes/setup.go)."""

    zones: tuple[str, ...]  # absolute, lower case; reverse zones included
    pods: str = "disabled"
    ttl: int = DEFAULT_TTL
    namespaces: tuple[str, ...] = ()  # empty: every namespace
    ignore_empty_service: bool = False
    fallthrough: tuple[str, ...] | None = None  # None: never; (): every zone of the plugin; else those zones
    endpoint_pod_names: bool = False
    noendpoints: bool = False
    line: int = 0

    @property
    def primary_zone(self) -> str:
        """The first zone that is not a reverse zone: PTR targets are named in it."""
        return next(z for z in self.zones if not z.endswith(("in-addr.arpa.", "ip6.arpa.")))


@dataclass(frozen=True)
class ForwardConfig:
    """``forward FROM TO...``: names under FROM (less ``except`` zones) go to the upstream."""

    from_zone: str
    to: tuple[str, ...]
    except_zones: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ServerBlock:
    keys: tuple[str, ...]
    zones: tuple[str, ...]
    port: int
    directives: tuple[Directive, ...]
    kubernetes: KubernetesConfig | None = None
    forward: tuple[ForwardConfig, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Corefile:
    text: str
    servers: tuple[ServerBlock, ...]
    source: str = "kubeadm's default Corefile"

    def blocks_on(self, port: int = 53) -> tuple[ServerBlock, ...]:
        return tuple(s for s in self.servers if s.port == port)


def kubeadm_corefile(domain: str = "cluster.local") -> str:
    """The Corefile kubeadm writes into ConfigMap kube-system/coredns."""
    return (".:53 {\n"
            "    errors\n"
            "    health {\n"
            "       lameduck 5s\n"
            "    }\n"
            "    ready\n"
            f"    kubernetes {domain} in-addr.arpa ip6.arpa {{\n"
            "       pods insecure\n"
            "       fallthrough in-addr.arpa ip6.arpa\n"
            "       ttl 30\n"
            "    }\n"
            "    prometheus :9153\n"
            "    forward . /etc/resolv.conf {\n"
            "       max_concurrent 1000\n"
            "    }\n"
            "    cache 30 {\n"
            f"       disable success {domain}\n"
            f"       disable denial {domain}\n"
            "    }\n"
            "    loop\n"
            "    reload\n"
            "    loadbalance\n"
            "}\n")


# -- the lexer: Caddyfile tokens, one logical line per directive -------------------------------------

def _lines(text: str) -> list[tuple[int, list[str]]]:
    """``(line number, tokens)`` per non-empty line: quotes group, ``#`` starts a comment, ``\\`` escapes."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        toks, cur, quoted, started, i = [], [], False, False, 0
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                cur.append(raw[i + 1])
                started, i = True, i + 2
                continue
            if quoted:
                if c == '"':
                    quoted = False
                else:
                    cur.append(c)
            elif c == '"':
                quoted = started = True
            elif c == "#" and not started:
                break
            elif c.isspace():
                if started:
                    toks.append("".join(cur))
                cur, started = [], False
            else:
                cur.append(c)
                started = True
            i += 1
        if quoted:
            raise CorefileError(n, "unterminated quoted string")
        if started:
            toks.append("".join(cur))
        if toks:
            out.append((n, toks))
    return out


def _split_braces(lines: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """A closing brace anywhere on a line ends the block there; a ``{`` glued to a token is split off."""
    out = []
    for n, toks in lines:
        cur: list[str] = []
        for t in toks:
            if t in ("{", "}"):
                cur.append(t)
            elif t.endswith("{") and len(t) > 1 and not t.startswith("{$"):
                cur += [t[:-1], "{"]
            elif t.startswith("}") and len(t) > 1:
                cur += ["}", t[1:]]
            else:
                cur.append(t)
        # "}" closes whatever precedes it on its own logical line
        part: list[str] = []
        for t in cur:
            if t == "}":
                if part:
                    out.append((n, part))
                out.append((n, ["}"]))
                part = []
            else:
                part.append(t)
                if t == "{":
                    out.append((n, part))
                    part = []
        if part:
            out.append((n, part))
    return out


def _block(items: list[tuple[int, list[str]]], i: int) -> tuple[tuple[Directive, ...], int, bool]:
    """Directives from ``items[i]`` to the matching ``}``: (directives, index after it, whether it was closed)."""
    out = []
    while i < len(items):
        n, toks = items[i]
        if toks == ["}"]:
            return tuple(out), i + 1, True
        if toks == ["{"]:
            raise CorefileError(n, "a block opens without a directive before it")
        if toks[-1] == "{":
            inner, i, closed = _block(items, i + 1)
            if not closed:
                raise CorefileError(n, f'the block of "{toks[0]}" is not closed (missing "}}")')
            out.append(Directive(toks[0], tuple(toks[1:-1]), inner, n))
        else:
            out.append(Directive(toks[0], tuple(toks[1:]), (), n))
            i += 1
    return tuple(out), i, False


def _zone_key(key: str, line: int) -> tuple[list[str], int, str]:
    """A server block key: ``[dns://]ZONE[:PORT]`` -> (zones, port, transport)."""
    transport = "dns"
    if "://" in key:
        transport, key = key.split("://", 1)
        if transport not in ("dns", "tls", "grpc", "https", "quic", "https3"):
            raise CorefileError(line, f'unknown transport "{transport}://" in server block key')
    host, port = key, "53"
    if key.startswith("["):
        host, _, rest = key[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif key.count(":") == 1:
        host, port = key.split(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CorefileError(line, f'"{port}" is not a port in server block key "{key}"')
    host = host or "."
    return _zones([host], line), int(port), transport


def _zones(args, line: int) -> list[str]:
    out = []
    for a in args:
        if "/" in a:
            try:
                out += reverse_zones(a)
            except ValueError:
                raise CorefileError(line, f'"{a}" is neither a zone nor a CIDR') from None
            continue
        try:  # a bare address stands for its reverse name
            ip = ipaddress.ip_address(a)
            out.append(ip.reverse_pointer + ".")
            continue
        except ValueError:
            pass
        z = fqdn(a.lower())
        if z != "." and not all(p and len(p) <= 63 for p in z[:-1].split(".")):
            raise CorefileError(line, f'"{a}" is not a zone name')
        out.append(z)
    return out


def _hint(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _kubernetes(d: Directive, block_zones: list[str]) -> KubernetesConfig:
    zones = _zones(d.args, d.line) if d.args else list(block_zones)
    opts: dict = {}
    for p in d.block:
        a = p.args
        if p.name not in KUBERNETES_PROPERTIES:
            raise CorefileError(p.line, f'kubernetes: unknown property "{p.name}"{_hint(p.name, KUBERNETES_PROPERTIES)}')
        if p.name == "pods":
            if len(a) != 1 or a[0] not in POD_MODES:
                raise CorefileError(p.line, f'kubernetes: wrong value for pods: {" ".join(a) or "(none)"}, must be one of: '
                                            f'{", ".join(POD_MODES)}')
            opts["pods"] = a[0]
        elif p.name == "ttl":
            if len(a) != 1 or not a[0].isdigit():
                raise CorefileError(p.line, f'kubernetes: ttl takes one number of seconds, got "{" ".join(a)}"')
            if not 0 <= int(a[0]) <= 3600:
                raise CorefileError(p.line, f"kubernetes: ttl must be in range [0, 3600]: {a[0]}")
            opts["ttl"] = int(a[0])
        elif p.name == "namespaces":
            if not a:
                raise CorefileError(p.line, "kubernetes: namespaces needs at least one namespace")
            opts["namespaces"] = tuple(a)
        elif p.name == "ignore":
            if a != ("empty_service",):
                raise CorefileError(p.line, f'kubernetes: unable to parse ignore value: "{" ".join(a)}" (only "ignore empty_service")')
            opts["ignore_empty_service"] = True
        elif p.name == "fallthrough":
            opts["fallthrough"] = tuple(_zones(a, p.line))
        elif p.name in ("endpoint_pod_names", "noendpoints"):
            if a:
                raise CorefileError(p.line, f"kubernetes: {p.name} takes no argument")
            opts[p.name] = True
    if not any(not z.endswith(("in-addr.arpa.", "ip6.arpa.")) for z in zones):
        raise CorefileError(d.line, "kubernetes: non-reverse zone name must be used")
    return KubernetesConfig(tuple(zones), line=d.line, **opts)


def _forward(d: Directive) -> ForwardConfig:
    if len(d.args) < 2:
        raise CorefileError(d.line, "forward: needs FROM and at least one TO (forward . /etc/resolv.conf)")
    excepts: list[str] = []
    for p in d.block:
        if p.name == "except":
            excepts += _zones(p.args, p.line)
    return ForwardConfig(_zones([d.args[0]], d.line)[0], tuple(d.args[1:]), tuple(excepts), d.line)


def parse(text: str, source: str = "ConfigMap kube-system/coredns") -> Corefile:
    """The Corefile's server blocks, with their kubernetes and forward plugins read; CorefileError if bad."""
    items = _split_braces(_lines(text))
    servers = []
    i = 0
    if items and "{" not in items[0][1] and not any(t == "{" for _, ts in items for t in ts):
        # a single server block may leave out its braces: the first line is its keys
        items = [(items[0][0], items[0][1] + ["{"])] + items[1:] + [(items[-1][0], ["}"])]
    while i < len(items):
        n, toks = items[i]
        if toks == ["}"]:
            raise CorefileError(n, 'unexpected "}": no block is open')
        if toks[-1] != "{":
            raise CorefileError(n, f'expected a server block ("{" ".join(toks)} {{ ... }}"), got a line without "{{"')
        keys = [k.rstrip(",") for k in toks[:-1] if k.rstrip(",")]
        if not keys:
            raise CorefileError(n, "a server block needs at least one zone (.:53 { ... })")
        if keys[0].startswith("(") and keys[0].endswith(")"):
            raise CorefileError(n, "snippets and import are not simulated: write the server blocks out")
        directives, i, closed = _block(items, i + 1)
        if not closed:
            raise CorefileError(n, 'the server block is not closed (missing "}")')
        zones, ports, transports = [], set(), set()
        for k in keys:
            z, port, transport = _zone_key(k, n)
            zones += z
            ports.add(port)
            transports.add(transport)
        if len(ports) > 1:
            raise CorefileError(n, "the keys of one server block name different ports")
        kube, fwd, seen = None, [], set()
        for d in directives:
            if d.name not in PLUGINS:
                raise CorefileError(d.line, f'unknown directive "{d.name}"{_hint(d.name, PLUGINS)}')
            if d.name == "import":
                raise CorefileError(d.line, "snippets and import are not simulated: write the server blocks out")
            if d.name == "kubernetes":
                if "kubernetes" in seen:
                    raise CorefileError(d.line, "kubernetes: this plugin can only be used once per Server Block")
                kube = _kubernetes(d, zones)
            elif d.name == "forward":
                fwd.append(_forward(d))
            seen.add(d.name)
        port = ports.pop()
        if transports != {"dns"}:
            port = -port  # TLS, gRPC or HTTPS listeners do not serve plain DNS on the Service's port
        servers.append(ServerBlock(tuple(keys), tuple(zones), port, directives, kube, tuple(fwd), n))
    return Corefile(text, tuple(servers), source)


def from_objects(objects, domain: str = "cluster.local") -> tuple[Corefile, object | None]:
    """The Corefile the objects give (ConfigMap kube-system/coredns, key Corefile), else kubeadm's default.
    Returns it with the ConfigMap it came from (None for the default)."""
    for o in objects:
        if o.kind == "ConfigMap" and o.namespace == "kube-system" and o.name == "coredns":
            text = (o.body.get("data") or {}).get("Corefile")
            if isinstance(text, str):
                return parse(text), o
    return parse(kubeadm_corefile(domain), "kubeadm's default Corefile"), None
