"""kube-proxy in IPVS mode: the virtual servers of a node, as ``ipvsadm -Ln`` lists them, and the ``ipvs`` command."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.cli import main
from tui.k8s.cluster import build_cluster
from tui.k8s.ipvs import dummy_interface, ipvs_view, ipvsadm_ln, node_addresses, to_dict
from tui.load import load

ROOT = Path(__file__).resolve().parent.parent

WORLD = """
apiVersion: kubenet/v1
kind: Topology
metadata: {name: ipvs}
cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, loadBalancerPool: 192.168.1.240/28}
networks: [{name: lan, cidr: 192.168.1.0/24}]
hosts:
- {name: node-1, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.11/24}]}
- {name: node-2, role: node, interfaces: [{name: eth0, network: lan, address: 192.168.1.12/24}]}
---
{apiVersion: v1, kind: Node, metadata: {name: node-1}, spec: {podCIDR: 10.244.1.0/24}}
---
{apiVersion: v1, kind: Node, metadata: {name: node-2}, spec: {podCIDR: 10.244.2.0/24}}
---
{apiVersion: v1, kind: Pod, metadata: {name: web-a, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, image: nginx}]},
 status: {podIP: 10.244.1.10}}
---
{apiVersion: v1, kind: Pod, metadata: {name: web-b, labels: {app: web}}, spec: {nodeName: node-2, containers: [{name: c, image: nginx}]},
 status: {podIP: 10.244.2.10}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: 10.96.0.20, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: edge}
spec: {type: NodePort, clusterIP: 10.96.0.30, externalTrafficPolicy: EDGE_POLICY, selector: {app: web}, ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec: {clusterIP: 10.96.0.9, selector: {app: nothing}, ports: [{port: 5432}]}
"""


def cluster(extra: str = "", edge_policy: str = "Cluster"):
    text = WORLD.replace("EDGE_POLICY", edge_policy) + extra
    return build_cluster(load(["w.yaml"], texts={"w.yaml": text}).topology)


def servers(view, service: str) -> dict:
    return {(s.address.exploded, s.port): [(r.address.exploded, r.port) for r in s.real_servers]
            for s in view.virtual_servers if s.service == service}


def test_a_two_endpoint_service_gets_two_masqueraded_real_servers():
    view = ipvs_view(cluster(), "node-1")
    web = [s for s in view.virtual_servers if s.service == "default/web:http"]
    assert len(web) == 1
    s = web[0]
    assert (s.protocol, str(s.address), s.port, s.scheduler, s.kind, s.persistent) == ("TCP", "10.96.0.20", 80, "rr", "ClusterIP", None)
    assert [(str(r.address), r.port, r.forward, r.weight) for r in s.real_servers] == [
        ("10.244.1.10", 8080, "Masq", 1), ("10.244.2.10", 8080, "Masq", 1)]
    text = ipvsadm_ln(view)
    assert ("TCP  10.96.0.20:80 rr\n"
            "  -> 10.244.1.10:8080             Masq    1      0          0         \n"
            "  -> 10.244.2.10:8080             Masq    1      0          0         \n") in text


def test_nodeport_has_a_virtual_server_on_every_node_address():
    c = cluster()
    assert [str(a) for a in node_addresses(c, "node-1")] == ["10.244.1.1", "192.168.1.11"]  # cni0 counts: kube-proxy takes every address
    for node, own in (("node-1", ("10.244.1.1", "192.168.1.11")), ("node-2", ("10.244.2.1", "192.168.1.12"))):
        edge = servers(ipvs_view(c, node), "default/edge")
        everyone = [("10.244.1.10", 80), ("10.244.2.10", 80)]
        assert edge == {("10.96.0.30", 80): everyone, **{(ip, 30080): everyone for ip in own}}
    # the node addresses are not bound to kube-ipvs0; the cluster IPs are
    view = ipvs_view(c, "node-1")
    assert [str(a) for a in view.dummy_addresses] == ["10.96.0.1", "10.96.0.9", "10.96.0.10", "10.96.0.20", "10.96.0.30"]  # .10: kube-dns
    assert dummy_interface(view) == "kube-ipvs0       DOWN           10.96.0.1/32 10.96.0.9/32 10.96.0.10/32 10.96.0.20/32 10.96.0.30/32 \n"


def test_a_service_without_endpoints_still_has_its_virtual_server():
    view = ipvs_view(cluster(), "node-1")
    assert servers(view, "default/nobody") == {("10.96.0.9", 5432): []}
    lines = ipvsadm_ln(view).splitlines()
    at = lines.index("TCP  10.96.0.9:5432 rr")
    assert lines[at + 1].startswith("TCP  ")  # the next service follows at once: no real server


def test_ipvsadm_listing_is_sorted_and_laid_out_as_ipvsadm_prints_it():
    extra = """
---
apiVersion: v1
kind: Service
metadata: {name: dns}
spec: {clusterIP: 10.96.0.10, selector: {app: web}, ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53}]}
"""
    text = ipvsadm_ln(ipvs_view(cluster(extra), "node-2"))
    assert text.startswith("IP Virtual Server version 1.2.1 (size=4096)\n"
                           "Prot LocalAddress:Port Scheduler Flags\n"
                           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                           "TCP  10.96.0.1:443 rr\n"
                           "  -> 192.168.1.11:6443            Masq    1      0          0         \n"
                           "TCP  10.96.0.9:5432 rr\n"
                           "TCP  10.96.0.10:53 rr\n")
    heads = [line.split()[:2] for line in text.splitlines()[3:] if not line.startswith("  ->")]
    assert heads == [["TCP", "10.96.0.1:443"], ["TCP", "10.96.0.9:5432"], ["TCP", "10.96.0.10:53"], ["TCP", "10.96.0.20:80"],
                     ["TCP", "10.96.0.30:80"], ["TCP", "10.244.2.1:30080"], ["TCP", "192.168.1.12:30080"], ["UDP", "10.96.0.10:53"]]
    for line in text.splitlines():
        if line.startswith("  -> 10."):  # columns: address 28 wide, Forward 7, Weight 6, the counters 10
            assert line[33:49] == " Masq    1      " and line[49:] == "0          0         " and len(line) == 70


def test_client_ip_affinity_is_the_persistent_flag_with_its_timeout():
    extra = """
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec: {clusterIP: 10.96.0.40, sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}},
       selector: {app: web}, ports: [{port: 80}]}
