"""Located errors: every bad input is answered with ``FILE:LINE:COL: error: field.path: message``.

The corpus in ``tests/data/bad/`` holds one mistake (or a few) per file. Each
file's first line says what is wanted, as the shared conformance runner reads it:

    # expect: lines=L1,L2|any words=w1,w2 [maxs=S] [rc=1] [sentinel=PATH] [errors=N]

exit code in ``rc`` (default 1), a ``FILE:LINE:`` location naming one of the
lines, every word in the output (case-insensitive), no traceback, no sentinel
file created, the input unchanged, done within ``maxs`` seconds (default 5)
under a 1 GiB address-space cap. ``errors=N`` (ours, the shared runner ignores
it) asks for exactly N error lines, and when N is the number of lines listed,
an error on each of them: every error of a file is reported at once.

The in-process tests call ``tui.load.load`` for exact paths, lines and
columns, and for what must load: several documents, directories in name
order, JSON and ``kind: List``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.load import LoadError, expand, load

BAD = Path(__file__).parent / "data" / "bad"
FORMAT = re.compile(r"^.+:\d+:\d+: error: \S.*: .+$")
SUMMARY = re.compile(r"^\d+ errors?$")
AS_LIMIT = 1 << 30  # 1 GiB, as the shared runner's prlimit


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run_check(*paths: str | Path, timeout: float = 15) -> tuple[int, str, str, float]:
    """``python -m tui check -f P ...`` under the memory cap: (rc, stdout, stderr, seconds)."""
    args = [sys.executable, "-m", "tui", "check"]
    for p in paths:
        args += ["-f", str(p)]
    t = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t


def error_lines(stderr: str) -> list[str]:
    """The error lines of a failed check (all but the closing "N errors")."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines and SUMMARY.match(lines[-1]), f"no closing error count in:\n{stderr}"
    return lines[:-1]


def assert_located(stderr: str, file: str | Path) -> list[str]:
    """Every error line is ``FILE:LINE:COL: error: path: message`` about ``file``; the count matches."""
    errors = error_lines(stderr)
    assert errors, stderr
    for ln in errors:
        assert FORMAT.match(ln), f"not FILE:LINE:COL: error: field.path: message: {ln!r}"
        assert ln.startswith(f"{file}:"), f"error not about {file}: {ln!r}"
    n = int(stderr.split()[-2])
    assert n == len(errors), stderr
    return errors


def parse_expect(raw: bytes) -> dict:
    first = raw.split(b"\n", 1)[0].decode()
    assert first.startswith("# expect:"), "a bad input's first line is '# expect: ...'"
    return dict(kv.split("=", 1) for kv in first.removeprefix("# expect:").split())


def corpus() -> list[str]:
    return sorted(f for f in os.listdir(BAD) if f.endswith((".yaml", ".yml", ".json")))


def test_corpus_is_there():
    names = corpus()
    assert len(names) >= 40
    for ref in ("01-tab-indent.yaml", "04-nodeport-range.yaml", "12-unknown-kind.yaml",
                "16-unreachable-gateway.yaml", "22-alias-bomb.yaml", "24-python-tag.yaml"):
        assert ref in names


