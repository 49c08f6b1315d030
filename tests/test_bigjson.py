"""Big `kubectl get -o json` Lists take the fast path; what it reads, and every message, is what the
located reader gives for the same file."""

from __future__ import annotations

import json

import pytest

import tui.load.bigjson as bigjson
from tui.k8s.cluster import build_cluster
from tui.k8s.generate import Params, write
from tui.load import LoadError, load


@pytest.fixture
def dump(tmp_path):
    f = tmp_path / "dump.json"
    with open(f, "w") as out:
        write(Params(nodes=6, pods_per_node=5, services=8, seed=2), out)
    return f


def _both(monkeypatch, files):
    """Load ``files`` the fast way and the located way: (fast, located), each a Loaded or a LoadError."""
    out = []
    for limit in (1, 1 << 40):
        monkeypatch.setattr(bigjson, "FAST_BYTES", limit)
        try:
            out.append(load([str(f) for f in files]))
        except LoadError as e:
            out.append(e)
    return out


@pytest.mark.parametrize("chunk", [32 << 20, 997, 64])
def test_the_fast_path_reads_what_the_located_reader_reads(monkeypatch, dump, chunk):
    monkeypatch.setattr(bigjson._Stream, "CHUNK", chunk)  # items and lines cut across chunks
    if chunk < 1000:
        _edit(dump, lambda items: None)  # (indented, as kubectl writes it: many lines per item)
    fast, slow = _both(monkeypatch, [dump])
    a, b = fast.topology, slow.topology
    assert len(a.objects) == len(b.objects) > 40
    for x, y in zip(a.objects, b.objects, strict=True):
        assert (x.kind, x.name, x.namespace, x.mark) == (y.kind, y.name, y.namespace, y.mark)
        for path in ("spec.clusterIP", "status.podIP", "spec.podCIDR", "metadata.namespace", "spec.ports[0].nodePort"):
            assert x.mark_of(path) == y.mark_of(path), (x.key, path)
    assert a.cluster == b.cluster
    ca, cb = build_cluster(a), build_cluster(b)
    assert (ca.nodes, ca.pods, ca.services, ca.endpoints) == (cb.nodes, cb.pods, cb.services, cb.endpoints)
    assert [str(p) for p in fast.warnings] == [str(p) for p in slow.warnings]


def test_a_pod_keeps_what_the_simulation_reads(monkeypatch, dump):
    monkeypatch.setattr(bigjson, "FAST_BYTES", 1)
    topo = load([str(dump)]).topology
    pod = next(o for o in topo.objects if o.kind == "Pod")
    assert set(pod.body) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert pod.body["spec"]["nodeName"] and pod.body["status"]["podIP"]
    assert "imagePullPolicy" not in pod.body["spec"]["containers"][0]
    assert pod.body["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    pods = [o for o in topo.objects if o.kind == "Pod"]
    same_owner = [p for p in pods if p.body["metadata"].get("generateName") == pod.body["metadata"].get("generateName")]
    assert len(same_owner) > 1
    assert same_owner[0].body["spec"]["containers"] is same_owner[1].body["spec"]["containers"], "equal parts are shared"


def _edit(dump, change):
    data = json.loads(dump.read_text())
    change(data["items"])
    dump.write_text(json.dumps(data, indent=4))


@pytest.mark.parametrize("change", [
    pytest.param(lambda items: next(i for i in items if i["kind"] == "Pod")["metadata"].update(name="Bad_Name"), id="pod name"),
    pytest.param(lambda items: next(i for i in items if i["kind"] == "Pod")["metadata"].update(labels={"app": 3}), id="label value"),
    pytest.param(lambda items: next(i for i in items if i["kind"] == "Pod").update(spek={}), id="unknown field"),
    pytest.param(lambda items: next(i for i in items if i["kind"] == "Service")["spec"]["ports"][0].update(port=70000), id="service port"),
    pytest.param(lambda items: items.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dup-ip", "namespace": "default"},
                                             "status": {"podIP": next(i for i in items if i["kind"] == "Pod")["status"]["podIP"]}}),
                 id="duplicate pod IP"),
    pytest.param(lambda items: items.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}}), id="skipped kind"),
    pytest.param(lambda items: items.append([1, 2]), id="not a mapping"),
])
def test_every_message_is_the_located_readers(monkeypatch, dump, change):
    monkeypatch.setattr(bigjson._Stream, "CHUNK", 4093)
    _edit(dump, change)
    fast, slow = _both(monkeypatch, [dump])
    if isinstance(slow, LoadError):
        assert isinstance(fast, LoadError)
        assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
        assert any(p.mark.line > 1 and p.mark.file == str(dump) for p in fast.problems), "located inside the file"
    else:
        assert [str(p) for p in fast.warnings] == [str(p) for p in slow.warnings]


@pytest.mark.parametrize("chunk", [32 << 20, 509])
def test_a_json_syntax_error_is_located(monkeypatch, dump, chunk):
    monkeypatch.setattr(bigjson._Stream, "CHUNK", chunk)
    _edit(dump, lambda items: None)  # written as kubectl writes it, indented
    text = dump.read_text()
    at = text.index('"kind": "Service"')
    dump.write_text(text[:at] + "," + text[at:])
    monkeypatch.setattr(bigjson, "FAST_BYTES", 1)
    with pytest.raises(LoadError) as e:
        load([str(dump)])
    [p] = e.value.problems
    line = text[:at].count("\n") + 1
    assert (p.mark.line, p.mark.col) == (line, at - text.rfind("\n", 0, at))
    assert "Expecting property name" in p.message


def test_json_that_is_not_a_list_is_read_the_ordinary_way(monkeypatch, tmp_path):
    f = tmp_path / "pod.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": {"podIP": "10.244.0.5"}}))
    monkeypatch.setattr(bigjson, "FAST_BYTES", 1)
    [o] = load([str(f)]).topology.objects
    assert (o.kind, o.name, o.namespace) == ("Pod", "p", "default")


def test_a_pod_object_made_without_init_is_the_dataclass_made_with_it():
    from tui.load.bigpods import pod_object as _pod_object
    from tui.load.errors import Mark
    from tui.model.topology import KubeObject

    args = ("web-1", "shop", {"kind": "Pod"}, Mark("f.json", 3, 5), {"spec": Mark("f.json", 4, 7)})
    fast, slow = _pod_object(*args), KubeObject("v1", "Pod", *args)
    assert fast == slow and vars(fast) == vars(slow) and hash(fast) == hash(slow)


def test_nesting_too_deep_for_the_json_reader_is_a_located_error(monkeypatch, dump):
    """An item nested deeper than the JSON reader recurses is refused at the item's place, not with a traceback."""
    text = dump.read_text()
    at = text.rindex("]")  # the end of items: one more item there, nested 50,000 deep
    dump.write_text(text[:at] + ", " + "[" * 50_000 + "]" * 50_000 + text[at:])
    monkeypatch.setattr(bigjson, "FAST_BYTES", 1)
    with pytest.raises(LoadError) as e:
        load([str(dump)])
    [p] = e.value.problems
    assert (p.mark.line, p.mark.col) == (text[:at].count("\n") + 1, at - text.rfind("\n", 0, at) + 2)
    assert p.message.startswith("nesting too deep")
