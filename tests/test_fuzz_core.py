"""Fuzzing the core (issue #9): mutated topologies through the loader and the simulator, and random questions.

Three properties, each bounded for CI (the whole file takes well under a minute on two cores):

1. a topology mutated as data (a key deleted, a value of the wrong type, a huge number, a malformed address,
   a duplicated item, an unknown key, a wrong kind or apiVersion), written back as YAML or JSON, either loads,
   and then the simulator compiles it and answers questions, or raises a LoadError whose every problem is
   located (``FILE:LINE:COL: error: field.path: message``);
2. the same for the bundled YAML mutated as text (characters inserted, deleted or replaced, truncation,
   tabs, stray colons, unicode, NUL bytes, invalid UTF-8);
3. random trace, resolve and http questions to valid topologies (the bundled ones and small generated
   clusters) always get a verdict, or the clean error the CLI prints (a QueryError); a few go through the
   CLI in process, whose exit code is 0, 1 or 2 and which never prints a traceback.

``KUBENET_FUZZ_EXAMPLES=N`` multiplies every example count by N for a longer local run, e.g.
``KUBENET_FUZZ_EXAMPLES=50 pytest tests/test_fuzz_core.py``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import ipaddress
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from tui import cli
from tui.dns.dig import resolution_dict, resolution_text
from tui.dns.records import FORMERR, NOERROR, NOTIMP, NXDOMAIN, REFUSED, SERVFAIL, reverse_name
from tui.dns.resolver import ResolverError, resolve
from tui.ingress.controllers import is_ingress
from tui.ingress.request import RequestError, parse_headers, send
from tui.k8s.generate import Params, chunks
from tui.load import LoadError, load
from tui.report import trace_text
from tui.sim import mapview
from tui.sim.query import QueryError, routes, trace

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MULTIPLIER = max(1, int(os.environ.get("KUBENET_FUZZ_EXAMPLES", "1") or 1))
LOCATED = re.compile(r"^.+:\d+:\d+: error: \S.*: .+$")
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # YAML 1.1's line breaks, which its marks count
RCODES = {NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP}


def _event(what: str) -> None:
    """A statistic (``--hypothesis-show-statistics``): how often each outcome came up."""
    if currently_in_test_context():
        event(what)


def fuzz(examples: int):
    """Bounded, reproducible hypothesis settings (``KUBENET_FUZZ_EXAMPLES`` multiplies the count)."""
    return settings(max_examples=examples * MULTIPLIER, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


BUNDLED = sorted(_rel(p) for p in (ROOT / "topologies").glob("*.yaml"))
# Each corpus is a list of files loaded together; the mutation hits one of them.
CORPORA: list[tuple[str, ...]] = [(f,) for f in BUNDLED] + [
    (_rel(DATA / "dumps" / "kind-dump.yaml"),),
    (_rel(DATA / "dumps" / "kind-dump.json"),),
    (_rel(DATA / "ingress" / "cluster.yaml"),),
    (_rel(DATA / "ingress" / "features.yaml"),),
    (_rel(DATA / "ingress" / "wildcard.yaml"),),
    (_rel(DATA / "ingress" / "nginx-controller.yaml"),),
    ("topologies/04-two-node-cluster.yaml", _rel(DATA / "ingress" / "web-ingress.yaml")),
    (_rel(DATA / "netpol" / "scenarios" / "np-06-namespace-selector" / "resources.yaml"),),
    (_rel(DATA / "netpol" / "scenarios" / "np-13-named-port-ingress" / "resources.yaml"),),
    (_rel(DATA / "dns" / "cluster.yaml"),),
]


@functools.cache
def _text(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


@functools.cache
def _plain(path: str) -> tuple:
    """A file as plain data: its documents (a JSON file is one document)."""
    if path.endswith(".json"):
        return (json.loads(_text(path)),)
    return tuple(d for d in yaml.load_all(_text(path), Loader=yaml.CSafeLoader) if d is not None)


# -- the properties' checks ------------------------------------------------------------------------------

def _assert_located(err: LoadError, texts: dict) -> None:
    assert err.problems, "a LoadError without problems"
    for p in err.problems:
        assert p.mark.file in texts, f"{p}: not one of the files loaded ({sorted(texts)})"
        assert isinstance(p.mark.line, int) and p.mark.line >= 1, str(p)
        assert isinstance(p.mark.col, int) and p.mark.col >= 1, str(p)
        text = texts[p.mark.file]
        lines = len(LINE_BREAK.findall(text.decode("utf-8", "replace") if isinstance(text, bytes) else text)) + 2
        assert p.mark.line <= lines, f"{p}: line {p.mark.line} is past the end of the file ({lines - 1} lines)"
        assert p.path and p.path.strip(), f"{p}: no field path"
        assert p.message and p.message.strip(), f"{p}: no message"
        assert p.severity == "error", str(p)
        assert LOCATED.match(str(p)), f"not FILE:LINE:COL: error: field.path: message: {str(p)!r}"


def _load_or_located(texts: dict):
    """The topology of ``texts`` ({file: text}), as ``check`` loads it; None when it is a located error."""
    files = list(texts)
    try:
        loaded = load(files, texts=texts)
    except LoadError as e:
        _assert_located(e, texts)
        _event("load: located errors")
        return None
    _event("load: loaded")
    for w in loaded.warnings:  # warnings and notes are located too
        assert w.mark.file in texts and w.mark.line >= 1 and w.mark.col >= 1 and w.message, str(w)
    return loaded


def _assert_trace(t) -> None:
    assert t.verdict in ("delivered", "dropped"), t.verdict
    if t.verdict == "dropped":
        assert isinstance(t.reason, str) and t.reason.strip(), f"dropped without a reason: {t.to_dict()}"
    else:
        assert t.delivered_to, f"delivered to nobody: {t.to_dict()}"
    if t.reply is not None:
        _assert_trace(t.reply)
    json.dumps(t.to_dict())
    trace_text(t, "trace")


def _ask_trace(net, src, dst, proto="tcp", port=None, ttl=64, endpoint=None):
    """``kubenet-tui trace`` without the printing: a verdict, or the QueryError the CLI prints (None)."""
    try:
        t = trace(net, src, dst, proto, port, ttl, endpoint)
    except QueryError as e:
        assert str(e).strip()
        _event("trace: QueryError")
        return None
    _assert_trace(t)
    _event(f"trace: {t.verdict}")
    return t


def _ask_resolve(net, pod, name, qtype="A", reverse=None):
    """``kubenet-tui resolve`` without the printing (its checks, then the resolver): an answer or None (a QueryError)."""
    try:
        qtype = cli._qtype(qtype)
        if reverse is not None:
            try:
                name, qtype = reverse_name(reverse), "PTR"
            except ValueError:
                return None  # "-x IP: not an IP address"
        if cli._name_problem(name):
            return None  # "is not a domain name"
        if net.cluster is None:
            return None  # "the topology has no Kubernetes cluster"
        zone = net.dns_zone()
        res = resolve(zone, zone.cluster, pod, name, qtype)
    except (QueryError, ResolverError) as e:  # (cmd_resolve turns a ResolverError into a QueryError)
        assert str(e).strip()
        _event("resolve: error")
        return None
    _event(f"resolve: {res.final.rcode}{' (records)' if res.final.answer else ''}")
    assert res.tries, res
    assert res.final.rcode in RCODES, res.final.rcode
    if res.final.rcode == NOERROR and not res.final.answer:
        assert res.final.nodata
    json.dumps(resolution_dict(res))
    resolution_text(res)
    return res


def _ask_http(loaded, net, url, headers=(), client=None, ingress_class=None):
    """``kubenet-tui http`` without the printing: a routing decision or None (a RequestError, which cmd_http turns
    into a QueryError)."""
    try:
        host = parse_headers(list(headers))
        ex = send(loaded.topology, url, host, client, ingress_class, net=net)
    except (RequestError, QueryError) as e:
        assert str(e).strip()
        _event("http: error")
        return None
    d = ex.decision
    _event(f"http: {d.status}")
    assert isinstance(d.status, int) and 100 <= d.status <= 599, d.status
    assert d.reason and d.reason.strip(), d.to_dict()
    for step in d.trace:
        if "verdict" in step:
            assert step["verdict"] in ("delivered", "dropped"), step
            assert step["verdict"] == "delivered" or step["reason"], step
    json.dumps(d.to_dict())
    cli._http_text(d, ex.client)
    return d


def _reach(net, port, proto="TCP", src=None, dst=None):
    """``kubenet-tui reach`` without the printing: a verdict for every pair, or the clean error cmd_reach prints."""
    from tui.netpol.command import pairs_text, table_text
    from tui.netpol.evaluate import NetpolError, NetpolIndex, matrix
    from tui.netpol.policy import PolicyError

    if net.cluster is None:
        return
    try:
        ix = NetpolIndex(net.cluster)
        if not ix.pods:
            return
        srcs = [ix.end(src)] if src else list(ix.pods.values())[:6]
        dsts = [ix.end(dst)] if dst else list(ix.pods.values())[:6]
        verdicts = list(matrix(ix, port, proto, srcs, dsts).values())
    except (NetpolError, PolicyError) as e:  # (cmd_reach turns both into a QueryError)
        assert str(e).strip()
        return
    for v in verdicts:
        assert isinstance(v.allowed, bool) and v.egress_summary and v.ingress_summary, v.to_dict()
        json.dumps(v.to_dict())
    pairs_text(verdicts, port, proto)
    if not src and not dst:
        table_text(verdicts, sorted({v.src for v in verdicts} | {v.dst for v in verdicts}), port, proto, len(ix.policies))


def _exercise(loaded, rnd) -> None:
    """What the commands do with a topology that loaded: compile it, trace, route, resolve, send HTTP, reach."""
    net = cli._network(loaded)
    net.compile_nodes()  # (every node, as the map and the dashboard's tree want them)
    mapview.map_text(net)
    names = sorted(net.namespaces)
    picked = rnd.sample(names, min(len(names), 4))
    for n in picked:
        ns = net.namespaces[n]  # (compiles a node on demand)
        routes(net, n, [str(ip) for ip in (ns.primary_address(4), ns.primary_address(6)) if ip is not None] + ["8.8.8.8"])
    for src in picked[:3]:
        dst = rnd.choice(names + ["8.8.8.8", "10.96.0.10:53", "svc/kubernetes.default"])
        _ask_trace(net, src, dst, rnd.choice(["tcp", "udp", "icmp"]))
    if net.cluster is not None:
        pods = [f"{p.namespace}/{p.name}" for p in net.cluster.pods][:50]
        svcs = [f"{s.name}.{s.namespace}" for s in net.cluster.services][:50]
        for name in rnd.sample(svcs, min(2, len(svcs))) + ["kubernetes.default.svc.cluster.local"]:
            _ask_resolve(net, None, name, rnd.choice(["A", "AAAA", "SRV", "ANY"]))
            if pods:
                _ask_resolve(net, rnd.choice(pods), name.split(".")[0])
                _ask_trace(net, rnd.choice(pods), name.split(".")[0])
        _reach(net, rnd.choice([53, 80, 443, 8080]), rnd.choice(["TCP", "UDP"]))
    if any(is_ingress(o) for o in loaded.topology.objects):
        for url in ("http://" + (_ingress_hosts(loaded.topology)[:1] or ["x.example"])[0] + "/", "https://nohost.example/a"):
            _ask_http(loaded, net, url)


def _ingress_hosts(topo) -> list[str]:
    hosts = []
    for o in topo.objects:
        if o.kind == "Ingress" and isinstance(o.body.get("spec"), dict):
            for r in o.body["spec"].get("rules") or []:
                if isinstance(r, dict) and isinstance(r.get("host"), str):
                    hosts.append(r["host"])
    return hosts


def _ingress_paths(topo) -> list[str]:
    paths = []
    for o in topo.objects:
        if o.kind == "Ingress" and isinstance(o.body.get("spec"), dict):
            for r in o.body["spec"].get("rules") or []:
                for p in ((r.get("http") or {}).get("paths") or []) if isinstance(r, dict) else []:
                    if isinstance(p, dict) and isinstance(p.get("path"), str):
                        paths.append(p["path"])
    return paths


# -- 1. structural mutations ------------------------------------------------------------------------------

BAD_ADDRESSES = [
    "10.0.0.256", "10.0.0.1/33", "10.0.0.0/8/8", "1.2.3", "1.2.3.4.5", "10.0.0.1/-1", "::g", "fd00::/129", "fd00::1/64",
    "10.0.0.1/24", "10.0.0.0/24", "10.0.0.255/24", "0.0.0.0/0", "0.0.0.0", "255.255.255.255", "::", "::/0", "127.0.0.1",
    "169.254.0.1/16", "224.0.0.1", "10.0.0.1 ", " 10.0.0.1", "10.0.0.01", "0x0a.0.0.1", "10.1", "10.0.0.1/24,10.0.0.2/24",
    "10.244.0.0/16,fd00::/56", "fd00::1,10.0.0.1", "default", "10.0.0.1:80", "[fd00::1]:80", "fe80::1%eth0", "10.96.0.10",
    "192.168.1.1", "192.168.1.0/24", "10.244.1.0/24",
]
BAD_STRINGS = BAD_ADDRESSES + [
    "", " ", "\t", "-", "*", ".", "..", "0", "-1", "1e3", "yes", "no", "on", "null", "~", "true", "NaN", ".inf", "<<",
    "ünïcödé", "名前", "a" * 64, "a" * 300, "x\x00y", "\x00", "a:b", "a b", "Upper_Case", "a/b", "-leading", "trailing-",
    "kube-system", "default", "eth0", "lo", "cni0", "docker0", "TCP", "UDP", "SCTP", "tcp", "HTTP", "ClusterIP", "NodePort",
    "LoadBalancer", "ExternalName", "Prefix", "Exact", "ImplementationSpecific", "None", "ClusterFirst", "iptables", "ipvs",
    "calico", "flannel", "cilium", "bridge", "nginx", "v1", "kubenet/v1", "List", "Topology", "kube-dns", "http", "80",
]
KINDS = ["Topology", "List", "Node", "Pod", "Service", "Namespace", "Deployment", "ReplicaSet", "Ingress", "IngressClass",
         "NetworkPolicy", "ConfigMap", "Secret", "EndpointSlice", "Endpoints", "DaemonSet", "StatefulSet", "Job", "Foo", "",
         "pod", "service"]
API_VERSIONS = ["v1", "kubenet/v1", "kubenet/v2", "apps/v1", "networking.k8s.io/v1", "networking.k8s.io/v1beta1",
                "discovery.k8s.io/v1", "extensions/v1beta1", "v2", "", "batch/v1"]
KEYS = ["name", "namespace", "address", "cidr", "network", "via", "to", "dev", "port", "targetPort", "nodePort", "protocol",
        "type", "selector", "labels", "spec", "metadata", "status", "items", "hosts", "networks", "interfaces", "routes",
        "cluster", "podCIDR", "serviceCIDR", "podIP", "clusterIP", "clusterIPs", "ports", "rules", "host", "path",
        "containers", "bridge", "peer", "iptables", "role", "nodeName", "hostNetwork", "replicas", "unknownField", "x", "<<"]
# the fields worth hitting most: names, references, addresses, ports, kinds
INTERESTING = {"name", "namespace", "address", "addresses", "cidr", "network", "via", "to", "dev", "port", "targetPort",
               "nodePort", "protocol", "type", "podCIDR", "podCIDRs", "serviceCIDR", "podIP", "podIPs", "clusterIP",
               "clusterIPs", "host", "hostIP", "path", "pathType", "bridge", "peer", "kind", "apiVersion", "nodeName",
               "selector", "matchLabels", "ip", "gateway", "containerPort", "replicas", "cni", "nodeCIDRMaskSize",
               "loadBalancerIP", "loadBalancerPool", "ingressClassName", "hostNetwork", "dnsPolicy", "metric", "table",
               "rules", "ports", "items", "hosts", "interfaces", "routes", "networks", "containers", "cluster", "backend",
               "service", "number", "from", "ingress", "egress", "podSelector", "namespaceSelector", "ipBlock", "except",
               "Corefile", "forwarding", "role", "tls", "secretName", "defaultBackend", "policyTypes", "endPort"}

scalars = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from([0, -1, 1, 65535, 65536, 2**31, 2**32, 2**63, -2**63, 2**64 + 1, 10**30, -10**30]),
    st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(BAD_STRINGS),
    st.text(max_size=24),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=3), max_leaves=6)
OPS = ["delete", "replace", "replace", "address", "tweak", "duplicate", "unknown_key", "kind", "api_version", "swap", "empty"]


def _paths(value, prefix=(), out=None) -> list[tuple]:
    """The path of every value in the tree (a tuple of keys and indexes)."""
    out = [] if out is None else out
    out.append(prefix)
    if isinstance(value, dict):
        for k, v in value.items():
            _paths(v, (*prefix, k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _paths(v, (*prefix, i), out)
    return out


def _at(root, path):
    for k in path:
        root = root[k]
    return root


def _set(root, path, value):
    if not path:
        return value
    _at(root, path[:-1])[path[-1]] = value
    return root


def _tweak(value, data):
    """A small change of a valid value: a number off by a lot or a little, a digit of an address, a letter."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return data.draw(st.sampled_from([value + 1, value - 1, -value, value * 1000, value + 65536, 0, str(value)]))
    if isinstance(value, str) and value:
        i = data.draw(st.integers(0, len(value) - 1))
        ch = data.draw(st.sampled_from("0123456789./:-_aZ \u00e9x" + value))
        return data.draw(st.sampled_from([value[:i] + ch + value[i + 1:], value[:i] + value[i + 1:], value + ch,
                                          value.upper(), value + "." + value]))
    return data.draw(values)