"""
    view = ipvs_view(cluster(extra), "node-1")
    sticky = next(s for s in view.virtual_servers if s.service == "default/sticky")
    assert sticky.persistent == 600 and "TCP  10.96.0.40:80 rr persistent 600\n" in ipvsadm_ln(view)
    assert all(s.persistent is None for s in view.virtual_servers if s.service != "default/sticky")
    assert "TCP  10.96.0.40:80 lc persistent 600\n" in ipvsadm_ln(ipvs_view(cluster(extra), "node-1", scheduler="lc"))


def test_local_traffic_policy_uses_this_nodes_endpoints_and_falls_back_to_all():
    c = cluster(edge_policy="Local")
    edge1, edge2 = servers(ipvs_view(c, "node-1"), "default/edge"), servers(ipvs_view(c, "node-2"), "default/edge")
    assert edge1[("192.168.1.11", 30080)] == [("10.244.1.10", 80)]
    assert edge2[("192.168.1.12", 30080)] == [("10.244.2.10", 80)]
    assert edge1[("10.96.0.30", 80)] == [("10.244.1.10", 80), ("10.244.2.10", 80)]  # the cluster IP follows internalTrafficPolicy
    # one web pod only: node-2 has none of its own and takes them all (kube-proxy's fallback, kubernetes#97081)
    text = WORLD.replace("EDGE_POLICY", "Local").replace("metadata: {name: web-b, labels: {app: web}}", "metadata: {name: db, labels: {app: db}}")
    one = build_cluster(load(["w.yaml"], texts={"w.yaml": text}).topology)
    assert servers(ipvs_view(one, "node-1"), "default/edge")[("192.168.1.11", 30080)] == [("10.244.1.10", 80)]
    assert servers(ipvs_view(one, "node-2"), "default/edge")[("192.168.1.12", 30080)] == [("10.244.1.10", 80)]


def test_load_balancer_ip_gets_a_virtual_server_bound_to_kube_ipvs0():
    extra = """
