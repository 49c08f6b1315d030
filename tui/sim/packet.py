"""A packet's headers as the trace follows them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..model.topology import IPAddress

PROTOCOLS = ("tcp", "udp", "icmp", "sctp")
DEFAULT_TTL = 64
EPHEMERAL_PORT = 40000  # inside Linux's ip_local_port_range (32768-60999)


@dataclass(frozen=True)
class Packet:
    proto: str
    src: IPAddress | None
    dst: IPAddress
    sport: int | None = None
    dport: int | None = None
    ttl: int = DEFAULT_TTL
    mark: int = 0
    src_mac: str | None = None
    dst_mac: str | None = None

    def with_(self, **kw) -> Packet:
        return replace(self, **kw)

    def flow_key(self) -> str:
        return f"{self.proto} {self.src}:{self.sport} {self.dst}:{self.dport}"

    def tuple(self) -> tuple:
        return (self.proto, self.src, self.sport, self.dst, self.dport)

    def reversed(self) -> Packet:
        return Packet(self.proto, self.dst, self.src, self.dport, self.sport)

    def endpoint(self, which: str) -> str:
        addr = self.src if which == "src" else self.dst
        port = self.sport if which == "src" else self.dport
        text = "?" if addr is None else str(addr)  # no source chosen (no route): "?", not "None"
        if port is None or self.proto == "icmp":
            return text
        return f"[{text}]:{port}" if addr is not None and addr.version == 6 else f"{text}:{port}"

    def summary(self) -> str:
        head = self.proto.upper()
        if self.proto == "icmp":
            head = "ICMP echo" + (f" id {self.sport}" if self.sport is not None else "")
        return f"{head} {self.endpoint('src')} -> {self.endpoint('dst')} ttl {self.ttl}"

    def to_dict(self) -> dict:
        return {
            "proto": self.proto,
            "src": str(self.src) if self.src is not None else None,
            "dst": str(self.dst),
            "sport": self.sport,
            "dport": self.dport,
            "ttl": self.ttl,
            "src_mac": self.src_mac,
            "dst_mac": self.dst_mac,
        }
