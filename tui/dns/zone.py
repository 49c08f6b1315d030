"""The cluster's DNS server: CoreDNS as its Corefile configures it, answering from the simulated cluster.

:func:`build` reads everything once (the Corefile, the objects CoreDNS watches, the upstream records) into a
:class:`Zone`; :meth:`Zone.query` answers one question as CoreDNS would, :meth:`Zone.records` lists every record
the cluster zone holds (for a record pane). Queries are pure: no clock, no network. The SOA serial, which
CoreDNS takes from the API's last change, is a hash of the objects here, so an edit changes it and nothing
else does.

A question goes to the server block of the Corefile with the longest zone holding the name (port 53, the
port the DNS Service targets); inside it the kubernetes plugin answers its zones, and what it does not answer
(another zone, or NXDOMAIN with ``fallthrough``) goes on to ``forward``, i.e. the simulated upstream
(:mod:`tui.dns.upstream`). No block: REFUSED; no plugin: SERVFAIL.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from dataclasses import dataclass, field

from ..model.source import Mark
from ..model.topology import KubeObject, Topology
from .corefile import Corefile, CorefileError, ServerBlock, from_objects
from .kubernetes import Kubernetes
from .records import REFUSED, SERVFAIL, Answer, Record, address_from_reverse, fqdn, is_subdomain, reverse_name
from .sources import Sources, collect, with_coredns
from .upstream import Upstream

LOCAL_IPS = ("127.0.0.1",)  # where the simulated CoreDNS listens (as in CoreDNS's own plugin tests)
MAX_DEPTH = 8
TYPE_ORDER = {t: i for i, t in enumerate(("SOA", "NS", "A", "AAAA", "CNAME", "SRV", "PTR", "TXT"))}


class DnsConfigError(ValueError):
    """CoreDNS's configuration is one it would refuse; ``mark`` and ``path`` locate it."""

    def __init__(self, mark: Mark, path: str, message: str):
        super().__init__(f"{mark}: error: {path}: {message}")
        self.mark, self.path, self.message = mark, path, message


@dataclass
class Zone:
    unlisted = 0  # after records(): the pods whose records (and their Services' endpoints') were not listed
    topology: Topology
    cluster: object
    corefile: Corefile
    sources: Sources
    upstream: Upstream
    serial: int
    local_ips: tuple[str, ...] = LOCAL_IPS
    plugins: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for b in self.corefile.blocks_on(53):
            if b.kubernetes is not None:
                self.plugins[id(b)] = Kubernetes(b.kubernetes, self.sources, self.serial, self.local_ips, self._lookup)
        self._depth = 0
        self._lock = threading.Lock()  # serve-dns answers from several threads; a query follows CNAMEs statefully

    @property
    def domain(self) -> str:
        return self.topology.cluster.domain

    @property
    def kubernetes(self) -> Kubernetes | None:
        """The kubernetes plugin that serves the cluster domain (None if the Corefile has none)."""
        d = fqdn(self.domain)
        for b in self.corefile.blocks_on(53):
            k = self.plugins.get(id(b))
            if k is not None and k.zone_of(d) is not None:
                return k
        return next(iter(self.plugins.values()), None)

    @property
    def dns_ip(self) -> str:
        return str(self.topology.cluster.dns_cluster_ip)

    def block_for(self, qname: str) -> ServerBlock | None:
        """The server block whose zone is the longest suffix of the name (dnsserver.ServeDNS)."""
        best, best_len = None, -1
        for b in self.corefile.blocks_on(53):
            for z in b.zones:
                if is_subdomain(z, qname) and len(z) > best_len:
                    best, best_len = b, len(z)
        return best

    def query(self, qname: str, qtype: str = "A") -> Answer:
        """One question, answered as CoreDNS answers it (the name as given, made absolute)."""
        with self._lock:
            self._depth = 0
            return self._query(fqdn(qname), qtype.upper())

    def _lookup(self, qname: str, qtype: str) -> Answer:
        """The Upstream the kubernetes plugin uses for CNAME targets: the whole server again."""
        if self._depth >= MAX_DEPTH:
            return Answer(SERVFAIL, source="server", note="CNAME chain too long")
        self._depth += 1
        try:
            return self._query(fqdn(qname), qtype)
        finally:
            self._depth -= 1

    def _query(self, qname: str, qtype: str) -> Answer:
        block = self.block_for(qname)
        if block is None:
            return Answer(REFUSED, source="server", note="no server block of the Corefile serves this name")
        k = self.plugins.get(id(block))
        if k is not None:
            ans = k.serve(qname, qtype)
            if ans is not None:
                return ans
        for fwd in block.forward:
            if is_subdomain(fwd.from_zone, qname) and not any(is_subdomain(e, qname) for e in fwd.except_zones):
                return self.upstream.query(qname, qtype)
        return Answer(SERVFAIL, source="server", note="no plugin of the Corefile's server block answers this name")

    def records(self, everything: bool | None = None) -> list[Record]:
        """Every record of the cluster zone and its reverse zones, one per line, sorted by name.

        A big cluster's listing (more than :data:`LISTED_PODS` pods, unless ``everything``) has its
        Services' records only (names, ports, cluster IPs and their reverse names); each endpoint's and
        pod's records are still answered one by one; :attr:`unlisted` is then the number of pods (0 when all is listed)."""
        with self._lock:
            self._depth = 0
            return self._records(everything if everything is not None else len(self.cluster.pods) <= LISTED_PODS)

    def _records(self, everything: bool = True) -> list[Record]:
        k = self.kubernetes
        self.unlisted = 0
        if k is None:
            return []
        out: dict[tuple, Record] = {}
        zone = k.cfg.primary_zone

        questions: list[tuple[str, str]] = [(zone, "SOA"), (zone, "NS"), (f"dns-version.{zone}", "TXT")]
        for (ns, name), svc in sorted(self.sources.services.items()):
            base = f"{name}.{ns}.svc.{zone}"
            if svc.type == "ExternalName":
                questions.append((base, "CNAME"))
                continue
            questions += [(base, "A"), (base, "AAAA")]
            questions += [(f"_{p.name}._{p.protocol.lower()}.{base}", "SRV") for p in svc.ports if p.name]
            for ip in svc.cluster_ips:
                if ip not in ("", "None"):
                    questions.append((reverse_name(ip), "PTR"))
            for sl in self.sources.slices_of(name, ns) if everything or svc.headless else ():
                for a in sl.addresses:
                    questions += [(f"{k.endpoint_hostname(a)}.{base}", "A"), (f"{k.endpoint_hostname(a)}.{base}", "AAAA"),
                                  (reverse_name(a.ip), "PTR")]
                if svc.headless:
                    questions += [(f"_{p.name}._{p.protocol.lower()}.{base}", "SRV") for p in sl.ports if p.name]
        if not everything:  # (endpoints of Services with a cluster IP, and pods: asked one by one)
            self.unlisted = len(self.cluster.pods)
        elif k.cfg.pods != "disabled":
            for p in sorted(self.sources.pods, key=lambda p: (p.namespace, p.name)):
                dashed = p.ip.replace(".", "-") if "." in p.ip else p.ip.replace(":", "-")
                questions += [(f"{dashed}.{p.namespace}.pod.{zone}", "A"), (f"{dashed}.{p.namespace}.pod.{zone}", "AAAA")]
        for name, qtype in questions:
            if k.zone_of(fqdn(name)) is None:
                continue
            ans = k.serve(fqdn(name), qtype)
            if ans is None:
                continue
            for r in ans.answer:
                if r.type == qtype:
                    out.setdefault(r.key(), r)
        return sorted(out.values(), key=lambda r: (_sort_name(r.name), TYPE_ORDER.get(r.type, 99), r.data))