def _mutate(doc, data):
    """One structural mutation of ``doc`` (a document as plain data); returns the new document."""
    paths = _paths(doc)
    focus = [p for p in paths if p and isinstance(p[-1], str) and p[-1] in INTERESTING]
    pool = focus if focus and data.draw(st.booleans(), label="focus") else paths
    path = pool[data.draw(st.integers(0, len(pool) - 1), label="path")]
    op = data.draw(st.sampled_from(OPS), label="op")
    here = _at(doc, path)
    if op == "delete" and path:
        parent = _at(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if op == "address":
        return _set(doc, path, data.draw(st.sampled_from(BAD_ADDRESSES)))
    if op == "tweak":
        return _set(doc, path, _tweak(here, data))
    if op == "duplicate":
        lists = [p for p in paths if isinstance(_at(doc, p), list) and _at(doc, p)]
        if lists:
            lst = _at(doc, lists[data.draw(st.integers(0, len(lists) - 1))])
            lst.append(copy.deepcopy(lst[data.draw(st.integers(0, len(lst) - 1))]))
            return doc
    if op == "unknown_key":
        maps = [p for p in paths if isinstance(_at(doc, p), dict)]
        if maps:
            m = _at(doc, maps[data.draw(st.integers(0, len(maps) - 1))])
            m[data.draw(st.sampled_from(KEYS) | st.text(min_size=1, max_size=10))] = data.draw(values)
            return doc
    if op in ("kind", "api_version"):
        maps = [p for p in paths if isinstance(_at(doc, p), dict) and ("kind" in _at(doc, p) or "apiVersion" in _at(doc, p))]
        if maps:
            m = _at(doc, maps[data.draw(st.integers(0, len(maps) - 1))])
            if op == "kind":
                m["kind"] = data.draw(st.sampled_from(KINDS))
            else:
                m["apiVersion"] = data.draw(st.sampled_from(API_VERSIONS))
            return doc
    if op == "swap" and len(paths) > 1:
        other = paths[data.draw(st.integers(0, len(paths) - 1))]
        if other[:len(path)] != path and path[:len(other)] != other:
            return _set(doc, path, copy.deepcopy(_at(doc, other)))
    if op == "empty":
        return _set(doc, path, data.draw(st.sampled_from([None, "", [], {}])))
    return _set(doc, path, data.draw(values))


def _dump(docs: list, as_json: bool) -> str:
    if as_json:
        one = docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": docs}
        return json.dumps(one, indent=1, default=str)
    return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


def _mutated_texts(corpus: tuple[str, ...], data) -> dict:
    target = corpus[data.draw(st.integers(0, len(corpus) - 1), label="file")]
    docs = copy.deepcopy(list(_plain(target)))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        if not docs:
            break
        if data.draw(st.integers(0, 9)) == 0:  # a whole document dropped or repeated
            i = data.draw(st.integers(0, len(docs) - 1))
            if data.draw(st.booleans()):
                docs.append(copy.deepcopy(docs[i]))
            else:
                del docs[i]
            continue
        i = data.draw(st.integers(0, len(docs) - 1), label="document")
        docs[i] = _mutate(docs[i], data)
    as_json = target.endswith(".json") or data.draw(st.integers(0, 3), label="json") == 0
    name = target if as_json == target.endswith(".json") else target + (".json" if as_json else ".yaml")
    texts = {f: _text(f) for f in corpus if f != target}
    texts[name] = _dump(docs, as_json) if docs else ""
    return {f: texts[f] for f in ([*corpus[:corpus.index(target)], name, *corpus[corpus.index(target) + 1:]])}


@fuzz(2000)
@given(corpus=st.sampled_from(CORPORA), data=st.data())
def test_structural_mutations_load_or_give_located_errors(corpus, data):
    texts = _mutated_texts(corpus, data)
    loaded = _load_or_located(texts)
    if loaded is not None:
        _exercise(loaded, data.draw(st.randoms(use_true_random=False), label="questions"))


def test_every_corpus_loads_unmutated():
    """The starting points are valid: the mutations are what the fuzzing adds."""
    for corpus in CORPORA:
        loaded = load(list(corpus))
        assert not [w for w in loaded.warnings if w.severity == "error"]


# -- 2. text mutations ------------------------------------------------------------------------------------

NOISE = ["\t", ":", ": ", " :", "\x00", "\n", " ", "-", "- ", "#", "'", '"', "[", "]", "{", "}", ",", "&a", "*a", "!!str ",
         "!x", "|", ">", "%", "@", "`", "?", "---\n", "...\n", "\ufeff", "é", "名", "\u2028", "\x85", "\r", "\r\n", "\x7f",
         "<<: ", "~", "0", "9", "/", ".", "\\"]


def _text_mutation(text: str, data) -> str:
    op = data.draw(st.sampled_from(["insert", "delete", "replace", "truncate", "tab", "line", "dedent"]), label="text op")
    i = data.draw(st.integers(0, len(text)), label="at")
    if op == "insert":
        return text[:i] + data.draw(st.sampled_from(NOISE) | st.text(min_size=1, max_size=4)) + text[i:]
    if op == "delete":
        return text[:i] + text[i + data.draw(st.integers(1, 40)):]
    if op == "replace":
        return text[:i] + data.draw(st.sampled_from(NOISE) | st.characters()) + text[i + 1:]
    if op == "truncate":
        return text[:i]
    if op == "tab":  # a tab in the indentation of a line
        start = text.rfind("\n", 0, i) + 1
        return text[:start] + "\t" + text[start:]
    lines = text.split("\n")
    k = data.draw(st.integers(0, max(0, len(lines) - 1)))
    if op == "line":  # a line repeated
        lines.insert(k, lines[k])
    else:  # a line's indentation changed
        lines[k] = (" " * data.draw(st.integers(0, 5))) + lines[k].lstrip(" ")
    return "\n".join(lines)


TEXT_FILES = BUNDLED + [_rel(DATA / "ingress" / "features.yaml"), _rel(DATA / "dns" / "cluster.yaml"),
                        _rel(DATA / "netpol" / "scenarios" / "np-13-named-port-ingress" / "resources.yaml")]


@fuzz(1500)
@given(path=st.sampled_from(TEXT_FILES), data=st.data())
def test_text_mutations_load_or_give_located_errors(path, data):
    text = _text(path)
    for _ in range(data.draw(st.integers(1, 5), label="mutations")):
        text = _text_mutation(text, data)
    content: str | bytes = text
    if data.draw(st.integers(0, 3), label="bytes") == 0:  # as read from the disk, sometimes not even UTF-8
        raw = text.encode("utf-8", "surrogatepass")
        if data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(raw)))
            raw = raw[:i] + data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00\x00",
                                                       b"\xfe\xff"])) + raw[i:]
        content = raw
    loaded = _load_or_located({path: content})
    if loaded is not None:
        _exercise(loaded, data.draw(st.randoms(use_true_random=False), label="questions"))


