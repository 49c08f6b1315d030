"""Every figure of issue #8, each measured side by side with its reference, in one run.

    python benchmarks/run.py [--quick] [--json out.json] [--write-readme] [--timeout 300]
                             [--nodes N --pods-per-node M --services S] [--runs R]
    python benchmarks/run.py --from-json out.json [--write-readme]   # the table of a saved run

Prints one table: figure | ours | reference | ratio / target | status. --quick makes the big cluster ten times
smaller (500 nodes x 30 pods, 1,000 Services) and repeats less: a smoke run of a few minutes, whose big-cluster
figures are not the issue's (its targets are for 5,000 nodes). --write-readme puts the table, the machine and the
date between the markers of benchmarks/README.md; --json writes every row with its raw numbers.

Generated clusters go to a temporary directory, removed at the end. Every command runs with a timeout (a row
says "timeout" rather than the run hanging); a measurement that fails is an "error" row and the run goes on.
Nothing here is a stored result: every number printed is measured by this run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
_script = Path(PY).parent / "kubenet-tui"
KN = [str(_script)] if _script.exists() else [PY, "-m", "tui"]
GIB = 1024 ** 3
README = HERE / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

sys.path.insert(0, str(HERE))


# -- rows -------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    ours: str
    reference: str
    ratio: str
    status: str  # pass, FAIL, timeout, error, n/a, info
    data: dict = field(default_factory=dict)


ROWS: list[Row] = []


def add(row: Row) -> Row:
    ROWS.append(row)
    print(f"  [{row.status}] {row.figure}: {row.ours} | {row.reference} | {row.ratio}", file=sys.stderr, flush=True)
    return row


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def secs(x: float) -> str:
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


# -- running commands -------------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float | None = None  # seconds
    rss_kb: int | None = None  # max resident set size
    rc: int | None = None
    timeout: bool = False
    err: str = ""
    out_tail: str = ""  # the command's last lines of output (what it answered), when it was captured

    @property
    def ok(self) -> bool:
        return not self.timeout and self.rc == 0

    def problem(self) -> str:
        return "timeout" if self.timeout else f"error: exit {self.rc}: {last_error(self.err)}"


def last_error(text: str) -> str:
    """What a failed command said: its last exception line (``SomethingError: ...``), else its last line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    exc = next((ln for ln in reversed(lines) if re.match(r"^[\w.]*(Error|Exception|Exit)\b.*:?", ln)), None)
    return (exc or (lines[-1] if lines else "no output"))[:200]


def run(cmd: list[str], timeout: float, stdout=None, measure_rss: bool = True) -> Run:
    """One command, its wall time and peak memory from /usr/bin/time -f '%e %M'; killed (its whole process group)
    after ``timeout`` seconds. Without /usr/bin/time: wall time from our clock, no memory."""
    use_time = measure_rss and os.path.exists("/usr/bin/time")
    with (tempfile.NamedTemporaryFile("w+", suffix=".time") as tf, tempfile.TemporaryFile("w+") as errf,
          tempfile.TemporaryFile("w+b") as outf):
        full = ["/usr/bin/time", "-f", "%e %M", "-o", tf.name, *cmd] if use_time else cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=stdout if stdout is not None else outf, stderr=errf,
                             stdin=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the group we started: the command and its children
            p.wait()
            return Run(timeout=True)
        wall = time.perf_counter() - t0
        errf.seek(0)
        err = errf.read()
        r = Run(wall=wall, rc=rc, err=err)
        if stdout is None:
            outf.seek(0, os.SEEK_END)
            outf.seek(max(0, outf.tell() - 4000))
            r.out_tail = "\n".join([ln for ln in outf.read().decode("utf-8", "replace").splitlines() if ln.strip()][-2:])
        if use_time:
            tf.seek(0)
            fields = tf.read().split()
            try:
                r.wall, r.rss_kb = float(fields[-2]), int(fields[-1])
            except (IndexError, ValueError):
                pass
        return r


