"""DNS records and replies as plain values, and the name arithmetic the other modules share.

A :class:`Record` is one zone-file line (``web.default.svc.cluster.local. 5 IN A 10.96.0.20``): owner name
absolute and in the letter case the server answers with, TTL, type, and the rdata as dig prints it. An
:class:`Answer` is one reply. Names compare case-insensitively (RFC 4343) but keep their case, because CoreDNS
echoes the question's case.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"


@dataclass(frozen=True)
class Record:
    """One resource record: ``name ttl IN type data``."""

    name: str  # absolute, case as answered
    ttl: int
    type: str  # A, AAAA, SRV, ...
    data: str  # the rdata as dig prints it

    def text(self) -> str:
        return f"{self.name} {self.ttl} IN {self.type} {self.data}"

    def __str__(self) -> str:
        return self.text()

    def key(self) -> tuple:
        """Identity ignoring letter case and TTL, for de-duplication."""
        return (self.name.lower(), self.type, self.data.lower())


@dataclass(frozen=True)
class Answer:
    """One reply, as a server sends it.

    ``aa``: the answer is authoritative (CoreDNS's kubernetes plugin sets it; a forwarded answer has ``ra``
    instead). ``source``: who answered (``kubernetes``, ``forward``, or ``server`` for a refusal or failure
    of the server itself). ``note``: why, in words, when the answer is negative.
    """

    rcode: str
    answer: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()
    aa: bool = False
    ra: bool = False
    source: str = "kubernetes"
    note: str = ""

    @property
    def nodata(self) -> bool:
        """NOERROR with an empty answer: the name exists, with no record of the asked type."""
        return self.rcode == NOERROR and not self.answer

    def to_dict(self) -> dict:
        return {"rcode": self.rcode, "answer": [r.text() for r in self.answer], "authority": [r.text() for r in self.authority],
                "additional": [r.text() for r in self.additional]}


# -- names -------------------------------------------------------------------------------------------

def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def labels(name: str) -> list[str]:
    """The labels of a name, root excluded (``a.b.`` -> ``[a, b]``; ``.`` -> ``[]``)."""
    return [x for x in name.rstrip(".").split(".")] if name not in ("", ".") else []


def is_subdomain(parent: str, child: str) -> bool:
    """``child`` equals ``parent`` or lies below it, ignoring case (dns.IsSubDomain)."""
    p, c = labels(parent.lower()), labels(child.lower())
    return len(c) >= len(p) and (not p or c[-len(p):] == p)


def trim_zone(name: str, zone: str) -> str:
    """The part of ``name`` left of ``zone``, by label count ("" at or above the zone), as dnsutil.TrimZone."""
    n, z = labels(name), labels(zone)
    return ".".join(n[: len(n) - len(z)]) if len(n) > len(z) else ""


def join(*parts: str) -> str:
    """dnsutil.Join: labels and names joined into one absolute name."""
    out = [p.strip(".") for p in parts if p.strip(".")]
    return ".".join(out) + "." if out else "."


@functools.lru_cache(maxsize=1 << 18)  # (a big cluster's zone asks it of each endpoint address many times)
def ip_text(text: str) -> str | None:
    """An address in the form DNS prints it (IPv6 compressed, lower case), or None if ``text`` is none."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def reverse_name(ip: str) -> str:
    """``10.96.0.10`` -> ``10.0.96.10.in-addr.arpa.`` (dig -x)."""
    return ipaddress.ip_address(ip).reverse_pointer + "."


IP4ARPA, IP6ARPA = ".in-addr.arpa.", ".ip6.arpa."


def is_reverse(name: str) -> int:
    """1 for a name under in-addr.arpa., 2 under ip6.arpa., else 0 (dnsutil.IsReverse)."""
    n = name.lower()
    return 1 if n.endswith(IP4ARPA) else 2 if n.endswith(IP6ARPA) else 0


def address_from_reverse(name: str) -> str:
    """The address a complete reverse name stands for, else "" (dnsutil.ExtractAddressFromReverse)."""
    n = name.lower()
    if n.endswith(IP4ARPA):
        parts = n[: -len(IP4ARPA)].split(".")[::-1]
        if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 for p in parts):
            return ""
        try:
            return str(ipaddress.IPv4Address(".".join(str(int(p)) for p in parts)))
        except ValueError:
            return ""
    if n.endswith(IP6ARPA):
        nibbles = n[: -len(IP6ARPA)].split(".")[::-1]
        if len(nibbles) != 32 or not all(len(x) == 1 and x in "0123456789abcdef" for x in nibbles):
            return ""
        return str(ipaddress.IPv6Address(int("".join(nibbles), 16)))
    return ""


def reverse_zones(cidr: str) -> list[str]:
    """The reverse zones a CIDR stands for in a Corefile (``10.0.0.0/24`` -> ``0.0.10.in-addr.arpa.``),
    split on label boundaries as CoreDNS's plugin.Host normalisation does."""
    net = ipaddress.ip_network(cidr, strict=False)
    step = 8 if net.version == 4 else 4
    bound = -(-net.prefixlen // step) * step
    out = []
    for sub in net.subnets(new_prefix=bound) if bound > net.prefixlen else [net]:
        rp = sub.network_address.reverse_pointer.split(".")
        keep = bound // step
        out.append(".".join(rp[len(rp) - 2 - keep:]) + ".")
    return out