# -- 3. random questions to valid topologies --------------------------------------------------------------

@functools.cache
def _bundled_loaded(path: str):
    loaded = load([str(ROOT / path)])
    return loaded, cli._network(loaded)


@functools.cache
def _generated_loaded(nodes: int, per_node: int, services: int, seed: int, shape: str, output: str):
    text = "".join(chunks(Params(nodes, per_node, services, seed), shape, output))
    name = f"generated.{output}"
    loaded = load([name], texts={name: text})
    return loaded, cli._network(loaded)


generated = st.builds(lambda n, m, s, seed, shape, output: ("generated", n, m, s, seed, shape, output),
                      st.integers(1, 3), st.integers(2, 5), st.integers(0, 4), st.integers(0, 50),
                      st.sampled_from(["dump", "deployments"]), st.sampled_from(["json", "yaml"]))
topologies = st.sampled_from([("bundled", f) for f in BUNDLED]) | generated


def _topology(which):
    if which[0] == "bundled":
        return _bundled_loaded(which[1])
    return _generated_loaded(*which[1:])


def _addresses(net) -> list[str]:
    """Every address of the topology (compiled namespaces), the pods', the Services'."""
    out = []
    for ns in net.namespaces.built().values():
        for ip in (ns.primary_address(4), ns.primary_address(6)):
            if ip is not None:
                out.append(str(ip))
    if net.cluster is not None:
        out += [str(p.ip) for p in net.cluster.pods if getattr(p, "ip", None) is not None][:40]
        for s in net.cluster.services[:40]:
            out += [str(ip) for ip in getattr(s, "cluster_ips", ()) or ()]
    return out


