"""`serve-dns`: a real DNS server over UDP and TCP, asked with dnspython (and with dig where installed).

The reference cases of tests/data/dns are asked over the wire and must come back as the core answers them;
the server must truncate big UDP answers, take TCP, and shrug off malformed packets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import pytest
from test_dns import CASES, norm, write_world

from tui.dns.server import DnsServer, parse_listen
from tui.dns.zone import build
from tui.load import load

ROOT = Path(__file__).resolve().parent.parent
TWO_NODES = ROOT / "topologies" / "04-two-node-cluster.yaml"
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """One running server per reference world."""
    tmp = tmp_path_factory.mktemp("dnsworlds")
    running: dict = {}

    def get(case):
        key = (case["cluster"], json.dumps(case.get("config") or {}, sort_keys=True), json.dumps(case.get("upstream") or [], sort_keys=True))
        if key not in running:
            path = write_world(tmp / f"w{len(running)}.yaml", case["cluster"], case.get("config") or {}, case.get("upstream") or [])
            srv = DnsServer(build(load([str(path)]).topology), HOST, 0)
            srv.start()
            running[key] = srv
        return running[key]

    yield get
    for s in running.values():
        s.close()


def ask(port: int, qname: str, qtype: str, tcp: bool = False, **kw) -> dns.message.Message:
    q = dns.message.make_query(qname, qtype, **kw)
    return (dns.query.tcp if tcp else dns.query.udp)(q, HOST, port=port, timeout=3)


CASES_WIRE = [c for c in CASES if not (c.get("flags") or {}).get("tc") and "coredns_local_ips" not in (c.get("config") or {})]


@pytest.mark.parametrize("case", CASES_WIRE, ids=lambda c: c["id"])
def test_reference_case_over_udp(servers, case):
    srv = servers(case)
    r = ask(srv.port, case["qname"], case["qtype"], use_edns=0, payload=1232)  # as dig asks: EDNS, 1232 bytes
    cs = bool((case.get("compare") or {}).get("case_sensitive_names"))
    assert dns.rcode.to_text(r.rcode()) == case["rcode"]
    got = {norm(line, cs) for rrset in r.answer for line in rrset.to_text().splitlines()}
    assert got == {norm(a, cs) for a in case["answer"]}
    if "additional" in case:
        extra = {norm(line) for rrset in r.additional for line in rrset.to_text().splitlines()}
        assert extra == {norm(a) for a in case["additional"]}
    if "authority" in case and case["cluster"] != "reverse-cluster.yaml":
        auth = {norm(line) for rrset in r.authority for line in rrset.to_text().splitlines()}
        assert auth == {norm(a) for a in case["authority"]}
    assert r.flags & dns.flags.QR and not r.flags & dns.flags.TC


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A headless Service with 60 ready endpoints: too big for 512 bytes of UDP."""
    p = tmp_path_factory.mktemp("big") / "big.yaml"
    eps = "\n".join(f"- addresses: [10.244.1.{i}]\n  conditions: {{ready: true}}" for i in range(10, 70))
    p.write_text(TWO_NODES.read_text() + "---\napiVersion: v1\nkind: Service\nmetadata: {name: many}\n"
                 "spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                 "metadata: {name: many-abcde, labels: {kubernetes.io/service-name: many}}\naddressType: IPv4\n"
                 f"ports: [{{name: http, port: 80, protocol: TCP}}]\nendpoints:\n{eps}\n")
    srv = DnsServer(build(load([str(p)]).topology), HOST, 0)
    srv.start()
    yield srv
    srv.close()


def test_truncation_and_tcp(big):
    r = ask(big.port, "many.default.svc.cluster.local", "A")  # no EDNS: 512 bytes
    assert r.flags & dns.flags.TC and 0 < len(r.answer[0]) < 60
    r = ask(big.port, "many.default.svc.cluster.local", "A", use_edns=0, payload=4096)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 60
    r = ask(big.port, "many.default.svc.cluster.local", "A", tcp=True)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 60
    r, used_tcp = dns.query.udp_with_fallback(dns.message.make_query("many.default.svc.cluster.local", "A"), HOST, port=big.port, timeout=3)
    assert used_tcp and len(r.answer[0]) == 60


