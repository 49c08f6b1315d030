"""``lab verify``: each prediction of the simulator, probed for real in the lab, side by side.

The predictions, each bounded in number:

* host to host: a ping (ICMP echo) from every host, container and named namespace to every other's
  first address; the simulator's verdict is the round trip (the request delivered, the reply back);
* Docker's published ports: each other host to the Docker host's address and published port, which its
  DNAT sends to the container's listener;
* pod to pod: a TCP or UDP exchange with the listener on each port the destination declares, or a
  ping when it declares none; NetworkPolicy decides here, so policy-denied pairs are among them;
* pod to Service: each cluster IP and port from each pod; kube-proxy picks an endpoint at random, so
  the listener that answers is compared with the simulator's trace forced to that endpoint;
* NodePort from a node: every node to its own and the other nodes' addresses on each node port;
* DNS from a pod: each Service's name (and one that does not exist), asked of the pod's nameserver
  through the Service's NAT to CoreDNS; the answer's rcode and addresses are compared.

Every probe runs at once from its own namespace (its socket made there), each waiting at most
``timeout`` seconds. A probe agrees when the lab did what the simulator said: delivered to the same
namespace (for a Service, to an endpoint the simulator also delivers to), or not delivered, and for TCP and
UDP in the same way: refused at once (a closed port, a REJECT) or left without an answer (a DROP, no route).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from .plan import dns_pods
from .probe import run

CAPS = {"host-host": 80, "published": 60, "pod-pod": 400, "pod-service": 150, "nodeport": 60, "dns": 40}


@dataclass
class Probe:
    kind: str
    src: str  # simulated namespace
    dst: str  # what the simulator was asked (address:port)
    proto: str  # icmp, tcp, udp, dns
    ip: object
    port: int | None
    expect: str  # delivered, or dropped
    expect_to: str | None = None  # the namespace the simulator delivers to
    why: str = ""  # the simulator's reason for a drop
    qname: str = ""
    expect_dns: tuple = ()  # (rcode, sorted addresses)
    got: str = ""  # delivered, refused, unreachable, timeout, answered...
    got_to: str | None = None
    detail: str = ""
    agree: bool = False
    note: str = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "from": self.src, "to": self.dst, "proto": self.proto, "simulator": self.expect,
                "simulator_to": self.expect_to, "simulator_reason": self.why, "lab": self.got, "lab_to": self.got_to,
                "lab_detail": self.detail, "agree": self.agree, "note": self.note,
                **({"qname": self.qname, "simulator_answer": list(self.expect_dns)} if self.proto == "dns" else {})}


@dataclass
class Report:
    topology: str
    probes: list[Probe]
    left_out: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # what the lab was built from

    @property
    def disagreements(self) -> list[Probe]:
        return [p for p in self.probes if not p.agree]

    def to_dict(self) -> dict:
        return {"topology": self.topology, "probes": len(self.probes), "agree": len(self.probes) - len(self.disagreements),
                "disagree": len(self.disagreements), "left_out": self.left_out, "notes": self.notes,
                "results": [p.to_dict() for p in self.probes]}


# -- the predictions ----------------------------------------------------------------------------------------

def _sim(net, src: str, dst: str, proto: str, endpoint: str | None = None):
    from ..sim.query import QueryError, trace

    try:
        return trace(net, src, dst, proto, endpoint=endpoint)
    except QueryError:
        return None


def _verdict(t) -> tuple[str, str | None, str]:
    if t is None:
        return "dropped", None, "the simulator refused the question"
    ok = t.delivered and (t.reply is None or t.reply.delivered)
    why = t.reason or (t.reply.reason if t.reply is not None and not t.reply.delivered else "") or ""
    return ("delivered" if ok else "dropped"), (t.delivered_to if ok else None), why


def refusal(why: str) -> bool:
    """Whether the simulator's drop answers the client at once (a TCP RST or an ICMP port unreachable: connect()
    gets ECONNREFUSED) rather than leaving it to wait: a closed port, an iptables REJECT (kube-proxy's, for a
    Service without endpoints, among them), Cilium's socket LB refusing the connect()."""
    return why.startswith("port closed") or why.startswith("rejected by iptables") or "REJECT" in why or "ECONNREFUSED" in why


def _addr(ip, port: int | None) -> str:
    text = f"[{ip}]" if ip.version == 6 and port is not None else str(ip)
    return f"{text}:{port}" if port is not None else text


def _probe(net, kind: str, src: str, ip, port: int | None, proto: str) -> Probe:
    dst = _addr(ip, port)
    verdict, to, why = _verdict(_sim(net, src, dst, proto))
    return Probe(kind, src, dst, proto, ip, port, verdict, to, why)


