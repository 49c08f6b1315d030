"""The ``kubenet-tui`` command line, kubectl-style.

``kubenet-tui [FILE|DIR ...]`` opens the dashboard; the subcommands answer
headless and never import textual. Exit codes: 0 answered, 1 bad input (a
located error, an unknown name), 2 a usage error.
"""

from __future__ import annotations

import sys

from . import __version__

COMMANDS = ("check", "routes", "trace", "export", "iptables", "ipvs", "resolve", "serve-dns", "http", "reach", "generate")

MAIN_EPILOG = """\
commands:
  check    validate topology files and Kubernetes manifests
  routes   show a routing table (ip route / route -n) and look addresses up
  trace    follow a packet hop by hop, with its verdict and reply
  export   draw the network: a Unicode map, Mermaid or Graphviz dot
  iptables a node's kube-proxy rules, as iptables-save prints them
  ipvs     a node's IPVS virtual servers (kube-proxy in ipvs mode), as ipvsadm -Ln prints them
  resolve  ask the cluster DNS (CoreDNS) a name, as dig does, or as a pod's resolver does
  serve-dns  a real DNS server (UDP and TCP) answering from the simulated cluster DNS
  http     send an HTTP request to the cluster's Ingress controller: the rule, backend and endpoint it picks
  reach    which pods may talk to which under the NetworkPolicies, and the policy and rule behind each answer
  generate write a realistic cluster (Nodes, Pods, Services; or Deployments) for demos and benchmarks

examples:
  kubenet-tui                                  # the dashboard, on the bundled default topology
  kubenet-tui topologies/02-router-gateway.yaml
  kubenet-tui check -f topologies/02-router-gateway.yaml
  kubenet-tui routes -f topologies/02-router-gateway.yaml laptop --lookup 8.8.8.8
  kubenet-tui trace -f topologies/03-docker-bridge.yaml --from container-a --to server:80
"""


def _parser_class():
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # usage errors: exit 2, no traceback
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: error: {message}\n")

    return _Parser


def _files_arg(p) -> None:
    p.add_argument("-f", "--filename", dest="files", action="append", metavar="FILE|DIR",
                   help="topology file or directory (repeatable; a directory loads every *.yaml, *.yml, *.json in name order); "
                        "without -f, the bundled default topology")


def _output_arg(p) -> None:
    p.add_argument("-o", "--output", choices=("text", "json", "yaml"), default="text", help="output format (default text)")


