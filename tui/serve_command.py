"""``kubenet-tui serve``: the dashboard as a web page (textual-serve), for a browser.

Each browser tab that opens the page gets its own dashboard process over the same files, drawn in the page
by xterm.js. The server listens on loopback unless told otherwise: whoever reaches it drives a dashboard
that can read and write the files it was given.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import sys

EPILOG = """\
examples:
  kubenet-tui serve                                   # the default topology, at http://127.0.0.1:8000
  kubenet-tui serve -f topologies/04-cni-flannel.yaml --port 8080
  kubenet-tui serve --host 0.0.0.0 --port 8000        # a classroom: anyone on the network can open it
"""


def add_parser(sub, fmt) -> None:
    s = sub.add_parser("serve", help="the dashboard as a web page, for a browser", formatter_class=fmt, epilog=EPILOG,
                       description="Serve the dashboard as a web page (textual-serve): open the address it prints in a "
                                   "browser. Each tab runs its own dashboard over the files given.")
    s.add_argument("-f", "--filename", dest="files", action="append", metavar="FILE|DIR",
                   help="topology file or directory (repeatable); without -f, the bundled default topology")
    s.add_argument("--port", type=int, default=8000, help="the port to listen on (default 8000)")
    s.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1, this machine only)")


def command_line(files: list[str]) -> str:
    """What each browser tab runs: this Python's dashboard over the files (absolute: the server may move)."""
    return shlex.join([sys.executable, "-m", "tui", *[os.path.abspath(f) for f in files]])


def _free(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (None: it can)."""
    import errno

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except socket.gaierror as e:
        return f"cannot listen on {host}:{port}: {e.strerror or e}: give an address, e.g. --host 127.0.0.1"
    except OSError as e:
        hint = {errno.EACCES: ": a port below 1024 needs root; give another, e.g. --port 8000",
                errno.EADDRINUSE: ": another program listens there; give another port, e.g. --port 8001",
                errno.EADDRNOTAVAIL: ": no interface of this machine has that address; give one it has, e.g. --host 127.0.0.1",
                }.get(e.errno, "")
        return f"cannot listen on {host}:{port}: {e.strerror or e}{hint}"
    finally:
        s.close()
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from .bundled import default_topology
    from .cli import _load

    if not 0 < args.port < 65536:
        print(f"kubenet-tui serve: error: --port {args.port}: a port is 1 to 65535", file=sys.stderr)
        return 2
    files = args.files or [str(default_topology())]
    _load(files)  # (a file that does not load is said here, located, rather than in every browser tab)
    why = _free(args.host, args.port)
    if why:
        print(f"kubenet-tui serve: error: {why}", file=sys.stderr)
        return 1
    try:
        from textual_serve.server import Server
    except ImportError:
        print("kubenet-tui serve: error: serving needs the textual-serve package: pip install textual-serve", file=sys.stderr)
        return 2
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback:
        print(f"serve: note: {args.host} is not a loopback address: anyone who reaches it can open the dashboard, "
              "which can change the files it was given", file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"serving the dashboard at http://{shown}:{args.port} (ctrl+c stops)", file=sys.stderr, flush=True)
    Server(command_line(files), host=args.host, port=args.port, title="kubenet-tui").serve()
    return 0
