"""The Ingress controllers the simulator runs (tui.k8s.ingress_addon), the request end to end (tui.ingress.request):
the client, the load balancer or NodePort, the controller's proxy step, the Service's endpoints, the pod; NGINX's
rewrite-target and service-upstream; each controller's ImplementationSpecific; the API server's Ingress checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main
from tui.ingress.match import rewrite
from tui.ingress.request import RequestError, send
from tui.k8s.cluster import build_cluster
from tui.load import load

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
apiVersion: kubenet/v1
kind: Topology
metadata: {{name: t}}
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
{cluster}
---
apiVersion: v1
kind: Node
metadata: {{name: node-1}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: app, image: web, ports: [{{name: http, containerPort: 8080}}]}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http}}]
---
{extra}
"""

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {annotations}
spec:
{spec_extra}  rules:
  - host: web.example
    http:
      paths:
      - {{path: {path}, pathType: {path_type}, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
"""


def ingress(path="/", path_type="Prefix", annotations="{}", spec_extra="") -> str:
    return INGRESS.format(path=path, path_type=path_type, annotations=annotations, spec_extra=spec_extra)


def write(tmp_path, cluster="", extra=None) -> str:
    f = tmp_path / "t.yaml"
    f.write_text(BASE.format(cluster=cluster, extra=extra if extra is not None else ingress()))
    return str(f)


def topo(path: str):
    return load([path]).topology  # raises LoadError on a located error


def run(argv) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # a load error exits 1 from inside
        return int(e.code)


def http_json(capsys, *args) -> tuple[int, dict]:
    code = main(["http", *args, "-o", "json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {"err": err})


CLASS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {{name: {name}{ann}}}
spec: {{controller: {controller}}}
---
"""


@pytest.mark.parametrize("controller,ns,svc", [
    ("k8s.io/ingress-nginx", "ingress-nginx", "ingress-nginx-controller"),
    ("haproxy.org/ingress-controller/haproxy", "haproxy-controller", "haproxy-kubernetes-ingress"),
    ("traefik.io/ingress-controller", "traefik", "traefik"),
])
def test_an_ingress_class_makes_the_simulator_run_its_controller(tmp_path, controller, ns, svc):
    cls = CLASS.format(name="main", ann="", controller=controller)
    t = topo(write(tmp_path, extra=cls + ingress().replace("spec:\n", "spec:\n  ingressClassName: main\n")))
    c = build_cluster(t)
    pods = [p for p in c.pods if p.namespace == ns]
    assert len(pods) == 1 and pods[0].ip is not None
    s = next(s for s in c.services if (s.namespace, s.name) == (ns, svc))
    assert s.type == "NodePort"  # no loadBalancerPool: on premises, a NodePort
    assert {p.port for p in s.ports} == {80, 443} and all(30000 <= p.node_port <= 32767 for p in s.ports)
    assert all(c.ready_endpoints(s, p) for p in s.ports)


def test_cluster_ingress_names_the_controller_and_its_service_type(tmp_path):
    path = write(tmp_path, cluster="  loadBalancerPool: 192.168.100.240/28\n  ingress: {controller: traefik, service: LoadBalancer}")
    c = build_cluster(topo(path))
    s = next(s for s in c.services if s.namespace == "traefik")
    assert s.type == "LoadBalancer" and s.load_balancer_ip is not None
    ex = send(topo(path), "http://web.example/")
    assert ex.decision.controller.kind == "traefik" and ex.decision.status == 200  # it serves the class-less Ingress
    assert f"load balancer {s.load_balancer_ip}:80" in ex.legs[0].name and ex.legs[0].trace.delivered_to.startswith("traefik/")


def test_own_controller_is_not_doubled():
    t = topo(str(ROOT / "topologies" / "08-ingress.yaml"))
    c = build_cluster(t)
    assert [p.name for p in c.pods if p.namespace == "ingress-nginx"] and \
        len([p for p in c.pods if p.namespace == "ingress-nginx"]) == 1
    assert not any(o.namespace == "ingress-nginx" and o.mark.file == "<cluster>" for o in c.topology.objects)


def test_request_end_to_end_goes_straight_to_the_pod(tmp_path):
    ex = send(topo(write(tmp_path)), "http://web.example/hello")
    d = ex.decision
    assert d.status == 200 and d.backend == {"namespace": "default", "service": "web", "port": 80}
    assert ex.client == "internet"
    kinds = [s.get("kind") for s in ex.steps]
    assert "proxy" in kinds and "service" in kinds
    first, second = ex.legs
    assert first.trace.delivered and first.trace.delivered_to.startswith("ingress-nginx/")
    assert "NodePort" in first.name
    assert second.trace.delivered and second.trace.delivered_to.startswith("default/web-")
    # the controller connects to the endpoint itself: the packet leaves it already addressed to the pod
    assert str(second.trace.packet.dst) == d.endpoint.rsplit(":", 1)[0]
    service = next(s for s in ex.steps if s.get("kind") == "service")
    assert "not on this path" in service["decision"]


def test_service_upstream_goes_through_kube_proxy(tmp_path):
    ann = '{nginx.ingress.kubernetes.io/service-upstream: "true"}'
    ex = send(topo(write(tmp_path, extra=ingress(annotations=ann))), "http://web.example/")
    second = ex.legs[-1].trace
    assert second.delivered and str(second.packet.dst).startswith("10.96.")
    assert any("DNAT" in r for h in second.hops for r in h.rewrites + h.rules)


@pytest.mark.parametrize("path,target,req,want", [
    ("/something(/|$)(.*)", "/$2", "/something", "/"),
    ("/something(/|$)(.*)", "/$2", "/something/", "/"),
    ("/something(/|$)(.*)", "/$2", "/something/new", "/new"),
    ("/something(/|$)(.*)", "/$2", "/SOMETHING/a/b", "/a/b"),
    ("/api(/|$)(.*)", "/v2/$2", "/api/users", "/v2/users"),
    ("/app", "/", "/app/page", "/"),
])
def test_rewrite_target(path, target, req, want):
    assert rewrite(path, target, req) == want


def test_rewrite_target_in_the_decision(tmp_path, capsys):
    ann = "{nginx.ingress.kubernetes.io/rewrite-target: /$2}"
    path = write(tmp_path, extra=ingress(path='"/something(/|$)(.*)"', path_type="ImplementationSpecific", annotations=ann))
    code, r = http_json(capsys, "-f", path, "http://web.example/something/new")
    assert code == 0 and r["status"] == 200 and r["upstreamPath"] == "/new"
    assert "regex" in r["tried"][0]["why"]
    proxy = next(s for s in r["trace"] if s.get("kind") == "proxy")
    assert "GET /new" in proxy["decision"]
    code, r = http_json(capsys, "-f", path, "http://web.example/other")
    assert r["status"] == 404


@pytest.mark.parametrize("controller,word", [("haproxy.org/ingress-controller/haproxy", "path_beg"),
                                             ("traefik.io/ingress-controller", "PathPrefix")])
def test_implementation_specific_as_each_controller_reads_it(tmp_path, capsys, controller, word):
    cls = CLASS.format(name="c", ann=", annotations: {ingressclass.kubernetes.io/is-default-class: 'true'}", controller=controller)
    path = write(tmp_path, extra=cls + ingress(path="/app", path_type="ImplementationSpecific"))
    code, r = http_json(capsys, "-f", path, "http://web.example/application")  # a string prefix, not an element
    assert code == 0 and r["status"] == 200 and word in r["tried"][0]["why"]
    code, r = http_json(capsys, "-f", path, "http://web.example/ap")
    assert r["status"] == 404


def test_redirect_is_the_controllers_own_answer(tmp_path, capsys):
    tls = "  tls: [{hosts: [web.example], secretName: web-tls}]\n"
    code, r = http_json(capsys, "-f", write(tmp_path, extra=ingress(spec_extra=tls)), "http://web.example/a")
    assert code == 0 and r["status"] == 308 and r["location"] == "https://web.example/a" and r["endpoint"] is None
    assert r["backend"]["service"] == "web"
    assert r["trace"][-1]["kind"] == "proxy"  # no connection to a pod follows
    code, r = http_json(capsys, "-f", write(tmp_path, extra=ingress(spec_extra=tls)), "https://web.example/a")
    assert r["status"] == 200 and r["tls"]["secret"] == "default/web-tls" and not r["tls"]["secretFound"]


def test_no_client_given_and_none_to_find_still_routes(tmp_path):
    ex = send(topo(write(tmp_path)), "http://web.example/", with_trace=False)
    assert ex.decision.status == 200 and ex.steps == [] and ex.client is None


def test_unknown_client_is_a_request_error(tmp_path):
    with pytest.raises(RequestError, match="nowhere"):
        send(topo(write(tmp_path)), "http://web.example/", client="nowhere")


@pytest.mark.parametrize("rule,msg", [
    ("- host: '*.foo.*'\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}",
     'spec.rules[0].host: "*.foo.*": a wildcard is only "*." as the first label'),
    ("- host: 10.0.0.1\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}",
     "is an IP address"),
    ("- http: {paths: [{path: videos, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}",
     'spec.rules[0].http.paths[0].path: "videos" must be an absolute path'),
    ("- http: {paths: [{path: /a, pathType: Prefx, backend: {service: {name: web, port: {number: 80}}}}]}",
     'pathType: unsupported value "Prefx"'),
    ("- http: {paths: [{path: /a//b, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}]}",
     'must not contain "//"'),
    ("- http: {paths: [{path: /a, backend: {service: {name: web, port: {number: 80}}}}]}",
     "paths[0].pathType: required field is missing"),
    ("- http: {paths: [{path: /a, pathType: Prefix, backend: {service: {name: web, port: {number: 80, name: http}}}}]}",
     "backend.service.port: exactly one of name or number"),
    ("- http: {paths: [{path: /a, pathType: Prefix, backend: {service: {name: web, port: {number: 70000}}}}]}",
     "port 70000 must be between 1 and 65535"),
    ("- http: {paths: [{path: /a, pathType: Prefix, backend: {}}]}", "backend: required: service (name and port) or resource"),
])
def test_ingress_checked_as_the_api_server_does(tmp_path, capsys, rule, msg):
    extra = f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: bad}}\nspec:\n  rules:\n  {rule}\n"
    path = write(tmp_path, extra=extra)
    code = run(["check", "-f", path])
    out, err = capsys.readouterr()
    assert code == 1 and msg in err and "Traceback" not in err
    line = next(ln for ln in err.splitlines() if msg in ln)
    assert line.startswith(f"{path}:") and ": error: spec." in line