def run_json(cmd: list[str], timeout: float) -> dict:
    """A helper script's one JSON object on stdout; {"error": ...} or {"timeout": True} when it gives none."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL,
                           start_new_session=True)
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    lines = [ln for ln in p.stdout.splitlines() if ln.strip().startswith("{")]
    if p.returncode != 0 or not lines:
        return {"error": f"exit {p.returncode}: {last_error(p.stderr or p.stdout)}", "stderr_tail": p.stderr[-3000:]}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as e:
        return {"error": f"not JSON: {e}"}


def failed(d: dict) -> str | None:
    if d.get("timeout"):
        return "timeout"
    if "error" in d:
        return "error: " + str(d["error"])
    return None


# -- figure 4: small topologies -----------------------------------------------------------------------------------

SMALL_COMMANDS = [
    ("check 01-switch", ["check", "-f", "topologies/01-switch.yaml"]),
    ("trace 01-switch", ["trace", "-f", "topologies/01-switch.yaml", "--from", "system-a", "--to", "system-b"]),
    ("check 05-nodeport", ["check", "-f", "topologies/05-nodeport.yaml"]),
    ("trace 05-nodeport", ["trace", "-f", "topologies/05-nodeport.yaml", "--from", "laptop", "--to", "192.168.1.11:30080"]),
]


def small_topologies(runs: int, timeout: float) -> None:
    base_cmd = [PY, "-c", "import yaml, networkx"]
    times: dict[str, list[float]] = {"base": []}
    problems: dict[str, str] = {}
    for _ in range(runs):  # interleaved: every command sees the same machine load
        r = run(base_cmd, timeout, measure_rss=False)
        if r.ok:
            times["base"].append(r.wall)
        for name, args in SMALL_COMMANDS:
            r = run(KN + args, timeout, measure_rss=False)
            if r.ok:
                times.setdefault(name, []).append(r.wall)
            else:
                problems[name] = r.problem()
    if not times["base"]:
        for name, _ in SMALL_COMMANDS:
            add(Row(f"4 small: {name}", "-", "python -c 'import yaml, networkx'", "<= 2x", "error",
                    {"error": "the baseline did not run"}))
        return
    base = statistics.median(times["base"])
    for name, args in SMALL_COMMANDS:
        fig = f"4 small: kubenet-tui {name}"
        ref = f"import yaml, networkx: {ms(base)}"
        if name in problems:
            add(Row(fig, problems[name], ref, "<= 2x", "timeout" if problems[name] == "timeout" else "error",
                    {"error": problems[name]}))
            continue
        med = statistics.median(times[name])
        add(Row(fig, ms(med), ref, f"{med / base:.2f}x (<= 2x)", verdict(med <= 2 * base),
                {"median_s": med, "baseline_median_s": base, "runs": times[name], "baseline_runs": times["base"],
                 "command": " ".join(["kubenet-tui", *args])}))


def first_paint_small(runs: int) -> None:
    fig = "4 small: TUI first paint (default topology)"
    try:
        from first_paint import first_paint

        if not shutil.which("tmux"):
            raise RuntimeError("needs tmux")
        target = " ".join(KN)
        base_cmd = f"{PY} {HERE / 'empty_app.py'}"
        empty, ours = [], []
        for _ in range(runs):  # interleaved, as first_paint.py does
            empty.append(first_paint(base_cmd, ("kubenet-tui baseline",)))
            ours.append(first_paint(target, ("Topology", "Routes", "DNS", "Trace")))
        me, mo = statistics.median(empty), statistics.median(ours)
        add(Row(fig, ms(mo), f"empty Textual app: {ms(me)}", f"{mo / me:.2f}x (<= 1.5x)", verdict(mo <= 1.5 * me),
                {"median_s": mo, "baseline_median_s": me, "runs": ours, "baseline_runs": empty}))
    except Exception as e:
        add(Row(fig, "-", "empty Textual app", "<= 1.5x", "timeout" if isinstance(e, TimeoutError) else "error",
                {"error": f"{type(e).__name__}: {e}"}))


# -- figure 5: route lookup --------------------------------------------------------------------------------------


def route_lookup(lookups: int, timeout: float) -> None:
    fig = "5 route lookup (20,000 routes, LPM)"
    d = run_json([PY, str(HERE / "route_lookup.py"), "--lookups", str(lookups), "--json"], timeout)
    if (p := failed(d)):
        add(Row(fig, p, "pytricia", "<= 3x", "timeout" if p == "timeout" else "error", d))
        return
    add(Row(fig, f"{d['ours_per_s']:,.0f} lookups/s", f"pytricia: {d['pytricia_per_s']:,.0f} lookups/s",
            f"{d['ratio']:.2f}x its time (<= 3x)", verdict(d["ratio"] <= 3), d))


# -- figure 2: big clusters ----------------------------------------------------------------------------------------


def generate(args: list[str], out: Path, timeout: float) -> Run:
    with open(out, "wb") as fh:
        return run(KN + ["generate", *args], timeout, stdout=fh)


def pick_names(dump: Path) -> dict:
    """Real names from the dump: a ClusterIP Service (the last one, outside kube-system), a pod it selects (the
    last such), and another pod (the last one in the file) as the client. The generator writes one item per line;
    each line is parsed on its own (a whole-file json.load is the fallback)."""
    services, pods = [], []

    def take(o: dict) -> None:
        kind, md = o.get("kind"), o.get("metadata", {})
        if kind == "Service" and md.get("namespace") != "kube-system":
            spec = o.get("spec", {})
            if spec.get("clusterIP") not in (None, "", "None") and spec.get("selector") and spec.get("ports"):
                services.append((md["namespace"], md["name"], spec["selector"], spec["ports"][0]["port"]))
        elif kind == "Pod" and md.get("namespace") != "kube-system" and not o.get("spec", {}).get("hostNetwork"):
            ports = [p["containerPort"] for c in o["spec"].get("containers", []) for p in c.get("ports", [])]
            pods.append((md["namespace"], md["name"], md.get("labels", {}), ports[0] if ports else 80))

    with open(dump, encoding="utf-8") as fh:
        for line in fh:
            if '"kind":"Pod"' in line or '"kind":"Service"' in line or '"kind": "Pod"' in line or '"kind": "Service"' in line:
                try:
                    take(json.loads(line.strip().rstrip(",")))
                except json.JSONDecodeError:
                    services.clear()
                    pods.clear()
                    break
    if not services or not pods:
        with open(dump, encoding="utf-8") as fh:
            for o in json.load(fh).get("items", []):
                take(o)
    for ns, name, selector, port in reversed(services):
        members = [p for p in pods if p[0] == ns and all(p[2].get(k) == v for k, v in selector.items())]
        if members:
            dst = members[-1]
            src = next(p for p in reversed(pods) if p not in members)
            return {"service": f"{name}.{ns}.svc.cluster.local", "service_port": port,
                    "src": f"{src[0]}/{src[1]}", "dst": f"{dst[0]}/{dst[1]}", "dst_port": dst[3]}
    raise ValueError("no ClusterIP Service with a pod in the dump")


def big_cluster(path: Path, label: str, names: dict, timeout: float) -> None:
    f = str(path)
    check = run(KN + ["check", "-f", f], timeout)
    fig = f"2 {label}: check"
    if not check.ok:
        st = "timeout" if check.timeout else "error"
        add(Row(fig + " wall", check.problem(), "10 s", "<= 10 s", st, asdict(check)))
        add(Row(fig + " peak memory", check.problem(), "2 GiB", "<= 2 GiB", st, asdict(check)))
    else:
        add(Row(fig + " wall", secs(check.wall), "10 s", f"{check.wall / 10:.2f}x (<= 1x)", verdict(check.wall <= 10),
                asdict(check) | {"err": ""}))
        if check.rss_kb is None:
            add(Row(fig + " peak memory", "not measured", "2 GiB", "<= 2 GiB", "n/a", {}))
        else:
            rss = check.rss_kb * 1024
            add(Row(fig + " peak memory", f"{rss / GIB:.2f} GiB", "2 GiB", f"{rss / (2 * GIB):.2f}x (<= 1x)",
                    verdict(rss <= 2 * GIB), asdict(check) | {"err": ""}))
    queries = [
        ("trace", ["trace", "-f", f, "--from", names["src"], "--to", f"{names['service']}:{names['service_port']}"]),
        ("resolve", ["resolve", "-f", f, names["service"]]),
        ("reach", ["reach", "-f", f, "--from", names["src"], "--to", names["dst"], "--port", str(names["dst_port"])]),
    ]
    for name, args in queries:
        fig = f"2 {label}: {name}"
        ref = f"check: {secs(check.wall)}" if check.ok else f"check: {check.problem()}"
        r = run(KN + args, timeout)
        data = asdict(r) | {"command": " ".join(["kubenet-tui", *args]), "check_wall": check.wall}
        if not r.ok:
            add(Row(fig, r.problem(), ref, "<= +1 s", "timeout" if r.timeout else "error", data))
        elif not check.ok:
            add(Row(fig, secs(r.wall), ref, "<= +1 s", "n/a", data))
        else:
            extra = r.wall - check.wall
            add(Row(fig, secs(r.wall), ref, f"{extra:+.2f} s (<= +1 s)", verdict(extra <= 1), data | {"err": ""}))


# -- figure 5: indexes --------------------------------------------------------------------------------------------


def indexes(small: Path, big: Path, queries: int, pairs: int, budget: float, timeout: float, big_label: str) -> None:
    """Two processes (DNS, then NetworkPolicy), each with its own timeout, so that one slow part cannot take
    the other's row."""
    base = [PY, str(HERE / "index_scaling.py"), "--small", str(small), "--big", str(big), "--queries", str(queries),
            "--pairs", str(pairs), "--budget", str(budget), "--json"]
    fig = f"5 DNS answer, {big_label} vs 3-node cluster"
    d = run_json(base + ["--only", "dns"], timeout)
    dns = {"error": p} if (p := failed(d)) else d.get("dns", {"error": "no dns in its JSON"})
    if "error" in dns:
        err = dns["error"] if str(dns["error"]).startswith(("timeout", "error")) else "error: " + str(dns["error"])
        add(Row(fig, err, "small cluster", "<= 2x", "timeout" if err == "timeout" else "error", d))
    else:
        per = ", ".join(f"{t} {dns['small']['us_per_type'][t]:.0f}->{v:.0f}" for t, v in dns["big"]["us_per_type"].items())
        first = dns["big"].get("first", {}).get("us_per_type", {})
        made = ", ".join(f"{t} {v:.0f}" for t, v in first.items())
        add(Row(fig, f"{dns['big']['us_per_query']:.0f} us/answer" + (f" (first asked: {made} us)" if made else ""),
                f"small cluster: {dns['small']['us_per_query']:.0f} us/answer",
                f"{dns['ratio']:.2f}x (<= 2x; us {per})", verdict(dns["ratio"] <= 2), d))
    fig = f"5 NetworkPolicy evaluation, {big_label}: many policies vs few"
    d = run_json(base + ["--only", "netpol"], timeout)
    n = {"error": p} if (p := failed(d)) else d.get("netpol", {"error": "no netpol in its JSON"})
    if "error" in n:
        err = n["error"] if str(n["error"]).startswith(("timeout", "error")) else "error: " + str(n["error"])
        add(Row(fig, err, "few policies", "<= 2x", "timeout" if err == "timeout" else "error", d))
    else:
        ok = n["ratio"] <= 2 and n["same_verdicts"]
        add(Row(fig, f"{n['many']['policies']} policies: {n['many']['us_per_eval']:.0f} us/eval",
                f"{n['few']['policies']} policies: {n['few']['us_per_eval']:.0f} us/eval",
                f"{n['ratio']:.2f}x (<= 2x)" + ("" if n["same_verdicts"] else "; verdicts differ!"), verdict(ok), d))


