"""CoreDNS's kubernetes plugin, function by function (plugin/kubernetes).

The names follow CoreDNS's: :meth:`Kubernetes.serve` is ``ServeDNS``; ``services`` / ``records`` /
``find_services`` / ``find_pods`` / ``reverse`` / ``ns_addrs`` the backend; the lookups of backend_lookup.go
(``address``, ``srv``, ``txt``, ``cname``, ``ptr``, ``ns``) come from :mod:`tui.dns.lookup`. An :class:`Item` is
CoreDNS's ``msg.Service``: a host (an address, or a name for a CNAME), a port, a TTL and the domain name it
stands for. Errors are the plugin's three name errors (NXDOMAIN, or fallthrough to the next plugin); an empty
answer without error is NODATA.

Letter case: CoreDNS lowercases the question for matching but keeps the question's case for owner names and
for the zone part of the names it builds (``zone = qname[len(qname)-len(zone):]``), so
``_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL. SRV`` targets ``svc1.testns.svc.cLuStEr.LoCaL.``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from .corefile import DNS_SCHEMA_VERSION, KubernetesConfig
from .lookup import BackendLookup, Item, State
from .records import (
    NOERROR,
    NXDOMAIN,
    REFUSED,
    Answer,
    Record,
    address_from_reverse,
    ip_text,
    is_reverse,
    is_subdomain,
    join,
    labels,
    trim_zone,
)
from .sources import Address, Sources

NO_ITEMS, NS_NOT_EXPOSED, INVALID = "no items found", "namespace is not exposed", "invalid query name"
NAME_ERRORS = (NO_ITEMS, NS_NOT_EXPOSED, INVALID)
DEFAULT_NS = "ns.dns."


@dataclass(frozen=True)
class RecordRequest:
    port: str = ""
    protocol: str = ""
    endpoint: str = ""
    service: str = ""
    namespace: str = ""
    pod_or_svc: str = ""


def parse_request(name: str, zone: str) -> tuple[RecordRequest, str | None]:
    """parseRequest: ``[_port._protocol.|endpoint.]service.namespace.(svc|pod).zone``."""
    base = trim_zone(name, zone)
    if base in ("", "svc", "pod"):
        return RecordRequest(), None
    segs = labels(base)
    if segs[-1] not in ("svc", "pod"):
        return RecordRequest(pod_or_svc=segs[-1]), INVALID
    r = {"pod_or_svc": segs[-1]}
    rest = segs[:-1]
    if rest:
        r["namespace"] = rest.pop()
    if rest:
        r["service"] = rest.pop()
    if len(rest) == 1:
        r["endpoint"] = rest[0]
    elif len(rest) == 2:
        r["protocol"] = rest[1][1:] if rest[1].startswith("_") else rest[1]
        r["port"] = rest[0][1:] if rest[0].startswith("_") else rest[0]
    elif len(rest) > 2:
        return RecordRequest(**r), INVALID
    return RecordRequest(**r), None


def _match(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _match_port(a_port: str, b_port: str, a_proto: str, b_proto: str) -> bool:
    return (a_port == "" or _match(a_port, b_port)) and (a_proto == "" or _match(a_proto, b_proto))


class Kubernetes(BackendLookup):
    """The plugin for one server block: its options, the watched objects, and a way to ask the whole server
    again (``lookup``: the Upstream CoreDNS uses for CNAME targets outside the zone)."""

    def __init__(self, cfg: KubernetesConfig, sources: Sources, serial: int, local_ips: tuple[str, ...],
                 lookup: Callable[[str, str], Answer]):
        self.cfg = cfg
        self.src = sources
        self.serial = serial
        self.local_ips = local_ips
        self.lookup = lookup
        self.ttl = cfg.ttl

    # -- the handler ---------------------------------------------------------------------------------

    def zone_of(self, qname: str) -> str | None:
        """The longest of the plugin's zones holding ``qname`` (plugin.Zones.Matches)."""
        best = None
        for z in self.cfg.zones:
            if is_subdomain(z, qname) and (best is None or len(z) > len(best)):
                best = z
        return best

    def serve(self, qname: str, qtype: str) -> Answer | None:
        """ServeDNS; None when the query goes on down the plugin chain (another zone, or fallthrough)."""
        z = self.zone_of(qname)
        if z is None:
            return None
        zone = qname[len(qname) - len(z):] if len(z) > 1 else "."
        st = State(qname, zone, qtype)
        records: list[Record] = []
        extra: list[Record] = []
        err = None
        if qtype in ("AXFR", "IXFR"):
            return Answer(REFUSED, aa=False, note="zone transfers are not enabled (no transfer plugin)")
        if qtype in ("A", "AAAA"):
            records, err = self.address(st, [], qtype)
        elif qtype == "TXT":
            records, err = self.txt(st)
        elif qtype == "CNAME":
            records, err = self.cname(st)
        elif qtype == "PTR":
            records, err = self.ptr(st)
        elif qtype == "MX":
            _, err = self.services(st)
        elif qtype == "SRV":
            records, extra, err = self.srv(st)
        elif qtype == "SOA":
            if qname == zone:
                records = [self.soa(zone)]
        elif qtype == "NS" and st.name == zone:
            records, extra, err = self.ns(st)
        else:  # a fake A lookup tells NODATA from NXDOMAIN
            _, err = self.address(st.ask(qname, "A"), [], "A")
        if err in NAME_ERRORS:
            if self.falls_through(st.name):
                return None
            return Answer(NXDOMAIN, (), (self.soa(zone),), aa=True, note=self.why(st, err))
        if not records:
            return Answer(NOERROR, (), (self.soa(zone),), aa=True, note=self.why(st, None))
        return Answer(NOERROR, tuple(records), (), tuple(extra), aa=True)

    def falls_through(self, name: str) -> bool:
        ft = self.cfg.fallthrough
        return ft is not None and (not ft or any(is_subdomain(z, name) for z in ft))

    def soa(self, zone: str) -> Record:
        ttl = min(300, self.ttl)
        return Record(zone, ttl, "SOA", f"{join('ns.dns', zone)} {join('hostmaster', zone)} {self.serial} 7200 1800 86400 {self.ttl}")

    # -- the backend ---------------------------------------------------------------------------------

    def services(self, st: State) -> tuple[list[Item], str | None]:
        if st.qtype == "TXT":
            segs = labels(trim_zone(st.name, st.zone))
            if segs == ["dns-version"]:
                return [Item("", 28800, st.qname, text=DNS_SCHEMA_VERSION)], None
            found, _ = self.records(st)
            return ([], None) if found else ([], NO_ITEMS)
        if st.qtype == "NS":
            return [Item(ip, self.ttl, name) for name, ip in self.ns_addrs(st.zone)], None
        if self.is_default_ns(st.name, st.zone):
            out = []
            for _, ip in self.ns_addrs(st.zone):
                v = ipaddress.ip_address(ip).version
                if (v == 4 and st.qtype == "A") or (v == 6 and st.qtype == "AAAA"):
                    out.append(Item(ip, self.ttl, st.qname))
            return out, None
        found, err = self.records(st)
        if st.qtype != "SRV":
            return found, err
        return [s for s in found if s.host_type() != "CNAME"], err

    @staticmethod
    def is_default_ns(name: str, zone: str) -> bool:
        return name.find(DEFAULT_NS) == 0 and name.find(zone) == len(DEFAULT_NS)

    def ns_addrs(self, zone: str) -> list[tuple[str, str]]:
        """nsAddrs: the Services whose endpoints hold CoreDNS's own addresses, else those addresses (ns.dns.<zone>)."""
        cache = self.__dict__.setdefault("_ns_addrs_cache", {})  # (the sources do not change: one answer per zone)
        if zone not in cache:
            cache[zone] = self._ns_addrs(zone)
        return list(cache[zone])

    def _ns_addrs(self, zone: str) -> list[tuple[str, str]]:
        out = []
        found = False
        for lip in self.local_ips:
            for sl in self._slices_with(lip):
                found = True
                svc = self.src.services.get((sl.namespace, sl.service))
                if svc is None:
                    continue
                name = join(svc.name, svc.namespace, "svc", zone)
                if svc.headless:
                    out += [(join(self.endpoint_hostname(a), name), a.ip) for a in sl.addresses]
                else:
                    out += [(name, ip) for ip in svc.cluster_ips if ip_text(ip)]
        if not found:
            out = [(DEFAULT_NS + zone if zone != "." else DEFAULT_NS, ip) for ip in self.local_ips]
        return out

    def _slices_with(self, ip: str):
        if self.cfg.noendpoints:
            return []
        return self.src.slices_with(ip_text(ip))

    def ns_exposed(self, namespace: str) -> bool:
        configured = not self.cfg.namespaces or namespace in self.cfg.namespaces
        return configured and namespace in self.src.namespaces

    def records(self, st: State) -> tuple[list[Item], str | None]:
        r, e = parse_request(st.name, st.zone)
        if e is not None:
            return [], e
        if r.pod_or_svc == "":
            return [], None
        if is_reverse(st.name):
            return [], NO_ITEMS
        if not self.ns_exposed(r.namespace):
            return [], NS_NOT_EXPOSED
        if r.pod_or_svc == "pod":
            return self.find_pods(r, st.zone)
        return self.find_services(r, st.zone)

    def endpoint_hostname(self, a: Address) -> str:
        if a.hostname:
            return a.hostname
        if self.cfg.endpoint_pod_names and a.target:
            return a.target
        if "." in a.ip:
            return a.ip.replace(".", "-")
        if ":" in a.ip:
            return a.ip.replace(":", "-")
        return ""

    def find_pods(self, r: RecordRequest, zone: str) -> tuple[list[Item], str | None]:
        if self.cfg.pods == "disabled":
            return [], NO_ITEMS
        if not self.ns_exposed(r.namespace):
            return [], NO_ITEMS
        podname = r.service
        if podname == "":
            return [], None
        if podname.count("-") == 3 and "--" not in podname:
            ip = podname.replace("-", ".")
        else:
            ip = podname.replace("-", ":")
        domain = join(podname, r.namespace, "pod", zone)
        if self.cfg.pods == "insecure":
            if ip_text(ip) is None:
                return [], NO_ITEMS
            return [Item(ip, self.ttl, domain)], None
        out = [Item(ip, self.ttl, domain) for p in self.src.pods if p.ip == ip and _match(r.namespace, p.namespace)]
        return out, (None if out else NO_ITEMS)

    def find_services(self, r: RecordRequest, zone: str) -> tuple[list[Item], str | None]:
        if not self.ns_exposed(r.namespace):
            return [], NO_ITEMS
        if r.service == "":
            return [], None
        err: str | None = NO_ITEMS
        out: list[Item] = []
        svc = self.src.services.get((r.namespace, r.service))
        if svc is None:
            return [], err
        def slices():  # (a ClusterIP Service's A record needs none: its slices are made only when read)
            return [] if self.cfg.noendpoints else self.src.slices_of(svc.name, svc.namespace)

        if self.cfg.ignore_empty_service and svc.type != "ExternalName" and not svc.headless:
            if sum(len(s.addresses) for s in slices()) == 0:
                return [], err
        svc_domain = join(svc.name, svc.namespace, "svc", zone)
        if svc.type == "ExternalName":
            if r.endpoint or r.port or r.protocol:
                return [], err
            item = Item(svc.external_name, self.ttl, svc_domain)
            if item.host_type() == "CNAME":
                return [item], None
            return [], err
        if svc.headless or r.endpoint:
            for sl in slices():
                for a in sl.addresses:
                    if r.endpoint and not _match(r.endpoint, self.endpoint_hostname(a)):
                        continue
                    for p in sl.ports:
                        if not _match_port(r.port, p.name, r.protocol, p.protocol):
                            continue
                        out.append(Item(a.ip, self.ttl, join(self.endpoint_hostname(a), svc_domain), p.port))
                        err = None
            return out, err
        for p in svc.ports:
            if not _match_port(r.port, p.name, r.protocol, p.protocol):
                continue
            err = None
            out += [Item(ip, self.ttl, svc_domain, p.port) for ip in svc.cluster_ips]
        return out, err

    def reverse(self, st: State) -> tuple[list[Item], str | None]:
        ip = address_from_reverse(st.name)
        if not ip:
            _, e = self.records(st)
            return [], e
        found = self.service_record_for_ip(ip)
        return (found, None) if found else ([], NO_ITEMS)

    def service_record_for_ip(self, ip: str) -> list[Item]:
        primary = self.cfg.primary_zone
        for key in self.src.services_with_ip(ip):  # (in name order)
            svc = self.src.services[key]
            if self.cfg.namespaces and not self.ns_exposed(svc.namespace):
                continue
            return [Item(join(svc.name, svc.namespace, "svc", primary), self.ttl)]
        out = []
        for sl in self._slices_with(ip):
            if self.cfg.namespaces and not self.ns_exposed(sl.namespace):
                continue
            for a in sl.addresses:
                if ip_text(a.ip) == ip:
                    out.append(Item(join(self.endpoint_hostname(a), sl.index, "svc", primary), self.ttl))
        return out

    # -- why a name does not resolve (for people, not for the wire) -----------------------------------

    def why(self, st: State, err: str | None) -> str:
        from .explain import why

        return why(self, st, err)
