"""The ``kubenet-tui`` argument parser: every subcommand's options, help and examples.

:func:`build_parser` is what :mod:`tui.cli` parses a command line with; a usage error exits 2 without a
traceback. The ``reach`` and ``generate`` subparsers come from :mod:`tui.netpol.command` and
:mod:`tui.gen_command`.
"""

from __future__ import annotations

import sys

from . import __version__

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
  lab      build the topology in real network namespaces (root): up, down, status, exec, verify
  learn    guided lessons, in order; learn N opens one in the dashboard
  challenge  broken topologies with goals; check grades any topology against a goal file
  serve    the dashboard as a web page, for a browser (loopback by default)

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
    from .lab.command import add_parser as add_lab

    add_lab(sub, fmt, _files_arg)
    from .learn.command import add_parsers as add_learn

    add_learn(sub, fmt, _files_arg)
    from .serve_command import add_parser as add_serve

    add_serve(sub, fmt)
    return p