@pytest.mark.parametrize("cluster,msg", [
    ("  ingress: envoy", 'unknown Ingress controller "envoy"'),
    ("  ingress: {controller: nginx, service: ClusterIP}", "LoadBalancer or NodePort"),
    ("  ingress: {controller: nginx, service: LoadBalancer}", "needs cluster.loadBalancerPool"),
])
def test_cluster_ingress_errors(tmp_path, capsys, cluster, msg):
    code = run(["check", "-f", write(tmp_path, cluster=cluster)])
    _, err = capsys.readouterr()
    assert code == 1 and msg in err and "cluster.ingress" in err


def test_08_ingress_traefik_runs_the_class_controller():
    t = topo(str(ROOT / "topologies" / "08-ingress-traefik.yaml"))
    got = {u: send(t, u).decision for u in ("http://wiki.example/docsearch", "http://wiki.example/apix",
                                             "http://wiki.example/api/v1", "https://wiki.example/docs")}
    assert got["http://wiki.example/docsearch"].backend["service"] == "docs"  # ImplementationSpecific: a string prefix
    assert got["http://wiki.example/apix"].status == 404  # Prefix: whole elements
    assert got["http://wiki.example/api/v1"].backend == {"namespace": "default", "service": "api", "port": 8080}
    https = got["https://wiki.example/docs"]
    assert https.status == 200 and https.tls["fake"] and "TRAEFIK DEFAULT CERT" in https.tls["certificate"]
    ex = send(t, "http://wiki.example/docs")
    assert ex.legs[0].trace.delivered_to.startswith("traefik/traefik-") and "NodePort" in ex.legs[0].name


