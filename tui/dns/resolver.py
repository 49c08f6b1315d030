"""A pod's resolver: the resolv.conf the kubelet writes for it, and the names glibc tries in turn.

resolv.conf follows the pod's ``dnsPolicy`` as the kubelet applies it (pkg/kubelet/network/dns):

- ``ClusterFirst`` (the default): ``nameserver <cluster DNS>``, ``search <ns>.svc.<zone> svc.<zone> <zone>``,
  ``options ndots:5``; a ``hostNetwork`` pod with ClusterFirst gets ``Default`` instead;
- ``ClusterFirstWithHostNet``: ClusterFirst, also for a hostNetwork pod;
- ``Default``: the node's resolv.conf (``cluster.dns.upstream.nameservers``, else 8.8.8.8), which reaches the
  upstream directly, never CoreDNS;
- ``None``: only ``dnsConfig``.

``spec.dnsConfig`` is then merged in: its nameservers and searches appended (duplicates dropped, at most 3
nameservers and 32 search domains), its options replacing those of the same name.

The search walk is glibc's res_nsearch: a name ending in a dot is asked as it is; a name with at least
``ndots`` dots is asked as it is first, then with each search domain; a shorter one with each search domain
first, then as it is. The walk goes on past NXDOMAIN, NODATA and SERVFAIL, and stops at the first answer
with records (the one kept). When none has records, the result is NODATA if some try was NODATA, else the
last failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from .records import NOERROR, NXDOMAIN, SERVFAIL, Answer, fqdn

NODE_NAMESERVER = "8.8.8.8"
MAX_NAMESERVERS, MAX_SEARCHES = 3, 32


class ResolverError(ValueError):
    """A pod that cannot be found, or whose DNS settings the API server would refuse."""


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...]
    search: tuple[str, ...]
    options: tuple[str, ...]
    policy: str  # spec.dnsPolicy as written (ClusterFirst when absent)
    applied: str  # what the kubelet applied (ClusterFirst with hostNetwork becomes Default)

    @property
    def ndots(self) -> int:
        n = 1
        for o in self.options:
            if o.startswith("ndots:") and o[6:].isdigit():
                n = min(int(o[6:]), 15)
        return n

    def text(self) -> str:
        """/etc/resolv.conf as the pod sees it."""
        lines = []
        if self.search:
            lines.append("search " + " ".join(self.search))
        lines += [f"nameserver {ns}" for ns in self.nameservers]
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {"dnsPolicy": self.policy, "applied": self.applied, "nameservers": list(self.nameservers),
                "search": list(self.search), "options": list(self.options)}


@dataclass(frozen=True)
class Try:
    qname: str
    answer: Answer
    server: str  # the nameserver asked


@dataclass(frozen=True)
class Resolution:
    """Every name the resolver tried, in order, with its answer, and the one it kept (None: nothing resolved)."""

    name: str  # as typed
    qtype: str
    pod: str | None
    conf: ResolvConf | None
    tries: tuple[Try, ...]
    kept: int | None
    final: Answer
    order: str = ""  # why the tries come in this order

    @property
    def qname(self) -> str:
        """The name the final answer is for."""
        i = self.kept if self.kept is not None else len(self.tries) - 1
        return self.tries[i].qname


def _dedup(items) -> list:
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _merge_options(base: list[str], extra: list[str]) -> list[str]:
    names = {o.split(":", 1)[0] for o in extra}
    return [o for o in base if o.split(":", 1)[0] not in names] + _dedup(extra)


def find_pod(cluster, key: str):
    """A pod by ``namespace/name``, or ``name`` in namespace default (kubectl's habit)."""
    import difflib

    ns, _, name = key.rpartition("/")
    ns = ns or "default"
    for p in cluster.pods:
        if p.namespace == ns and p.name == name:
            return p
    keys = [f"{p.namespace}/{p.name}" for p in cluster.pods]
    close = difflib.get_close_matches(f"{ns}/{name}", keys, n=1, cutoff=0.6)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    if not cluster.pods:
        raise ResolverError("the cluster has no pods: --from names a pod as NAMESPACE/POD")
    raise ResolverError(f'no pod "{ns}/{name}"{hint}')


def resolv_conf(zone, pod) -> ResolvConf:
    """The resolv.conf the kubelet writes for ``pod`` (a :class:`tui.k8s.cluster.Pod`)."""
    from .sources import _pod_bodies

    body = _pod_bodies(zone.topology, zone.cluster).get((pod.namespace, pod.name), {})
    spec = body.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy not in ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"):
        raise ResolverError(f'pod {pod.namespace}/{pod.name}: spec.dnsPolicy "{policy}" is not one of ClusterFirst, '
                            "ClusterFirstWithHostNet, Default, None")
    applied = policy
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        applied = "Default"
    elif policy == "ClusterFirstWithHostNet":
        applied = "ClusterFirst"
    cfg = spec.get("dnsConfig") if isinstance(spec.get("dnsConfig"), dict) else None
    domain = zone.domain.rstrip(".")
    if applied == "ClusterFirst":
        servers = [zone.dns_ip]
        search = [f"{pod.namespace}.svc.{domain}", f"svc.{domain}", domain]
        options = ["ndots:5"]
    elif applied == "Default":
        servers = [str(s) for s in getattr(zone.topology.cluster, "dns_upstream_nameservers", ())] or [NODE_NAMESERVER]
        search, options = [], []
    else:
        if cfg is None or not cfg.get("nameservers"):
            raise ResolverError(f"pod {pod.namespace}/{pod.name}: dnsPolicy None needs spec.dnsConfig with at least one nameserver "
                                "(the API server refuses it otherwise)")
        servers, search, options = [], [], []
    if cfg is not None:
        servers = _dedup(servers + [str(s) for s in cfg.get("nameservers") or [] if isinstance(s, str)])
        search = _dedup(search + [str(s).rstrip(".") for s in cfg.get("searches") or [] if isinstance(s, str)])
        extra = []
        for o in cfg.get("options") or []:
            if isinstance(o, dict) and isinstance(o.get("name"), str):
                extra.append(o["name"] + (f":{o['value']}" if o.get("value") not in (None, "") else ""))
        options = _merge_options(options, extra)
    return ResolvConf(tuple(servers[:MAX_NAMESERVERS]), tuple(search[:MAX_SEARCHES]), tuple(options), policy,
                      "ClusterFirst" if policy == "ClusterFirstWithHostNet" else applied)


def search_order(conf: ResolvConf, name: str) -> tuple[list[str], str]:
    """The absolute names glibc asks for ``name``, in order, and why in that order."""
    if name.endswith("."):
        return [name], "the name ends with a dot: asked as it is, no search list"
    dots = name.count(".")
    with_search = [f"{name}.{d}." for d in conf.search]
    if dots >= conf.ndots:
        return [fqdn(name)] + with_search, f'"{name}" has {dots} dots, at least ndots:{conf.ndots}: asked as it is first, then with the search list'
    return with_search + [fqdn(name)], f'"{name}" has {dots} dot{"s" if dots != 1 else ""}, fewer than ndots:{conf.ndots}: the search list first, then as it is'


def _server_for(zone, ip: str):
    """What a nameserver address reaches: the cluster DNS (its Service, or a CoreDNS endpoint), else the upstream."""
    svc = zone.sources.dns_service
    coredns = {zone.dns_ip} | (set(svc.cluster_ips) if svc else set())
    if ip in coredns:  # (the usual nameserver: the Service's address, without making its endpoints)
        return zone.query
    if svc is not None:
        coredns |= {a.ip for s in zone.sources.slices_of(svc.name, svc.namespace) for a in s.addresses}
    return zone.query if ip in coredns else zone.upstream.query


def resolve(zone, cluster, pod_key: str | None, name: str, qtype: str = "A") -> Resolution:
    """Resolve ``name`` as the pod's resolver does (``pod_key`` None: the name asked as given, no search list)."""
    qtype = qtype.upper()
    if pod_key is None:
        q = fqdn(name)
        ans = zone.query(q, qtype)
        return Resolution(name, qtype, None, None, (Try(q, ans, zone.dns_ip),), 0, ans,
                          "asked as given (no pod: no search list)")
    pod = find_pod(cluster or zone.cluster, pod_key)
    conf = resolv_conf(zone, pod)
    server_ip = conf.nameservers[0]
    ask = _server_for(zone, server_ip)
    names, order = search_order(conf, name)
    tries: list[Try] = []
    kept = None
    for q in names:
        ans = ask(q, qtype)
        tries.append(Try(q, ans, server_ip))
        if ans.rcode == NOERROR and ans.answer:
            kept = len(tries) - 1
            break
        if ans.rcode not in (NOERROR, NXDOMAIN, SERVFAIL):
            break  # REFUSED, FORMERR, NOTIMP: glibc stops here
    if kept is None:
        nodata = next((i for i, t in enumerate(tries) if t.answer.nodata), None)
        if nodata is not None:
            kept = nodata
    final = tries[kept].answer if kept is not None else tries[-1].answer
    return Resolution(name, qtype, f"{pod.namespace}/{pod.name}", conf, tuple(tries), kept, final, order)