def build_parser():
    import argparse

    _Parser = _parser_class()
    fmt = argparse.RawDescriptionHelpFormatter
    p = _Parser(prog="kubenet-tui", usage="kubenet-tui [FILE|DIR ...]\n       kubenet-tui COMMAND [options]",
                description="Simulate Linux and Kubernetes networking: a dashboard (kubenet-tui [FILE|DIR ...]; no argument: the bundled "
                            "default topology) and headless queries (the commands below).",
                epilog=MAIN_EPILOG, formatter_class=fmt)
    p.add_argument("--version", action="version", version=f"kubenet-tui {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("check", help="validate files", formatter_class=fmt,
                       description="Load and validate topology files and Kubernetes manifests; every error is reported as FILE:LINE:COL.",
                       epilog="examples:\n  kubenet-tui check -f topologies/01-switch.yaml\n  kubenet-tui check -f topologies/03-docker-bridge.yaml -f my-manifests/\n  kubenet-tui check -f dump.json -o json\n")
    _files_arg(c)
    _output_arg(c)

    r = sub.add_parser("routes", help="show a routing table and look addresses up", formatter_class=fmt,
                       description="Print TARGET's main routing table as `ip route` (or `route -n`) shows it, and for each --lookup the route the kernel picks (`ip route get`).",
                       epilog="examples:\n  kubenet-tui routes -f topologies/01-switch.yaml system-a\n  kubenet-tui routes -f topologies/02-router-gateway.yaml laptop --format route\n  kubenet-tui routes -f topologies/02-router-gateway.yaml laptop --lookup 8.8.8.8 --lookup 192.168.1.1 -o json\n")
    _files_arg(r)
    r.add_argument("target", metavar="TARGET", help="a host, container or namespace (or one of its addresses)")
    r.add_argument("--lookup", action="append", default=[], metavar="IP", help="show the route the kernel picks for IP (repeatable)")
    r.add_argument("--format", choices=("ip", "route", "route-names"), default="ip",
                   help="ip: `ip route`; route: `route -n` columns; route-names: `route` without -n (default, _gateway)")
    _output_arg(r)

    t = sub.add_parser("trace", help="follow a packet hop by hop", formatter_class=fmt,
                       description="Send one packet and follow it: at each hop the route or iptables rule that decided, the packet as it leaves (rewrites marked *), and the verdict. TCP and ICMP replies walk back with NAT undone.",
                       epilog="examples:\n  kubenet-tui trace -f topologies/01-switch.yaml --from system-a --to system-b\n  kubenet-tui trace -f topologies/02-router-gateway.yaml --from laptop --to 8.8.8.8 --proto icmp\n  kubenet-tui trace -f topologies/03-docker-bridge.yaml --from container-a --to server:80 -o json\n")
    _files_arg(t)
    t.add_argument("--from", dest="src", required=True, metavar="SRC", help="a host, container or namespace, or an address one of them owns")
    t.add_argument("--to", dest="dst", required=True, metavar="DST", help="a name or an IP address, optionally with :PORT")
    t.add_argument("--port", type=int, metavar="N", help="destination port (default 80 for tcp and udp)")
    t.add_argument("--proto", choices=("tcp", "udp", "icmp"), default="tcp", type=str.lower, help="protocol (default tcp)")
    t.add_argument("--ttl", type=int, default=64, metavar="N", help="initial TTL (default 64)")
    t.add_argument("--endpoint", metavar="IP:PORT", help="the Service endpoint kube-proxy picks (default: chosen by the seed)")
    t.add_argument("--seed", type=int, default=0, metavar="K", help="seed of kube-proxy's random endpoint choice (default 0)")
    _output_arg(t)

    x = sub.add_parser("export", help="draw the network (text map, Mermaid, Graphviz dot)", formatter_class=fmt,
                       description="Draw the network the dashboard's map (m) shows: switches, the hosts on them, bridges and what hangs off them.",
                       epilog="examples:\n  kubenet-tui export -f topologies/default.yaml\n  kubenet-tui export -f topologies/03-docker-bridge.yaml --format mermaid > net.mmd\n  kubenet-tui export -f topologies/02-router-gateway.yaml --format dot | dot -Tsvg > net.svg\n")
    _files_arg(x)
    x.add_argument("--format", choices=("text", "mermaid", "dot"), default="text", help="text: the Unicode map (default); mermaid; dot")

    ip = sub.add_parser("iptables", help="a node's kube-proxy rules (iptables-save)", formatter_class=fmt,
                        description="Print the rules kube-proxy (iptables mode) writes on NODE, in iptables-save form, with chain names "
                                    "computed as upstream kube-proxy computes them. With cni: cilium there are none: Cilium's eBPF "
                                    "service list (cilium-dbg service list) is printed instead.",
                        epilog="examples:\n  kubenet-tui iptables -f cluster.yaml node-1\n  kubenet-tui iptables -f dump.json node-1 --table nat\n"
                               "  kubenet-tui iptables -f dual-stack.yaml node-1 -6     # ip6tables-save\n")
    _files_arg(ip)
    ip.add_argument("node", metavar="NODE", help="a node of the cluster")
    ip.add_argument("--table", choices=("nat", "filter", "all"), default="nat", help="which table (default nat)")
    ip.add_argument("-6", "--ipv6", action="store_true", help="the IPv6 proxier's rules, as ip6tables-save prints them (dual-stack)")

    from .k8s.ipvs import SCHEDULERS

    vs = sub.add_parser("ipvs", help="a node's IPVS virtual servers (ipvsadm -Ln)", formatter_class=fmt,
                        description="Print the virtual servers kube-proxy in IPVS mode keeps on NODE, as `ipvsadm -Ln` lists them "
                                    "(a cluster IP, each load-balancer IP and, for a NodePort, every node address, each with the "
                                    "ready endpoints as Masq real servers), then the addresses bound to the dummy device kube-ipvs0.",
                        epilog="examples:\n  kubenet-tui ipvs -f topologies/04-two-node-cluster.yaml node-1\n"
                               "  kubenet-tui ipvs -f topologies/05-nodeport.yaml node-2 -o json\n"
                               "  kubenet-tui ipvs -f cluster.yaml node-1 --scheduler lc\n")
    _files_arg(vs)
    vs.add_argument("node", metavar="NODE", help="a node of the cluster")
    vs.add_argument("--scheduler", choices=SCHEDULERS, default="rr", help="kube-proxy's ipvs.scheduler (default rr, round robin)")
    _output_arg(vs)

    rs = sub.add_parser("resolve", help="ask the cluster DNS a name (as dig, or as a pod's resolver)", formatter_class=fmt,
                        description="Ask the simulated CoreDNS (its Corefile from ConfigMap kube-system/coredns, else kubeadm's) "
                                    "each NAME, and print the reply as dig does. Without --from the name is asked as given (made "
                                    "absolute); with --from the pod's resolv.conf (its dnsPolicy, search list and ndots) decides "
                                    "the names tried, each shown with its answer, and the one kept. Names outside the cluster zones "
                                    "go to the simulated upstream (cluster.dns.upstream.records); nothing leaves the machine.",
                        epilog="examples:\n  kubenet-tui resolve -f cluster.yaml web.default.svc.cluster.local\n"
                               "  kubenet-tui resolve -f cluster.yaml _http._tcp.web.default.svc.cluster.local --type SRV\n"
                               "  kubenet-tui resolve -f cluster.yaml web --from default/client\n"
                               "  kubenet-tui resolve -f cluster.yaml -x 10.96.0.10 -o json\n")
    _files_arg(rs)
    rs.add_argument("names", nargs="*", metavar="NAME", help="names to ask (absolute or not)")
    rs.add_argument("-t", "--type", dest="qtype", default="A", type=str.upper, metavar="TYPE",
                    help="query type: A (default), AAAA, SRV, PTR, CNAME, TXT, ANY, NS, SOA, or any other type name")
    rs.add_argument("--from", dest="pod", metavar="NS/POD", help="resolve as this pod's resolver does (a bare name: namespace default)")
    rs.add_argument("-x", dest="reverse", action="append", default=[], metavar="IP", help="reverse lookup: the PTR of IP (repeatable)")
    _output_arg(rs)

    sd = sub.add_parser("serve-dns", help="a real DNS server answering from the simulated cluster DNS", formatter_class=fmt,
                        description="Serve the simulated cluster DNS over UDP and TCP on ADDRESS:PORT (loopback by default), "
                                    "so that dig, nslookup or any resolver can ask it. Names outside the cluster zones are answered "
                                    "from the simulated upstream (cluster.dns.upstream.records): it never recurses to real servers. "
                                    "Runs until interrupted (Ctrl-C) or terminated.",
                        epilog="examples:\n  kubenet-tui serve-dns -f cluster.yaml\n"
                               "  dig @127.0.0.1 -p 5353 web.default.svc.cluster.local SRV\n"
                               "  kubenet-tui serve-dns -f cluster.yaml --listen 127.0.0.1:1053\n")
    _files_arg(sd)
    sd.add_argument("--listen", default="127.0.0.1:5353", metavar="ADDRESS:PORT",
                    help="where to listen, UDP and TCP (default 127.0.0.1:5353; [::1]:5353 for IPv6)")

    h = sub.add_parser("http", help="route an HTTP request through the Ingress controller", formatter_class=fmt,
                       description="Send URL to the cluster's Ingress controller (the default IngressClass's, or --class) and show "
                                   "how it routes it as the Kubernetes Ingress specification says: the host (exact, then "
                                   "wildcard, then rules without a host), the longest matching path (Exact before Prefix at equal "
                                   "length), every rule tried and why it won or lost, the Service port and endpoint, and for https "
                                   "the certificate chosen by SNI. The URL's host is only the Host header and SNI: the request "
                                   "always goes to the controller; an IP literal carries no rule's host. Status 404: no rule and "
                                   "no defaultBackend; 503: the Service has no ready endpoints; 308: NGINX's redirect to HTTPS "
                                   "for a host with TLS.",
                       epilog="examples:\n  kubenet-tui http -f cluster.yaml http://shop.example/videos\n"
                              "  kubenet-tui http -f cluster.yaml https://shop.example/images/a.png -o json\n"
                              "  kubenet-tui http -f cluster.yaml http://192.0.2.1/ -H 'Host: shop.example'\n")
    _files_arg(h)
    h.add_argument("url", metavar="URL", help="http://HOST/PATH or https://HOST/PATH")
    h.add_argument("--from", dest="src", metavar="SRC", help="the client (a host, pod or address) for the packet trace; "
                   "default: an external client (the simulated internet host)")
    h.add_argument("-H", "--header", dest="headers", action="append", default=[], metavar="'NAME: VALUE'",
                   help="a request header (only Host changes the routing; repeatable)")
    h.add_argument("--class", dest="ingress_class", metavar="NAME", help="the IngressClass whose controller answers (default: the default class)")
    h.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default text)")
    from .netpol.command import add_parser as add_reach

    add_reach(sub, fmt, _files_arg)
    from .gen_command import add_parser as add_generate

    add_generate(sub, fmt)
    return p