@pytest.mark.parametrize("name", corpus())
def test_bad_input(name: str):
    path = BAD / name
    raw = path.read_bytes()
    spec = parse_expect(raw)
    lines = spec.get("lines", "any")
    words = [w for w in spec.get("words", "").split(",") if w]
    maxs = float(spec.get("maxs", 5))
    rcs = [int(x) for x in spec.get("rc", "1").split(",")]
    sentinel = spec.get("sentinel")
    if sentinel and os.path.exists(sentinel):
        os.remove(sentinel)

    rc, out, err, dt = run_check(path, timeout=maxs + 10)
    both = out + err

    assert rc in rcs, f"rc={rc}\n{both}"
    assert "Traceback" not in both, both
    assert dt <= maxs, f"took {dt:.1f}s"
    if sentinel:
        assert not os.path.exists(sentinel), "SENTINEL CREATED: a YAML tag ran code"
    assert path.read_bytes() == raw, "input changed"
    if rc != 1:
        return
    assert out == "", f"nothing on stdout when the input is bad: {out!r}"
    errors = assert_located(err, path)
    assert all(len(e) < 1000 for e in errors), "an error line that long quotes too much of the input back"
    if lines != "any":
        wanted = lines.split(",")
        assert any(re.search(rf"{re.escape(name)}:{ln}(:|\b)", both) for ln in wanted), f"no {name}:{lines}: location in\n{err}"
    for w in words:
        assert w.lower() in both.lower(), f"no {w!r} in\n{err}"
    if "errors" in spec:
        n = int(spec["errors"])
        assert len(errors) == n, f"wanted {n} errors, got {len(errors)}:\n{err}"
        if lines != "any" and n > 1 and n == len(lines.split(",")):
            for ln in lines.split(","):
                assert any(e.startswith(f"{path}:{ln}:") for e in errors), f"no error at line {ln}:\n{err}"


# -- files that are not text, or not there -------------------------------------------------

def test_binary_file(tmp_path: Path):
    f = tmp_path / "blob.yaml"
    f.write_bytes(b"apiVersion: v1\nkind: Pod\n\x00\x01\x02 binary\n")
    rc, out, err, _ = run_check(f)
    assert rc == 1 and "Traceback" not in err
    errors = assert_located(err, f)
    assert errors == [f"{f}:3:1: error: file: binary input (a NUL byte), not a YAML or JSON text: give the topology or manifest file itself"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_refused_saying_to_save_it_as_utf8(tmp_path: Path, encoding: str):
    f = tmp_path / "windows.yaml"
    f.write_bytes("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n".encode(encoding))
    rc, out, err, _ = run_check(f)
    assert rc == 1 and out == ""
    assert assert_located(err, f) == [f"{f}:1:1: error: file: UTF-16 text (a byte-order mark or every other byte NUL), where YAML "
                                      "and JSON files are UTF-8 here: save the file as UTF-8"]


# Whatever is refused is said in one sentence, with what to do instead (issue #9, item 6).
@pytest.mark.parametrize("text, where, says", [
    ("a: !!python/object/apply:os.system [echo]\n", "1:4", "remove the tag"),
    ("a: &a [1, 2]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "6:", "write the values out, or use fewer aliases"),
    ("a:" + " {b:" * 130 + " 1" + "}" * 130 + "\n", "1:", "nest a few dozen: flatten the document"),
    ("a: " + "[" * 1200 + "]" * 1200 + "\n", "1:", "nest a few dozen: flatten the document"),
    ('{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"ports": [{"port": ' + "9" * 5000 + "}]}}",
     "1:96", "larger than any field holds (at most a 64-bit integer): write the number it should be, or quote it as a string"),
], ids=["tag", "alias-bomb", "deep-block", "deep-flow", "huge-integer"])
def test_a_limit_is_one_located_sentence_saying_what_to_do(tmp_path: Path, text: str, where: str, says: str):
    f = tmp_path / "limit.yaml"
    f.write_text(text)
    rc, out, err, dt = run_check(f)
    assert rc == 1 and out == "" and "Traceback" not in err
    [line] = assert_located(err, f)
    assert line.startswith(f"{f}:{where}"), line
    assert line.endswith(says), line
    assert dt < 3


def test_a_huge_integer_in_a_big_json_dump_is_a_located_error(tmp_path: Path):
    f = tmp_path / "dump.json"  # (over 4 MiB: read by the JSON List reader, a piece at a time)
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"a": "x" * 100}} for i in range(40000)]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    bad = '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"ports": [{"port": ' + "9" * 5000 + "}]}}"
    text = text[:-2] + ", " + bad + "]}"
    f.write_text(text)
    rc, out, err, _ = run_check(f)
    assert rc == 1 and "Traceback" not in err
    [line] = assert_located(err, f)
    col = text.index("9" * 5000) + 1
    assert line == (f"{f}:1:{col}: error: items[40000].spec.ports[0].port: a number of 5,000 characters is larger than any "
                    "field holds (at most a 64-bit integer): write the number it should be, or quote it as a string")