@pytest.mark.parametrize("controller,ann,tls,want", [
    ("k8s.io/ingress-nginx", "{}", True, 308),
    ("k8s.io/ingress-nginx", "{nginx.ingress.kubernetes.io/ssl-redirect: 'false'}", True, 200),
    ("k8s.io/ingress-nginx", "{nginx.ingress.kubernetes.io/force-ssl-redirect: 'true'}", False, 308),
    ("k8s.io/ingress-nginx", "{}", False, 200),
    ("haproxy.org/ingress-controller/haproxy", "{}", True, 302),
    ("haproxy.org/ingress-controller/haproxy", "{haproxy.org/ssl-redirect-code: '301'}", True, 301),
    ("haproxy.org/ingress-controller/haproxy", "{haproxy.org/ssl-redirect: 'false'}", True, 200),
    ("traefik.io/ingress-controller", "{}", True, 200),
])
def test_each_controllers_redirect_to_https(tmp_path, controller, ann, tls, want):
    cls = CLASS.format(name="c", ann=", annotations: {ingressclass.kubernetes.io/is-default-class: 'true'}", controller=controller)
    extra = ingress(annotations=ann, spec_extra="  tls: [{hosts: [web.example], secretName: web-tls}]\n" if tls else "")
    d = send(topo(write(tmp_path, extra=cls + extra)), "http://web.example/x", with_trace=False).decision
    assert d.status == want
    assert (d.location == "https://web.example/x") == (want != 200)


def test_another_projects_ingress_kind_is_no_ingress(tmp_path, capsys):
    crd = "apiVersion: example.com/v1\nkind: Ingress\nmetadata: {name: x}\nspec: {rules: [{host: web.example}]}\n"
    code = run(["http", "-f", write(tmp_path, extra=crd), "http://web.example/"])
    _, err = capsys.readouterr()
    assert code == 1 and "no Ingress objects (networking.k8s.io/v1 Ingress)" in err
    c = build_cluster(topo(write(tmp_path, extra=crd)))
    assert not any(p.namespace == "ingress-nginx" for p in c.pods)  # nor does it make the simulator run a controller
