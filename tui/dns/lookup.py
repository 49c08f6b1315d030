"""CoreDNS's plugin/backend_lookup.go: turning a backend's items into records, for every query type.

:class:`BackendLookup` is mixed into :class:`tui.dns.kubernetes.Kubernetes`, which supplies ``services``,
``reverse``, ``lookup`` (the whole server again, CoreDNS's Upstream) and ``ttl``. An :class:`Item` is CoreDNS's
``msg.Service``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .records import Record, fqdn, ip_text, is_subdomain, join


@dataclass(frozen=True)
class Item:
    """CoreDNS's msg.Service: what one Service port, endpoint or pod contributes to an answer."""

    host: str  # an address, or a name (a CNAME target)
    ttl: int
    domain: str = ""  # msg.Domain(key): the name this item is
    port: int = 0
    text: str | None = None  # TXT

    def host_type(self) -> str:
        if self.text is not None:
            return "TXT"
        ip = ip_text(self.host)
        if ip is None:
            return "CNAME"
        return "A" if ipaddress.ip_address(self.host).version == 4 else "AAAA"


@dataclass(frozen=True)
class State:
    """request.Request: the question as asked (``qname``), lowercased (``name``), and the matched zone in the
    question's case."""

    qname: str
    zone: str
    qtype: str

    @property
    def name(self) -> str:
        return self.qname.lower()

    def ask(self, qname: str, qtype: str | None = None) -> State:
        return State(fqdn(qname), self.zone, qtype or self.qtype)


class BackendLookup:
    """plugin.A, AAAA, TXT, CNAME, PTR, SRV and NS over the backend's ``services`` and ``reverse``."""

    def check_for_apex(self, st: State) -> tuple[list[Item], str | None]:
        if st.name != st.zone:
            return self.services(st)
        found, err = self.services(st.ask(join("apex.dns", st.zone)))
        if err is None:
            return found, err
        return self.services(st)

    def address(self, st: State, previous: list[Record], family: str) -> tuple[list[Record], str | None]:
        """plugin.A and plugin.AAAA: addresses, with ExternalName CNAMEs followed in the zone or upstream."""
        found, err = self.check_for_apex(st)
        if err is not None:
            return [], err
        out: list[Record] = []
        dup = set()
        for s in found:
            what = s.host_type()
            if what == "CNAME":
                target = fqdn(s.host)
                if is_subdomain(st.name, target):  # x CNAME x is a loop
                    continue
                new = Record(st.qname, s.ttl, "CNAME", target)
                if len(previous) > 7 or any(p.type == "CNAME" and p.name == new.name and p.data == new.data for p in previous):
                    continue
                if is_subdomain(st.zone, target):
                    nxt, e = self.address(st.ask(target), previous + [new], family)
                    if e is None and nxt:
                        out += [new] + nxt
                    continue
                m1 = self.lookup(target, st.qtype)
                out += [new] + list(m1.answer)
                continue
            if what == family and s.host not in dup:
                dup.add(s.host)
                out.append(Record(st.qname, s.ttl, family, ip_text(s.host) or s.host))
        return out, None

    def txt(self, st: State) -> tuple[list[Record], str | None]:
        found, err = self.services(st)
        if err is not None:
            return [], err
        out, dup = [], set()
        for s in found:
            if s.host_type() == "TXT" and s.text not in dup:
                dup.add(s.text)
                out.append(Record(st.qname, s.ttl, "TXT", f'"{s.text}"'))
        return out, None

    def cname(self, st: State) -> tuple[list[Record], str | None]:
        found, err = self.services(st)
        if err is not None:
            return [], err
        if found and found[0].host_type() == "CNAME":
            return [Record(st.qname, found[0].ttl, "CNAME", fqdn(found[0].host))], None
        return [], None

    def ptr(self, st: State) -> tuple[list[Record], str | None]:
        found, err = self.reverse(st)
        if err is not None:
            return [], err
        out, dup = [], set()
        for s in found:
            if ip_text(s.host) is None and s.host not in dup:
                dup.add(s.host)
                out.append(Record(st.qname, s.ttl, "PTR", fqdn(s.host)))
        return out, None

    def srv(self, st: State) -> tuple[list[Record], list[Record], str | None]:
        found, err = self.services(st)
        if err is not None:
            return [], [], err
        total = 100 * len(found)  # every item weighs 100 (priority 0), counted before duplicates go
        out, extra, dup = [], [], set()
        for s in found:
            if s.port == -1:
                continue
            weight = max(1, int(100.0 / float(total) * 100))
            what = s.host_type()
            if what not in ("A", "AAAA"):
                continue
            target = fqdn(s.domain)
            if ("srv", target, s.port) not in dup:
                dup.add(("srv", target, s.port))
                out.append(Record(st.qname, s.ttl, "SRV", f"0 {weight} {s.port} {target}"))
            if ("addr", target, s.host) not in dup:
                dup.add(("addr", target, s.host))
                extra.append(Record(target, s.ttl, what, ip_text(s.host) or s.host))
        return out, extra, None

    def ns(self, st: State) -> tuple[list[Record], list[Record], str | None]:
        found, err = self.services(st.ask(join("ns.dns", st.zone), "NS"))
        if err is not None:
            return [], [], err
        out, extra, seen = [], [], set()
        for s in found:
            what = s.host_type()
            if what not in ("A", "AAAA"):
                continue
            target = fqdn(s.domain)
            extra.append(Record(target, s.ttl, what, ip_text(s.host) or s.host))
            if target not in seen:
                seen.add(target)
                out.append(Record(st.qname, s.ttl, "NS", target))
        return out, extra, None