def predictions(net, lab_ns: dict) -> tuple[list[Probe], int]:
    """Every probe (bounded per kind), and how many were left out by the caps."""
    from ..k8s.datapath import pod_ns

    probes: dict[str, list[Probe]] = {k: [] for k in CAPS}
    left = 0
    names = [n for n in net.namespaces.built() if n in lab_ns]
    spaces = [net.namespaces[n] for n in names]
    plain = [ns for ns in spaces if ns.kind != "pod"]
    cluster = net.cluster
    pods = [p for p in (cluster.pods if cluster is not None else []) if not p.host_network and pod_ns(p) in lab_ns and p.ip is not None]

    def add(kind: str, make) -> None:
        nonlocal left
        if len(probes[kind]) >= CAPS[kind]:
            left += 1
            return
        p = make()
        if p is not None:
            probes[kind].append(p)

    for a in plain:
        for b in plain:
            ip = b.primary_address(4) or b.primary_address(6)
            if a.name != b.name and ip is not None:
                add("host-host", lambda a=a, ip=ip: _probe(net, "host-host", a.name, ip, None, "icmp"))
    dns = set(dns_pods(net))
    for h in net.topology.hosts:  # Docker's published ports (docker run -p), from every other host
        ip = net.namespaces[h.name].primary_address(4) if h.name in lab_ns else None
        for c in h.containers:
            for hport, _cport, proto in c.ports:
                for a in plain:
                    if ip is not None and a.name != h.name and a.host != h.name and proto in ("tcp", "udp"):
                        add("published", lambda a=a, ip=ip, hport=hport, proto=proto: _probe(net, "published", a.name, ip, hport, proto))
    for a in pods:
        for b in pods:
            if a is b:
                continue
            # each declared TCP and UDP port (not a CoreDNS pod's 53, where the DNS server answers: the DNS probes
            # ask it); a ping to a pod that declares none
            ports = sorted({(c.protocol.lower(), c.port) for c in b.ports if c.protocol in ("TCP", "UDP")
                            and not (c.port == 53 and pod_ns(b) in dns)}, key=lambda x: (x[0] != "tcp", x[1]))
            for proto, port in ports or [("icmp", None)]:
                for ip in [b.ip] + ([b.ip6] if b.ip6 is not None and a.ip6 is not None else []):  # (dual-stack: both families)
                    add("pod-pod", lambda a=a, ip=ip, proto=proto, port=port: _probe(net, "pod-pod", pod_ns(a), ip, port, proto))
    services = [s for s in (cluster.services if cluster is not None else []) if s.cluster_ip is not None]
    dns_ip = net.topology.cluster.dns_cluster_ip if cluster is not None else None
    for a in pods:
        for s in services:
            for sp in s.ports:
                if sp.protocol not in ("TCP", "UDP") or (s.cluster_ip == dns_ip and sp.port == 53):
                    continue
                for ip in [ip for ip in s.cluster_ips if any(x.version == ip.version for x in a.ips)]:
                    add("pod-service", lambda a=a, ip=ip, sp=sp: _probe(net, "pod-service", pod_ns(a), ip, sp.port, sp.protocol.lower()))
    nodes = [ns for ns in plain if cluster is not None and ns.name in cluster.nodes]
    for a in nodes:
        for b in nodes:
            ip = b.primary_address(4)
            for s in services:
                for sp in s.ports:
                    if sp.node_port and sp.protocol in ("TCP", "UDP") and ip is not None:
                        add("nodeport", lambda a=a, ip=ip, sp=sp: _probe(net, "nodeport", a.name, ip, sp.node_port, sp.protocol.lower()))
    if cluster is not None and pods:
        clients = [p for p in pods if _asks_cluster_dns(net, p)][:2]
        domain = net.topology.cluster.domain.rstrip(".")
        names = [f"{s.name}.{s.namespace}.svc.{domain}." for s in cluster.services] + [f"no-such-service.default.svc.{domain}."]
        for a in clients:
            for q in names:
                add("dns", lambda a=a, q=q: _dns_probe(net, pod_ns(a), q))
    out = [p for k in CAPS for p in probes[k]]
    for p in out:  # the pairs the cluster's NetworkPolicies refuse, named as such in the table
        if p.expect == "dropped" and p.why.startswith("policy"):
            p.kind = "policy-denied"
    return out, left


def _asks_cluster_dns(net, pod) -> bool:
    """Whether the pod's resolv.conf names the cluster DNS first (dnsPolicy ClusterFirst): the pods that ask
    CoreDNS (a CoreDNS pod itself asks the node's upstream, which the lab does not run)."""
    from ..dns.resolver import resolv_conf

    conf = resolv_conf(net.dns_zone(), pod)
    return bool(conf.nameservers) and conf.nameservers[0] == str(net.topology.cluster.dns_cluster_ip)


def _dns_probe(net, src: str, qname: str) -> Probe | None:
    from ..dns.resolver import find_pod, resolv_conf

    zone = net.dns_zone()
    pod = find_pod(net.cluster, src)
    server = ipaddress.ip_address(resolv_conf(zone, pod).nameservers[0])
    ans = zone.query(qname, "A")
    path = _sim(net, src, _addr(server, 53), "udp")
    verdict, to, why = _verdict(path)
    p = Probe("dns", src, _addr(server, 53), "dns", server, 53, "answered" if verdict == "delivered" else "dropped", to, why, qname)
    if verdict == "delivered":
        p.expect_dns = (ans.rcode, tuple(sorted(r.data for r in ans.answer if r.type == "A")))
    return p


