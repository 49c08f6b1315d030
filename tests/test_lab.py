"""The real-kernel lab: the plan (no kernel needed), the refusals, and, as root where namespaces can be
made (CI), every bundled topology brought up, verified against the simulator and taken down."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.cli import main
from tui.lab import kernel
from tui.lab.plan import LabError, build_plan, restore_text
from tui.load.loader import load

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yaml"))


def _net(name: str):
    return load([str(ROOT / "topologies" / name)]).network


def _can_make_namespaces() -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        return False
    try:
        kernel.features(kernel.prefix_for("can-make-namespaces"))
    except kernel.LabUnavailable:
        return False
    return subprocess.run(["which", "iptables-restore"], capture_output=True).returncode == 0


ROOT_LAB = pytest.mark.skipif(not _can_make_namespaces(), reason="needs root, network namespaces, pyroute2 and iptables")


# -- the plan: no kernel ------------------------------------------------------------------------------------

def test_every_object_of_the_plan_is_inside_a_namespace_of_the_lab():
    plan = build_plan(_net("04-cni-flannel.yaml"), "kn0000-")
    for op in plan.ops:
        where = [op[k] for k in ("ns", "name", "peer_ns") if k in op]
        assert where and all(w.startswith("kn0000-") for w in where), op
    assert plan.sim["default/client"] == "kn0000-default.client"
    assert plan.names["kn0000--lan"].startswith("network lan")
    assert len(plan.names) == len(set(plan.names)) == 12


def test_the_overlay_gets_vxlan_devices_with_the_peer_nodes_forwarding_entries():
    net = _net("04-cni-flannel.yaml")
    plan = build_plan(net, "kn0000-")
    vx = [o for o in plan.ops if o["op"] == "vxlan"]
    assert [(o["ns"], o["dev"], o["vni"], o["port"], o["local"]) for o in vx] == [
        ("kn0000-node-1", "flannel.1", 1, 8472, "192.168.1.11"), ("kn0000-node-2", "flannel.1", 1, 8472, "192.168.1.12")]
    fdb = {(o["ns"], o["dst"]) for o in plan.ops if o["op"] == "fdb"}
    assert fdb == {("kn0000-node-1", "192.168.1.12"), ("kn0000-node-2", "192.168.1.11")}
    mac2 = net.namespaces["node-2"].devices["flannel.1"].mac
    assert {"op": "neigh", "ns": "kn0000-node-1", "dev": "flannel.1", "ip": "10.244.2.0", "mac": mac2} in plan.ops


def test_the_routes_are_the_simulators_without_the_kernels_own():
    net = _net("02-router-gateway.yaml")
    plan = build_plan(net, "kn0000-")
    got = sorted(o["text"] for o in plan.ops if o["op"] == "route" and o["ns"] == "kn0000-router")
    want = sorted(r.ip_route() for r in net.namespaces["router"].tables.main.routes() if r.proto != "kernel")
    assert got == want and got


def test_without_ipip_calicos_tunnel_routes_go_through_the_underlay_and_say_so():
    plan = build_plan(_net("04-cni-calico-ipip.yaml"), "kn0000-", features={"veth", "bridge", "vxlan"})
    tunnel = [o for o in plan.ops if o["op"] == "route" and o["ns"] == "kn0000-node-1" and o["to"] == "10.244.2.0/24"]
    assert [(o["via"], o["dev"], o["onlink"]) for o in tunnel] == [("192.168.1.12", "eth0", False)]
    assert any("IP-in-IP" in n for n in plan.notes)
    with_ipip = build_plan(_net("04-cni-calico-ipip.yaml"), "kn0000-")
    assert [o["dev"] for o in with_ipip.ops if o["op"] == "ipip"] == ["tunl0", "tunl0"]
    assert not with_ipip.notes


def test_kube_proxys_rules_are_written_as_iptables_restore_reads_them():
    net = _net("05-nodeport.yaml")
    text = restore_text(net.namespaces["node-1"].netfilter, 4)
    assert text.startswith("*filter\n") and "*nat\n" in text and text.endswith("COMMIT\n")
    assert ":KUBE-SERVICES - [0:0]" in text and "-A KUBE-NODEPORTS " in text and "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000" in text
    assert restore_text(net.namespaces["node-1"].netfilter, 6) is None or "10.244" not in restore_text(net.namespaces["node-1"].netfilter, 6)


def test_dual_stack_rules_are_split_by_family():
    net = _net("04-dual-stack.yaml")
    v4, v6 = (restore_text(net.namespaces["n1"].netfilter, f) for f in (4, 6))
    assert "fd00:" not in v4 and "10.244." not in v6 and "fd00:" in v6


def test_listeners_follow_the_pods_declared_ports_and_coredns_serves_dns():
    plan = build_plan(_net("07-coredns.yaml"), "kn0000-")
    assert [d["sim"].split("/")[0] for d in plan.dns] == ["kube-system", "kube-system"]
    by = {item["sim"]: item["ports"] for item in plan.listeners}
    coredns = [p for k, p in by.items() if k.startswith("kube-system/coredns")]
    assert coredns and all(["tcp", 53] not in p and ["udp", 53] not in p and ["tcp", 9153] in p for p in coredns)


def test_network_policy_becomes_per_pod_ingress_and_per_node_egress_chains():
    plan = build_plan(_net("09-network-policy.yaml"), "kn0000-")
    ing = {o["ns"]: o["text"] for o in plan.ops if o["op"] == "iptables" and "KN-INGRESS" in o["text"]}
    assert "kn0000-shop.db" in ing and "-I INPUT 1 -j KN-INGRESS" in ing["kn0000-shop.db"]
    assert ing["kn0000-shop.db"].rstrip().endswith("-A KN-INGRESS -j DROP\nCOMMIT")
    egress = [o for o in plan.ops if o["op"] == "iptables" and "KN-EGRESS" in o["text"]]
    assert egress and all(o["noflush"] and "-I FORWARD 1 -j KN-EGRESS" in o["text"] for o in egress)


def test_a_cluster_too_big_for_a_lab_is_refused_in_one_sentence(monkeypatch):
    import tui.lab.plan as plan_module

    monkeypatch.setattr(plan_module, "MAX_NAMESPACES", 5)
    with pytest.raises(LabError, match=r"at most 5 namespaces and this topology needs 11: give a smaller topology"):
        build_plan(_net("04-cni-flannel.yaml"), "kn0000-")


def test_without_root_the_lab_says_so_and_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for argv in (["lab", "up", "-f", str(TOPOLOGIES[0])], ["lab", "down"], ["lab", "verify", "-f", str(TOPOLOGIES[0])]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["kubenet-tui lab: the lab makes network namespaces, which needs root: run it as root "
                       "(e.g. sudo kubenet-tui lab up -f FILE)"]


def test_status_without_a_lab(capsys):
    assert main(["lab", "status"]) == 0
    assert capsys.readouterr().out.strip() == "no lab is up (kubenet-tui lab up -f FILE builds one)"
    assert main(["lab", "status", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"up": False}


# -- the kernel: root only ----------------------------------------------------------------------------------

def _root_namespace_view():
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        links = sorted(link.get_attr("IFLA_IFNAME") for link in ipr.get_links())
        routes = sorted(str(r) for r in (ipr.get_routes(family=2)))
    return links, len(routes)


def _left(prefix: str) -> list[str]:
    return [n for n in os.listdir("/run/netns") if n.startswith(prefix)] if os.path.isdir("/run/netns") else []


@ROOT_LAB
@pytest.mark.parametrize("topology", TOPOLOGIES, ids=lambda p: p.stem)
def test_every_bundled_topology_comes_up_agrees_with_the_simulator_and_goes(topology, capsys):
    before = _root_namespace_view()
    rc = main(["lab", "verify", "-f", str(topology), "-o", "json"])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert rc == 0, [r for r in report["results"] if not r["agree"]]
    assert report["disagree"] == 0 and report["probes"] == report["agree"] > 0
    kinds = {r["kind"] for r in report["results"]}
    assert "host-host" in kinds or "pod-pod" in kinds
    assert _left(kernel.prefix()) == [] and not kernel.record_path().exists()
    assert _root_namespace_view() == before  # the machine's own interfaces and routes are untouched


@ROOT_LAB
def test_up_exec_status_down(capsys):
    flannel = str(ROOT / "topologies" / "04-cni-flannel.yaml")
    try:
        assert main(["lab", "up", "-f", flannel]) == 0
        out = capsys.readouterr().out
        assert out.startswith("lab up: two-node-flannel: 12 namespaces, 11 veth pairs, 4 bridges, 2 VXLAN devices")
        assert main(["lab", "up", "-f", flannel]) == 1
        assert "a lab is up already" in capsys.readouterr().err
        pfx = kernel.prefix()
        routes = subprocess.run([sys.executable, "-m", "tui", "lab", "exec", "node-1", "--", "ip", "route"],
                                capture_output=True, text=True, env=os.environ)
        assert routes.returncode == 0, routes.stderr
        assert "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in routes.stdout
        link = subprocess.run([sys.executable, "-m", "tui", "lab", "exec", "node-1", "--", "ip", "-d", "link", "show", "flannel.1"],
                              capture_output=True, text=True, env=os.environ).stdout
        assert "vxlan id 1" in link and "dstport 8472" in link
        missing = subprocess.run([sys.executable, "-m", "tui", "lab", "exec", "node-9", "--", "true"], capture_output=True, text=True,
                                 env=os.environ)
        assert missing.returncode == 1 and 'no "node-9" in the lab' in missing.stderr
        assert main(["lab", "status", "-o", "json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["up"] and status["server"] and not status["missing"] and len(status["namespaces"]) == 12
        assert all(n.startswith(pfx) for n in status["namespaces"])
        assert main(["lab", "verify"]) == 0
        assert "55 agree, 0 disagree" in capsys.readouterr().out
    finally:
        assert main(["lab", "down"]) == 0
    assert "removed 12 namespaces" in capsys.readouterr().out
    assert _left(kernel.prefix()) == []


@ROOT_LAB
def test_down_cleans_up_after_a_crash_without_its_record(capsys):
    assert main(["lab", "up", "-f", str(ROOT / "topologies" / "03-docker-bridge.yaml")]) == 0
    capsys.readouterr()
    rec = kernel.read_record()
    server = rec["server_pid"]
    sleeper = subprocess.Popen([sys.executable, "-m", "tui", "lab", "exec", "docker-host", "--", "sleep", "60"], env={**os.environ})
    time.sleep(0.5)
    kernel.record_path().unlink()  # the record is lost (a crash, a careless rm): down still finds everything
    try:
        assert _left(kernel.prefix())
        assert main(["lab", "down"]) == 0
        assert _left(kernel.prefix()) == []
        assert sleeper.wait(timeout=10) != 0  # what ran inside was ended
        assert not kernel._alive(server)  # and the servers, found by their plan file
    finally:
        sleeper.kill()


@ROOT_LAB
def test_a_build_the_kernel_refuses_is_taken_down_again(monkeypatch, capsys):
    real = kernel._apply
    count = {"n": 0}

    def failing(op, links):
        count["n"] += 1
        if count["n"] == 30:
            raise OSError(17, "File exists")
        return real(op, links)

    monkeypatch.setattr(kernel, "_apply", failing)
    assert main(["lab", "up", "-f", str(ROOT / "topologies" / "04-cni-calico.yaml")]) == 1
    err = capsys.readouterr().err
    assert "kubenet-tui lab up: error:" in err and "the kernel refused" in err and "File exists" in err
    assert _left(kernel.prefix()) == [] and not kernel.record_path().exists()


@ROOT_LAB
def test_a_policy_denied_pair_is_probed_and_refused_for_real(capsys):
    assert main(["lab", "verify", "-f", str(ROOT / "topologies" / "09-network-policy.yaml"), "-o", "json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    denied = [r for r in results if r["kind"] == "policy-denied"]
    assert denied and all(r["lab"] == "timeout" and r["agree"] for r in denied)
    allowed = [r for r in results if r["kind"] == "pod-pod" and r["simulator"] == "delivered"]
    assert allowed and all(r["lab"] == "delivered" for r in allowed)
    assert any(r["from"] == "default/client" and r["to"] == "10.244.2.10:8080" for r in denied)


def test_ipvs_mode_is_stood_in_for_by_iptables_rules_and_says_so():
    text = (ROOT / "topologies" / "05-nodeport.yaml").read_text().replace(
        "cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}",
        "cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, kubeProxy: {mode: ipvs}}")
    net = load(["ipvs.yaml"], texts={"ipvs.yaml": text}).network
    plan = build_plan(net, "kn0000-")
    assert any(n.startswith("kubeProxy.mode is ipvs") for n in plan.notes)
    assert any(o["op"] == "iptables" and "KUBE-SVC-" in o["text"] for o in plan.ops)


def test_judging_compares_delivery_the_answering_endpoint_and_the_kind_of_drop():
    from tui.lab.verify import Probe, judge

    net = _net("04-cni-flannel.yaml")
    net.compile_nodes()

    def probe(**kw):
        base = dict(kind="pod-service", src="default/client", dst="10.96.0.20:80", proto="tcp", ip=ipaddress.ip_address("10.96.0.20"),
                    port=80, expect="delivered", expect_to="default/web-b")
        p = Probe(**{**base, **kw})
        judge(net, p)
        return p

    assert probe(got="delivered", got_to="default/web-b").agree
    other = probe(got="delivered", got_to="default/web-a",
                  detail="answered by default/web-a at 10.244.1.3:80, which saw the client as 10.244.1.2:4000")
    assert other.agree and other.note.startswith("kube-proxy picked 10.244.1.3:80 here; the simulator, given that endpoint, delivers there too")
    assert not probe(got="timeout").agree
    assert not probe(got="delivered", got_to="node-1", detail="answered by node-1 at 192.168.1.11:80, which saw").agree
    closed = dict(expect="dropped", expect_to=None, why="port closed: nothing listens on TCP port 81 in default/web-a")
    assert probe(got="refused", **closed).agree
    assert not probe(got="timeout", **closed).agree  # a closed port answers at once: silence is another drop
    silent = dict(expect="dropped", expect_to=None, why="policy (ingress of x: ...)")
    assert probe(got="timeout", **silent).agree and probe(got="unreachable", **silent).agree
    assert not probe(got="refused", **silent).agree and not probe(got="delivered", got_to="default/web-a", **silent).agree


def test_a_kernel_without_what_the_topology_needs_is_said_in_one_sentence(monkeypatch):
    import shutil

    plan = build_plan(_net("04-cni-flannel.yaml"), "kn0000-")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(kernel.LabUnavailable, match=r"^this topology's overlay needs VXLAN devices and this kernel cannot make them"):
        kernel.require(plan, {"veth", "bridge"})
    if shutil.which("iptables-restore"):
        kernel.require(plan, {"veth", "bridge", "vxlan"})  # (all there: nothing to say)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(kernel.LabUnavailable, match=r"^this topology has iptables rules and iptables-restore is not installed: install iptables"):
        kernel.require(plan, {"veth", "bridge", "vxlan"})