def test_a_yaml_file_too_large_is_refused_saying_what_to_do(tmp_path: Path):
    f = tmp_path / "huge.yaml"
    with open(f, "w") as out:
        out.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n")
        line = "  k: " + "v" * 1000 + "\n"
        out.write(line * (65 * 1024 * 1024 // len(line) + 1))
    rc, out, err, _ = run_check(f)
    assert rc == 1 and "Traceback" not in err
    [e] = assert_located(err, f)
    assert e.startswith(f"{f}:1:1: error: file: file is 65.0 MiB, more than the 64 MiB a YAML file may have: split it")
    assert "kubectl get -o json" in e


def test_not_utf8(tmp_path: Path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    rc, out, err, _ = run_check(f)
    assert rc == 1 and "Traceback" not in err
    [e] = assert_located(err, f)
    assert e.startswith(f"{f}:3:") and "UTF-8" in e


def test_missing_file(tmp_path: Path):
    f = tmp_path / "nope.yaml"
    rc, out, err, _ = run_check(f)
    assert rc == 1 and "Traceback" not in err
    [e] = assert_located(err, f)
    assert e == f"{f}:1:1: error: file: cannot read: No such file or directory"


def test_errors_of_every_file_at_once(tmp_path: Path):
    """Two bad files, one good: both bad files' errors, in one answer."""
    good, bad1, bad2 = tmp_path / "good.yaml", tmp_path / "bad1.yaml", tmp_path / "bad2.yaml"
    good.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n")
    bad1.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Fine}\n")
    bad2.write_text("apiVersion: v1\nkind: Sevice\nmetadata: {name: web}\n")
    rc, out, err, _ = run_check(good, bad1, bad2)
    assert rc == 1 and "Traceback" not in err
    errors = error_lines(err)
    assert [e.split(": error:")[0] for e in errors] == [f"{bad1}:3:18", f"{bad2}:2:7"]
    assert all(FORMAT.match(e) for e in errors)
    assert err.splitlines()[-1] == "2 errors"


def test_bad_file_inside_a_directory(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "b.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "B"}}\n')
    rc, out, err, _ = run_check(tmp_path)
    assert rc == 1
    [e] = assert_located(err, tmp_path / "b.json")
    assert e.startswith(f"{tmp_path / 'b.json'}:1:") and "metadata.name" in e


def test_good_file_passes(tmp_path: Path):
    rc, out, err, _ = run_check(Path(__file__).parent.parent / "topologies" / "01-switch.yaml")
    assert rc == 0, err
    assert out.startswith("ok: topology switch")


# -- in process: exact paths, lines and columns ----------------------------------------------

def problems(text: str, name: str = "t.yaml") -> list[tuple[int, int, str, str]]:
    """(line, col, path, message) of every error loading ``text``."""
    with pytest.raises(LoadError) as e:
        load([name], texts={name: text})
    for p in e.value.problems:
        assert p.mark.file == name
        assert FORMAT.match(str(p)), str(p)
    return [(p.mark.line, p.mark.col, p.path, p.message) for p in e.value.problems]


TOPO = "apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\n"


def test_unknown_fields_at_every_level():
    text = TOPO + (
        "hostz: []\n"                              # 4
        "hosts:\n"
        "- name: a\n"
        "  interfaces:\n"
        "  - {name: eth0, adress: 10.0.0.1/24}\n"  # 8
        "  routes:\n"
        "  - {to: default, dev: eth0, gw: 10.0.0.254}\n"  # 10
    )
    got = problems(text)
    assert [(ln, col, path) for ln, col, path, _ in got] == [
        (4, 1, "hostz"),
        (8, 18, "hosts[0].interfaces[0].adress"),
        (10, 30, "hosts[0].routes[0].gw"),
    ]
    assert got[0][3] == 'unknown field "hostz" (did you mean "hosts"?)'
    assert got[1][3] == 'unknown field "adress" (did you mean "address"?)'
    assert got[2][3].startswith('unknown field "gw"')


def test_duplicate_keys_all_reported_with_their_paths():
    text = TOPO + (
        "hosts:\n"
        "- name: a\n"
        "  name: b\n"              # 6
        "  interfaces:\n"
        "  - {name: eth0, name: eth1}\n"  # 8
        "hosts: []\n"              # 9
    )
    got = problems(text)
    assert [(ln, col, path) for ln, col, path, _ in got] == [
        (6, 3, "hosts[0].name"),
        (8, 18, "hosts[0].interfaces[0].name"),
        (9, 1, "hosts"),
    ]
    assert got[0][3] == "duplicate key 'name' (first at line 5)"


def test_all_errors_of_all_documents_at_once():
    text = (
        TOPO
        + "hosts:\n- name: a\n  forwarding: yes please\n"                     # 6
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: Web}\n"        # 10
        + "spec: {ports: [{port: 0, protocol: tcp}]}\n"                        # 11
        + "---\napiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n"  # 14
    )
    got = problems(text)
    assert [(ln, path) for ln, _, path, _ in got] == [
        (6, "hosts[0].forwarding"),
        (10, "metadata.name"),
        (11, "spec.ports[0].port"),
        (11, "spec.ports[0].protocol"),
        (14, "kind"),
    ]
    assert "true or false" in got[0][3]
    assert got[3][3] == 'unsupported value "tcp": one of TCP, UDP, SCTP (did you mean "TCP"?)'
    assert got[4][3] == 'unknown kind "Deploymnet" for apiVersion apps/v1 (did you mean "Deployment"?)'


def test_an_invalid_gateway_is_reported_once():
    """A via that is not an address is one error, not also "a route needs a gateway"."""
    got = problems(TOPO + "hosts:\n- name: a\n  interfaces: [{name: eth0, address: 10.0.0.1/24}]\n"
                          "  routes: [{to: default, via: 10.0.0.256}]\n")
    assert got == [(7, 31, "hosts[0].routes[0].via", '"10.0.0.256" is not an IP address')]


def test_a_route_without_via_or_dev():
    got = problems(TOPO + "hosts:\n- name: a\n  interfaces: [{name: eth0, address: 10.0.0.1/24}]\n"
                          "  routes: [{to: default}]\n")
    assert got == [(7, 12, "hosts[0].routes[0]", "a route needs a gateway (via) or a device (dev)")]


def test_unreachable_gateway_in_a_namespace():
    text = TOPO + (
        "hosts:\n"
        "- name: host\n"
        "  bridges: [{name: br0, address: 10.1.0.1/24}]\n"
        "  namespaces:\n"
        "  - name: red\n"
        "    interfaces: [{name: veth0, bridge: br0, address: 10.1.0.2/24}]\n"
        "    routes:\n"
        "    - to: default\n"
        "      via: 10.2.0.1\n"  # 12
    )
    [(ln, col, path, msg)] = problems(text)
    assert (ln, col, path) == (12, 12, "hosts[0].namespaces[0].routes[0].via")
    assert "Nexthop has invalid gateway" in msg and "10.2.0.1" in msg


def test_duplicate_addresses_and_names_across_files():
    a = TOPO + "networks: [{name: lan}]\nhosts:\n- name: a\n  interfaces: [{name: eth0, network: lan, address: 10.0.0.1/24}]\n"
    b = ("apiVersion: kubenet/v1\nkind: Topology\nnetworks: [{name: lan}]\nhosts:\n"
         "- name: a\n- name: b\n  interfaces: [{name: eth0, network: lan, address: 10.0.0.1/24}]\n")
    with pytest.raises(LoadError) as e:
        load(["a.yaml", "b.yaml"], texts={"a.yaml": a, "b.yaml": b})
    got = [(p.mark.file, p.mark.line, p.path, p.message) for p in e.value.problems]
    assert got == [
        ("b.yaml", 3, "networks[0].name", 'duplicate network "lan" (first at a.yaml:4:12)'),
        ("b.yaml", 5, "hosts[0].name", 'duplicate name "a": already a host (line 6 of a.yaml)'),
    ]
    # with the names fixed, the address used twice on one network is found
    b2 = b.replace("networks: [{name: lan}]\n", "").replace("- name: a\n", "")
    with pytest.raises(LoadError) as e:
        load(["a.yaml", "b.yaml"], texts={"a.yaml": a, "b.yaml": b2})
    [p] = e.value.problems
    assert (p.mark.file, p.mark.line, p.path) == ("b.yaml", 5, "hosts[0].interfaces[0].address")
    assert p.message == "duplicate address 10.0.0.1 on lan: a eth0 has it too"


def test_list_item_errors_carry_the_item_path():
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
        "not an object",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": {"app": 5}}},
    ]}
    text = json.dumps(doc, indent=1)
    got = problems(text, "dump.json")
    paths = [path for _, _, path, _ in got]
    assert paths == ["items[1]", "items[2].metadata.name", "items[3].metadata.labels.app"]
    assert got[0][3] == "expected a mapping with apiVersion and kind, got a string"
    assert got[1][3].startswith('duplicate Pod "p" (first at dump.json:')
    assert got[2][3] == "a label value is a string, got an integer (quote it)"