# -- comparing ----------------------------------------------------------------------------------------------

def judge(net, p: Probe) -> None:
    """Whether the lab did what the simulator said; for a Service, the endpoint the lab picked is given to
    the simulator (kube-proxy picks at random), which must deliver there too."""
    if p.proto == "dns":
        got = getattr(p, "got_dns", None)
        if p.expect == "dropped":
            p.agree = got is None
        else:
            p.agree = got is not None and got[0] == p.expect_dns[0] and tuple(got[1]) == tuple(p.expect_dns[1])
        return
    if p.expect == "dropped":
        # for TCP and UDP the kind of drop is compared too: refused at once, or no answer (dropped, unreachable)
        refused = p.got in ("refused", "reset")
        # (a probe that could not even start says nothing of the network: never an agreement)
        p.agree = p.got not in ("delivered", "error") and (p.proto == "icmp" or refused == refusal(p.why))
        return
    if p.got != "delivered":
        p.agree = False
        return
    if p.expect_to is None or p.got_to == p.expect_to or p.proto == "icmp":
        p.agree = True
        return
    # another endpoint answered: does the simulator deliver there when kube-proxy picks it?
    ns = net.namespaces.get(p.got_to)
    ip = ns.primary_address(p.ip.version) if ns is not None else None
    listen = p.detail.split(" at ", 1)[1].split(",", 1)[0] if " at " in p.detail else ""
    port = listen.rsplit(":", 1)[1] if ":" in listen else None
    if ip is None or not port:
        p.agree = False
        return
    forced = _sim(net, p.src, p.dst, p.proto, endpoint=_addr(ip, int(port)))
    verdict, to, _ = _verdict(forced)
    p.agree = verdict == "delivered" and to == p.got_to
    p.note = f"kube-proxy picked {_addr(ip, int(port))} here; the simulator, given that endpoint, " + \
             ("delivers there too" if p.agree else f"does not deliver there ({to or 'dropped'})")


def verify(loaded, rec: dict, max_probes: int = 800, timeout: float = 1.0) -> Report:
    from ..sim.network import compile_topology

    net = loaded.network
    if net is None or net.described is not loaded.topology:
        net = compile_topology(loaded.topology)
    net.compile_nodes()
    lab_ns = rec["sim"]
    probes, left = predictions(net, lab_ns)
    if len(probes) > max_probes:
        left += len(probes) - max_probes
        probes = probes[:max_probes]
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a socket per probe, all open at once
    if soft < min(hard, len(probes) + 256):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, len(probes) + 256), hard))
    start = time.monotonic()
    run(probes, lab_ns, timeout)
    # A probe with no answer is sent once more, as ping sends more than one: the first packet to a neighbour
    # not yet resolved may wait a whole ARP retransmission (1 s) in a router's queue.
    again = [p for p in probes if p.got == "timeout"]
    for p in again:
        p.got, p.detail, p.got_to = "", "", None
    run(again, lab_ns, timeout)
    for p in probes:
        judge(net, p)
    return Report(loaded.topology.name, probes, left, time.monotonic() - start, list(rec.get("notes", [])), list(rec.get("files", [])))


def report_text(r: Report) -> str:
    rows = [("KIND", "FROM", "TO", "PROTO", "SIMULATOR", "LAB", "")]
    for p in r.probes:
        sim = p.expect if p.expect_to is None else f"{p.expect} to {p.expect_to}"
        if p.proto == "dns":
            sim = f"{p.expect_dns[0]} {' '.join(p.expect_dns[1]) or '-'}" if p.expect != "dropped" else "no answer"
            to = p.qname
        else:
            to = p.dst
        lab = p.got if p.got_to is None else f"{p.got} to {p.got_to}"
        if p.proto == "dns":
            lab = p.detail if p.got == "answered" else p.got
        rows.append((p.kind, p.src, to, p.proto, sim, lab, "ok" if p.agree else "DISAGREE"))
    widths = [min(max(len(row[i]) for row in rows), 44) for i in range(7)]
    lines = ["  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    bad = r.disagreements
    for p in bad:
        lines.append(f"DISAGREE {p.kind} {p.src} -> {p.qname or p.dst} ({p.proto}): the simulator says {p.expect}"
                     f"{' to ' + p.expect_to if p.expect_to else ''}{': ' + p.why if p.why else ''}; the lab: {p.got}"
                     f"{': ' + p.detail if p.detail else ''}")
    for p in r.probes:
        if p.note and p.agree:
            lines.append(f"note: {p.kind} {p.src} -> {p.dst}: {p.note}")
    for n in r.notes:
        lines.append(f"note: {n}")
    tail = f" ({r.left_out} more left out: --max-probes, or the caps per kind)" if r.left_out else ""
    lines.append(f"{len(r.probes)} probes in {r.seconds:.1f} s: {len(r.probes) - len(bad)} agree, {len(bad)} disagree{tail}")
    return "\n".join(lines)
