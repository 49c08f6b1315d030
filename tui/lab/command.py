"""``kubenet-tui lab up|down|status|exec|verify``: the topology built from real kernel objects on this machine.

cli_parser.py and cli.py wire it in with ``add_parser(sub, fmt, files_arg)`` and ``cmd_lab(args, load, emit)``.
Exit codes: 0 done (verify: every probe agreed), 1 a refusal or a disagreement, 2 this machine cannot run a
lab (not root, no namespaces, a missing tool) or a usage error.
"""

from __future__ import annotations

import json
import os
import sys

DESCRIPTION = (
    "Build the topology for real in Linux network namespaces (root only) and compare it with the simulator. "
    "`lab up` makes a namespace per host, node, pod and container, with the simulator's veth pairs, bridges "
    "(cni0, docker0, one per L2 network), VXLAN devices, addresses, routes and iptables rules (kube-proxy's "
    "included), the simulated CoreDNS in the CoreDNS pods and a small TCP/UDP listener on every pod port. "
    "Nothing touches this machine's own interfaces or routes; every namespace carries the lab's prefix and is "
    "recorded, so `lab down` removes everything, even after a crash. `lab verify` probes each prediction of "
    "the simulator (ping, a TCP or UDP exchange with a listener, a DNS query) and prints a table; exit 1 on "
    "any disagreement."
)

EPILOG = """\
examples:
  sudo kubenet-tui lab up -f topologies/04-cni-flannel.yaml
  sudo kubenet-tui lab status
  sudo kubenet-tui lab exec node-1 -- ip route
  sudo kubenet-tui lab exec default/client -- ping -c 1 10.244.2.2
  sudo kubenet-tui lab verify                       # the lab that is up (or -f FILE: up, verify, down)
  sudo kubenet-tui lab down
"""