def test_problem_str_is_the_cli_line():
    with pytest.raises(LoadError) as e:
        load(["x.yaml"], texts={"x.yaml": "apiVersion: v1\nkind: Sevrice\nmetadata: {name: web}\n"})
    assert str(e.value) == 'x.yaml:2:7: error: kind: unknown kind "Sevrice" for apiVersion v1 (did you mean "Service"?)'
    assert e.value.problems[0].to_dict() == {
        "file": "x.yaml", "line": 2, "col": 7, "severity": "error", "path": "kind",
        "message": 'unknown kind "Sevrice" for apiVersion v1 (did you mean "Service"?)',
    }


def test_yaml_tags_never_construct_anything(tmp_path: Path):
    sentinel = tmp_path / "pwned"
    text = f'apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: !!python/object/apply:os.system ["touch {sentinel}"]\n'
    [(ln, col, path, msg)] = problems(text)
    assert (ln, col, path) == (4, 7, "yaml") and "not allowed" in msg
    assert not sentinel.exists()


# -- in process: what must load ---------------------------------------------------------------

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"


def test_several_documents_in_one_file():
    text = (TOPO + "networks: [{name: lan, cidr: 10.0.0.0/24}]\n"
            "hosts: [{name: a, interfaces: [{name: eth0, network: lan, address: 10.0.0.1/24}]}]\n"
            "---\n" + SERVICE + "---\n"
            "# only a comment: an empty document is skipped\n"
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v}\n"
            "...\n")
    loaded = load(["multi.yaml"], texts={"multi.yaml": text})
    t = loaded.topology
    assert t.name == "t"
    assert [h.name for h in t.hosts] == ["a"]
    assert [(o.kind, o.name, o.namespace) for o in t.objects] == [("Service", "web", "shop"), ("ConfigMap", "cfg", "default")]
    assert t.objects[0].mark.line == 7
    assert t.files == ("multi.yaml",)
    assert [w.severity for w in loaded.warnings] == ["note"]  # the ConfigMap is not used by the simulation