# -- figure 3: the TUI on the big cluster --------------------------------------------------------------------------


def tui_latency(big: Path, nodes_args: list[str], timeout: float) -> None:
    script = HERE / "tui_latency.py"
    figs = [("3 TUI on the big cluster: first paint", "first_paint_s", 3.0, "3 s", secs),
            ("3 TUI on the big cluster: key latency median", "key_median_ms", 16.0, "16 ms", lambda x: f"{x:.1f} ms"),
            ("3 TUI on the big cluster: key latency p99", "key_p99_ms", 50.0, "50 ms", lambda x: f"{x:.1f} ms")]
    if not script.exists():
        for fig, _, _, ref, _ in figs:
            add(Row(fig, "not available (benchmarks/tui_latency.py missing)", ref, f"<= {ref}", "n/a", {}))
        return
    cmd = [PY, str(script), "--json"]
    try:  # give it our cluster, in whatever way its options take one
        helptext = subprocess.run([PY, str(script), "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT).stdout
    except subprocess.TimeoutExpired:
        helptext = ""
    opt = re.search(r"(--file|--filename|-f)\b", helptext)
    if "--timeout" in helptext:  # its own wait for the model, within ours
        cmd += ["--timeout", f"{timeout / 2:.0f}"]
    if opt:
        cmd += [opt.group(1), str(big)]
    elif "--nodes" in helptext:  # it generates its own cluster: the same size as ours
        for i in range(0, len(nodes_args), 2):
            if nodes_args[i] in helptext:
                cmd += nodes_args[i:i + 2]
    elif re.search(r"\b(FILE|file|files|path)\b", helptext.split("\n\n")[0]):
        cmd.append(str(big))
    d = run_json(cmd, timeout)
    given = " ".join(cmd[3:]) or "its own defaults"
    for fig, key, target, ref, fmt in figs:
        if (p := failed(d)):
            add(Row(fig, p, ref, f"<= {ref}", "timeout" if p == "timeout" else "error", d | {"args": given}))
        elif not isinstance(d.get(key), (int, float)):
            add(Row(fig, f"error: no {key} in its JSON", ref, f"<= {ref}", "error", d))
        else:
            x = float(d[key])
            add(Row(fig, fmt(x), ref, f"{x / target:.2f}x (<= 1x)", verdict(x <= target), d | {"args": given}))


# -- output ---------------------------------------------------------------------------------------------------------

HEAD = ("figure", "ours", "reference", "ratio / target", "status")


def cells(r: Row) -> tuple[str, ...]:
    def tidy(x: str) -> str:  # one line, not too long (the JSON keeps everything)
        x = " ".join(str(x).split())
        return x if len(x) <= 100 else x[:99] + "…"

    return tuple(tidy(c) for c in (r.figure, r.ours, r.reference, r.ratio, r.status))


def text_table(rows: list[Row]) -> str:
    data = [HEAD] + [cells(r) for r in rows]
    w = [min(max(len(x[i]) for x in data), 70) for i in range(len(HEAD))]
    line = lambda c: " | ".join(s.ljust(w[i]) for i, s in enumerate(c)).rstrip()  # noqa: E731
    return "\n".join([line(HEAD), "-+-".join("-" * x for x in w)] + [line(c) for c in data[1:]])


def md_table(rows: list[Row]) -> str:
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(esc(c) for c in cells(r)) + " |" for r in rows]
    return "\n".join(out)


def machine() -> dict:
    cpu = ""
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        kb = next(int(ln.split()[1]) for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))
        mem = f"{kb / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip() or datetime.datetime.now().isoformat()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if rev and subprocess.run(["git", "diff", "--no-ext-diff", "--quiet", "HEAD", "--"], capture_output=True, cwd=ROOT).returncode == 1:
        rev += " with uncommitted changes"  # read-only: git diff writes nothing
    return {"date": date, "nproc": nproc, "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "commit": rev}


def write_readme(table: str, info: dict, command: str, sizes: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    block = (f"{BEGIN}\n_Measured {info['date']} with `{command}` on {info['nproc']} CPUs ({info['cpu'] or 'unknown CPU'}), "
             f"{info['memory']} RAM, Python {info['python']}, {info['platform']}, commit {info['commit'] or '?'}; "
             f"{sizes}._\n\n{table}\n{END}")
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


# -- main ------------------------------------------------------------------------------------------------------------


def compile_package() -> None:
    """The package's bytecode written once, as ``pip install`` writes it: every command is then timed as a user runs it,
    and not with its modules compiled again each time (PYTHONDONTWRITEBYTECODE=1 in the environment keeps Python from
    writing it, and an editable checkout may have none)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("tui")
    for where in spec.submodule_search_locations if spec is not None else ():
        compileall.compile_dir(where, quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 10x smaller big cluster and fewer repetitions: a smoke run")
    ap.add_argument("--json", metavar="FILE", help="write every row, with its raw numbers, to FILE")
    ap.add_argument("--write-readme", action="store_true", help="put the table into benchmarks/README.md")
    ap.add_argument("--timeout", type=float, default=300, help="seconds any one command may take (default 300)")
    ap.add_argument("--nodes", type=int, help="big cluster: nodes (default 5000; --quick 500)")
    ap.add_argument("--pods-per-node", type=int, help="big cluster: pods per node (default 30)")
    ap.add_argument("--services", type=int, help="big cluster: Services (default 10000; --quick 1000)")
    ap.add_argument("--runs", type=int, help="repetitions of the small-topology timings (default 9; --quick 5)")
    ap.add_argument("--skip", action="append", default=[], choices=["small", "route", "big", "index", "tui"],
                    help="leave a group of figures out (repeatable)")
    ap.add_argument("--from-json", metavar="FILE", help="measure nothing: print (and with --write-readme, write) the table "
                    "of a run saved with --json")
    a = ap.parse_args()
    if a.from_json:
        saved = json.loads(Path(a.from_json).read_text(encoding="utf-8"))
        rows = [Row(**r) for r in saved["rows"]]
        print(text_table(rows))
        if a.write_readme:
            write_readme(md_table(rows), saved["machine"], saved["command"], saved["sizes"])
            print(f"wrote the table into {README.relative_to(ROOT)}", file=sys.stderr)
        return 0
    nodes = a.nodes or (500 if a.quick else 5000)
    ppn = a.pods_per_node or 30
    services = a.services or (1000 if a.quick else 10000)
    runs = a.runs or (5 if a.quick else 9)
    size = f"{nodes:,} nodes"
    sizes = f"big cluster: {nodes:,} nodes x {ppn} pods, {services:,} Services" + (" (--quick: not the issue's size)" if a.quick else "")
    print(f"kubenet-tui benchmarks: {sizes}; timeout {a.timeout:.0f} s per command", file=sys.stderr)
    t_start = time.perf_counter()
    compile_package()

    if "small" not in a.skip:
        print("figure 4: small topologies", file=sys.stderr)
        small_topologies(runs, a.timeout)
        first_paint_small(runs)
    if "route" not in a.skip:
        print("figure 5: route lookup", file=sys.stderr)
        route_lookup(50000 if a.quick else 200000, a.timeout)

    with tempfile.TemporaryDirectory(prefix="kubenet-bench-") as tmp:
        tmpd = Path(tmp)
        gen = ["--nodes", str(nodes), "--pods-per-node", str(ppn), "--services", str(services)]
        dump, deps, small = tmpd / "cluster.json", tmpd / "cluster-deployments.yaml", tmpd / "small-deployments.yaml"
        pretty = tmpd / "cluster-indented.json"
        need_big = {"big", "index", "tui"} - set(a.skip)
        made: dict[str, Path] = {}
        if need_big:
            print("generating the clusters", file=sys.stderr)
            for label, path, extra in (("dump (JSON)", dump, ["-o", "json"]), ("Deployments (YAML)", deps, ["--as", "deployments"])):
                r = generate(gen + extra, path, a.timeout)
                fig = f"2 generate {size}, {label}"
                if r.ok:
                    made[label] = path
                    add(Row(fig, f"{secs(r.wall)}, {path.stat().st_size / 1e6:.1f} MB", "-", "-", "info",
                            asdict(r) | {"bytes": path.stat().st_size, "err": ""}))
                else:
                    add(Row(fig, r.problem(), "-", "-", "timeout" if r.timeout else "error", asdict(r)))
            if dump in made.values():  # the same dump as kubectl prints it: indented by 4, an item over many lines
                t = time.perf_counter()
                with open(dump, encoding="utf-8") as src, open(pretty, "w", encoding="utf-8") as out:
                    json.dump(json.load(src), out, indent=4)
                made["dump (kubectl-indented JSON)"] = pretty
                add(Row(f"2 {size}, dump re-indented as kubectl prints it", f"{secs(time.perf_counter() - t)}, "
                        f"{pretty.stat().st_size / 1e6:.1f} MB", "-", "-", "info", {"bytes": pretty.stat().st_size}))
            r = generate(["--as", "deployments"], small, a.timeout)
            if r.ok:
                made["small"] = small
        names: dict | None = None
        if "big" not in a.skip:
            print("figure 2: big clusters", file=sys.stderr)
            try:
                if dump not in made.values():
                    raise RuntimeError("the dump was not generated")
                names = pick_names(dump)
                print(f"  names: {names}", file=sys.stderr)
            except Exception as e:
                add(Row(f"2 {size}: pick names", f"error: {type(e).__name__}: {e}", "-", "-", "error", {}))
            if names:
                for label, path in (("dump (JSON)", dump), ("dump (kubectl-indented JSON)", pretty), ("Deployments (YAML)", deps)):
                    if path in made.values():
                        big_cluster(path, f"{size}, {label}", names, a.timeout)
        if "index" not in a.skip:
            print("figure 5: DNS and NetworkPolicy indexes", file=sys.stderr)
            if deps in made.values() and small in made.values():
                indexes(small, deps, 1000 if a.quick else 4000, 3000 if a.quick else 5000, 20 if a.quick else 60, 2 * a.timeout, size)
            else:
                add(Row("5 DNS / NetworkPolicy indexes", "error: a cluster was not generated", "-", "-", "error", {}))
        if "tui" not in a.skip:
            print("figure 3: the TUI on the big cluster", file=sys.stderr)
            tui_latency(dump if dump in made.values() else deps, gen, 2 * a.timeout)

    info = machine()
    table = text_table(ROWS)
    print()
    print(table)
    counts = {st: sum(r.status.split(":")[0] == st for r in ROWS) for st in ("pass", "FAIL", "timeout", "error", "n/a")}
    print("\n" + ", ".join(f"{n} {st}" for st, n in counts.items() if n) + f"; {sizes}; "
          f"{info['nproc']} CPUs, Python {info['python']}; {time.perf_counter() - t_start:.0f} s")
    command = "python benchmarks/run.py" + (" --quick" if a.quick else "")
    if a.json:
        Path(a.json).write_text(json.dumps({"machine": info, "command": command, "sizes": sizes,
                                            "rows": [asdict(r) for r in ROWS]}, indent=1, default=str), encoding="utf-8")
    if a.write_readme:
        write_readme(md_table(ROWS), info, command, sizes)
        print(f"wrote the table into {README.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
