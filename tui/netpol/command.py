"""``kubenet-tui reach``: which pods may connect to which, as the cluster's NetworkPolicies decide.

cli_parser.py and cli.py wire it in with ``add_parser(sub, fmt, _files_arg)`` and ``cmd_reach(args, _load, _emit, QueryError)``.
"""

from __future__ import annotations

DESCRIPTION = (
    "Decide, as Kubernetes NetworkPolicy (networking.k8s.io/v1) defines it, whether a connection on PORT/PROTO "
    "is allowed. A pod no policy selects for a direction is open in that direction; once selected, only what the "
    "union of the rules of the policies selecting it allows; a connection needs the source's egress and the "
    "destination's ingress, and its replies follow it. Without --from and --to: every pod pair as a truth table "
    "(rows sources, columns destinations, '.' allowed, 'X' denied); with either or both: those pairs, each with the "
    "policy and rule that allowed or isolated each direction. Simulated choices: a pod always reaches itself; "
    "traffic between a pod and its own node (or a hostNetwork pod there) is always allowed; hostNetwork pods are "
    "node traffic, never selected; ipBlock matches pod addresses too."
)

EPILOG = """\
examples:
  kubenet-tui reach -f topologies/09-network-policy.yaml --port 80
  kubenet-tui reach -f topologies/09-network-policy.yaml --from default/client --to shop/frontend --port 80
  kubenet-tui reach -f topologies/09-network-policy.yaml --from shop/frontend --port 8080
  kubenet-tui reach -f topologies/09-network-policy.yaml --from shop/backend --port 53 --proto UDP
  kubenet-tui reach -f cluster.yaml --from 203.0.113.10 --to web --port 443 -o json
"""


def add_parser(sub, fmt, files_arg):
    """The ``reach`` subparser (``fmt``: the formatter class; ``files_arg``: cli.py's -f adder)."""
    r = sub.add_parser("reach", help="which pods may connect, as NetworkPolicies decide", formatter_class=fmt,
                       description=DESCRIPTION, epilog=EPILOG)
    files_arg(r)
    r.add_argument("--from", dest="src", metavar="NS/POD", help="the client: a pod (a bare name: namespace default) or an IP address; "
                   "default: every pod")
    r.add_argument("--to", dest="dst", metavar="NS/POD", help="the server: a pod (a bare name: namespace default) or an IP address; "
                   "default: every pod")
    r.add_argument("--port", required=True, metavar="N", help="the destination port (1-65535)")
    r.add_argument("--proto", default="TCP", metavar="TCP|UDP|SCTP", help="the protocol (default TCP)")
    r.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default text)")
    return r


def _port(text) -> int:
    from .evaluate import NetpolError

    try:
        port = int(str(text).strip())
    except ValueError:
        raise NetpolError(f"--port {text}: a port is a number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise NetpolError(f"--port {text}: out of range 1-65535")
    return port


def cmd_reach(args, load, emit, QueryError) -> int:
    """Answer ``reach``: ``load`` is cli.py's _load, ``emit`` its _emit, ``QueryError`` the error cli.py prints."""
    from ..k8s.cluster import build_cluster
    from .evaluate import NetpolError, NetpolIndex, check_protocol, matrix
    from .policy import PolicyError

    try:
        port = _port(args.port)
    except NetpolError as e:
        raise QueryError(str(e)) from None
    try:
        proto = check_protocol(args.proto)
    except NetpolError:
        raise QueryError(f"--proto {args.proto}: NetworkPolicy knows TCP, UDP and SCTP") from None
    loaded = load(args.files, args.output)
    try:
        net = loaded.network  # (the cluster the loader's checks built)
        cluster = net.cluster if net is not None and net.described is loaded.topology and net.cluster is not None else build_cluster(loaded.topology)
        ix = NetpolIndex(cluster)
    except PolicyError as e:
        raise QueryError(f"a NetworkPolicy the API server would refuse: {e}") from None
    if not ix.pods:
        raise QueryError("the topology has no pods (v1 Pod objects, or workloads that make them)")
    try:
        srcs = [ix.end(args.src)] if args.src else None
        dsts = [ix.end(args.dst)] if args.dst else None
        table = matrix(ix, port, proto, srcs, dsts)
    except NetpolError as e:
        raise QueryError(str(e)) from None
    verdicts = list(table.values())
    data = [v.to_dict() for v in verdicts]
    if args.src or args.dst:
        text = pairs_text(verdicts, port, proto)
    else:
        text = table_text(verdicts, list(ix.pods), port, proto, len(ix.policies))
    emit(data, args.output, text)
    return 0


def table_text(verdicts, pods: list[str], port: int, proto: str, n_policies: int) -> str:
    """The truth table: rows sources, columns destinations; '.' allowed, 'X' denied."""
    cell = {(v.src, v.dst): v.allowed for v in verdicts}
    corner = "from \\ to"
    left = max(len(corner), *(len(p) for p in pods))
    lines = [f"reach {proto}/{port}: {len(pods)} pods, {n_policies} NetworkPolic{'y' if n_policies == 1 else 'ies'}; "
             "rows are sources, columns destinations: . allowed, X denied", ""]
    lines.append(f"{corner:<{left}}  " + "  ".join(pods))
    for s in pods:
        row = "  ".join(f"{('.' if cell[(s, d)] else 'X'):^{len(d)}}" for d in pods)
        lines.append(f"{s:<{left}}  {row}".rstrip())
    denied = sum(1 for v in verdicts if not v.allowed)
    lines += ["", f"{len(verdicts) - denied} of {len(verdicts)} pairs allowed, {denied} denied "
              "(a pod always reaches itself; replies of an allowed connection are allowed); --from/--to explain a pair"]
    return "\n".join(lines)


def pairs_text(verdicts, port: int, proto: str) -> str:
    """Each pair with each direction's summary; a single pair also with every policy and rule that decided."""
    out = []
    for v in verdicts:
        out.append(f"{v.src} -> {v.dst} {proto}/{port}: {'ALLOWED' if v.allowed else 'DENIED'}")
        for ok, summary, items in ((v.egress_allowed, v.egress_summary, v.egress), (v.ingress_allowed, v.ingress_summary, v.ingress)):
            out.append(f"  {'ok  ' if ok else 'DENY'} {summary}")
            for it in items if len(verdicts) == 1 else ():
                who = it["policy"] + (f" rule {it['rule']}" if it["rule"] is not None else "") if it["policy"] else "-"
                out.append(f"         {it['effect']:<8} {who}: {it['why']}")
    if len(verdicts) > 1:
        n = sum(1 for v in verdicts if v.allowed)
        out.append(f"{n} of {len(verdicts)} pairs allowed (give both --from and --to for every policy and rule that decided)")
    out.append("(replies of an allowed connection are allowed: policies apply to connections)")
    return "\n".join(out)
