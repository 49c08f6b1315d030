"""The simulated upstream: what CoreDNS's ``forward`` reaches, answering only the records the topology lists.

``cluster.dns.upstream.records`` holds zone-file lines (``example.com. 300 IN A 93.184.216.34``). The
upstream answers them as a recursive resolver would: the records of the asked name and type, a CNAME followed
to its target (within the listed records), NODATA for a name that has records of other types or names below
it, and NXDOMAIN for any other name, with the SOA of the closest enclosing zone when one is listed. Nothing
ever leaves the machine.

:func:`parse_record` reads one line for the loader (and the dashboard's forms); it is the only function here
that needs dnspython, imported when called.
"""

from __future__ import annotations

import ipaddress
import re

from .records import NOERROR, NXDOMAIN, Answer, Record, fqdn, is_subdomain, labels

DEFAULT_TTL = 300


_SIMPLE_NAME = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$")


def _simple(text: str) -> tuple[str, int, str, str] | None:
    """The common records (A, AAAA, CNAME with plain names) read without dnspython, as it would read them:
    loading a topology need not pay for importing it. None: leave the line to dnspython."""
    words = text.split()
    if not 3 <= len(words) <= 5 or not _SIMPLE_NAME.match(words[0]) or len(words[0].rstrip(".")) > 253:
        return None
    rest, ttl = words[1:], DEFAULT_TTL
    if rest[0].isdigit():
        ttl = int(rest.pop(0))
        if ttl > 2147483647:
            return None
    if rest and rest[0].upper() == "IN":
        rest.pop(0)
    if len(rest) != 2:
        return None
    rtype, data = rest[0].upper(), rest[1]
    owner = words[0] if words[0].endswith(".") else words[0] + "."
    if rtype == "A" and re.fullmatch(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", data):
        return owner, ttl, rtype, data
    if rtype == "AAAA" and ":" in data and "." not in data:  # an embedded IPv4 is written as dnspython writes it: leave it
        try:
            return owner, ttl, rtype, ipaddress.IPv6Address(data).compressed
        except ValueError:
            return None
    if rtype == "CNAME" and _SIMPLE_NAME.match(data) and len(data.rstrip(".")) <= 253:
        return owner, ttl, rtype, data if data.endswith(".") else data + "."
    return None


def parse_record(text: str) -> tuple[str, int, str, str]:
    """``name [ttl] [IN] type rdata`` -> (absolute name, ttl, TYPE, rdata as dig prints it); ValueError if bad.

    Names are absolute whether or not they end with a dot (the zone file's origin is the root)."""
    if isinstance(text, str) and (simple := _simple(text)) is not None:
        return simple
    import dns.exception
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected a zone-file line like: example.com. 300 IN A 93.184.216.34")
    words = text.split()
    if len(words) < 3:
        raise ValueError(f'"{text}" is not a zone-file record: expected NAME [TTL] [IN] TYPE DATA, like example.com. 300 IN A 93.184.216.34')
    try:
        owner = dns.name.from_text(words[0], origin=dns.name.root)
    except dns.exception.DNSException as e:
        raise ValueError(f'"{words[0]}" is not a domain name: {e}') from None
    if owner == dns.name.root and words[0] != ".":
        raise ValueError(f'"{words[0]}" is not a domain name')
    rest = words[1:]
    ttl = None
    for _ in range(2):
        if rest and rest[0].isdigit() and ttl is None:
            ttl = int(rest.pop(0))
            if ttl > 2147483647:
                raise ValueError(f"TTL {ttl} is out of range 0-2147483647")
        elif rest and rest[0].upper() in ("IN", "CH", "HS", "CS"):
            if rest.pop(0).upper() != "IN":
                raise ValueError("only class IN is simulated")
    if not rest:
        raise ValueError(f'"{text}": the record type is missing')
    try:
        rdtype = dns.rdatatype.from_text(rest[0].upper())
    except dns.exception.DNSException:
        raise ValueError(f'"{rest[0]}" is not a DNS record type') from None
    if rdtype in (dns.rdatatype.ANY, dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.OPT, dns.rdatatype.NONE):
        raise ValueError(f'{rest[0].upper()} is a query type, not a record type')
    # the rdata is the rest of the line as written (TXT strings keep their spaces)
    head = text.lstrip()
    for w in words[: len(words) - len(rest) + 1]:
        head = head[head.index(w) + len(w):]
    data = head.strip()
    if not data:
        raise ValueError(f'"{text}": the {rest[0].upper()} record has no data')
    try:
        rd = dns.rdata.from_text(dns.rdataclass.IN, rdtype, data, origin=dns.name.root, relativize=False)
    except (dns.exception.DNSException, ValueError) as e:
        raise ValueError(f'bad {dns.rdatatype.to_text(rdtype)} data "{data}": {e}') from None
    return owner.to_text(), DEFAULT_TTL if ttl is None else ttl, dns.rdatatype.to_text(rdtype), rd.to_text()


def check_records(records) -> list[tuple[int, str]]:
    """Zone rules a server would enforce among the records: ``(index, message)`` for each violation."""
    out = []
    by_name: dict[str, list[tuple[int, tuple]]] = {}
    for i, r in enumerate(records):
        by_name.setdefault(r[0].lower(), []).append((i, r))
    for rows in by_name.values():
        cnames = [(i, r) for i, r in rows if r[2] == "CNAME"]
        if cnames and len(rows) > 1:
            i = max(i for i, _ in rows)
            out.append((i, f"{rows[0][1][0]} has a CNAME and other data: a CNAME must be the only record of its name (RFC 1034 3.6.2)"))
    return out


class Upstream:
    """A recursive resolver that knows only the listed records."""

    def __init__(self, records=()):
        self.records = [Record(fqdn(n), ttl, t, d) for n, ttl, t, d in records]

    def _at(self, name: str) -> list[Record]:
        n = name.lower()
        return [r for r in self.records if r.name.lower() == n]

    def _exists(self, name: str) -> bool:
        return any(is_subdomain(name, r.name) for r in self.records)

    def _soa(self, name: str) -> tuple[Record, ...]:
        best = None
        for r in self.records:
            if r.type == "SOA" and is_subdomain(r.name, name) and (best is None or len(labels(r.name)) > len(labels(best.name))):
                best = r
        return (best,) if best else ()

    def query(self, qname: str, qtype: str) -> Answer:
        qname = fqdn(qname)
        answer: list[Record] = []
        name = qname
        seen = set()
        for _ in range(9):
            here = self._at(name)
            owner = qname if name.lower() == qname.lower() else None
            match = [r for r in here if qtype == "ANY" or r.type == qtype]
            if match:
                answer += [Record(owner or r.name, r.ttl, r.type, r.data) for r in match]
                break
            cname = next((r for r in here if r.type == "CNAME"), None)
            if cname is None or cname.data.lower() in seen:
                break
            answer.append(Record(owner or cname.name, cname.ttl, "CNAME", cname.data))
            seen.add(name.lower())
            name = cname.data
        if answer and (answer[-1].type == qtype or qtype in ("ANY", "CNAME")):
            return Answer(NOERROR, tuple(answer), ra=True, source="forward")
        last = name
        if self._exists(last) or answer:
            rcode = NOERROR if self._exists(last) else NXDOMAIN
            return Answer(rcode, tuple(answer), self._soa(last), ra=True, source="forward",
                          note="" if answer else f"the upstream has no {qtype} record for {last}")
        return Answer(NXDOMAIN, (), self._soa(last), ra=True, source="forward",
                      note=f"{last} is not in the upstream's records (cluster.dns.upstream.records): the simulated internet knows no such name")
