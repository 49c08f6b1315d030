"""The editing core: edits validated by the loader, undo/redo, atomic saves that keep modes."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tui.edit import EditError, Workspace, atomic_write, edits

TOPO = Path(__file__).resolve().parent.parent / "topologies"


@pytest.fixture
def switch(tmp_path):
    f = tmp_path / "01-switch.yaml"
    shutil.copy(TOPO / "01-switch.yaml", f)
    return f


def test_an_invalid_edit_is_refused_with_the_loaders_message_and_changes_nothing(switch):
    ws = Workspace([str(switch)])
    before = ws.state
    edit = edits.upsert_route("system-a", None, {"to": "10.0.0.0/8", "via": "10.9.9.9"})
    with pytest.raises(EditError) as e:
        ws.edit(edit)
    assert [(p.path, p.message.split(":")[0]) for p in e.value.problems] == [("hosts[0].routes[0].via", "Nexthop has invalid gateway")]
    assert edit.path == "hosts[0].routes[0]"
    assert ws.state == before and not ws.dirty and not ws.undo_stack


def test_undo_redo_and_dirty(switch):
    ws = Workspace([str(switch)])
    ws.edit(edits.upsert_network(None, {"name": "lan2", "cidr": "10.0.0.0/24"}))
    assert ws.dirty and [n.name for n in ws.loaded.topology.networks] == ["switch", "lan2"]
    assert ws.undo() and not ws.dirty and [n.name for n in ws.loaded.topology.networks] == ["switch"]
    assert ws.redo() and ws.dirty
    assert not ws.redo()


def test_renaming_a_network_follows_its_interfaces(switch):
    ws = Workspace([str(switch)])
    ws.edit(edits.upsert_network("switch", {"name": "office", "cidr": "192.168.1.0/24"}))
    assert {i.network for h in ws.loaded.topology.hosts for i in h.interfaces} == {"office"}


def test_save_keeps_unknown_fields_the_header_and_the_file_mode(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("# my notes\napiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t, labels: {team: x}}\n"
                 "networks: [{name: lan}]\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n")
    os.chmod(f, 0o640)
    ws = Workspace([str(f)])
    ws.edit(edits.upsert_host(None, {"name": "h", "forwarding": "true"}))
    assert ws.save() == [str(f)]
    text = f.read_text()
    assert text.startswith("# my notes\n")
    assert "team: x" in text and "kind: Widget" in text and "size: 3" in text
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert (tmp_path / "t.yaml.bak").read_text().startswith("# my notes")
    again = Workspace([str(f)])
    assert again.loaded.topology.hosts == ws.loaded.topology.hosts


def test_atomic_write_of_a_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(str(tmp_path / "new.yaml"), "x: 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# -- Kubernetes objects -------------------------------------------------------------
@pytest.fixture
def cluster(tmp_path):
    f = tmp_path / "04-two-node-cluster.yaml"
    shutil.copy(TOPO / "04-two-node-cluster.yaml", f)
    return f


def _objects(ws, kind):
    return {(o.namespace, o.name): o.body for o in ws.loaded.topology.objects if o.kind == kind}


def test_kube_objects_are_added_as_real_manifests_and_undone(cluster):
    ws = Workspace([str(cluster)])
    ws.edit(edits.upsert_pod(None, {"name": "api", "labels": "app=api", "node": "node-2", "image": "nginx", "ports": "http:8080/TCP, 9090/UDP"}))
    ws.edit(edits.upsert_deployment(None, {"namespace": "shop", "name": "cart", "replicas": "3", "image": "ghcr.io/x/cart:1.2", "ports": "http:8080"}))
    ws.edit(edits.upsert_service(None, {"namespace": "shop", "name": "cart", "type": "NodePort", "selector": "app=cart",
                                        "ports": "http:80:30100->http", "sessionAffinity": "ClientIP", "externalTrafficPolicy": "Local"}))
    ws.edit(edits.upsert_node(None, {"name": "node-3", "internalIP": "192.168.1.13", "podCIDR": "10.244.3.0/24"}))
    pod = _objects(ws, "Pod")[("default", "api")]
    assert pod == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api", "labels": {"app": "api"}},
                   "spec": {"nodeName": "node-2", "containers": [{"name": "nginx", "image": "nginx", "ports": [
                       {"name": "http", "containerPort": 8080}, {"containerPort": 9090, "protocol": "UDP"}]}]}}
    dep = _objects(ws, "Deployment")[("shop", "cart")]
    assert dep["apiVersion"] == "apps/v1" and list(dep["spec"]) == ["replicas", "selector", "template"]
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "cart"}} and dep["spec"]["template"]["metadata"]["labels"] == {"app": "cart"}
    assert dep["spec"]["template"]["spec"]["containers"][0]["name"] == "cart"  # as kubectl create deployment names it
    svc = _objects(ws, "Service")[("shop", "cart")]["spec"]
    assert svc["type"] == "NodePort" and svc["ports"] == [{"name": "http", "port": 80, "nodePort": 30100, "targetPort": "http"}]
    node = _objects(ws, "Node")[(None, "node-3")]
    assert node["status"]["addresses"] == [{"type": "InternalIP", "address": "192.168.1.13"}] and node["spec"]["podCIDR"] == "10.244.3.0/24"
    from tui.sim.network import compile_topology

    c = compile_topology(ws.loaded.topology).cluster
    assert len([p for p in c.pods if p.namespace == "shop"]) == 3 and "node-3" in c.nodes
    assert next(p for p in c.pods if p.name == "api").node == "node-2"
    for _ in range(4):
        assert ws.undo()
    assert not ws.dirty
    ws.redo()
    assert ("default", "api") in _objects(ws, "Pod")


def test_kube_edits_keep_fields_the_form_does_not_show(cluster):
    ws = Workspace([str(cluster)])
    ws.edit(edits.upsert_service(("default", "web"), {"name": "web", "type": "NodePort", "selector": "app=web", "ports": "http:80->http",
                                                      "clusterIP": "10.96.0.20"}))
    svc = _objects(ws, "Service")[("default", "web")]["spec"]
    assert svc == {"selector": {"app": "web"}, "clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                   "type": "NodePort"}
    ws.edit(edits.upsert_pod(("default", "web-a"), {"name": "web-a", "labels": "app=web,tier=front", "node": "node-1", "image": "nginx:1.27",
                                                    "ports": "http:80"}))
    pod = _objects(ws, "Pod")[("default", "web-a")]
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert pod["spec"]["containers"] == [{"name": "nginx", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]}]
    ws.edit(edits.upsert_service(("default", "web"), {"name": "web", "type": "headless", "selector": "app=web", "ports": "http:80->http"}))
    assert _objects(ws, "Service")[("default", "web")]["spec"]["clusterIP"] == "None"


def test_renaming_a_node_takes_its_pods_along_and_deleting_it_leaves_them(cluster):
    ws = Workspace([str(cluster)])
    ws.edit(edits.upsert_node("node-2", {"name": "worker", "podCIDR": "10.244.2.0/24"}))
    assert _objects(ws, "Pod")[("default", "web-b")]["spec"]["nodeName"] == "worker"
    e = edits.delete_object("Node", None, "worker")
    ws.edit(e)
    assert (None, "worker") not in _objects(ws, "Node")
    assert e.notes == ["default/web-b still names worker: it stays, as an implicit node"]


def test_a_refused_kube_edit_is_located_at_the_object_and_changes_nothing(cluster):
    ws = Workspace([str(cluster)])
    before = ws.state
    edit = edits.upsert_service(None, {"name": "Web2", "ports": "http:80:30001", "clusterIP": "10.96.0.20"})
    with pytest.raises(EditError) as e:
        ws.edit(edit)
    mine, others = ws.problems_at(e.value, edit.where)
    assert sorted(path for path, _ in mine) == ["metadata.name", "spec.clusterIP", "spec.ports[0].nodePort"]
    assert others == [] and ws.state == before and not ws.undo_stack
    edit = edits.upsert_node("node-1", {"name": "node-1", "podCIDR": "10.244.2.0/24"})
    with pytest.raises(EditError) as e:
        ws.edit(edit)
    mine, others = ws.problems_at(e.value, edit.where)
    assert mine == []  # the overlap is reported on node-2, the later of the two
    assert ws.owner_of(others[0], e.value.state) == "Node node-2"


def test_form_text_that_cannot_be_written_is_refused_by_field(cluster):
    ws = Workspace([str(cluster)])
    for edit, field, words in [
        (edits.upsert_pod(None, {"name": "x", "labels": "a=b c", "image": "nginx"}), "labels", "not a valid label value"),
        (edits.upsert_pod(None, {"name": "x", "ports": "http:80/ICMP", "image": "nginx"}), "ports", 'unsupported value "ICMP"'),
        (edits.upsert_pod(None, {"name": "x"}), "image", "required"),
        (edits.upsert_deployment(None, {"name": "x", "replicas": "1000", "image": "nginx"}), "replicas", "at most 100"),
        (edits.upsert_service(None, {"name": "x", "type": "Balancer", "ports": "80"}), "type", 'unsupported value "Balancer"'),
        (edits.upsert_service(None, {"name": "x", "type": "ClusterIP"}), "ports", "at least one port"),
        (edits.upsert_service(None, {"name": "x", "type": "ClusterIP", "ports": "80", "externalTrafficPolicy": "Local"}),
         "externalTrafficPolicy", "NodePort or LoadBalancer"),
        (edits.upsert_service(None, {"name": "x", "type": "ExternalName"}), "externalName", "required"),
        (edits.upsert_node(None, {"name": "n", "internalIP": "1.2.3"}), "internalIP", "not an IP address"),
        (edits.upsert_node(None, {"name": "n", "podCIDR": "10.244.3.1/24"}), "podCIDR", "has host bits set"),
    ]:
        with pytest.raises(edits.FieldErrors) as e:
            ws.edit(edit)
        assert words in e.value.errors[field], (field, e.value.errors)
    assert not ws.dirty


def test_objects_inside_a_list_and_in_json_files(tmp_path):
    f = tmp_path / "dump.json"
    f.write_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},'
                 ' {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}]}')
    ws = Workspace([str(f)])
    edit = edits.upsert_pod(("team", "p"), {"namespace": "team", "name": "p_q", "image": "i"})
    with pytest.raises(EditError) as e:
        ws.edit(edit)
    assert edit.where == (str(f), (0, 1))
    mine, _ = ws.problems_at(e.value, edit.where)
    assert [path for path, _ in mine] == ["metadata.name"]
    ws.edit(edits.upsert_pod(("team", "p"), {"namespace": "team", "name": "p", "labels": "app=p", "image": "i"}))
    ws.save()
    again = Workspace([str(f)])
    assert next(o for o in again.loaded.topology.objects if o.kind == "Pod").body["metadata"]["labels"] == {"app": "p"}


def test_where_generated_objects_come_from(tmp_path):
    from tui.edit import kube
    from tui.load import load

    topo = load([str(TOPO / "05-nodeport.yaml")]).topology
    from tui.sim.network import compile_topology

    c = compile_topology(topo).cluster
    pod = next(p for p in c.pods if p.name.startswith("web-"))
    owner = kube.pod_owner(topo, list(c.nodes), pod.namespace, pod.name)
    assert (owner.kind, owner.name) == ("Deployment", "web")
    assert kube.parse_service_ports("http:80:30080->http/udp, 443") == [
        {"name": "http", "port": 80, "nodePort": 30080, "targetPort": "http", "protocol": "UDP"}, {"port": 443}]
    assert kube.format_service_ports(kube.parse_service_ports("dns:53->5353/UDP")) == "dns:53->5353/UDP"
    assert kube.parse_labels("app=web, tier=front") == {"app": "web", "tier": "front"}