def _in_ranges(net):
    """Addresses anywhere in the topology's ranges: its networks, and a cluster's pod and service CIDRs."""
    ranges = [n.cidr for n in net.topology.networks if n.cidr is not None]
    if net.cluster is not None:
        cfg = net.topology.cluster
        ranges += [c for c in (cfg.pod_cidr, cfg.service_cidr, cfg.pod_cidr2, cfg.service_cidr2) if c is not None]
    if not ranges:
        return random_ips
    return st.sampled_from(ranges).flatmap(
        lambda r: st.integers(0, r.num_addresses - 1).map(lambda i: str(r.network_address + i)))


def _near(ip_text: str, delta: int) -> str:
    ip = ipaddress.ip_address(ip_text)
    top = 2**32 - 1 if ip.version == 4 else 2**128 - 1
    return str(type(ip)(min(top, max(0, int(ip) + delta))))


random_ips = st.one_of(
    st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str),
    st.sampled_from(["10.244.0.0", "10.244.1.255", "10.96.0.1", "10.96.0.10", "10.111.255.255", "192.168.1.255",
                     "0.0.0.0", "255.255.255.255", "127.0.0.1", "::1", "::", "fd00:10:244::1", "224.0.0.1", "203.0.113.10",
                     "8.8.8.8", "169.254.169.254"]),
)
bad_names = st.one_of(st.sampled_from(BAD_STRINGS), st.text(max_size=12))


def _names(net, data, source: bool = False) -> str:
    """A source or destination: mostly a namespace of the topology (a host, container or pod), else one of its
    addresses (or one next to it), a random address, or junk (rarer for a source, which must be the topology's)."""
    names = sorted(net.namespaces)
    addrs = _addresses(net) or ["10.0.0.1"]
    which = data.draw(st.integers(0, 29 if source else 9), label="endpoint kind")
    if which <= 5 or which >= 10:
        return data.draw(st.sampled_from(names), label="name")
    if which == 6:
        return data.draw(st.sampled_from(addrs), label="address")
    if which == 7:
        return data.draw(st.builds(_near, st.sampled_from(addrs), st.integers(-3, 3)), label="near address")
    if which == 8:
        return data.draw(random_ips | _in_ranges(net), label="random address")
    return data.draw(bad_names, label="junk")


