"""A big cluster's DNS: a Service's endpoint slices made when a name needs them, reverse names answered
through indexes, and a listing that leaves out endpoints and pods past a size; answers are the same."""

from __future__ import annotations

import pytest

from tui.dns import zone as zone_module
from tui.dns.records import reverse_name
from tui.dns.resolver import resolve
from tui.k8s.generate import Params, write
from tui.load import load
from tui.sim.network import compile_topology


@pytest.fixture(scope="module")
def cluster_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("dns") / "c.json"
    with open(f, "w") as out:
        write(Params(nodes=5, pods_per_node=6, services=12, seed=4), out)
    return str(f)


def _zone(cluster_file):
    return compile_topology(load([cluster_file]).topology).dns_zone()


def _answers(z, name, qtype):
    return [r.text() for r in resolve(z, z.cluster, None, name, qtype).final.answer]


def test_reverse_names_answer_alike_before_and_after_every_slice_is_made(cluster_file):
    lazy = _zone(cluster_file)
    assert lazy.sources.slices.made == {}, "no Service's slices made before a question"
    pod = next(p for p in lazy.cluster.pods if p.ip is not None and not p.host_network)
    _answers(lazy, reverse_name(str(pod.ip)), "PTR")
    assert 0 < len(lazy.sources.slices.made) < len(lazy.sources.slices.pending), "a pod's reverse name: only the Services selecting it"
    whole = _zone(cluster_file)
    whole.records(everything=True)  # every slice made
    assert len(whole.sources.slices.made) == len(whole.sources.slices.pending)
    ips = {p.ip for p in lazy.cluster.pods if p.ip is not None} | {s.cluster_ip for s in lazy.cluster.services if s.cluster_ip}
    assert len(ips) > 30
    for ip in sorted(ips, key=str):
        name = reverse_name(str(ip))
        assert _answers(lazy, name, "PTR") == _answers(whole, name, "PTR"), ip


def test_a_service_name_makes_only_its_own_slices(cluster_file):
    z = _zone(cluster_file)
    svc = next(s for s in z.cluster.services if s.cluster_ip is not None and s.name != "kube-dns" and not s.headless)
    a = _answers(z, f"{svc.name}.{svc.namespace}.svc.cluster.local", "A")
    assert a == [f"{svc.name}.{svc.namespace}.svc.cluster.local. 30 IN A {svc.cluster_ip}"]
    assert set(z.sources.slices.made) <= {f"{svc.name}.{svc.namespace}", "kube-dns.kube-system"}


def test_a_big_listing_has_the_services_records_and_says_what_it_left_out(cluster_file, monkeypatch):
    full = _zone(cluster_file).records()
    monkeypatch.setattr(zone_module, "LISTED_PODS", 10)
    z = _zone(cluster_file)
    part = z.records()
    assert z.unlisted == len(z.cluster.pods) > 10
    assert set(map(str, part)) < set(map(str, full))
    assert [r for r in part if ".pod." in r.name] == []
    services = {r.name for r in full if r.type in ("A", "SRV") and ".svc." in r.name and r.name.count(".") == 5}
    assert services and services <= {r.name for r in part}, "every Service's own name is listed"