def _emit(data, output: str, text: str) -> None:
    if output == "json":
        import json

        print(json.dumps(data, indent=2))
    elif output == "yaml":
        import yaml

        print(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), end="")
    else:
        print(text)


def _load(files: list[str] | None, output: str = "text"):
    from .bundled import default_topology
    from .load import LoadError, load

    paths = files or [str(default_topology())]
    try:
        loaded = load(paths)
    except LoadError as e:
        if output != "text":  # the errors as data too, for scripts that asked for -o json/yaml
            _emit({"ok": False, "errors": [p.to_dict() for p in e.problems]}, output, "")
        for problem in e.problems:
            print(problem, file=sys.stderr)
        n = len(e.problems)
        print(f"{n} error{'s' if n != 1 else ''}", file=sys.stderr)
        raise SystemExit(1) from None
    for w in loaded.warnings:
        print(w, file=sys.stderr)
    return loaded


def _network(loaded, seed: int = 0):
    """The loaded topology's network: the one the loader's checks compiled (nodes still compiled as asked)."""
    from .sim.network import compile_topology

    net = loaded.network
    if net is None or net.described is not loaded.topology:
        return compile_topology(loaded.topology, seed=seed)
    net.seed = seed
    return net


def cmd_check(args) -> int:
    loaded = _load(args.files, args.output)
    t = loaded.topology
    counts = {
        "networks": len(t.networks),
        "hosts": len(t.hosts),
        "namespaces": sum(len(h.namespaces) for h in t.hosts),
        "containers": sum(len(h.containers) for h in t.hosts),
        "objects": len(t.objects),
    }
    data = {"ok": True, "topology": t.name, "files": list(t.files), **counts, "warnings": [w.to_dict() for w in loaded.warnings]}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    _emit(data, args.output, f"ok: topology {t.name} ({summary or 'empty'}) from {len(t.files)} file{'s' if len(t.files) != 1 else ''}")
    return 0


