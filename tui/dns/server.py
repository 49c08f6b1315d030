"""A real DNS server (UDP and TCP, RFC 1035 wire format through dnspython) answering from a :class:`Zone`.

``kubenet-tui serve-dns`` runs one, so that ``dig @127.0.0.1 -p 5353 web.default.svc.cluster.local SRV`` asks the
simulated CoreDNS. It listens on loopback unless told otherwise and never asks a real server: names outside the
cluster zones are answered by the simulated upstream.

As a server should: a UDP reply larger than the client's buffer (512 bytes, or its EDNS payload size) keeps
the records that fit and sets TC, so the client retries over TCP; TCP takes length-prefixed messages, several
per connection. A packet that does not parse gets FORMERR when it has a header to answer, and is dropped
otherwise; a response, a non-QUERY opcode (NOTIMP), a class other than IN (REFUSED) or an unknown EDNS
version (BADVERS) are answered as such. Nothing a client sends stops the server. Names are rendered with
their letter case kept: compression only points at identical letters, as CoreDNS's does.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.rrset

from .records import Answer, Record

UDP_LIMIT, TCP_LIMIT, EDNS_PAYLOAD = 512, 65535, 1232
TCP_IDLE = 10.0
TCP_CLIENTS = 128  # TCP connections served at once: more are closed at once (no thread each for a flood)


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:5353``, ``[::1]:5353``, ``localhost:5353`` or ``:5353`` (loopback) -> (address, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise ValueError("expected ADDRESS:PORT, like 127.0.0.1:5353")
    host = {"": "127.0.0.1", "localhost": "127.0.0.1"}.get(host, host)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f'"{host}" is not an IP address') from None
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f'"{port}" is not a port (0-65535)')
    return host, int(port)


class _ExactCaseCompression(dict):
    """A compression table that only points at the same letters (dnspython's names compare ignoring case)."""

    @staticmethod
    def _key(name):
        return tuple(name.labels) if isinstance(name, dns.name.Name) else name

    def get(self, name, default=None):
        return super().get(self._key(name), default)

    def __setitem__(self, name, pos) -> None:
        super().__setitem__(self._key(name), pos)


def _rrset(r: Record) -> dns.rrset.RRset:
    return dns.rrset.from_text(r.name, r.ttl, "IN", r.type, r.data)


def render(query: dns.message.Message, answer: Answer, max_size: int) -> bytes:
    """The reply to ``query`` in wire format, truncated to ``max_size`` with TC set when records had to go."""
    resp = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
    resp.set_rcode(dns.rcode.from_text(answer.rcode))
    if answer.aa:
        resp.flags |= dns.flags.AA
    if answer.ra:
        resp.flags |= dns.flags.RA
    r = dns.renderer.Renderer(resp.id, resp.flags, max(max_size, UDP_LIMIT))
    r.compress = _ExactCaseCompression()
    opt_reserve = resp._compute_opt_reserve()
    r.reserve(opt_reserve)
    q = query.question[0]
    r.add_question(q.name, q.rdtype, q.rdclass)
    truncated = False
    for section, rrs in ((dns.renderer.ANSWER, answer.answer), (dns.renderer.AUTHORITY, answer.authority),
                         (dns.renderer.ADDITIONAL, answer.additional)):
        full = False
        for rec in rrs:
            try:
                r.add_rrset(section, _rrset(rec))
            except dns.exception.TooBig:
                full = True
                break
        if full:
            # Additional records are optional: leaving some out does not set TC (RFC 2181 9, as miekg/dns's
            # Truncate, which CoreDNS uses, does); an answer or authority that does not fit does.
            truncated = section != dns.renderer.ADDITIONAL
            break
    r.release_reserved()
    if resp.opt is not None:
        r.add_opt(resp.opt, 0, opt_reserve, 0)
    if truncated:
        r.flags |= dns.flags.TC
    r.write_header()
    return r.get_wire()


def _bare_reply(wire: bytes, rcode: int) -> bytes | None:
    """An answer with only a header (FORMERR, NOTIMP) to a query too broken to parse; None to stay silent."""
    if len(wire) < 12 or wire[2] & 0x80:  # no header, or a response: never answer those
        return None
    opcode = (wire[2] >> 3) & 0x0F
    flags = 0x8000 | (opcode << 11) | (wire[2] & 0x01) << 8 | (rcode & 0x0F)
    return wire[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)


class DnsServer:
    """UDP and TCP listeners on one address and port; ``zone`` may be set after the sockets are bound."""

    def __init__(self, zone, host: str = "127.0.0.1", port: int = 5353):
        self.zone = zone
        self.host = host
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        self.udp, self.tcp = self._bind(family, host, port)
        self.port = self.udp.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tcp_slots = threading.BoundedSemaphore(TCP_CLIENTS)

    @staticmethod
    def _bind(family, host: str, port: int):
        for _ in range(20):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                udp.bind((host, port))
                tcp.bind((host, udp.getsockname()[1]))
                tcp.listen(64)
                return udp, tcp
            except OSError:
                udp.close()
                tcp.close()
                if port != 0:
                    raise
        raise OSError("no free port for both UDP and TCP")

    # -- answering -----------------------------------------------------------------------------------

    def answer(self, wire: bytes, max_size: int) -> bytes | None:
        """The reply to one message (None: no reply). Never raises."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return _bare_reply(wire, dns.rcode.FORMERR)
        try:
            return self._answer(query, max_size)
        except Exception as e:  # a bug must not stop the server: the client gets SERVFAIL
            print(f"serve-dns: error answering {query.question[:1]}: {e!r}", file=sys.stderr)
            try:
                resp = dns.message.make_response(query)
                resp.set_rcode(dns.rcode.SERVFAIL)
                return resp.to_wire(max_size=max_size)
            except Exception:
                return _bare_reply(wire, dns.rcode.SERVFAIL)

    def _answer(self, query: dns.message.Message, max_size: int) -> bytes | None:
        if query.flags & dns.flags.QR:
            return None
        if query.opcode() != dns.opcode.QUERY:
            return self._error(query, dns.rcode.NOTIMP, max_size)
        if len(query.question) != 1:
            return self._error(query, dns.rcode.FORMERR, max_size)
        if query.edns > 0:
            return self._error(query, dns.rcode.BADVERS, max_size)
        q = query.question[0]
        if q.rdclass != dns.rdataclass.IN:
            return self._error(query, dns.rcode.REFUSED, max_size)
        if self.zone is None:
            return self._error(query, dns.rcode.SERVFAIL, max_size)
        ans = self.zone.query(q.name.to_text(), dns.rdatatype.to_text(q.rdtype))
        return render(query, ans, max_size)

    @staticmethod
    def _error(query: dns.message.Message, rcode: int, max_size: int) -> bytes:
        resp = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
        resp.set_rcode(rcode)
        return resp.to_wire(max_size=max(max_size, UDP_LIMIT))

    # -- the loops -----------------------------------------------------------------------------------

    def _udp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                wire, addr = self.udp.recvfrom(65535)
            except OSError:
                if self._stop.is_set():
                    return
                continue
            size = UDP_LIMIT
            try:
                if len(wire) >= 12:
                    q = dns.message.from_wire(wire)
                    if q.edns >= 0:
                        size = max(UDP_LIMIT, min(q.payload, TCP_LIMIT))
            except Exception:
                pass
            reply = self.answer(wire, size)
            if reply is not None:
                try:
                    self.udp.sendto(reply, addr)
                except OSError:
                    pass

    def _tcp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                if self._stop.is_set():
                    return
                continue
            if not self._tcp_slots.acquire(blocking=False):  # as many clients as it serves: this one is turned away
                conn.close()
                continue
            t = threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True)
            t.start()

    def _tcp_conn(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(TCP_IDLE)
            while not self._stop.is_set():
                head = _recv_exact(conn, 2)
                if head is None:
                    return
                wire = _recv_exact(conn, struct.unpack("!H", head)[0])
                if wire is None:
                    return
                reply = self.answer(wire, TCP_LIMIT)
                if reply is None:
                    continue
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            conn.close()
            self._tcp_slots.release()

    def start(self) -> None:
        """Serve in background threads (tests, the dashboard); :meth:`close` stops them."""
        for target in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)

    def run_forever(self, banner: str = "") -> int:
        """Serve until SIGINT or SIGTERM; 0 then."""
        import signal

        def stop(*_):
            self._stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if not ipaddress.ip_address(self.host).is_loopback:
            print(f"serve-dns: note: {self.host} is not a loopback address: anyone who reaches it can ask this server",
                  file=sys.stderr)
        self.start()
        if banner:
            print(banner, file=sys.stderr, flush=True)
        while not self._stop.wait(0.5):
            pass
        return 0

    def close(self) -> None:
        self._stop.set()
        for s in (self.udp, self.tcp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