def test_topology_split_over_documents():
    text = (TOPO + "networks: [{name: lan, cidr: 10.0.0.0/24}]\n---\n"
            "apiVersion: kubenet/v1\nkind: Topology\n"
            "hosts: [{name: a, interfaces: [{name: eth0, network: lan, address: 10.0.0.1/24}]}]\n")
    t = load(["split.yaml"], texts={"split.yaml": text}).topology
    assert [n.name for n in t.networks] == ["lan"]
    assert t.hosts[0].interfaces[0].network == "lan"


def test_directory_in_name_order(tmp_path: Path):
    d = tmp_path / "manifests"
    d.mkdir()
    (d / "b-topology.yml").write_text(TOPO + "hosts: [{name: a}]\n")
    (d / "a-service.yaml").write_text(SERVICE)
    (d / "c-dump.json").write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}))
    (d / "notes.txt").write_text("not loaded: {{{")
    (d / "README.md").write_text("# not loaded\n")
    (d / "sub.yaml").mkdir()  # a directory with a YAML-looking name is not a file
    (d / "sub.yaml" / "x.yaml").write_text("not: loaded: at all")
    extra = tmp_path / "extra.yaml"
    extra.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")

    assert expand([str(d)]) == [str(d / "a-service.yaml"), str(d / "b-topology.yml"), str(d / "c-dump.json")]
    loaded = load([str(extra), str(d)])  # -f repeats: the files in the order given, a directory's in name order
    t = loaded.topology
    assert t.files == (str(extra), str(d / "a-service.yaml"), str(d / "b-topology.yml"), str(d / "c-dump.json"))
    assert [o.kind for o in t.objects] == ["Namespace", "Service", "ConfigMap"]
    assert [h.name for h in t.hosts] == ["a"]