def cmd_routes(args) -> int:
    from .sim.query import routes

    net = _network(_load(args.files))
    res = routes(net, args.target, args.lookup, args.format)
    lines = list(res["lines"])
    for lk in res["lookups"]:
        lines += ["", f"$ ip route get {lk['ip']}", lk["line"]]
        if lk["matched"]:
            lines.append(f"  (matched: {lk['matched']})")
    data = {k: v for k, v in res.items() if k != "lines"}
    for lk in data["lookups"]:
        lk.pop("line", None)
    _emit(data, args.output, "\n".join(lines))
    return 0


def cmd_trace(args) -> int:
    from .report import trace_text
    from .sim.query import trace

    net = _network(_load(args.files), args.seed)
    if args.port is not None and not 1 <= args.port <= 65535:
        raise _Usage(f"--port {args.port} is out of range 1-65535")
    if not 1 <= args.ttl <= 255:
        raise _Usage(f"--ttl {args.ttl} is out of range 1-255")
    t = trace(net, args.src, args.dst, args.proto, args.port, args.ttl, args.endpoint)
    title = f"trace {args.proto} from {args.src} to {args.dst}: {t.packet.summary()}"
    _emit(t.to_dict(), args.output, trace_text(t, title))
    return 0


def cmd_export(args) -> int:
    from .sim import mapview

    net = _network(_load(args.files))
    draw = {"text": mapview.map_text, "mermaid": mapview.mermaid, "dot": mapview.dot}[args.format]
    print(draw(net), end="")
    return 0


