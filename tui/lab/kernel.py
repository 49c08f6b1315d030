"""Building a :class:`~tui.lab.plan.Plan` in the kernel through netlink (pyroute2), and taking it down.

Every namespace is written to the lab's record (``lab.json`` in the state directory) before it is made, so
``lab down`` finds everything even after a crash; it also removes any namespace that carries the lab's
prefix, ends the processes inside them (the lab's servers, a command left running by ``lab exec``) and
deletes the record. Devices live inside the lab's namespaces and go with them.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import netns
from .plan import Plan, prefix_for


class LabUnavailable(Exception):
    """This machine cannot run a lab (not root, no namespaces, a missing tool): one sentence, exit 2."""


class LabFailed(Exception):
    """The kernel refused part of the plan (exit 1); the lab is taken down again."""


def state_dir() -> Path:
    from ..edit.recovery import state_dir as sd

    return sd()


def record_path() -> Path:
    return state_dir() / "lab.json"


def prefix() -> str:
    return prefix_for(str(state_dir().resolve()))


PREFIX_DIGITS = 6
PREFIX_FORM = re.compile(rf"kn[0-9a-f]{{{PREFIX_DIGITS}}}-")


def read_record() -> dict | None:
    try:
        return json.loads(record_path().read_text())
    except (FileNotFoundError, ValueError):
        return None


def write_record(rec: dict) -> None:
    from ..edit.workspace import atomic_write

    try:
        record_path().parent.mkdir(parents=True, exist_ok=True)
        atomic_write(str(record_path()), json.dumps(rec, indent=1, sort_keys=True) + "\n")
    except OSError as e:
        raise LabFailed(f"cannot write the lab's record in {record_path().parent} ({e.strerror or e}): "
                        "set KUBENET_TUI_STATE_DIR to a directory you can write") from None


def require(plan: Plan | None = None, found: set[str] | None = None) -> None:
    """Raise :class:`LabUnavailable` when this machine cannot build a lab (``plan``: this one, with the device
    kinds ``found`` in this kernel)."""
    if sys.platform != "linux":
        raise LabUnavailable("the lab needs Linux network namespaces; this system is not Linux")
    if os.geteuid() != 0:
        raise LabUnavailable("the lab makes network namespaces, which needs root: run it as root (e.g. sudo kubenet-tui lab up -f FILE)")
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        raise LabUnavailable("the lab needs the pyroute2 package: pip install pyroute2") from None
    if plan is not None and found is not None and plan.count("vxlan") and "vxlan" not in found:
        raise LabUnavailable("this topology's overlay needs VXLAN devices and this kernel cannot make them (no vxlan module)")
    if plan is not None and any(o["op"] == "iptables" and o["family"] == 6 for o in plan.ops) and shutil.which("ip6tables-restore") is None:
        raise LabUnavailable("this topology has ip6tables rules and ip6tables-restore is not installed: install iptables "
                             "(e.g. apt-get install iptables)")
    if plan is not None and any(o["op"] == "iptables" for o in plan.ops) and shutil.which("iptables-restore") is None:
        raise LabUnavailable("this topology has iptables rules and iptables-restore is not installed: install iptables "
                             "(e.g. apt-get install iptables)")


def features(pfx: str) -> set[str]:
    """The device kinds this kernel makes (probed in a scratch namespace); LabUnavailable when namespaces,
    veth pairs or bridges cannot be made at all."""
    from pyroute2 import IPRoute
    from pyroute2 import netns as pnetns

    name = pfx + "-probe"
    try:
        if netns.exists(name):
            pnetns.remove(name)
        pnetns.create(name)
    except Exception as e:  # noqa: BLE001 (OSError, or pyroute2's own errors)
        raise LabUnavailable(f"this machine does not let the lab make a network namespace ({getattr(e, 'strerror', None) or e}): "
                             "run it as root on a host or in a privileged container") from None
    found = set()
    try:
        with netns.inside(name):
            ipr = IPRoute()
            try:
                for kind, kw in (("veth", {"peer": {"ifname": "t1"}}), ("bridge", {}),
                                 ("vxlan", {"vxlan_id": 9, "vxlan_port": 4789}), ("ipip", {})):
                    try:
                        ipr.link("add", ifname="t0", kind=kind, **kw)
                        found.add(kind)
                        ipr.link("del", index=ipr.link_lookup(ifname="t0")[0])
                    except Exception:  # noqa: BLE001 (pyroute2's NetlinkError and friends: the kind is missing)
                        pass
            finally:
                ipr.close()
    finally:
        pnetns.remove(name)
    missing = {"veth", "bridge"} - found
    if missing:
        raise LabUnavailable(f"this kernel cannot make {' or '.join(sorted(missing))} devices, which every lab needs")
    return found


class _Links:
    """One netlink socket per lab namespace, opened inside it."""

    def __init__(self) -> None:
        self.open: dict = {}

    def __call__(self, ns: str):
        ipr = self.open.get(ns)
        if ipr is None:
            from pyroute2 import IPRoute

            with netns.inside(ns):
                ipr = self.open[ns] = IPRoute()
        return ipr

    def index(self, ns: str, dev: str) -> int:
        found = self(ns).link_lookup(ifname=dev)
        if not found:
            raise LabFailed(f"{ns}: no device {dev}")
        return found[0]

    def close(self) -> None:
        for ipr in self.open.values():
            ipr.close()
        self.open.clear()


IFA_F_NOPREFIXROUTE = 0x200
RTNH_F_ONLINK = 4
SCOPES = {"global": 0, "link": 253, "host": 254}
PROTOS = {"boot": 3, "static": 4, "kernel": 2, "bird": 12}


def _apply(op: dict, links: _Links) -> None:
    kind = op["op"]
    if kind == "netns":
        from pyroute2 import netns as pnetns

        pnetns.create(op["name"])
        return
    if kind == "sysctl":
        try:
            netns.sysctl(op["ns"], op["key"], op["value"])
        except FileNotFoundError:
            if "bridge-nf" not in op["key"]:  # (br_netfilter not loaded: said by the check below)
                raise
        return
    if kind == "iptables":
        tool = "ip6tables-restore" if op["family"] == 6 else "iptables-restore"
        args = [tool, "-w"] + (["--noflush"] if op.get("noflush") else [])
        with netns.inside(op["ns"]):  # (the child inherits this thread's namespace: no preexec_fn in a threaded program)
            p = subprocess.run(args, input=op["text"], text=True, capture_output=True)
        if p.returncode != 0:
            raise LabFailed(f"{op['ns']}: {tool} refused the rules: {p.stderr.strip() or p.returncode}")
        return
    ipr = links(op["ns"])
    if kind == "veth":
        fd = os.open(netns.path(op["peer_ns"]), os.O_RDONLY)
        try:
            peer = {"ifname": op["peer_dev"], "net_ns_fd": fd}
            if op["peer_mac"]:
                peer["address"] = op["peer_mac"]
            ipr.link("add", ifname=op["dev"], kind="veth", address=op["mac"], peer=peer)
        finally:
            os.close(fd)
    elif kind == "bridge":
        kw = {"address": op["mac"]} if op["mac"] else {}
        ipr.link("add", ifname=op["dev"], kind="bridge", br_stp_state=0, br_forward_delay=0, **kw)
    elif kind == "vxlan":
        kw = {"vxlan_local": op["local"]} if op["local"] else {}
        ipr.link("add", ifname=op["dev"], kind="vxlan", address=op["mac"], vxlan_id=op["vni"], vxlan_port=op["port"],
                 vxlan_learning=0, **kw)
    elif kind == "ipip":
        kw = {"ipip_local": op["local"]} if op["local"] else {}
        ipr.link("add", ifname=op["dev"], kind="ipip", **kw)
    elif kind == "master":
        idx = links.index(op["ns"], op["dev"])
        ipr.link("set", index=idx, master=links.index(op["ns"], op["bridge"]))
        if op.get("hairpin"):
            ipr.brport("set", index=idx, mode=1)
    elif kind == "up":
        ipr.link("set", index=links.index(op["ns"], op["dev"]), state="up")
    elif kind == "addr":
        idx = links.index(op["ns"], op["dev"])
        v6 = ":" in op["address"]
        flags = (0x02 if v6 else 0) | (IFA_F_NOPREFIXROUTE if op["metric"] else 0)  # IFA_F_NODAD for IPv6
        ipr.addr("add", index=idx, address=op["address"], prefixlen=op["prefixlen"], flags=flags)
        if op["metric"]:  # `ip addr add ... metric N`: the connected route with that metric
            import ipaddress

            net = ipaddress.ip_interface(f"{op['address']}/{op['prefixlen']}").network
            if net.prefixlen < net.max_prefixlen:
                ipr.route("add", dst=str(net), oif=idx, priority=op["metric"], scope=253, proto=2,
                          prefsrc=op["address"] if not v6 else None)
    elif kind == "route":
        kw: dict = {"dst": op["to"], "priority": op["metric"], "proto": PROTOS.get(op["proto"], 3)}
        if op["type"] != "unicast":
            kw["type"] = op["type"]
        else:
            if op["dev"] is not None:
                kw["oif"] = links.index(op["ns"], op["dev"])
            if op["via"] is not None:
                kw["gateway"] = op["via"]
            kw["scope"] = SCOPES.get(op["scope"], 0)
            if op["onlink"]:
                kw["flags"] = RTNH_F_ONLINK
        if op["src"] is not None:
            kw["prefsrc"] = op["src"]
        ipr.route("add", **kw)
    elif kind == "fdb":
        ipr.fdb("append", ifindex=links.index(op["ns"], op["dev"]), lladdr=op["mac"], dst=op["dst"])
    elif kind == "neigh":
        ipr.neigh("add", dst=op["ip"], lladdr=op["mac"], ifindex=links.index(op["ns"], op["dev"]), state=0x80)  # NUD_PERMANENT
    else:
        raise LabFailed(f"unknown step {kind}")


def _describe(op: dict) -> str:
    if op["op"] == "route":
        return f"ip route add {op['text']}"
    if op["op"] == "netns":
        return f"ip netns add {op['name']}"
    if op["op"] == "veth":
        return f"ip link add {op['dev']} type veth peer {op['peer_dev']} netns {op['peer_ns']}"
    return " ".join(f"{k}={v}" for k, v in op.items() if k not in ("text",))


def build(plan: Plan, rec: dict) -> None:
    """Make every object of ``plan``; the namespaces are recorded in ``rec`` (written) before they exist."""
    rec["namespaces"] = sorted(plan.names)
    write_record(rec)
    links = _Links()
    try:
        for op in plan.ops:
            try:
                _apply(op, links)
            except LabFailed:
                raise
            except Exception as e:  # noqa: BLE001 (netlink's refusal, with the kernel's errno)
                code = getattr(e, "code", None) or getattr(e, "errno", None)
                why = os.strerror(code) if isinstance(code, int) and code > 0 else str(e)
                where = op.get("ns") or op.get("name")
                raise LabFailed(f"{where}: the kernel refused `{_describe(op)}`: {why}") from None
    finally:
        links.close()
    if plan.count("sysctl") and any("bridge-nf" in o.get("key", "") for o in plan.ops):
        if not os.path.exists("/proc/sys/net/bridge"):
            plan.notes.append("br_netfilter is not loaded: bridged traffic skips iptables (modprobe br_netfilter)")


def _pids_in(names: set[str]) -> list[int]:
    """Processes whose network namespace is one of ``names`` (compared by device and inode; never the namespace
    this process runs in, the machine's own)."""
    ids = set()
    for n in names:
        try:
            st = os.stat(netns.path(n))
            ids.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    try:
        home = os.stat("/proc/1/ns/net")
        mine = os.stat("/proc/self/ns/net")
        ids -= {(home.st_dev, home.st_ino), (mine.st_dev, mine.st_ino)}
    except OSError:
        pass
    out = []
    if not ids:
        return out
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in ids:
            out.append(int(pid))
    return out


def _is_server(pid: int) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"tui.lab.serve" in args and str(plan_file()).encode() in args


def plan_file() -> Path:
    return record_path().with_name("lab-plan.json")


def _servers() -> list[int]:
    """This lab's server processes: ``tui.lab.serve`` run with this state directory's plan file (found even when
    the record is lost, or the server started and the record was never written)."""
    want = str(plan_file()).encode()
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"tui.lab.serve" in args and want in args:
                out.append(int(pid))
    return out


def teardown(rec: dict | None = None, pfx: str | None = None) -> dict:
    """Remove the lab: its servers, any process in its namespaces, every namespace it recorded or that
    carries its prefix, and the record. Returns what was removed. Only this state directory's prefix is ever
    used (a record that names another is not trusted), so nothing that is not this lab's is touched."""
    from pyroute2 import netns as pnetns

    rec = rec if rec is not None else (read_record() or {})
    pfx = prefix() if pfx is None else pfx
    if not PREFIX_FORM.fullmatch(pfx):
        raise LabFailed(f"refusing to remove namespaces named {pfx}*: a lab's prefix is kn and {PREFIX_DIGITS} hex digits")
    names = set(rec.get("namespaces", ())) | set(netns.listed(pfx))
    names = {n for n in names if n.startswith(pfx)}  # (never anything that is not the lab's)
    killed = []
    for pid in _servers():
        _signal(pid, signal.SIGTERM, killed)
    for pid in _pids_in(names):
        _signal(pid, signal.SIGKILL, killed)
    if killed:
        end = time.monotonic() + 3
        while time.monotonic() < end and any(_alive(p) for p in killed):
            time.sleep(0.05)
        for pid in killed:
            if _alive(pid):
                _signal(pid, signal.SIGKILL, [])
    removed = []
    for n in sorted(names):
        if netns.exists(n):
            try:
                pnetns.remove(n)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise LabFailed(f"cannot remove namespace {n}: {e.strerror or e}") from None
            removed.append(n)
    for path in (record_path(), plan_file()):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    return {"namespaces": removed, "processes": sorted(set(killed))}


def _signal(pid: int, sig: int, done: list) -> None:
    try:
        os.kill(pid, sig)
        done.append(pid)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_server(plan_file: Path, files: list[str]) -> int:
    """Start the lab's listeners and DNS servers (:mod:`tui.lab.serve`) in the background; its pid once ready."""
    args = [sys.executable, "-m", "tui.lab.serve", str(plan_file)] + [a for f in files for a in ("-f", f)]
    log = plan_file.with_name("lab-serve.log")  # what the servers say after they started (nothing, normally)
    with open(log, "w") as err:
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        line = p.stdout.readline()
    except BaseException:  # (ctrl+c while it starts: it runs in its own session, so it must be ended here)
        p.kill()
        raise
    p.stdout.close()
    if not line.startswith("ready"):
        p.kill()
        p.wait()
        lines = log.read_text(errors="replace").strip().splitlines()
        raise LabFailed(f"the lab's servers did not start: {lines[-1] if lines else line.strip() or 'no answer'}")
    return p.pid


def server_alive(rec: dict) -> bool:
    pid = rec.get("server_pid")
    return bool(pid) and _is_server(pid) and _alive(pid)