def test_tcp_several_queries_on_one_connection(big):
    with socket.create_connection((HOST, big.port), timeout=3) as s:
        for name in ("web.default.svc.cluster.local", "kubernetes.default.svc.cluster.local"):
            wire = dns.message.make_query(name, "A").to_wire()
            s.sendall(len(wire).to_bytes(2, "big") + wire)
            n = int.from_bytes(s.recv(2), "big")
            data = b""
            while len(data) < n:
                data += s.recv(n - len(data))
            r = dns.message.from_wire(data)
            assert r.rcode() == dns.rcode.NOERROR and r.answer


def test_malformed_packets_never_stop_it(big):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for junk in (b"", b"\x00", b"garbage", os.urandom(300), b"\x12\x34" + b"\x01\x00" + b"\x00\x05" + b"\x00" * 6 + b"\xff" * 20):
            s.sendto(junk, (HOST, big.port))
        s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example", (HOST, big.port))  # a name cut short
        reply = None
        for _ in range(6):
            try:
                data, _ = s.recvfrom(65535)
            except TimeoutError:
                break
            if data[:2] == b"\x12\x34":
                reply = data
        assert reply is not None and reply[3] & 0x0F == dns.rcode.FORMERR and reply[2] & 0x80
    with socket.create_connection((HOST, big.port), timeout=3) as s:  # a TCP client that sends junk and leaves
        s.sendall(b"\x00\x05hello")
    r = ask(big.port, "web.default.svc.cluster.local", "A")
    assert r.answer[0][0].address == "10.96.0.20"


def test_other_opcodes_classes_and_edns_versions(big):
    q = dns.message.make_query("web.default.svc.cluster.local", "A")
    q.set_opcode(dns.opcode.NOTIFY)
    assert dns.query.udp(q, HOST, port=big.port, timeout=3).rcode() == dns.rcode.NOTIMP
    q = dns.message.make_query("version.bind", "TXT", rdclass=dns.rdataclass.CH)
    assert dns.query.udp(q, HOST, port=big.port, timeout=3).rcode() == dns.rcode.REFUSED
    q = dns.message.make_query("web.default.svc.cluster.local", "A", use_edns=1)
    assert dns.query.udp(q, HOST, port=big.port, timeout=3).rcode() == dns.rcode.BADVERS
    r = ask(big.port, "cluster.local", "AXFR", tcp=True)
    assert r.rcode() == dns.rcode.REFUSED