def _cluster_with_node(topo, node: str):
    """The topology's cluster, when ``node`` is one of its nodes (else a clear error)."""
    from .k8s.cluster import build_cluster
    from .sim.query import QueryError, _suggest

    cluster = build_cluster(topo)
    if node not in cluster.nodes:
        if not cluster.nodes:
            raise QueryError("the topology has no Kubernetes nodes (v1 Node objects, or hosts with role: node)")
        raise QueryError(f'no node "{node}"{_suggest(node, cluster.nodes)}')
    return cluster


def cmd_iptables(args) -> int:
    from .k8s.kubeproxy import iptables_save
    from .sim.query import QueryError

    cluster = _cluster_with_node(_load(args.files).topology, args.node)
    if cluster.topology.cluster.cni == "cilium":
        from .k8s.cilium import service_list

        print(f"# {args.node}: no kube-proxy rules. Cilium replaces kube-proxy: its eBPF programs translate these Services\n"
              f"# (the socket LB at connect(), bpf_host for NodePorts). What `cilium-dbg service list` prints:")
        print(service_list(cluster, args.node), end="")
        return 0
    tables = ("filter", "nat") if args.table == "all" else (args.table,)
    mode = cluster.topology.cluster.kube_proxy_mode
    if mode != "iptables":
        print(f"# kubeProxy.mode is {mode}: these are the rules iptables mode writes, which the trace follows;"
              + (f" `kubenet-tui ipvs -f ... {args.node}` shows the IPVS table" if mode == "ipvs" else ""))
    family = 6 if args.ipv6 else 4
    if family not in {c.version for c in cluster.topology.cluster.service_cidrs}:
        raise QueryError(f"the cluster has no IPv{family} service CIDR (serviceCIDR: {cluster.topology.cluster.service_cidr}): "
                         "no ip6tables rules" if family == 6 else "no IPv4 service CIDR")
    print(iptables_save(cluster, args.node, tables, family), end="")
    return 0


def cmd_ipvs(args) -> int:
    from .k8s.ipvs import dummy_interface, ipvs_view, ipvsadm_ln, to_dict

    cluster = _cluster_with_node(_load(args.files, args.output).topology, args.node)
    view = ipvs_view(cluster, args.node, args.scheduler)
    text = ipvsadm_ln(view) + f"\n$ ip -br addr show kube-ipvs0\n{dummy_interface(view)}"
    _emit(to_dict(view), args.output, text.rstrip("\n"))
    return 0


