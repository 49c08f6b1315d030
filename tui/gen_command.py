"""``kubenet-tui generate``: a realistic cluster made up for demos and benchmarks, written to stdout.

cli_parser.py and cli.py wire it in with ``add_parser(sub, fmt)`` and ``cmd_generate(args)``; the work is in
:mod:`tui.k8s.generate`, imported only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys

SHAPES = ("dump", "deployments")  # tui.k8s.generate.SHAPES, repeated here to keep `--help` import-light
FORMATS = ("json", "yaml")

DESCRIPTION = (
    "Make up a realistic cluster and write it to stdout: N nodes, N*M pods in all (each node runs M of them, "
    "CoreDNS's two included), S application Services (mostly ClusterIP, some headless, NodePort and LoadBalancer, "
    "each selecting the pods of one Deployment by named target ports) plus kube-system/kube-dns, in a handful of "
    "namespaces. "
    "--as dump (the default) writes what `kubectl get -A -o json` prints: a List of Namespaces, Nodes (each with "
    "its spec.podCIDR, a /24 of 10.244.0.0/16, or of a wider range such as 10.128.0.0/11 for thousands of "
    "nodes, and an InternalIP in 172.18.0.0/16), Services (cluster IPs in 10.96.0.0/12, NodePorts, "
    "load-balancer addresses) and running, ready Pods owned by ReplicaSets, scheduled and addressed. "
    "--as deployments writes the same cluster as manifests (Namespaces, Nodes, Services, Deployments), leaving "
    "scheduling and pod addresses to the simulator, which gives the very same pods, nodes and addresses. "
    "The same parameters and --seed always give the same bytes (no clock, no system randomness). "
    "Output is streamed: 5,000 nodes x 30 pods and 10,000 Services take a few seconds."
)

EPILOG = """\
examples:
  kubenet-tui generate > cluster.json                   # 3 nodes x 10 pods, 8 Services, as a dump
  kubenet-tui generate --nodes 5 --pods-per-node 4 --services 12 --seed 7 -o yaml > dump.yaml
  kubenet-tui generate --nodes 20 --pods-per-node 15 --services 60 --as deployments > apps.yaml
  kubenet-tui generate --nodes 5000 --pods-per-node 30 --services 10000 > big.json   # a benchmark
  kubenet-tui generate --nodes 4 --services 10 > c.json && kubenet-tui check -f c.json
"""


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n} is negative")
    return n


def _positive(text: str) -> int:
    n = _count(text)
    if n < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return n


def add_parser(sub, fmt):
    """The ``generate`` subparser (``fmt``: the formatter class)."""
    g = sub.add_parser("generate", help="make up a realistic cluster (a dump or Deployments) for demos and benchmarks",
                       formatter_class=fmt, description=DESCRIPTION, epilog=EPILOG)
    g.add_argument("--nodes", type=_positive, default=3, metavar="N", help="number of nodes (default 3)")
    g.add_argument("--pods-per-node", type=_count, default=10, metavar="M",
                   help="pods on each node, N*M in all, CoreDNS's included (default 10)")
    g.add_argument("--services", type=_count, default=8, metavar="S",
                   help="application Services, kube-system/kube-dns not counted (default 8)")
    g.add_argument("--seed", type=int, default=0, metavar="K", help="seed of every random choice: names, sizes, addresses (default 0)")
    g.add_argument("--as", dest="shape", choices=SHAPES, default="dump",
                   help="dump: a `kubectl get -A` List with scheduled, addressed Pods (default); "
                        "deployments: Namespaces, Nodes, Services and Deployments, the pods left to the simulator")
    g.add_argument("-o", "--output", choices=FORMATS, default=None,
                   help="json or yaml (default: json for --as dump, as `kubectl get -o json`; yaml for --as deployments, "
                        "one document per object)")
    return g


def cmd_generate(args) -> int:
    """Write the cluster to stdout; 2 (a usage error) for parameters no cluster satisfies."""
    from .k8s.generate import GenerateError, Params, plan, write

    try:
        p = plan(Params(args.nodes, args.pods_per_node, args.services, args.seed))
    except GenerateError as e:
        print(f"kubenet-tui generate: error: {e}", file=sys.stderr)
        return 2
    try:
        write(p, sys.stdout, args.shape, args.output)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into head: stop quietly, and keep the exit flush from complaining
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
    return 0