def _dns_names(net, data) -> str:
    """A name to resolve: a Service's or a pod's in its many spellings (short, with its namespace, absolute, in the
    wrong zone, SRV-style, wildcard, a pod's dashed address, a reverse name), or one that is no valid name at all."""
    domain = "cluster.local"
    svcs = net.cluster.services if net.cluster is not None else []
    pods = net.cluster.pods if net.cluster is not None else []
    base = [f"{s.name}" for s in svcs][:30] + [f"{s.name}.{s.namespace}" for s in svcs][:30] + ["kubernetes", "kube-dns"]
    parts = st.sampled_from(base + [p.name for p in pods][:20] + ["nope", "web", "default", "svc", "pod"])
    ips = st.sampled_from(_addresses(net) or ["10.0.0.1"]) | random_ips
    label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z")
    good = st.one_of(
        parts,
        parts.map(lambda n: f"{n}.svc"),
        parts.map(lambda n: f"{n}.svc.{domain}"),
        parts.map(lambda n: f"{n}.svc.{domain}."),
        parts.map(lambda n: f"{n}.svc.cluster.example"),
        parts.map(lambda n: f"_http._tcp.{n}.svc.{domain}"),
        parts.map(lambda n: f"*.{n}.svc.{domain}"),
        st.builds(lambda a, n: f"{a.replace('.', '-').replace(':', '-')}.{n}.pod.{domain}", ips, st.sampled_from(["default", "kube-system"])),
        ips.map(lambda a: f"{a.replace('.', '-')}.pod.{domain}"),
        ips.map(reverse_name),
        st.lists(label, min_size=1, max_size=5).map(".".join),
        st.sampled_from(["example.com", "google.com.", "localhost", "in-addr.arpa.", "10.in-addr.arpa.", "ip6.arpa.", domain,
                         domain + ".", "svc." + domain]),
    )
    bad = st.sampled_from(["a" * 64 + ".default.svc." + domain, "x." * 130, "..", ".", "", "a..b", "-a.b", "a-.b"]) | bad_names
    return _mostly(data, good, bad, "dns name")


QTYPES = st.sampled_from(["A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "ANY", "NS", "SOA", "MX", "TYPE65", "TYPE0", "A6",
                          "garbage", "", "a", "srv", "TYPE99999", "IXFR", "AXFR", "OPT"])
GOOD_QTYPES = st.sampled_from(["A", "AAAA", "SRV", "PTR", "TXT", "ANY", "CNAME", "NS", "SOA"])


def _mostly(data, good, bad, label: str, odds: int = 9):
    """A draw of ``good`` nine times in ten (``odds``), else of ``bad``: questions that are questions, mostly."""
    return data.draw(bad if data.draw(st.sampled_from([False] * odds + [True]), label=f"{label}: bad?") else good, label=label)


@fuzz(600)
@given(which=topologies, data=st.data())
def test_random_traces_get_a_verdict_or_a_clean_error(which, data):
    loaded, net = _topology(which)
    for _ in range(data.draw(st.integers(1, 3), label="traces")):
        src = _names(net, data, source=True)
        kind = data.draw(st.integers(0, 9), label="destination kind")
        services = net.cluster.services[:30] if net.cluster is not None else []
        if kind <= 1 and services:
            s = data.draw(st.sampled_from(services), label="service")
            dst = data.draw(st.sampled_from(["svc/", "service/"])) + data.draw(st.sampled_from(
                [s.name, f"{s.name}.{s.namespace}", f"{s.namespace}/{s.name}", s.name + "x"]))
        elif kind <= 3 and net.cluster is not None:
            dst = _dns_names(net, data)
        else:
            dst = _names(net, data)
        proto = data.draw(st.sampled_from(["tcp", "tcp", "udp", "icmp"]), label="proto")
        if (":" not in dst or dst.startswith("[")) and proto != "icmp":
            dst += _mostly(data, st.sampled_from(["", "", "", ":80", ":53", ":443", ":8080", ":30080"]) if ":" not in dst else st.just(""),
                           st.sampled_from([":0", ":65536", ":x", ":", ":-1"]), "port suffix")
        given_port = dst.count(":") == 1 or "]:" in dst
        port = _mostly(data, st.none() if given_port or proto == "icmp" else st.none() | st.sampled_from([53, 80, 443, 8080, 30080]),
                       st.integers(1, 65535), "port")
        ttl = data.draw(st.sampled_from([64, 64, 1, 2, 3, 255]), label="ttl")
        addrs = _addresses(net) or ["10.0.0.1"]
        endpoint = _mostly(data, st.none() if kind > 1 else st.none() | st.builds(lambda a, p: f"{a}:{p}", st.sampled_from(addrs),
                                                                               st.sampled_from([80, 8080, 53, 443])),
                           st.builds(lambda a, p: f"{a}:{p}", random_ips, st.integers(0, 70000)) | st.text(max_size=6), "endpoint")
        _ask_trace(net, src, dst, proto, port, ttl, endpoint)


@fuzz(500)
@given(which=topologies, data=st.data())
def test_random_dns_questions_get_an_answer_or_a_clean_error(which, data):
    loaded, net = _topology(which)
    pods = [f"{p.namespace}/{p.name}" for p in net.cluster.pods][:40] if net.cluster is not None else []
    for _ in range(data.draw(st.integers(1, 4), label="questions")):
        pod = _mostly(data, st.one_of(st.none(), st.sampled_from(pods or ["default/none"])),
                      st.one_of(bad_names, st.sampled_from([p.split("/")[1] for p in pods] or ["x"])), "from")
        qtype = _mostly(data, GOOD_QTYPES, QTYPES, "type")
        if data.draw(st.integers(0, 4), label="reverse") == 0:
            addrs = st.sampled_from(_addresses(net) or ["10.0.0.1"])
            _ask_resolve(net, pod, "", qtype, reverse=_mostly(data, addrs | _in_ranges(net) | random_ips, bad_names, "reverse of"))
        else:
            _ask_resolve(net, pod, _dns_names(net, data), qtype)


@functools.cache
def _ingress_topologies() -> list[str]:
    return [f for f in BUNDLED if any(is_ingress(o) for o in _bundled_loaded(f)[0].topology.objects)]


@fuzz(500)
@given(data=st.data())
def test_random_http_requests_get_a_status_or_a_clean_error(data):
    which = _mostly(data, st.sampled_from(_ingress_topologies()), st.just("topologies/04-two-node-cluster.yaml"), "topology")
    loaded, net = _bundled_loaded(which)
    hosts = _ingress_hosts(loaded.topology) or ["x.example"]
    paths = _ingress_paths(loaded.topology) or ["/"]
    host = _mostly(data, st.one_of(st.sampled_from(hosts), st.sampled_from(hosts).map(lambda h: h.replace("*", "a")),
                                   st.sampled_from(hosts).map(str.upper), st.sampled_from(hosts).map(lambda h: h + "."),
                                   st.sampled_from(hosts).map(lambda h: "x" + h), st.sampled_from(hosts).map(lambda h: h + ":443")),
                   st.one_of(st.sampled_from(["", "[::1]", "10.0.0.1", "example.com:8443", "user@shop.example", "a..b", "-x", "*",
                                              "ü.example", "host:port:x", "[fd00::1]:443"]), random_ips, st.text(max_size=8)), "host")
    path = _mostly(data, st.one_of(st.sampled_from(paths), st.sampled_from(paths).map(lambda p: p + "/x"),
                                   st.sampled_from(paths).map(lambda p: p.rstrip("/") + "x"), st.sampled_from(paths).map(str.upper),
                                   st.sampled_from(paths).map(lambda p: p + "?q=1")),
                   st.one_of(st.sampled_from(["", "/", "//", "/a/../b", "/%2e%2e", "?q=1", "#frag", "/ü", "/" + "a" * 300]),
                             st.text(max_size=10)), "path")
    scheme = _mostly(data, st.sampled_from(["http://", "https://"]), st.sampled_from(["", "ftp://", "HTTP://", "1http://", "http:/"]),
                     "scheme")
    headers = _mostly(data, st.lists(st.sampled_from(hosts).map(lambda h: f"Host: {h}") | st.just("X-Foo: 1"), max_size=1),
                      st.lists(st.one_of(st.sampled_from(["Host:", "host: a.b", "nocolon", ": x", "Host: [::1]:80"]),
                                         st.text(max_size=10)), min_size=1, max_size=2), "headers")
    client = _mostly(data, st.one_of(st.none(), st.just("internet"), st.sampled_from(sorted(net.namespaces))),
                     random_ips | bad_names, "client")
    classes = [o.name for o in loaded.topology.objects if o.kind == "IngressClass"]
    klass = _mostly(data, st.sampled_from([None, None, *classes]), st.sampled_from(["haproxy", "nope", ""]), "class")
    _ask_http(loaded, net, scheme + host + path, headers, client, klass)