def _sort_name(name: str) -> tuple:
    """The cluster zone first, in DNS order (parents before children); then the reverse names, by address."""
    ip = address_from_reverse(name)
    if ip:
        a = ipaddress.ip_address(ip)
        return (1, a.version, int(a))
    return (0, tuple(reversed(name.lower().rstrip(".").split("."))))


def serial_of(topology: Topology) -> int:
    """The SOA serial: FNV-32a of the objects, so it changes with them and never with the clock."""
    from ..k8s.workloads import fnv32a

    if len(topology.objects) > BIG_ZONE_OBJECTS:  # (FNV in Python reads ~10 MB/s): a digest of the objects' kinds and names
        import hashlib

        text = "\n".join([f"{o.kind}/{o.namespace}/{o.name}" for o in topology.objects])
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") or 1
    data = json.dumps([[o.kind, o.namespace, o.name, o.body] for o in topology.objects], sort_keys=True, default=str)
    return fnv32a(data.encode()) or 1


BIG_ZONE_OBJECTS = 5000
LISTED_PODS = 20_000  # up to this many pods, records() lists every endpoint's and pod's records too


def _corefile_mark(cm: KubeObject, line: int) -> Mark:
    """Where Corefile line ``line`` sits in the file (a literal block ``Corefile: |``), else the ConfigMap."""
    try:
        with open(cm.mark.file, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return cm.mark
    for i in range(max(cm.mark.line - 1, 0), len(lines)):
        text = lines[i].strip()
        if text.startswith("Corefile:") and text[len("Corefile:"):].strip()[:1] in ("|", ">"):
            j = i + line
            if j < len(lines):
                return Mark(cm.mark.file, j + 1, len(lines[j]) - len(lines[j].lstrip()) + 1)
            break
        if i > cm.mark.line - 1 and text.startswith(("apiVersion:", "---")):
            break
    return cm.mark


def build(topology: Topology, cluster=None, local_ips: tuple[str, ...] = LOCAL_IPS) -> Zone:
    """The cluster's DNS for a topology. Without ``cluster``, kubeadm's CoreDNS is added when no Service holds the
    DNS address (:func:`tui.dns.sources.with_coredns`) and the cluster is built from that. DnsConfigError when
    the Corefile is one CoreDNS would refuse."""
    if cluster is None:
        from ..k8s.cluster import build_cluster

        topology = with_coredns(topology)
        cluster = build_cluster(topology)
    else:
        topology = cluster.topology
    try:
        corefile, cm = from_objects(topology.objects, topology.cluster.domain)
    except CorefileError as e:
        cm = next(o for o in topology.objects if o.kind == "ConfigMap" and o.namespace == "kube-system" and o.name == "coredns")
        raise DnsConfigError(_corefile_mark(cm, e.line), "data.Corefile", f"CoreDNS would not start: {e}") from None
    upstream = Upstream(getattr(topology.cluster, "dns_upstream_records", ()))
    return Zone(topology, cluster, corefile, collect(topology, cluster), upstream, serial_of(topology), tuple(local_ips))