def _zone(loaded):
    """The simulated CoreDNS of a loaded topology; a Corefile CoreDNS would refuse is a located error (exit 1)."""
    from .dns.sources import is_cluster
    from .dns.zone import DnsConfigError, build
    from .sim.query import QueryError

    if not is_cluster(loaded.topology):
        raise QueryError("the topology has no Kubernetes cluster (a cluster: section, Kubernetes objects or hosts with role: node), "
                         "so no cluster DNS")
    try:
        net = loaded.network  # the cluster the loader's checks built, and its DNS (the same objects, CoreDNS's added)
        if net is not None and net.described is loaded.topology and net.cluster is not None:
            return net.dns_zone()
        return build(loaded.topology)
    except DnsConfigError as e:
        print(e, file=sys.stderr)
        print("1 error", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_resolve(args) -> int:
    from .dns.dig import resolution_dict, resolution_text
    from .dns.records import reverse_name
    from .dns.resolver import ResolverError, resolve
    from .sim.query import QueryError

    qtype = _qtype(args.qtype)
    asks = [(n, qtype) for n in args.names]
    for ip in args.reverse:
        try:
            asks.append((reverse_name(ip), "PTR"))
        except ValueError:
            raise QueryError(f"-x {ip}: not an IP address") from None
    if not asks:
        raise _Usage("give at least one NAME (or -x IP)")
    for n, _ in asks:
        if (why := _name_problem(n)):
            raise QueryError(f'"{n}" is not a domain name: {why}')
    zone = _zone(_load(args.files, args.output))
    out = []
    for n, t in asks:
        try:
            out.append(resolve(zone, zone.cluster, args.pod, n, t))
        except ResolverError as e:
            raise QueryError(str(e)) from None
    _emit([resolution_dict(r) for r in out], args.output, "\n\n".join(resolution_text(r) for r in out))
    return 0


def _qtype(text: str) -> str:
    """A query type by name (A, SRV, ...), as dnspython knows them; TYPE123 too."""
    import dns.rdatatype

    from .sim.query import QueryError

    try:
        return dns.rdatatype.to_text(dns.rdatatype.from_text(text))
    except Exception:
        raise QueryError(f'--type {text}: not a DNS query type (A, AAAA, SRV, PTR, CNAME, TXT, ANY, NS, SOA, ...)') from None


def _name_problem(name: str) -> str:
    if not name or name in (".",):
        return "empty" if not name else ""
    labels = name.rstrip(".").split(".")
    if any(not label for label in labels):
        return "an empty label (two dots in a row)"
    if any(len(label) > 63 for label in labels):
        return "a label longer than 63 characters"
    if len(name.rstrip(".")) > 253:
        return "longer than 253 characters"
    return ""


def cmd_serve_dns(args) -> int:
    from .dns.server import DnsServer, parse_listen
    from .sim.query import QueryError

    try:
        host, port = parse_listen(args.listen)
    except ValueError as e:
        raise _Usage(f"--listen {args.listen}: {e}") from None
    loaded = _load(args.files)
    try:
        server = DnsServer(None, host, port)
    except OSError as e:
        raise QueryError(f"cannot listen on {args.listen}: {e.strerror or e}") from None
    try:
        zone = _zone(loaded)
        server.zone = zone
        return server.run_forever(f"serving the DNS of topology {loaded.topology.name} ({zone.corefile.source}) on udp and tcp "
                                  f"{args.listen}; ask it with: dig @{host} -p {server.port} kubernetes.default.svc.{zone.domain}")
    finally:
        server.close()


def cmd_http(args) -> int:
    from .ingress.request import RequestError, parse_headers, send
    from .sim.query import QueryError

    try:
        host = parse_headers(args.headers)
    except RequestError as e:
        raise QueryError(str(e)) from None
    loaded = _load(args.files)
    try:
        ex = send(loaded.topology, args.url, host, args.src, args.ingress_class)
    except RequestError as e:
        raise QueryError(str(e)) from None
    out = ex.decision.to_dict()
    out["client"] = ex.client
    _emit(out, args.output, _http_text(ex.decision, ex.client))
    return 0


def _http_text(d, client: str | None = None) -> str:
    r = d.request
    lines = [f"{r.scheme.upper()} GET {r.path}  Host: {r.host or '(none)'}  from {client or 'an external client'} via the "
             f"{d.controller.describe()} controller", ""]
    if d.tls is not None:
        lines.append(f"TLS: SNI {d.tls['sni'] or '(none)'}: {d.tls['certificate']}")
    lines.append("rules tried:")
    other_hosts = [t for t in d.tried if t["result"] == "lost" and " does not match " in t["why"] and t["why"].startswith("host ")]
    folded = len(other_hosts) > 3  # many rules for other hosts: one line (-o json lists each)
    if folded:
        hosts = sorted({t["host"] for t in other_hosts})
        lines.append(f"    {len(other_hosts)} rules for {len(hosts)} other host{'s' if len(hosts) != 1 else ''} "
                     f"({', '.join(hosts[:3])}{', ...' if len(hosts) > 3 else ''}): lost, the host does not match")
    for t in d.tried:
        if folded and t in other_hosts:
            continue
        mark = {"won": "*", "lost": " "}.get(t["result"], " ")
        where = f"{t['host'] or '(any host)'}{t['path']} {t['pathType']}" if t["path"] is not None else "defaultBackend"
        lines.append(f"  {mark} {t['ingress']}: {where} -> {t['backend']}: {t['result']}: {t['why']}")
    if not d.tried:
        lines.append("    (none: the controller serves no rule)")
    for ing, why in d.controller.ignored:
        lines.append(f"    ignored Ingress {ing.namespace}/{ing.name}: {why}")
    lines.append("")
    leg = None
    for t in d.trace:
        if t["leg"] != leg:
            leg = t["leg"]
            lines.append(f"{leg}:")
        if "hop" in t:
            lines.append(f"  {t['hop']:>2}  {t['node']} [{t['kind']}]  {t['decision']}  {t['packet']}")
            for rw in t.get("rewrites") or ():
                lines.append(f"        {rw}")
        else:
            lines.append(f"  {t['verdict'].upper()}{': ' + t['reason'] if t['reason'] else ''}")
    if d.trace:
        lines.append("")
    b = f" -> {d.backend['namespace']}/{d.backend['service']}:{d.backend['port']}" if d.backend else ""
    lines.append(f"{d.status}{b}{' endpoint ' + d.endpoint if d.endpoint else ''}: {d.reason}")
    if d.location:
        lines.append(f"Location: {d.location}")
    if d.upstream_path is not None and d.upstream_path != r.path:
        lines.append(f"upstream path (rewrite-target): {d.upstream_path}")
    return "\n".join(lines)


def _cmd_reach(args) -> int:
    from .netpol.command import cmd_reach
    from .sim.query import QueryError

    return cmd_reach(args, _load, _emit, QueryError)


def _cmd_generate(args) -> int:
    from .gen_command import cmd_generate

    return cmd_generate(args)


class _Usage(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        # The dashboard: every argument is a file or directory.
        bad = [a for a in argv if a.startswith("-") and a != "-"]
        if bad:
            build_parser().error(f"unknown option {bad[0]} (files and directories only when opening the dashboard)")
        from .app.launch import launch

        return launch(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    from .sim.query import QueryError

    try:
        commands = {"check": cmd_check, "routes": cmd_routes, "trace": cmd_trace, "export": cmd_export, "iptables": cmd_iptables,
                    "ipvs": cmd_ipvs, "resolve": cmd_resolve, "serve-dns": cmd_serve_dns, "http": cmd_http,
                    "reach": _cmd_reach, "generate": _cmd_generate}
        return commands[args.command](args)
    except QueryError as e:
        print(f"kubenet-tui {args.command}: error: {e}", file=sys.stderr)
        return 1
    except _Usage as e:
        parser.exit(2, f"kubenet-tui {args.command}: error: {e}\n")
    except BrokenPipeError:  # e.g. piped into head
        return 0


def run() -> None:
    """The console script."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