@fuzz(200)
@given(which=topologies, data=st.data())
def test_random_reachability_questions(which, data):
    loaded, net = _topology(which)
    if net.cluster is None:
        return
    pods = [f"{p.namespace}/{p.name}" for p in net.cluster.pods][:40]
    addrs = _addresses(net) or ["10.0.0.1"]
    good = st.one_of(st.none(), st.sampled_from(pods or ["x"]), st.sampled_from(addrs))
    _reach(net, data.draw(st.sampled_from([53, 80, 443, 5432, 8080]) | st.integers(1, 65535), label="port"),
           data.draw(st.sampled_from(["TCP", "UDP", "SCTP"]), label="proto"),
           _mostly(data, good, random_ips | bad_names, "from"), _mostly(data, good, random_ips | bad_names, "to"))


# -- the same questions through the CLI, in process -------------------------------------------------------

def _main(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return code, out.getvalue() + err.getvalue()


cli_args = st.one_of(st.sampled_from(["client", "web", "node-1", "internet", "laptop", "router", "svc/web", "default/client",
                                      "10.96.0.10", "10.244.1.2", "8.8.8.8", "web.default", "shop.example", "default"]),
                     random_ips, bad_names.filter(lambda s: "\x00" not in s))


@fuzz(200)
@given(data=st.data())
def test_cli_in_process_exits_cleanly(data):
    f = data.draw(st.sampled_from(BUNDLED), label="file")
    cmd = data.draw(st.sampled_from(["check", "trace", "resolve", "http", "reach", "routes"]), label="command")
    a, b = data.draw(cli_args, label="a"), data.draw(cli_args, label="b")
    argv = ["-f", f]
    if cmd == "check":
        argv += data.draw(st.sampled_from([[], ["-o", "json"], ["-o", "yaml"]]))
    elif cmd == "trace":
        argv += ["--from", a, "--to", b, "--proto", data.draw(st.sampled_from(["tcp", "udp", "icmp", "sctp"]))]
        argv += data.draw(st.sampled_from([[], ["--port", "80"], ["--port", "0"], ["--ttl", "1"], ["-o", "json"],
                                           ["--endpoint", "10.244.1.2:80"]]))
    elif cmd == "resolve":
        argv += [a, "--type", data.draw(QTYPES)] + data.draw(st.sampled_from([[], ["--from", b], ["-x", b], ["-o", "json"]]))
    elif cmd == "http":
        argv += [data.draw(st.sampled_from(["http://", "https://", ""])) + a + "/" + b]
        argv += data.draw(st.sampled_from([[], ["--from", b], ["-H", f"Host: {b}"], ["--class", b], ["-o", "json"]]))
    elif cmd == "reach":
        argv += ["--port", data.draw(st.sampled_from(["80", "53", "0", "x"]))]
        argv += data.draw(st.sampled_from([[], ["--from", a], ["--to", b], ["--from", a, "--to", b, "-o", "json"]]))
    else:
        argv += [a] + data.draw(st.sampled_from([[], ["--lookup", b], ["--format", "route"]]))
    argv = [cmd, *argv]
    code, output = _main(argv)
    assert code in (0, 1, 2), (argv, code, output)
    assert "Traceback" not in output, (argv, output)


def test_cli_mutated_file_is_a_located_error(tmp_path):
    """``check`` on a broken file: exit 1 and located errors, through the CLI."""
    f = tmp_path / "t.yaml"
    f.write_text(_text("topologies/04-two-node-cluster.yaml").replace("spec: {podCIDR: 10.244.1.0/24}", "spec: {podCIDR: 10.244.1.0/33}", 1))
    code, output = _main(["check", "-f", str(f)])
    assert code == 1 and "Traceback" not in output
    assert any(LOCATED.match(line) for line in output.splitlines()), output


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


# -- regressions: examples the fuzzing found ---------------------------------------------------------------

def _only_located(name: str, text: str) -> list[str]:
    with pytest.raises(LoadError) as e:
        load([name], texts={name: text})
    _assert_located(e.value, {name: text})
    return [str(p) for p in e.value.problems]


POD = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec: {{containers: [{{name: c, image: x}}]}}\nstatus: {{phase: Running, podIP: {ip}}}\n"


def test_two_pods_with_one_address_is_one_located_error():
    """Two pods of a dump with one podIP: the API server's refusal, not the simulator's duplicate address and route on
    cni0 at <builtin>:0:0."""
    text = POD.format(name="a", ip="10.244.10.40") + "---\n" + POD.format(name="b", ip="10.244.10.40")
    assert _only_located("t.yaml", text) == ["t.yaml:11:33: error: status.podIP: 10.244.10.40 is already the address of pod default/a"]


@pytest.mark.parametrize("text, where", [
    ("\x1f# 01 - Two systems on one switch\n", "t.yaml:1:1"),
    ('apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: "a\x01b"}\n', "t.yaml:3:20"),
])
def test_a_control_character_is_a_located_one_line_error(text, where):
    """PyYAML's reader error was one problem at 1:1 whose message went on a second line ("in <unicode string>,
    position 0"): now at the character, on one line."""
    [p] = _only_located("t.yaml", text)
    assert p.startswith(f"{where}: error: yaml: unacceptable character #x00") and p.endswith(": control characters are not allowed")


@pytest.mark.parametrize("key, path, message", [
    ("\n", 'items[0]["\\n"]', 'unknown field "\\n"'),
    ("\x1fuf", '["\\u001fuf"]', 'unknown field "\\u001fuf"'),
    ("    | ", '["    | "]', 'unknown field "    | "'),
    ("\x89Z\n", '["\\x89Z\\n"]', 'unknown field "\\x89Z\\n"'),
])
def test_an_unknown_key_of_blanks_or_control_characters_is_one_located_line(key, path, message):
    """An unknown field whose key held a newline printed its error on two lines, and a key of blanks left the path
    blank: the key is now quoted in the path and the message, and nothing in a problem breaks its line."""
    text = json.dumps({"apiVersion": "kubenet/v1", "kind": "Topology", "metadata": {"name": "t"}, key: 1})
    if path.startswith("items"):
        text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace",
                                                                            "metadata": {"name": "n"}, key: 1}]})
    [p] = _only_located("t.json", text)
    assert p.endswith(f": error: {path}: {message}"), p


