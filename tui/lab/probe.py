"""The probes of ``lab verify``, sent for real: each from its own namespace (its socket made there, then
back), all at once, with one selector waiting at most ``timeout`` seconds for every answer.

* ``icmp``: an echo request on a raw socket; an echo reply from the address probed is ``delivered``, an ICMP
  destination unreachable about it ``unreachable``;
* ``tcp``: a connection to the listener, which sends one line naming itself, its address and the client as it
  saw it (:mod:`tui.lab.serve`): ``delivered`` to that namespace; ``refused`` on a RST or a port unreachable;
* ``udp``: one datagram, answered the same way;
* ``dns``: a query for an A record; the answer's rcode and addresses are kept (``got_dns``).

No answer in time is ``timeout``; a connect() the kernel fails at once says why (``unreachable``, ``refused``).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import selectors
import socket
import struct
import time
from typing import TYPE_CHECKING

from . import netns
from .plan import IDENTITY

if TYPE_CHECKING:
    from .verify import Probe


def _icmp(ip, ident: int) -> tuple[socket.socket, bytes]:
    if ip.version == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        head = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"kubenet-lab"
        csum = _checksum(head)
        return s, head[:2] + struct.pack("!H", csum) + head[4:]
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    return s, struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"kubenet-lab"  # (the kernel fills ICMPv6's checksum)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _dns_query(qname: str) -> bytes:
    import dns.message

    return dns.message.make_query(qname, "A", want_dnssec=False).to_wire()


_ERRNO = {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "unreachable", errno.ENETUNREACH: "unreachable",
          errno.ECONNRESET: "reset", errno.ETIMEDOUT: "timeout"}


class _Run:
    def __init__(self, probe: Probe, lab_ns: str, index: int) -> None:
        self.p, self.done, self.buf = probe, False, b""
        fam = socket.AF_INET6 if probe.ip.version == 6 else socket.AF_INET
        with netns.inside(lab_ns):
            if probe.proto == "icmp":
                self.ident = (os.getpid() + index) & 0xFFFF
                self.sock, self.payload = _icmp(probe.ip, self.ident)
                self.sock.setblocking(False)
                try:
                    self.sock.sendto(self.payload, (str(probe.ip), 0))
                except OSError as e:  # (no route: the kernel says so at once)
                    self.failed(e)
            else:
                kind = socket.SOCK_STREAM if probe.proto == "tcp" else socket.SOCK_DGRAM
                self.sock = socket.socket(fam, kind)
                self.sock.setblocking(False)
                try:
                    self.sock.connect((str(probe.ip), probe.port))
                except BlockingIOError:
                    pass
                except OSError as e:
                    self.failed(e)
                    return
                if probe.proto == "udp":
                    self._send(b"kubenet-lab probe\n")
                elif probe.proto == "dns":
                    self._send(_dns_query(probe.qname))

    def _send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except OSError as e:
            self.failed(e)

    def events(self) -> int:
        return selectors.EVENT_WRITE if self.p.proto == "tcp" and not getattr(self, "connected", False) else selectors.EVENT_READ

    def failed(self, e: OSError) -> None:
        """The kernel's refusal, said as what it means for the probe (refused, unreachable, ...)."""
        self.finish(_ERRNO.get(e.errno, "error"), e.strerror or str(e))

    def finish(self, got: str, detail: str = "", to: str | None = None) -> None:
        self.p.got, self.p.detail, self.p.got_to, self.done = got, detail, to, True
        try:
            self.sock.close()
        except OSError:
            pass

    def ready(self, mask: int) -> None:
        p = self.p
        try:
            if p.proto == "tcp" and not getattr(self, "connected", False):
                err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.finish(_ERRNO.get(err, "error"), os.strerror(err))
                else:
                    self.connected = True
                return
            if p.proto == "icmp":
                data, peer = self.sock.recvfrom(2048)
                self._icmp_reply(data, peer)
                return
            data = self.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError as e:
            self.failed(e)
            return
        if p.proto == "dns":
            self._dns_reply(data)
            return
        self.buf += data
        if b"\n" in self.buf or not data:
            line = self.buf.split(b"\n", 1)[0].decode(errors="replace").split()
            if len(line) >= 4 and line[0] == IDENTITY:
                self.finish("delivered", f"answered by {line[1]} at {line[2]}, which saw the client as {line[3]}", line[1])
            else:
                self.finish("answered", "an answer that is no listener's" if data else "closed without an answer")

    def _icmp_reply(self, data: bytes, peer) -> None:
        p = self.p
        if p.ip.version == 4:
            ihl = (data[0] & 0x0F) * 4
            icmp = data[ihl:]
            if len(icmp) < 8:
                return
            typ, ident = icmp[0], struct.unpack("!H", icmp[4:6])[0]
            if typ == 0 and ident == self.ident and ipaddress.ip_address(peer[0]) == p.ip:
                self.finish("delivered", f"echo reply from {peer[0]}")
            elif typ == 3 and len(icmp) >= 28:  # the request it is about: its IP header, then our echo's first 8 bytes
                inner = icmp[8:]
                echo = inner[(inner[0] & 0x0F) * 4:]
                if len(echo) >= 6 and echo[0] == 8 and struct.unpack("!H", echo[4:6])[0] == self.ident:
                    self.finish("unreachable", f"ICMP destination unreachable from {peer[0]}")
            return
        typ = data[0]
        ident = struct.unpack("!H", data[4:6])[0] if len(data) >= 6 else None
        if typ == 129 and ident == self.ident and ipaddress.ip_address(peer[0].split("%")[0]) == p.ip:
            self.finish("delivered", f"echo reply from {peer[0]}")

    def _dns_reply(self, data: bytes) -> None:
        import dns.message
        import dns.rcode
        import dns.rdatatype

        try:
            msg = dns.message.from_wire(data)
        except Exception as e:  # noqa: BLE001 (dnspython's many parse errors)
            self.finish("answered", f"an answer that does not parse: {e}")
            return
        addrs = tuple(sorted(r.address for rr in msg.answer if rr.rdtype == dns.rdatatype.A for r in rr))
        rcode = dns.rcode.to_text(msg.rcode())
        self.p.got_dns = (rcode, addrs)
        self.finish("answered", f"{rcode} {' '.join(addrs) or '(no addresses)'}")


def run(probes: list[Probe], lab_ns: dict, timeout: float) -> None:
    """Send every probe at once from its namespace; wait at most ``timeout`` seconds for the answers."""
    sel = selectors.DefaultSelector()
    runs = []
    for i, p in enumerate(probes):
        try:
            r = _Run(p, lab_ns[p.src], i)
        except OSError as e:
            p.got, p.detail = "error", f"the probe could not start: {e.strerror or e}"
            continue
        runs.append(r)
        if not r.done:
            sel.register(r.sock, r.events(), r)
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(not r.done for r in runs):
        for key, mask in sel.select(max(0.0, end - time.monotonic())):
            r = key.data
            if r.done:
                continue
            before = r.events()
            r.ready(mask)
            if r.done:
                sel.unregister(r.sock)
            elif r.events() != before:
                sel.modify(r.sock, r.events(), r)
    for r in runs:
        if not r.done:
            sel.unregister(r.sock)
            r.finish("timeout", f"no answer within {timeout:g} s")
    sel.close()