---
apiVersion: v1
kind: Service
metadata: {name: public}
spec: {type: LoadBalancer, clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 443, targetPort: 8443, nodePort: 30443}]}
"""
    view = ipvs_view(cluster(extra), "node-1")
    public = servers(view, "default/public")
    lb = next(s for s in view.virtual_servers if s.service == "default/public" and s.kind == "LoadBalancer")
    assert ipaddress.ip_address("192.168.1.240") < lb.address < ipaddress.ip_address("192.168.1.255")
    assert public[(lb.address.exploded, 443)] == [("10.244.1.10", 8443), ("10.244.2.10", 8443)]
    assert {k for k in public} == {("10.96.0.50", 443), (lb.address.exploded, 443), ("10.244.1.1", 30443), ("192.168.1.11", 30443)}
    assert lb.address in view.dummy_addresses
    data = to_dict(view)
    assert f"{lb.address}/32" in data["dummy_interface"]["addresses"]
    entry = next(v for v in data["virtual_servers"] if v["kind"] == "LoadBalancer")
    assert entry["real_servers"][0] == {"address": "10.244.1.10", "port": 8443, "forward": "Masq", "weight": 1,
                                        "active_conn": 0, "inact_conn": 0}


# -- the command ----------------------------------------------------------------------------

@pytest.fixture
def world_file(tmp_path):
    p = tmp_path / "cluster.yaml"
    p.write_text(WORLD.replace("EDGE_POLICY", "Cluster"))
    return p


def test_ipvs_command_prints_ipvsadm_and_the_dummy_device(world_file, capsys):
    assert main(["ipvs", "-f", str(world_file), "node-2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n")
    assert "TCP  192.168.1.12:30080 rr\n" in out and "TCP  192.168.1.11:30080" not in out  # node-2's own addresses only
    assert out.endswith("\n$ ip -br addr show kube-ipvs0\nkube-ipvs0       DOWN           10.96.0.1/32 10.96.0.9/32 10.96.0.10/32 10.96.0.20/32 10.96.0.30/32 \n")


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_ipvs_command_data_forms(world_file, capsys, fmt):
    import yaml

    assert main(["ipvs", "-f", str(world_file), "node-1", "-o", fmt]) == 0
    out = capsys.readouterr().out
    data = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    assert data["node"] == "node-1" and data["scheduler"] == "rr"
    web = next(v for v in data["virtual_servers"] if v["service"] == "default/web:http")
    assert (web["address"], web["port"], len(web["real_servers"])) == ("10.96.0.20", 80, 2)


def test_ipvs_command_errors_are_clear(world_file, tmp_path, capsys):
    assert main(["ipvs", "-f", str(world_file), "node-3"]) == 1
    err = capsys.readouterr().err
    assert err == 'kubenet-tui ipvs: error: no node "node-3" (did you mean "node-2"?)\n'
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {type: Nodeport, ports: [{port: 80}]}\n")
    with pytest.raises(SystemExit) as e:
        main(["ipvs", "-f", str(bad), "node-1"])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:4:") and "error: spec.type" in err and "Traceback" not in err
    plain = tmp_path / "plain.yaml"
    plain.write_text("apiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: p}\nhosts: [{name: a}]\n")
    assert main(["ipvs", "-f", str(plain), "a"]) == 1
    assert "the topology has no Kubernetes nodes" in capsys.readouterr().err


def test_ipvs_command_never_imports_textual(world_file):
    script = textwrap.dedent(f"""
        import contextlib, io, sys
        from tui.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["ipvs", "-f", {str(world_file)!r}, "node-1", "-o", "json"])
        print(code, sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich")))
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[0] == "0 []"