@pytest.mark.parametrize("spec, where", [
    ("spec: {containers: 3}", "spec.containers: expected a list, got an integer"),
    ("spec: [null]", "spec: expected a mapping, got a list"),
    ("spec: {containers: [true]}", "spec.containers[0]: expected a mapping, got a boolean"),
    ("spec: {containers: [{name: c, ports: [{containerPort: '80'}]}]}", "spec.containers[0].ports[0].containerPort: expected an integer, got a string"),
    ("spec: {nodeName: [true], containers: [{name: c}]}", "spec.nodeName: expected a string, got a list"),
    ("spec: {hostNetwork: 'yes'}", "spec.hostNetwork: expected true or false, got a string"),
    ("spec: {dnsConfig: {nameservers: 8.8.8.8}}", "spec.dnsConfig.nameservers: expected a list, got a string"),
    ("status: {podIP: 5}", "status.podIP: expected a string, got an integer"),
    ("status: {podIPs: [{ip: 10.244.1.5}, null]}", "status.podIPs[1]: expected a mapping, got null"),
    ("status: []", "status: expected a mapping, got a list"),
])
def test_a_pod_field_of_the_wrong_type_is_a_located_error(spec, where):
    """Pod fields the simulation reads, of the wrong type, crashed the cluster's build (AttributeError: 'str' object has
    no attribute 'get', TypeError: 'int' object is not iterable, unhashable type: 'list')."""
    [p] = _only_located("t.yaml", f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\n{spec}\n")
    assert p.endswith(f": error: {where}"), p


@pytest.mark.parametrize("text, where", [
    ("kind: Node\nmetadata: {name: n}\nspec: 6", "spec: expected a mapping, got an integer"),
    ("kind: Node\nmetadata: {name: n}\nspec: {podCIDRs: 10.244.0.0/24}", "spec.podCIDRs: expected a list, got a string"),
    ("kind: Node\nmetadata: {name: n}\nstatus: {addresses: [192.168.1.1]}", "status.addresses[0]: expected a mapping, got a string"),
    ("kind: Service\nmetadata: {name: s}\nspec: '10.0.0.256'", "spec: expected a mapping, got a string"),
    ("kind: Service\nmetadata: {name: s}\nspec: {ports: 950}", "spec.ports: expected a list, got an integer"),
    ("kind: Service\nmetadata: {name: s}\nspec: {clusterIPs: 10.96.0.1}", "spec.clusterIPs: expected a list, got a string"),
    ("kind: Service\nmetadata: {name: s}\nspec: {selector: [app]}", "spec.selector: expected a mapping of strings, got a list"),
    ("kind: Endpoints\nmetadata: {name: s}\nsubsets: [{addresses: 10.0.0.1}]", "subsets[0].addresses: expected a list, got a string"),
    ("kind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\ndata: [Corefile]", "data: expected a mapping of strings, got a list"),
])
def test_a_field_of_the_wrong_type_in_other_kinds_is_a_located_error(text, where):
    problems = _only_located("t.yaml", "apiVersion: v1\n" + text + "\n")
    assert len(problems) == 1 and problems[0].endswith(f": error: {where}"), problems


@pytest.mark.parametrize("text, where", [
    ("kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: c, ports: [{containerPort: 4294967296}]}]}}}",
     "spec.template.spec.containers[0].ports[0].containerPort: 4294967296 is out of range: an integer here is 32 bits "
     "(-2147483648 to 2147483647)"),
    ("kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: {'0': 654}}]}}}",
     "spec.template.spec.containers[0].name: expected a string, got a mapping"),
    ("kind: StatefulSet\nmetadata: {name: d}\nspec: {template: [x]}", "spec.template: expected a mapping, got a list"),
])
def test_a_workload_field_of_the_wrong_type_is_a_located_error(text, where):
    [p] = _only_located("t.yaml", "apiVersion: apps/v1\n" + text + "\n")
    assert p.endswith(f": error: {where}"), p


def test_a_big_dump_checks_the_pods_fields_as_a_small_file_does():
    """A dump over the fast path's size checks its pods quickly: a wrongly typed field sends the pod the long way,
    to the same located error."""
    from tui.load.bigjson import FAST_BYTES

    pod = {"apiVersion": "v1", "kind": "Pod", "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "x"}]}}
    items = [dict(pod, metadata={"name": f"p{i}", "namespace": "default"}, status={"podIP": f"10.244.0.{i + 2}"}) for i in range(10)]
    items[0]["metadata"]["annotations"] = {"note": "x" * FAST_BYTES}  # (big enough for the fast path)
    items[7] = dict(items[7], spec={"nodeName": "n", "containers": 3})
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
    assert len(text) > FAST_BYTES
    [p] = _only_located("big.json", text)
    assert ": error: items[7].spec.containers: expected a list, got an integer" in p, p


def test_a_node_host_without_an_ipv4_address_is_a_located_error():
    """A host with role: node and no address gave the routes the simulator writes on it (via the other nodes) as
    errors at <builtin>:0:0."""
    text = ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDR: 10.244.0.0/16}\n"
            "networks: [{name: lan, cidr: 192.168.1.0/24}]\nhosts:\n"
            "- {name: node-1, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.11/24}]}\n"
            "- {name: node-2, role: node, interfaces: [{name: eth0, network: lan}]}\n")
    assert _only_located("t.yaml", text) == [
        "t.yaml:8:42: error: hosts[1].interfaces: a Kubernetes node needs an IPv4 address on one of its interfaces: its "
        "InternalIP, which the other nodes route its pods' traffic to"]


def test_the_implicit_edge_router_takes_its_address_in_the_network():
    """A node's address with a shorter prefix than its network's (192.168.1.11/4 on a /24) put the simulator's edge
    router at 192.0.0.1/4, warned about at <builtin>:0:0 as outside the network."""
    text = ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDR: 10.244.0.0/16}\n"
            "networks: [{name: lan, cidr: 192.168.1.0/24}]\n"
            "hosts: [{name: node-1, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.11/4}]}]\n")
    loaded = load(["t.yaml"], texts={"t.yaml": text})
    assert [str(w) for w in loaded.warnings] == []
    net = cli._network(loaded)
    assert str(net.namespaces["edge"].primary_address(4)) == "192.168.1.1"
    assert _ask_trace(net, "node-1", "8.8.8.8", "icmp").delivered


def test_a_policy_type_that_is_a_list_is_a_located_error():
    """policyTypes: [[Ingress]] raised TypeError: unhashable type (the loader added every item to a set)."""
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
            "spec: {podSelector: {}, policyTypes: [[Ingress], Egress]}\n")
    assert _only_located("t.yaml", text) == ["t.yaml:4:39: error: spec.policyTypes[0]: expected a string, got a list"]


@pytest.mark.parametrize("api_version", ["serving.knative.dev/v1", "10.0.0.1/33"])
def test_a_kind_of_another_group_is_not_simulated_as_the_core_kind_of_that_name(api_version):
    """Knative's Service (or a Pod of a made-up group, with a metadata that is a string) was simulated as a core
    Service or Pod: an AttributeError for the Pod, a cluster IP for Knative's Service."""
    text = (f"apiVersion: {api_version}\nkind: Service\nmetadata: {{name: hello}}\nspec: {{template: {{}}}}\n---\n"
            f"apiVersion: {api_version}\nkind: Pod\nmetadata: '10.0.0.256'\n---\n" + POD.format(name="a", ip="10.244.0.5"))
    loaded = load(["t.yaml"], texts={"t.yaml": text})
    net = cli._network(loaded)
    assert [s.key for s in net.cluster.services if s.name == "hello"] == []
    assert [p.name for p in net.cluster.pods if p.namespace == "default"] == ["a"]
    assert {str(w).split(": ", 3)[-1] for w in loaded.warnings} >= {f"{api_version} Service is not used by the simulation: skipped"}