def test_flags_authoritative_and_forwarded(big):
    r = ask(big.port, "web.default.svc.cluster.local", "A")
    assert r.flags & dns.flags.AA and not r.flags & dns.flags.RA
    r = ask(big.port, "example.com", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.RA and not r.flags & dns.flags.AA


def test_parse_listen():
    assert parse_listen("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_listen("[::1]:53") == ("::1", 53)
    assert parse_listen(":1053") == ("127.0.0.1", 1053)
    for bad in ("5353", "host:53", "127.0.0.1:99999"):
        with pytest.raises(ValueError):
            parse_listen(bad)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait(port: int) -> None:
    for _ in range(100):
        try:
            ask(port, "kubernetes.default.svc.cluster.local", "A")
            return
        except Exception:
            time.sleep(0.05)
    raise AssertionError("serve-dns did not answer")


def test_cli_serve_dns_runs_until_terminated():
    port = _free_port()
    p = subprocess.Popen([sys.executable, "-m", "tui", "serve-dns", "-f", str(TWO_NODES), "--listen", f"{HOST}:{port}"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(port)
        assert ask(port, "web.default.svc.cluster.local", "A").answer[0][0].address == "10.96.0.20"
        busy = subprocess.run([sys.executable, "-m", "tui", "serve-dns", "-f", str(TWO_NODES), "--listen", f"{HOST}:{port}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert busy.returncode == 1 and "Traceback" not in busy.stderr
        assert busy.stderr == (f"kubenet-tui serve-dns: error: cannot listen on {HOST}:{port}: Address already in use: another program "
                               f"listens there; give another port, or --listen {HOST}:0 for a free one\n")
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
    assert p.returncode == 0 and "Traceback" not in err and f"udp and tcp {HOST}:{port}" in err


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig is not installed (apt-get install dnsutils)")
def test_dig_asks_serve_dns():
    port = _free_port()
    p = subprocess.Popen([sys.executable, "-m", "tui", "serve-dns", "-f", str(TWO_NODES), "--listen", f"{HOST}:{port}"],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(port)
        out = subprocess.run(["dig", f"@{HOST}", "-p", str(port), "+tries=1", "+time=2", "+noall", "+comments", "+answer",
                              "_http._tcp.web.default.svc.cluster.local", "SRV"], capture_output=True, text=True, timeout=10).stdout
        assert "status: NOERROR" in out and "flags: qr aa rd" in out
        assert [line.split() for line in out.splitlines() if line.strip() and not line.startswith(";")] == [
            ["_http._tcp.web.default.svc.cluster.local.", "30", "IN", "SRV", "0", "100", "80", "web.default.svc.cluster.local."]]
        out = subprocess.run(["dig", f"@{HOST}", "-p", str(port), "+tries=1", "+time=2", "+tcp", "+short", "-x", "10.96.0.20"],
                             capture_output=True, text=True, timeout=10).stdout
        assert out.split() == ["web.default.svc.cluster.local."]
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)


def test_additional_records_that_do_not_fit_are_left_out_without_tc(servers):
    # a plain 512-byte UDP query: the SRV answer fits, some A records of the additional section may not;
    # those are optional, so no TC (as miekg/dns's Truncate, which CoreDNS uses)
    case = next(c for c in CASES_WIRE if c["id"] == "srv-headless-named-port")
    r = ask(servers(case).port, case["qname"], case["qtype"])
    assert not r.flags & dns.flags.TC and len(r.to_wire()) <= 512
    assert {norm(x) for rrset in r.answer for x in rrset.to_text().splitlines()} == {norm(a) for a in case["answer"]}
    extra = {norm(x) for rrset in r.additional for x in rrset.to_text().splitlines()}
    assert extra and extra <= {norm(a) for a in case["additional"]}


def _load_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("dns_load", ROOT / "benchmarks" / "dns_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_burst_with_malformed_packets_among_the_queries_gets_every_answer(big):
    """A bounded burst (64 queries unanswered at most; benchmarks/dns_load.py sends 20,000) with random bytes,
    cut headers, compression-pointer loops and over-long names among the queries: every query answered, the
    answers the right ones (NXDOMAIN for the names that do not exist), and the server answers afterwards."""
    gen = _load_generator()
    result = gen.burst(big.port, 2000, window=64, junk_every=10)
    assert (result["answered"], result["lost"], result["junk"]) == (2000, 0, 200)
    missing = {"nothing.default.svc.cluster.local", "web.default"}  # (no such Service; a name outside every zone)
    nxdomain = sum(1 for i in range(2000) if gen.QUESTIONS[i % len(gen.QUESTIONS)][0] in missing)
    assert result["rcodes"] == {"0": 2000 - nxdomain, "3": nxdomain}
    assert gen.still_answers(big.port)
    for packet in (gen.junk(__import__("random").Random(k)) for k in range(40)):  # each kind, alone
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(packet, (HOST, big.port))
    assert ask(big.port, "web.default.svc.cluster.local", "A").answer[0][0].address == "10.96.0.20"


# -- under attack: what a hostile client may send ------------------------------------------------------------

def _header(qid: int = 0x4242, qd: int = 1, flags: int = 0x0100) -> bytes:
    import struct

    return struct.pack("!HHHHHH", qid, flags, qd, 0, 0, 0)


def _udp_replies(port: int, packets: list[bytes], wait: float = 1.0) -> dict[int, bytes]:
    """Send every packet, then collect the replies by query id."""
    got: dict[int, bytes] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for p in packets:
            s.sendto(p, (HOST, port))
        s.settimeout(wait)
        while True:
            try:
                data, _ = s.recvfrom(65535)
            except TimeoutError:
                return got
            if len(data) >= 2:
                got[int.from_bytes(data[:2], "big")] = data


def test_compression_pointer_loops_and_oversized_names_get_formerr(big):
    loops = {
        0x1001: _header(0x1001) + b"\xc0\x0c" + b"\x00\x01\x00\x01",  # a name that points at itself
        0x1002: _header(0x1002) + b"\x03abc\xc0\x0c" + b"\x00\x01\x00\x01",  # a label, then back to its own start
        0x1003: _header(0x1003) + b"\xc0\x0e\xc0\x0c" + b"\x00\x01\x00\x01",  # two pointers pointing at each other
        0x1004: _header(0x1004) + b"\xc0\xff" + b"\x00\x01\x00\x01",  # a pointer past the end
        0x1005: _header(0x1005) + b"\x3f" + b"a" * 63 + b"\xc0\x0c" + b"\x00\x01\x00\x01",  # a pointer loop growing the name
        0x1006: _header(0x1006) + b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\x00\x00\x01\x00\x01",  # 320 octets > 255
        0x1007: _header(0x1007) + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",  # a label of 64 (0x40: a reserved label type)
        0x1008: _header(0x1008, qd=65535) + b"\x00\x00\x01\x00\x01",  # 65,535 questions announced, one there
        0x1009: _header(0x1009) + b"\x05ab",  # a name cut short
    }
    replies = _udp_replies(big.port, list(loops.values()))
    for qid in loops:
        assert qid in replies, f"no reply to {qid:#x}"
        reply = replies[qid]
        assert reply[2] & 0x80 and reply[3] & 0x0F == dns.rcode.FORMERR, f"{qid:#x}: {reply[:4].hex()}"
    r = ask(big.port, "web.default.svc.cluster.local", "A")  # still answering
    assert r.answer[0][0].address == "10.96.0.20"


def test_random_and_mutated_packets_never_stop_it(big):
    import random

    rng = random.Random(9)
    good = dns.message.make_query("web.default.svc.cluster.local", "A").to_wire()
    packets = []
    for i in range(1500):
        if i % 3 == 0:
            packets.append(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 600))))
        else:  # a real query with a few bytes flipped, cut or repeated
            b = bytearray(good)
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            if rng.random() < 0.3:
                b = b[: rng.randrange(len(b))]
            if rng.random() < 0.1:
                b = b * rng.randrange(2, 40)
            packets.append(bytes(b))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for k, p in enumerate(packets):
            s.sendto(p, (HOST, big.port))
            if k % 100 == 99:
                time.sleep(0.01)  # a burst the socket buffer holds
    time.sleep(0.5)
    for tcp in (False, True):
        r = ask(big.port, "web.default.svc.cluster.local", "A", tcp=tcp)
        assert r.answer[0][0].address == "10.96.0.20"


def test_tcp_junk_lengths_and_a_flood_of_idle_connections(big):
    from tui.dns.server import TCP_CLIENTS

    idle = []
    try:
        for _ in range(TCP_CLIENTS + 40):  # more clients than it serves, each sending nothing
            idle.append(socket.create_connection((HOST, big.port), timeout=3))
        with socket.create_connection((HOST, big.port), timeout=3) as s:  # a length longer than what follows, then gone
            s.sendall(b"\xff\xff" + b"\x00" * 10)
        time.sleep(0.2)
    finally:
        for s in idle:
            s.close()
    time.sleep(0.3)  # the idle clients' slots come back as they are closed
    r = ask(big.port, "web.default.svc.cluster.local", "A", tcp=True)
    assert r.answer[0][0].address == "10.96.0.20"
    r = ask(big.port, "web.default.svc.cluster.local", "A")
    assert r.answer[0][0].address == "10.96.0.20"


def test_names_outside_the_cluster_are_never_looked_up_for_real(big):
    """Not an open resolver: a name outside the cluster's zones gets what the topology's simulated upstream says
    (nothing listed here: NXDOMAIN), never an answer from the real Internet."""
    for name in ("example.com", "google.com", "localhost", "www.kubernetes.io"):
        r = ask(big.port, name, "A")
        assert r.rcode() == dns.rcode.NXDOMAIN and not r.answer, name


@pytest.mark.skipif(os.geteuid() != 0, reason="setpriv to nobody needs root")
def test_cli_serve_dns_on_a_privileged_port_without_root_says_what_to_do():
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    if shutil.which("setpriv") is None or subprocess.run([*nobody, "-c", "import tui.cli"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("no setpriv, or the checkout is not readable by nobody")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "tui", "serve-dns",
                        "-f", str(TWO_NODES), "--listen", f"{HOST}:53"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert p.stderr == (f"kubenet-tui serve-dns: error: cannot listen on {HOST}:53: Permission denied: a port below 1024 needs root; "
                        f"give an unprivileged one, e.g. --listen {HOST}:5353\n")


def test_cli_serve_dns_on_an_address_this_machine_lacks_says_what_to_do():
    p = subprocess.run([sys.executable, "-m", "tui", "serve-dns", "-f", str(TWO_NODES), "--listen", "192.0.2.77:5353"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.endswith("no interface of this machine has that address; give one it has, e.g. --listen 127.0.0.1:5353\n")
