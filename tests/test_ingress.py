"""Ingress routing (tui.ingress) and `kubenet-tui http`: the Kubernetes documentation's matching examples
(the conformance cases, copied into tests/data/ingress), TLS, defaultBackend, 503, classes, regex, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tui.cli import main
from tui.ingress.match import host_matches, parse_request, path_match

DATA = Path(__file__).resolve().parent / "data" / "ingress"
ROOT = Path(__file__).resolve().parent.parent
CLUSTER = str(DATA / "cluster.yaml")
WILDCARD = str(DATA / "wildcard.yaml")  # the *.foo.example rule the visible cluster leaves out
FEATURES = str(DATA / "features.yaml")
CASES = yaml.safe_load((DATA / "cases.yaml").read_text())["cases"]


def http(capsys, *args) -> tuple[int, dict | str, str]:
    code = main(["http", *args])
    out, err = capsys.readouterr()
    if "-o" in args and args[args.index("-o") + 1] == "json" and code == 0:
        return code, json.loads(out), err
    return code, out, err


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_conformance_cases(capsys, case):
    url = f'{case["scheme"]}://{case["host"] or "192.0.2.1"}{case["path"]}'
    code, r, _ = http(capsys, "-f", CLUSTER, "-f", WILDCARD, url, "-o", "json")
    assert code == 0
    e = case["expect"]
    if "status" in e:
        assert r["status"] == e["status"] and r["backend"] is None and r["rule"] is None
    else:
        assert r["status"] == 200
        assert (r["backend"]["service"], r["backend"]["port"]) == (e["service"], e["port"])
        assert r["backend"]["namespace"] == "ingress-heldout"
        assert r["endpoint"] is not None


def test_json_shape(capsys):
    code, r, _ = http(capsys, "-f", CLUSTER, "http://r18.pathtypes.example/foo", "-o", "json")
    assert code == 0
    assert {"status", "backend", "rule", "endpoint", "tried", "trace"} <= set(r)
    assert r["backend"] == {"namespace": "ingress-heldout", "service": "path-foo-exact", "port": 80}
    assert r["rule"] == {"ingress": "ingress-heldout/docs-pathtype-examples", "host": "r18.pathtypes.example",
                         "path": "/foo", "pathType": "Exact"}
    assert r["endpoint"].endswith(":8080")
    assert r["client"] == "internet"  # by default an external client, through the controller the simulator runs
    kinds = [t.get("kind") for t in r["trace"]]
    assert kinds.index("proxy") < kinds.index("service") and r["trace"][-1]["verdict"] == "delivered"
    won = [t for t in r["tried"] if t["result"] == "won"]
    assert len(won) == 1 and won[0]["pathType"] == "Exact"
    lost = [t for t in r["tried"] if t["host"] == "r18.pathtypes.example" and t["result"] == "lost"]
    assert lost and "takes precedence" in lost[0]["why"]


@pytest.mark.parametrize("rule,host,want", [
    ("foo.bar.com", "foo.bar.com", "exact"), ("Foo.Bar.com", "foo.bar.com", "exact"),
    ("*.foo.com", "bar.foo.com", "wildcard"), ("*.foo.com", "baz.bar.foo.com", None), ("*.foo.com", "foo.com", None),
    ("", "anything.example", "any"), ("", None, "any"), ("foo.bar.com", None, None),
])
def test_host_matches(rule, host, want):
    assert host_matches(rule, host) == want


@pytest.mark.parametrize("path,kind,req,ok", [
    ("/", "Prefix", "/anything", True), ("/foo", "Exact", "/foo", True), ("/foo", "Exact", "/foo/", False),
    ("/foo/", "Exact", "/foo", False), ("/foo", "Prefix", "/foo/", True), ("/foo/", "Prefix", "/foo", True),
    ("/aaa/bb", "Prefix", "/aaa/bbb", False), ("/aaa/bbb", "Prefix", "/aaa/bbbxyz", False),
    ("/aaa/bbb/", "Prefix", "/aaa/bbb", True), ("/Foo", "Exact", "/foo", False),
    ("/foo", "ImplementationSpecific", "/foobar", True),  # NGINX: a string prefix location
])
def test_path_match(path, kind, req, ok):
    assert (path_match(path, kind, req) is not None) == ok


def test_parse_request():
    r = parse_request("https://Shop.Example:8443/videos?x=1")
    assert (r.scheme, r.host, r.path) == ("https", "shop.example", "/videos")
    assert parse_request("http://192.0.2.1/x").host is None
    assert parse_request("http://192.0.2.1/x", "shop.example").host == "shop.example"
    assert parse_request("http://[2001:db8::1]/").host is None


def test_named_port_resolved_and_merged_rules(capsys):
    code, r, _ = http(capsys, "-f", FEATURES, "https://shop.example/videos/clip", "-o", "json")
    assert code == 0 and r["status"] == 200
    assert r["backend"] == {"namespace": "shop", "service": "videos", "port": 8000}  # port: {name: web}
    assert r["endpoint"] == "10.244.1.5:8080"
    assert r["tls"]["secret"] == "shop/shop-tls" and not r["tls"]["fake"]
    # the same host's rules from another Ingress are merged
    code, r, _ = http(capsys, "-f", FEATURES, "https://shop.example/images/a.png", "-o", "json")
    assert r["backend"]["service"] == "images" and r["rule"]["ingress"] == "shop/images"


def test_https_without_certificate_gets_fake_one(capsys):
    _, r, _ = http(capsys, "-f", FEATURES, "https://plain.example/", "-o", "json")
    assert r["status"] == 200 and r["tls"]["fake"] and "Fake Certificate" in r["tls"]["certificate"]


def test_nginx_redirects_http_for_tls_host(capsys):
    _, r, _ = http(capsys, "-f", FEATURES, "http://shop.example/videos", "-o", "json")
    assert r["status"] == 308 and r["location"] == "https://shop.example/videos"
    assert r["backend"]["service"] == "videos"
    _, r, _ = http(capsys, "-f", FEATURES, "http://plain.example/", "-o", "json")
    assert r["status"] == 200


def test_default_backend_and_503(capsys):
    _, r, _ = http(capsys, "-f", FEATURES, "https://shop.example/nothing", "-o", "json")
    assert r["status"] == 200 and r["backend"]["service"] == "fallback" and r["rule"] is None
    _, r, _ = http(capsys, "-f", FEATURES, "http://192.0.2.1/", "-o", "json")  # an IP literal: no rule's host
    assert r["backend"]["service"] == "fallback"
    _, r, _ = http(capsys, "-f", FEATURES, "https://shop.example/empty", "-o", "json")
    assert r["status"] == 503 and r["backend"]["service"] == "empty" and r["endpoint"] is None


def test_host_header_overrides_url_host(capsys):
    _, r, _ = http(capsys, "-f", FEATURES, "https://192.0.2.1/images/x", "-H", "Host: shop.example", "-o", "json")
    assert r["backend"]["service"] == "images"


def test_ingress_class(capsys):
    # default class nginx: the traefik-class Ingress is not served
    _, r, _ = http(capsys, "-f", FEATURES, "http://traefik.example/", "-o", "json")
    assert r["backend"]["service"] == "fallback"
    _, r, _ = http(capsys, "-f", FEATURES, "http://traefik.example/", "--class", "traefik", "-o", "json")
    assert r["backend"]["service"] == "videos" and r["controller"]["kind"] == "traefik"


def test_nginx_regex_paths(capsys):
    _, r, _ = http(capsys, "-f", FEATURES, "http://regex.example/V2/videos/x", "-o", "json")
    assert r["backend"]["service"] == "videos"
    _, r, _ = http(capsys, "-f", FEATURES, "http://regex.example/v/videos", "-o", "json")
    assert r["backend"]["service"] == "images"


def test_text_output(capsys):
    code, out, _ = http(capsys, "-f", FEATURES, "https://shop.example/videos")
    assert code == 0
    assert "rules tried:" in out and "* shop/web" in out and "200 -> shop/videos:8000" in out
    assert "TLS: SNI shop.example: from Secret shop/shop-tls" in out


def test_trace_from_a_node(capsys):
    code, r, _ = http(capsys, "-f", str(ROOT / "topologies" / "04-two-node-cluster.yaml"), "-f", str(DATA / "web-ingress.yaml"),
                      "http://web.example/", "--from", "node-1", "-o", "json")
    assert code == 0 and r["status"] == 200 and r["backend"] == {"namespace": "default", "service": "web", "port": 80}
    assert r["trace"] and r["trace"][-1]["verdict"] == "delivered"


@pytest.mark.parametrize("args,msg", [
    (["ftp://x/"], "not http or https"),
    (["http://shop.example/", "-H", "nocolon"], "NAME: VALUE"),
    (["http://bad host/"], "not a host name"),
    (["http://shop.example/", "--class", "nope"], 'no IngressClass "nope"'),
    (["http://shop.example/", "--from", "nowhere"], "nowhere"),
])
def test_bad_input(capsys, args, msg):
    code, out, err = http(capsys, "-f", FEATURES, *args)
    assert code == 1 and msg in err and "Traceback" not in err + out


def test_no_ingress(capsys):
    code, _, err = http(capsys, "-f", str(ROOT / "topologies" / "04-two-node-cluster.yaml"), "http://x/")
    assert code == 1 and "no Ingress objects" in err


def test_trace_through_load_balancer_and_controller(capsys):
    code, r, _ = http(capsys, "-f", str(ROOT / "topologies" / "06-loadbalancer.yaml"), "-f", str(DATA / "nginx-controller.yaml"),
                      "http://web.example/", "--from", "laptop", "-o", "json")
    assert code == 0 and r["status"] == 200 and r["backend"]["service"] == "web"
    verdicts = [t for t in r["trace"] if "verdict" in t]
    assert [v["verdict"] for v in verdicts] == ["delivered", "delivered"]
    assert verdicts[0]["delivered_to"].startswith("ingress-nginx/ingress-nginx-controller")
    assert "load balancer" in verdicts[0]["leg"] and verdicts[1]["leg"].endswith(f"-> {r['endpoint']}")
    assert verdicts[1]["delivered_to"].startswith("default/web")
    assert any(t.get("node") == "load-balancer" for t in r["trace"])


def test_trace_through_nodeport_on_premises(capsys, tmp_path):
    ctl = tmp_path / "ctl.yaml"
    ctl.write_text((DATA / "nginx-controller.yaml").read_text().replace("type: LoadBalancer", "type: NodePort"))
    code, r, _ = http(capsys, "-f", str(ROOT / "topologies" / "05-nodeport.yaml"), "-f", str(ctl),
                      "https://web.example/", "--from", "laptop", "-o", "json")
    assert code == 0 and r["status"] == 200 and r["tls"]["fake"]
    verdicts = [t for t in r["trace"] if "verdict" in t]
    assert "NodePort 30001 on node-1 192.168.1.11:30001" in verdicts[0]["leg"]  # the https port's nodePort
    assert [v["verdict"] for v in verdicts] == ["delivered", "delivered"]