def test_kubectl_json_list():
    dump = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "kubernetes", "namespace": "default", "uid": "0b5c", "resourceVersion": "196",
                          "creationTimestamp": "2024-05-01T10:00:00Z", "labels": {"component": "apiserver", "provider": "kubernetes"}},
             "spec": {"clusterIP": "10.96.0.1", "type": "ClusterIP", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
             "status": {"loadBalancer": {}}},
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "coredns", "namespace": "kube-system", "annotations": {"deployment.kubernetes.io/revision": "1"}},
             "spec": {"replicas": 2}},
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1.example.com"}},
        ],
    }
    t = load(["dump.json"], texts={"dump.json": json.dumps(dump, indent=2)}).topology
    assert [(o.api_version, o.kind, o.name, o.namespace) for o in t.objects] == [
        ("v1", "Service", "kubernetes", "default"),
        ("apps/v1", "Deployment", "coredns", "kube-system"),
        ("v1", "Node", "node-1.example.com", None),
    ]
    assert t.objects[0].body["spec"]["ports"][0]["targetPort"] == 6443  # kept whole
    assert t.objects[0].mark.line > 1


def test_topology_in_json():
    topo = {"apiVersion": "kubenet/v1", "kind": "Topology", "metadata": {"name": "j"},
            "networks": [{"name": "lan", "cidr": "10.0.0.0/24"}],
            "hosts": [{"name": "a", "interfaces": [{"name": "eth0", "network": "lan", "address": "10.0.0.1/24"}]}]}
    t = load(["t.json"], texts={"t.json": json.dumps(topo)}).topology
    assert t.name == "j" and t.hosts[0].interfaces[0].addresses[0].ip.exploded == "10.0.0.1"


def test_other_api_groups_are_kept_with_a_warning():
    """Kinds of other projects' groups are theirs, even when they look like ours (no "did you mean")."""
    text = "\n---\n".join(
        f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\nspec: {{}}"
        for api, kind in [
            ("cilium.io/v2", "CiliumNetworkPolicy"),
            ("monitoring.coreos.com/v1", "ServiceMonitor"),
            ("traefik.io/v1alpha1", "IngressRoute"),
            ("crd.projectcalico.org/v1", "NetworkPolicy"),
            ("gateway.networking.k8s.io/v1", "HTTPRoute"),
            ("rbac.authorization.k8s.io/v1", "Role"),
        ]
    ) + "\n"
    loaded = load(["crd.yaml"], texts={"crd.yaml": text})
    assert [o.kind for o in loaded.topology.objects] == [
        "CiliumNetworkPolicy", "ServiceMonitor", "IngressRoute", "NetworkPolicy", "HTTPRoute", "Role"]
    assert [(w.severity, w.mark.line, w.path) for w in loaded.warnings] == [
        ("note", 2 + 5 * i, "kind") for i in range(6)]
    assert loaded.warnings[0].message == "cilium.io/v2 CiliumNetworkPolicy is not used by the simulation: skipped"