def add_parser(sub, fmt, files_arg) -> None:
    lab = sub.add_parser("lab", help="build the topology in real network namespaces and verify the simulator (root)",
                         description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
    verbs = lab.add_subparsers(dest="lab_command", metavar="up|down|status|exec|verify", required=True)
    up = verbs.add_parser("up", help="build the lab", formatter_class=fmt)
    files_arg(up)
    verbs.add_parser("down", help="remove the lab and everything it made", formatter_class=fmt)
    st = verbs.add_parser("status", help="what is up", formatter_class=fmt)
    st.add_argument("-o", "--output", choices=("text", "json", "yaml"), default="text", help="output format (default text)")
    ex = verbs.add_parser("exec", help="run a command inside one namespace of the lab", formatter_class=fmt,
                          epilog="example: kubenet-tui lab exec node-1 -- ip route")
    ex.add_argument("target", metavar="NAME", help="a host, node, container or pod (NAMESPACE/POD, or POD in default)")
    ex.add_argument("cmd", nargs=argparse_remainder(), metavar="-- CMD", help="the command and its arguments")
    ve = verbs.add_parser("verify", help="probe every prediction in the lab; exit 1 on a disagreement", formatter_class=fmt)
    files_arg(ve)
    ve.add_argument("--max-probes", type=int, default=800, metavar="N", help="at most N probes (default 800)")
    ve.add_argument("--timeout", type=float, default=1.0, metavar="SECONDS", help="how long a probe waits for an answer (default 1)")
    ve.add_argument("-o", "--output", choices=("text", "json", "yaml"), default="text", help="output format (default text)")


def argparse_remainder():
    import argparse

    return argparse.REMAINDER


class LabUsage(Exception):
    pass


def cmd_lab(args, load, emit) -> int:
    from .kernel import LabFailed, LabUnavailable
    from .plan import LabError

    try:
        return {"up": _up, "down": _down, "status": _status, "exec": _exec, "verify": _verify}[args.lab_command](args, load, emit)
    except LabUnavailable as e:
        print(f"kubenet-tui lab: {e}", file=sys.stderr)
        return 2
    except (LabFailed, LabError) as e:
        print(f"kubenet-tui lab {args.lab_command}: error: {e}", file=sys.stderr)
        return 1


def _files(args) -> list[str]:
    from ..bundled import default_topology

    return [os.path.abspath(f) for f in (args.files or [str(default_topology())])]


def _alive_record():
    """The record of the lab that is up (its namespaces exist), or None."""
    from . import netns
    from .kernel import read_record

    rec = read_record()
    if rec is None:
        return None
    if not any(netns.exists(n) for n in rec.get("namespaces", ())):
        return None
    return rec


def bring_up(files: list[str], loaded, out=sys.stdout) -> dict:
    """Build the lab of ``loaded`` (loaded from ``files``); its record."""
    from .kernel import LabFailed, build, features, prefix, record_path, require, start_server, teardown, write_record
    from .plan import build_plan

    require()
    rec = _alive_record()
    if rec is not None:
        raise LabFailed(f"a lab is up already ({', '.join(rec.get('files', []))}): run kubenet-tui lab down first")
    pfx = prefix()
    teardown(None, pfx)  # (what a crashed lab left behind)
    feats = features(pfx)
    net = loaded.network
    if net is None or net.described is not loaded.topology:
        from ..sim.network import compile_topology

        net = compile_topology(loaded.topology)
    plan = build_plan(net, pfx, feats)
    require(plan, feats)
    rec = {"prefix": pfx, "files": files, "topology": loaded.topology.name, "sim": plan.sim, "names": plan.names,
           "notes": plan.notes, "namespaces": [], "listeners": len(plan.listeners), "dns": [d["sim"] for d in plan.dns],
           "counts": {k: plan.count(k) for k in ("veth", "bridge", "vxlan", "ipip", "route", "iptables", "fdb", "neigh")}}
    try:
        build(plan, rec)
        plan_file = record_path().with_name("lab-plan.json")
        plan_file.write_text(json.dumps(plan.to_dict()))
        rec["server_pid"] = start_server(plan_file, files)
        write_record(rec)
    except BaseException:
        teardown(rec, pfx)
        raise
    return rec


def summary(rec: dict) -> str:
    c = rec["counts"]
    n = len(rec["namespaces"])
    parts = [f"{n} namespaces", f"{c['veth']} veth pairs", f"{c['bridge']} bridges"]
    if c.get("vxlan"):
        parts.append(f"{c['vxlan']} VXLAN devices")
    if c.get("ipip"):
        parts.append(f"{c['ipip']} IPIP devices")
    parts += [f"{c['route']} routes", f"iptables in {c['iptables']} namespaces", f"listeners in {rec['listeners']} namespaces"]
    if rec.get("dns"):
        parts.append(f"DNS in {len(rec['dns'])} CoreDNS pods")
    return ", ".join(parts)


def _up(args, load, emit) -> int:
    from .kernel import require

    require()
    files = _files(args)
    loaded = load(files)
    rec = bring_up(files, loaded)
    print(f"lab up: {rec['topology']}: {summary(rec)} (prefix {rec['prefix']})")
    for note in rec["notes"]:
        print(f"note: {note}")
    first = next((s for s in rec["sim"] if "/" in s), next(iter(rec["sim"]), None))
    if first:
        print(f"try: kubenet-tui lab exec {first} -- ip route; kubenet-tui lab verify; kubenet-tui lab down")
    return 0


def _down(args, load, emit) -> int:
    from .kernel import read_record, require, teardown

    require()
    rec = read_record()
    gone = teardown(rec)
    if not gone["namespaces"] and rec is None:
        print("lab down: no lab was up")
    else:
        print(f"lab down: removed {len(gone['namespaces'])} namespaces and stopped {len(gone['processes'])} processes")
    return 0


def status_data() -> dict:
    """What is up: {"up": bool, ...} (no root needed to read it)."""
    from . import netns
    from .kernel import read_record, server_alive

    rec = read_record()
    if rec is None:
        return {"up": False}
    names = rec.get("namespaces", [])
    present = [n for n in names if netns.exists(n)]
    return {"up": bool(present), "topology": rec.get("topology"), "files": rec.get("files", []), "prefix": rec.get("prefix"),
            "namespaces": {n: {"is": rec.get("names", {}).get(n, ""), "present": n in present} for n in names},
            "missing": [n for n in names if n not in present], "server": server_alive(rec), "dns": rec.get("dns", []),
            "notes": rec.get("notes", []), "counts": rec.get("counts", {}), "listeners": rec.get("listeners", 0)}


def _status(args, load, emit) -> int:
    data = status_data()
    if not data["up"]:
        emit(data, args.output, "no lab is up (kubenet-tui lab up -f FILE builds one)")
        return 0
    lines = [f"lab: {data['topology']} ({', '.join(data['files'])})", f"prefix: {data['prefix']}",
             f"servers: {'running' if data['server'] else 'NOT RUNNING (kubenet-tui lab down, then up again)'}"]
    if data["missing"]:
        lines.append(f"broken: {len(data['missing'])} of {len(data['namespaces'])} namespaces are gone "
                     "(kubenet-tui lab down cleans up)")
    lines.append("")
    width = max(len(n) for n in data["namespaces"])
    for n, info in data["namespaces"].items():
        lines.append(f"  {n:<{width}}  {info['is']}{'' if info['present'] else '  (gone)'}")
    for note in data["notes"]:
        lines.append(f"note: {note}")
    emit(data, args.output, "\n".join(lines))
    return 0


def _target(rec: dict, name: str) -> str:
    from .kernel import LabFailed

    sim = rec.get("sim", {})
    if name in sim:
        return sim[name]
    if f"default/{name}" in sim:
        return sim[f"default/{name}"]
    if name in rec.get("namespaces", []):
        return name
    close = sorted(s for s in sim if name in s)[:3]
    hint = f" (did you mean {', '.join(close)}?)" if close else f"; the lab has {', '.join(sorted(sim)[:8])}"
    raise LabFailed(f'no "{name}" in the lab{hint}')


def _exec(args, load, emit) -> int:
    from . import netns
    from .kernel import LabFailed, require

    require()
    rec = _alive_record()
    if rec is None:
        raise LabFailed("no lab is up: run kubenet-tui lab up -f FILE first")
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise LabFailed("no command given: kubenet-tui lab exec NAME -- CMD (e.g. ip route)")
    target = _target(rec, args.target)
    sys.stdout.flush()
    try:
        netns.enter(target)
    except OSError as e:
        raise LabFailed(f"cannot enter {args.target}'s namespace {target} ({e.strerror or e}): "
                        "the lab is broken; kubenet-tui lab down, then up again") from None
    try:
        os.execvp(cmd[0], cmd)
    except FileNotFoundError:
        print(f"kubenet-tui lab exec: {cmd[0]}: command not found", file=sys.stderr)
        return 127
    except OSError as e:
        print(f"kubenet-tui lab exec: {cmd[0]}: {e.strerror or e}", file=sys.stderr)
        return 126
    return 0  # (not reached)


def _verify(args, load, emit) -> int:
    from .kernel import LabFailed, require, teardown
    from .verify import report_text, verify

    require()
    rec = _alive_record()
    own = False
    if args.files:
        files = _files(args)
        if rec is not None and sorted(rec.get("files", [])) != sorted(files):
            raise LabFailed(f"a lab of other files is up ({', '.join(rec.get('files', []))}): run kubenet-tui lab down first")
        loaded = load(files)
        if rec is None:
            rec = bring_up(files, loaded)
            own = True
            try:
                print(f"lab up: {rec['topology']}: {summary(rec)}", file=sys.stderr)
            except BaseException:
                teardown(rec)
                raise
    else:
        if rec is None:
            raise LabFailed("no lab is up: give -f FILE (the lab is brought up, verified and taken down) or run lab up first")
        loaded = load(rec["files"])
    try:
        report = verify(loaded, rec, max_probes=args.max_probes, timeout=args.timeout)
        emit(report.to_dict(), args.output, report_text(report))
    finally:
        if own:  # (even when the output's reader went away: a lab brought up for this verify goes)
            teardown(rec)
    return 1 if report.disagreements else 0
