"""The ``kubenet-tui`` command line, kubectl-style.

``kubenet-tui [FILE|DIR ...]`` opens the dashboard; the subcommands answer
headless and never import textual. Exit codes: 0 answered, 1 bad input (a
located error, an unknown name), 2 a usage error.

The argument parser (every subcommand's options and help) is in :mod:`tui.cli_parser`.
"""

from __future__ import annotations

import sys

from .cli_parser import _files_arg, build_parser  # noqa: F401 (_files_arg: tests wire `reach` with cli._files_arg)

COMMANDS = ("check", "routes", "trace", "export", "iptables", "ipvs", "resolve", "serve-dns", "http", "reach", "generate", "lab", "learn", "challenge",
            "serve")


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
        import errno

        hint = {errno.EACCES: f": a port below 1024 needs root; give an unprivileged one, e.g. --listen {host}:5353",
                errno.EADDRINUSE: f": another program listens there; give another port, or --listen {host}:0 for a free one",
                errno.EADDRNOTAVAIL: ": no interface of this machine has that address; give one it has, e.g. --listen 127.0.0.1:5353",
                }.get(e.errno, "")
        raise QueryError(f"cannot listen on {args.listen}: {e.strerror or e}{hint}") from None
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


def _cmd_lab(args) -> int:
    from .lab.command import cmd_lab

    return cmd_lab(args, _load, _emit)


def _cmd_learn(args) -> int:
    from .learn.command import cmd_learn

    return cmd_learn(args, _load, _emit)


def _cmd_challenge(args) -> int:
    from .learn.command import cmd_challenge

    return cmd_challenge(args, _load, _emit)


def _cmd_serve(args) -> int:
    from .serve_command import cmd_serve

    return cmd_serve(args)


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
                    "reach": _cmd_reach, "generate": _cmd_generate, "lab": _cmd_lab,
                    "learn": _cmd_learn, "challenge": _cmd_challenge, "serve": _cmd_serve}
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