def test_core_kinds_beyond_the_simulated_ones_load():
    text = "\n---\n".join(
        f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: data-1}}\nspec: {{}}"
        for api, kind in [
            ("v1", "PersistentVolumeClaim"), ("v1", "PersistentVolume"), ("v1", "ResourceQuota"),
            ("v1", "LimitRange"), ("v1", "ReplicationController"), ("apps/v1", "StatefulSet"),
        ]
    ) + "\n"
    loaded = load(["core.yaml"], texts={"core.yaml": text})
    assert [(o.kind, o.namespace) for o in loaded.topology.objects] == [
        ("PersistentVolumeClaim", "default"), ("PersistentVolume", None), ("ResourceQuota", "default"),
        ("LimitRange", "default"), ("ReplicationController", "default"), ("StatefulSet", "default")]
    assert [w.message for w in loaded.warnings] == [  # read (and validated), then noted as not simulated
        f"v1 {k} is not used by the simulation: skipped"
        for k in ("PersistentVolumeClaim", "PersistentVolume", "ResourceQuota", "LimitRange", "ReplicationController")]


def test_kubernetes_own_groups_are_strict():
    text = ("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n---\n"   # 1-4
            "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: i}\n---\n"  # 5-8
            "apiVersion: networking.k8s.io/v1\nkind: Ingres\nmetadata: {name: i}\n---\n"  # 9-12
            "apiVersion: app/v1\nkind: Deploymnet\nmetadata: {name: d}\n")  # 13
    got = problems(text)
    assert [(ln, path) for ln, _, path, _ in got] == [(1, "apiVersion"), (5, "apiVersion"), (10, "kind"), (14, "kind")]
    assert got[0][3] == 'Deployment is served as apiVersion apps/v1, not "extensions/v1beta1"'
    assert got[2][3].endswith('(did you mean "Ingress"?)')
    assert got[3][3].endswith('(did you mean "Deployment"?)')


@pytest.mark.parametrize("text, says", [
    ("apiVersion: v1\nkind: Zebra\nmetadata: {name: a}\n",
     'unknown kind "Zebra" for apiVersion v1: apiVersion v1 serves ConfigMap, Endpoints, LimitRange, Namespace, Node, '
     "PersistentVolume, PersistentVolumeClaim, Pod, PodTemplate, ReplicationController, ResourceQuota, Secret, Service, "
     "ServiceAccount; a custom resource's apiVersion names its own group (it is then kept, not simulated)"),
    ("apiVersion: kubenet/v1\nkind: Zebra\n", 'unknown kind "Zebra" for apiVersion kubenet/v1: its one kind is Topology'),
])
def test_an_unknown_kind_says_what_the_api_version_serves(text: str, says: str):
    with pytest.raises(LoadError) as e:
        load(["x.yaml"], {"x.yaml": text})
    assert [p.message for p in e.value.problems] == [says]


def test_a_custom_resource_is_kept_not_simulated():
    got = load(["x.yaml"], {"x.yaml": "apiVersion: example.com/v1\nkind: Zebra\nmetadata: {name: a}\n"})
    assert [(o.api_version, o.kind, o.name) for o in got.topology.objects] == [("example.com/v1", "Zebra", "a")]


def test_a_big_json_list_of_wrong_items_lists_1000_errors_and_counts_the_rest(tmp_path: Path):
    """Over 4 MiB (the JSON List reader, a piece at a time): the same cap as a small file's, the rest counted."""
    f = tmp_path / "strings.json"
    f.write_text('{"apiVersion": "v1", "kind": "List", "items": [' + ", ".join(['"' + "x" * 1000 + '"'] * 5000) + "]}")
    assert f.stat().st_size > 4 << 20
    rc, out, err, _ = run_check(f)
    assert rc == 1 and "Traceback" not in err
    errors = assert_located(err, f)
    assert len(errors) == 1001
    assert errors[0] == f"{f}:1:48: error: items[0]: expected a mapping with apiVersion and kind, got a string"
    assert errors[-1].endswith("error: file: 4,000 more errors not listed (the first 1,000 are): fix those and check again")


def test_an_endless_device_is_refused_at_the_size_limit_not_read_without_end(capsys):
    from tui.cli import main

    with pytest.raises(SystemExit) as e:
        main(["check", "-f", "/dev/zero"])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("/dev/zero:1:1: error: file: file is 64.0 MiB, more than the 64 MiB a YAML file may have")
