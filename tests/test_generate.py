"""``kubenet-tui generate``: made-up clusters that load, agree with the simulator, and never change for a seed."""

from __future__ import annotations

import argparse
import collections
import ipaddress
import json
import os
import random
import subprocess
import sys

import pytest
import yaml

from tui.gen_command import add_parser, cmd_generate
from tui.k8s import generate as gen
from tui.k8s.cluster import build_cluster
from tui.k8s.infer import infer
from tui.k8s.workloads import suffix
from tui.load import load
from tui.model.topology import ClusterConfig, KubeObject

SMALL = ["--nodes", "5", "--pods-per-node", "4", "--services", "12"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """The command through an argparse harness like cli.py's."""
    p = argparse.ArgumentParser(prog="kubenet-tui")
    sub = p.add_subparsers(dest="command")
    add_parser(sub, argparse.RawDescriptionHelpFormatter)
    code = cmd_generate(p.parse_args(["generate", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


def text(params: gen.Params, shape: str = "dump", output: str | None = None) -> str:
    return "".join(gen.chunks(params, shape, output))


def items(params: gen.Params, shape: str = "dump") -> list[dict]:
    return json.loads(text(params, shape, "json"))["items"]


def by_kind(objs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = collections.defaultdict(list)
    for o in objs:
        out[o["kind"]].append(o)
    return out


@pytest.fixture(scope="module")
def small() -> dict[str, list[dict]]:
    return by_kind(items(gen.Params(5, 4, 12, 0)))


# ---------------------------------------------------------------------------------------------- the command


@pytest.mark.parametrize(("shape", "output"), [("dump", None), ("dump", "yaml"), ("deployments", None), ("deployments", "json")])
def test_the_same_seed_gives_the_same_bytes_and_another_seed_others(capsys, shape, output):
    extra = ["--as", shape] + (["-o", output] if output else [])
    code, first, err = run(capsys, *SMALL, "--seed", "3", *extra)
    assert code == 0 and err == "" and first
    assert run(capsys, *SMALL, "--seed", "3", *extra)[1] == first
    assert run(capsys, *SMALL, "--seed", "4", *extra)[1] != first


def test_the_bytes_do_not_depend_on_the_process(tmp_path):
    """No clock, no hash order: two interpreters with other string hash seeds write the same dump."""
    code = "import sys; from tui.k8s.generate import Params, write; write(Params(4, 3, 9, 11), sys.stdout)"
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert outs[0] == outs[1] == text(gen.Params(4, 3, 9, 11))


def test_default_formats_json_for_a_dump_yaml_for_deployments(capsys):
    dump = json.loads(run(capsys, *SMALL)[1])
    assert (dump["apiVersion"], dump["kind"], dump["metadata"]) == ("v1", "List", {"resourceVersion": ""})
    docs = list(yaml.safe_load_all(run(capsys, *SMALL, "--as", "deployments")[1]))
    assert {d["kind"] for d in docs} == {"Namespace", "Node", "Service", "Deployment"}
    listed = json.loads(run(capsys, *SMALL, "--as", "deployments", "-o", "json")[1])
    assert listed["kind"] == "List" and listed["items"] == docs


@pytest.mark.parametrize(("argv", "message"), [
    (["--nodes", "0"], "--nodes: at least 1"),
    (["--services", "-1"], "--services: -1 is negative"),
    (["--pods-per-node", "x"], "'x' is not a whole number"),
    (["--as", "pods"], "invalid choice"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        run(capsys, *argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--nodes", "2", "--pods-per-node", "0", "--services", "1"], "Services need pods"),
    (["--nodes", "40000", "--pods-per-node", "1"], "(at most 32768 nodes): give fewer nodes"),
])
def test_parameters_no_cluster_satisfies_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.startswith("kubenet-tui generate: error: ") and message in err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        run(capsys, "--help")
    out = capsys.readouterr().out
    assert "examples:" in out and "--as deployments" in out and "default: json for --as dump" in out


# ---------------------------------------------------------------------------------------------- the dump


def test_counts(small):
    assert len(small["Node"]) == 5 and len(small["Pod"]) == 20
    assert len(small["Service"]) == 13  # 12 and kube-dns
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= {n["metadata"]["name"] for n in small["Namespace"]}
    per_node = collections.Counter(p["spec"]["nodeName"] for p in small["Pod"])
    assert per_node == {n["metadata"]["name"]: 4 for n in small["Node"]}
    dns = [p for p in small["Pod"] if p["metadata"]["labels"].get("k8s-app") == "kube-dns"]
    assert len(dns) == 2 and all(p["metadata"]["namespace"] == "kube-system" for p in dns)


def test_every_pod_ip_is_unique_and_in_its_nodes_pod_cidr(small):
    cidr = {n["metadata"]["name"]: ipaddress.ip_network(n["spec"]["podCIDR"]) for n in small["Node"]}
    host = {n["metadata"]["name"]: n["status"]["addresses"][0]["address"] for n in small["Node"]}
    ips = [ipaddress.ip_address(p["status"]["podIP"]) for p in small["Pod"]]
    assert len(set(ips)) == len(ips)
    for p, ip in zip(small["Pod"], ips, strict=True):
        node = p["spec"]["nodeName"]
        assert ip in cidr[node] and ip not in (cidr[node].network_address, cidr[node].network_address + 1)
        assert p["status"]["hostIP"] == host[node] and p["status"]["podIPs"] == [{"ip": str(ip)}]
    blocks = list(cidr.values())
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_pods_look_like_a_replicasets(small):
    for p in small["Pod"]:
        meta = p["metadata"]
        owner = meta["ownerReferences"][0]
        assert owner["kind"] == "ReplicaSet" and owner["controller"] is True
        assert meta["name"].startswith(owner["name"] + "-") and owner["name"].endswith("-" + meta["labels"]["pod-template-hash"])
        assert p["status"]["phase"] == "Running"
        assert {"type": "Ready", "status": "True"}.items() <= next(c for c in p["status"]["conditions"] if c["type"] == "Ready").items()
        assert all(port.get("name") for c in p["spec"]["containers"] for port in c["ports"])


def test_every_service_selects_pods_by_named_ports(small):
    for s in small["Service"]:
        sel = s["spec"]["selector"]
        pods = [p for p in small["Pod"] if p["metadata"]["namespace"] == s["metadata"]["namespace"]
                and all(p["metadata"]["labels"].get(k) == v for k, v in sel.items())]
        assert pods, f"{s['metadata']['name']} selects no pod"
        named = {(port["name"], port["protocol"]) for port in pods[0]["spec"]["containers"][0]["ports"]}
        for port in s["spec"]["ports"]:
            if isinstance(port["targetPort"], str):
                assert (port["targetPort"], port["protocol"]) in named


def test_service_types_and_addresses_at_scale():
    objs = by_kind(items(gen.Params(20, 10, 300, 1)))
    services = objs["Service"]
    types = collections.Counter("headless" if s["spec"]["clusterIP"] == "None" else s["spec"]["type"] for s in services)
    assert types["ClusterIP"] > len(services) / 2 and types["headless"] and types["NodePort"] and types["LoadBalancer"]
    ips = [ipaddress.ip_address(s["spec"]["clusterIP"]) for s in services if s["spec"]["clusterIP"] != "None"]
    assert len(set(ips)) == len(ips) and all(ip in gen.SERVICE_CIDR for ip in ips)
    assert ipaddress.ip_address("10.96.0.1") not in ips
    ports = [p["nodePort"] for s in services for p in s["spec"]["ports"] if "nodePort" in p]
    assert len(set(ports)) == len(ports) and all(30000 <= p <= 32767 for p in ports)
    assert all("nodePort" in p for s in services if s["spec"]["type"] != "ClusterIP" for p in s["spec"]["ports"])
    node_net = ipaddress.ip_network("172.18.0.0/24")  # 20 nodes: the simulator's node network
    lbs = [s["status"]["loadBalancer"]["ingress"][0]["ip"] for s in services if s["spec"]["type"] == "LoadBalancer"]
    assert lbs and all(ipaddress.ip_address(ip) in node_net for ip in lbs) and len(set(lbs)) == len(lbs)
    names = [(s["metadata"]["namespace"], s["metadata"]["name"]) for s in services]
    assert len(set(names)) == len(names)
    assert len(objs["Pod"]) == 200 and len({(p["metadata"]["namespace"], p["metadata"]["name"]) for p in objs["Pod"]}) == 200


def test_more_services_than_apps_still_select_pods_under_distinct_names(tmp_path):
    path = tmp_path / "few-pods.json"
    path.write_text(text(gen.Params(1, 3, 30)))
    cluster = build_cluster(load([str(path)]).topology)
    assert len(cluster.pods) == 3 and len(cluster.services) == 32
    assert len({s.key for s in cluster.services}) == 32
    assert all(cluster.ready_endpoints(s, p) for s in cluster.services for p in s.ports)


def test_the_yaml_dump_is_the_json_dump():
    params = gen.Params(3, 5, 9, 2)
    from_yaml = yaml.safe_load(text(params, "dump", "yaml"))
    assert from_yaml == json.loads(text(params, "dump", "json"))


def test_the_pod_network_widens_with_the_nodes_and_infer_reads_it_back():
    assert str(gen.plan(gen.Params(5, 4, 0)).pod_cidr) == "10.244.0.0/16"
    assert str(gen.plan(gen.Params(300, 0, 0)).pod_cidr) == "10.244.0.0/15"
    big = gen.plan(gen.Params(5000, 0, 0))
    assert str(big.pod_cidr) == "10.128.0.0/11" and big.node_mask == 24
    nodes = [KubeObject("v1", "Node", n.name, None, gen.node_object(n, big, None)) for n in big.nodes]
    cfg = infer(ClusterConfig(), nodes)
    assert (str(cfg.pod_cidr), str(cfg.service_cidr), cfg.node_cidr_mask_size) == ("10.128.0.0/11", "10.96.0.0/12", 24)
    wide = gen.plan(gen.Params(2, 300, 0))  # more pods than a /24 holds: a /23 per node
    assert wide.node_mask == 23 and all(n.cidr.prefixlen == 23 for n in wide.nodes)


def test_pod_names_are_the_controllers():
    rng = random.Random(1)
    for _ in range(200):
        rs = f"app{rng.randrange(10 ** 6)}-{rng.randrange(10 ** 9)}"
        count = rng.randrange(1, 40)
        assert gen._pod_names(rs, count) == [f"{rs}-{suffix(rs, i)}" for i in range(count)]


# ---------------------------------------------------------------------------------------------- through the loader


def _pods(cluster) -> list[tuple]:
    return sorted((p.namespace, p.name, p.node, str(p.ip), p.ready) for p in cluster.pods)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The small cluster written in every shape and format, loaded and built."""
    d = tmp_path_factory.mktemp("gen")
    out = {}
    for shape in gen.SHAPES:
        for output in gen.FORMATS:
            path = d / f"{shape}.{output}"
            with open(path, "w") as fh:
                gen.write(gen.Params(5, 4, 12, 0), fh, shape, output)
            result = load([str(path)])
            out[(shape, output)] = (result, build_cluster(result.topology))
    return out


@pytest.mark.parametrize("key", [(s, o) for s in gen.SHAPES for o in gen.FORMATS])
def test_it_loads_without_a_warning_and_builds_the_cluster(loaded, key):
    result, cluster = loaded[key]
    assert result.warnings == []
    assert len(cluster.nodes) == 5 and len(cluster.pods) == 20
    assert len(cluster.services) == 14  # 12, kube-dns and the simulator's default/kubernetes
    assert str(result.topology.cluster.pod_cidr) == "10.244.0.0/16" and str(result.topology.cluster.dns_cluster_ip) == "10.96.0.10"
    assert collections.Counter(p.node for p in cluster.pods) == {n: 4 for n in cluster.nodes}
    for s in cluster.services:
        for port in s.ports:
            assert cluster.ready_endpoints(s, port), f"{s.key}:{port.name} has no endpoint"
    assert not any(o.kind == "Deployment" and o.name == "coredns" and o.mark.file == "<cluster>" for o in cluster.topology.objects)


def test_deployments_give_the_dumps_pods_services_and_endpoints(loaded):
    dump = loaded[("dump", "json")][1]
    for key, (_, cluster) in loaded.items():
        assert _pods(cluster) == _pods(dump), key
        assert sorted(map(repr, cluster.services)) == sorted(map(repr, dump.services)), key
        assert {k: sorted(map(str, v)) for k, v in cluster.endpoints.items()} == {k: sorted(map(str, v)) for k, v in dump.endpoints.items()}


def test_deployments_carry_no_pods_and_their_replicas_add_up(capsys):
    docs = list(yaml.safe_load_all(run(capsys, "--nodes", "6", "--pods-per-node", "7", "--services", "5", "--as", "deployments")[1]))
    kinds = collections.Counter(d["kind"] for d in docs)
    assert "Pod" not in kinds and kinds["Node"] == 6 and kinds["Service"] == 6
    assert sum(d["spec"]["replicas"] for d in docs if d["kind"] == "Deployment") == 42