def test_nodes_whose_addresses_share_no_network_are_a_located_error():
    """Two Nodes of a dump at 17.18.0.2 and 172.18.0.3: the implicit node network (at most a /8) held only the first,
    and the second's routes via it were errors at <builtin>:0:0 (Nexthop has invalid gateway)."""
    node = ("apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\nspec: {{podCIDR: {cidr}}}\n"
            "status: {{addresses: [{{type: InternalIP, address: {ip}}}]}}\n")
    text = node.format(name="a", cidr="10.244.0.0/24", ip="17.18.0.2") + "---\n" + node.format(name="b", cidr="10.244.1.0/24", ip="172.18.0.3")
    assert _only_located("t.yaml", text) == [
        "t.yaml:11:21: error: status.addresses: InternalIP 172.18.0.3 is not on one network with node a's 17.18.0.2 (17.0.0.0/8, "
        "the widest the nodes no host describes can share): describe the nodes as hosts on networks of their own, with the "
        "routes between them"]


@pytest.mark.parametrize("replicas, message", [
    (-1, "spec.replicas: -1: must be greater than or equal to 0"),
    (2**31 - 1, "spec.replicas: 2,147,483,647 pods is more than a cluster runs (Kubernetes supports 150,000 pods in all)"),
])
def test_replicas_out_of_range_are_a_located_error_at_once(replicas, message):
    """replicas: -1 silently made one pod; 2147483647 (an int32, which the types allow) had the simulator make pods for
    hours. Both are refused, and the Deployment is not kept (not expanded while the other checks run)."""
    import time

    text = (f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n"
            "  template: {spec: {containers: [{name: c, image: x}]}}\n")
    started = time.perf_counter()
    assert _only_located("t.yaml", text) == [f"t.yaml:5:13: error: {message}"]
    assert time.perf_counter() - started < 5


def test_a_lone_surrogate_in_a_text_is_a_located_error():
    """A text given as a str (texts=, as the dashboard's editor does) with a lone surrogate raised UnicodeEncodeError
    out of the C parser."""
    assert _only_located("t.yaml", "apiVersion: kubenet/v1\n# x\udbcdy\n") == [
        "t.yaml:2:4: error: file: not a text: a lone surrogate U+DBCD (no UTF-8 can carry it)"]


def test_a_load_balancer_pool_off_the_nodes_network_is_a_located_warning():
    """The simulator's load balancer holds the pool's addresses on the nodes' network: one off it was warned about at
    <builtin>:0:0 (load-balancer.address ... is outside node-network's ...); now at the pool, saying what it means."""
    text = ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\n"
            "cluster: {podCIDR: 10.244.0.0/16, loadBalancerPool: 192.168.1.240/28}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
            "spec: {nodeName: node-2, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n---\n"
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n")
    loaded = load(["t.yaml"], texts={"t.yaml": text})
    assert [str(w) for w in loaded.warnings] == [
        "t.yaml:4:10: warning: cluster.loadBalancerPool: 192.168.1.241 (of 192.168.1.240/28) is not on the nodes' network "
        "node-network (192.168.100.0/24), where the load balancer holds it: nothing routes it there from outside, so clients "
        "outside cannot reach it"]


def test_a_null_protocol_or_type_is_the_default():
    """protocol: null (a port's field written empty) is the field unset, TCP, as the API server has it (type: null,
    ClusterIP); the cluster
    kept None and the first trace through kube-proxy's rules, or to the pod, raised AttributeError: 'NoneType' object
    has no attribute 'lower'."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
            "spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 80, protocol: null}]}]}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {nodeName: n1, containers: [{name: c}]}\n---\n"
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
            "spec: {type: null, selector: {app: web}, ports: [{name: http, port: 8080, protocol: null, targetPort: http}]}\n")
    loaded = load(["t.yaml"], texts={"t.yaml": text})
    net = cli._network(loaded)
    [svc] = [s for s in net.cluster.services if s.name == "web"]
    assert (svc.type, svc.ports[0].protocol, svc.ports[0].target_port) == ("ClusterIP", "TCP", "http")
    assert _ask_trace(net, "client", "svc/web").delivered
    assert _ask_trace(net, "client", "web:80").delivered  # (the pod web: its port 80, protocol null, listens)
    res = _ask_resolve(net, "default/client", "_http._tcp.web.default.svc.cluster.local", "SRV")
    assert res.final.rcode == NOERROR


def test_node_hosts_on_different_subnets_are_located_errors():
    """Two node hosts on one network but in different subnets: the routes the CNI writes between them (each node's pods
    via its address) were errors at <builtin>:0:0 (Nexthop has invalid gateway)."""
    text = ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDR: 10.244.0.0/16, cni: calico}\n"
            "networks: [{name: lan}]\nhosts:\n"
            "- {name: node-1, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.11/24}]}\n"
            "- {name: node-2, role: node, interfaces: [{name: eth0, network: lan, address: 19.168.1.12/24}]}\n")
    assert _only_located("t.yaml", text) == [
        f"t.yaml:{line}:43: error: hosts[{i}].interfaces: {a} reaches the pods of {b} (10.244.{j}.0/24) through {b}'s address {ip}, "
        "on none of its networks (the calico CNI routes them directly): put the nodes on one subnet"
        for line, i, a, b, j, ip in ((7, 0, "node-1", "node-2", 1, "19.168.1.12"), (8, 1, "node-2", "node-1", 0, "192.168.1.11"))]
    flannel = text.replace("cni: calico", "cni: flannel")  # (VXLAN between them: only the default route via the edge router)
    assert _only_located("t.yaml", flannel) == [
        "t.yaml:8:43: error: hosts[1].interfaces: node-2 has no default route, and the one the simulator gives a node, via its "
        "edge router 192.168.1.1 (on the first node's subnet), is refused: Nexthop has invalid gateway: 192.168.1.1 is not "
        "reachable through a connected route: give node-2 a default route"]


@pytest.mark.parametrize("text, problem", [
    ("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {podCIDR: 192.168.1.13}\n",
     't.yaml:4:17: error: spec.podCIDR: "192.168.1.13" is not a CIDR'),
    ("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t}\nhosts:\n- {name: h, docker: {cidr: 172.17.0.0/32}}\n",
     "t.yaml:5:28: error: hosts[0].docker.cidr: 172.17.0.0/32 is a single address: no room for the bridge's address and the "
     "containers'"),
])
def test_a_single_address_where_a_network_is_wanted_is_a_located_error(text, problem):
    """A node's podCIDR or a Docker bridge's cidr of one address (192.168.1.13, a /32) raised TypeError: 'list' object is
    not an iterator (ipaddress's hosts() of a /32 is a list): a podCIDR without a prefix is no CIDR (Go's ParseCIDR), and
    a Docker network of one address has no room for its bridge."""
    assert _only_located("t.yaml", text) == [problem]


def test_a_node_pod_cidr_of_one_or_two_addresses_compiles():
    """A /32 or /31 podCIDR written as such: the node's bridge takes the first address, its pods what is left (none)."""
    for cidr, ip in (("10.244.1.0/32", None), ("10.244.1.0/31", "10.244.1.1")):
        text = (f"apiVersion: v1\nkind: Node\nmetadata: {{name: n}}\nspec: {{podCIDR: {cidr}}}\n---\n"
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: n, containers: [{name: c}]}\n")
        net = cli._network(load(["t.yaml"], texts={"t.yaml": text}))
        net.compile_nodes()
        assert [str(p.ip) if p.ip else None for p in net.cluster.pods if p.name == "p"] == [ip]
