"""Pilot tests of the dashboard's Ingress parts: the tree's Ingresses, their forms, and `h`, an HTTP request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app.app import create_app
from tui.app.screens.main import MainScreen
from tui.app.widgets.topology_tree import Item, TopologyTree
from tui.app.widgets.trace_pane import TracePane
from tui.ingress.request import send
from tui.load import load

ROOT = Path(__file__).resolve().parent.parent
TOPO = ROOT / "topologies"


def app_for(name="08-ingress.yaml"):
    return create_app([name], animate_traces=False, test_mode=True)


def labels(app) -> list[str]:
    tree = app.screen.query_one(TopologyTree)
    out: list[str] = []

    def walk(node) -> None:
        out.append(node.label.plain)
        for child in node.children:
            walk(child)

    walk(tree.root)
    return out


def select(app, kind, name=None, index=None):
    tree = app.screen.query_one(TopologyTree)
    node = next(n for n in tree._nodes_of_kind(tree.root, kind) if (name is None or n.data.name == name) and (index is None or n.data.index == index))
    tree.move_cursor(node)
    return node


async def add(pilot, kind):
    await pilot.press("a")
    await pilot.pause()
    index = [key for key, _ in pilot.app.screen.choices].index(kind)
    await pilot.press(*["down"] * index, "enter")
    await pilot.pause()


def ingress(app, ns="shop", name="shop") -> dict | None:
    return next((o.body for o in app.workspace.loaded.topology.objects if o.kind == "Ingress" and (o.namespace, o.name) == (ns, name)), None)


def error(app, field) -> str:
    return str(app.screen.query_one(f"#e-{field}").render())


def trace_text(app) -> str:
    return str(app.screen.query_one("#trace-body").render())


def routes_text(app) -> str:
    return str(app.screen.query_one("#routes-body").render())


def routed(app, url):
    """Where the controller sends ``url`` now (the core's answer on the dashboard's model)."""
    ex = send(app.screen.net.topology, url, net=app.screen.net)
    return ex.decision.status, (ex.decision.backend or {}).get("service")


async def http(pilot, url, host="", client=None, cls=""):
    await pilot.press("h")
    await pilot.pause()
    assert pilot.app.screen.id == "http-form"
    await pilot.press("ctrl+u", *url, "tab", "ctrl+u", *host, "tab")
    if client is not None:
        await pilot.press("ctrl+u", *client)
    await pilot.press("tab", "ctrl+u", *cls, "enter")
    await pilot.pause()


async def test_the_tree_lists_ingress_classes_ingresses_and_their_rules(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = labels(app)
        at = text.index("Ingresses (1) 1 IngressClass")
        assert text[at + 1:at + 6] == ["⚑ IngressClass nginx k8s.io/ingress-nginx · default · 1 Ingress",
                                       "⊞ shop/shop class nginx",
                                       "↪ shop.example/videos → videos:http Prefix",
                                       "↪ shop.example/images → images:80 Prefix",
                                       "⊡ TLS shop.example secret shop-tls"]
        select(app, "ingress-rule", "shop/shop", 1)
        await pilot.pause()
        pane = app.screen.query_one("RoutesPane")
        assert pane.border_title == "Ingress" and pane.border_subtitle == "shop/shop · Ingress"
        body = routes_text(app)
        assert "served by the nginx controller at ingress-nginx/ingress-nginx-controller, LoadBalancer 192.168.100.241 ports 80,443" in body
        assert "\nshop.example/images  Prefix → images:80\n↳ 10.96.0.12:80 → 10.244.1.3:8080\n" in body
        assert "TLS shop.example → Secret shop/shop-tls" in body
        select(app, "ingressclass", "nginx")
        await pilot.pause()
        assert "serves: shop/shop" in routes_text(app) and "the default class" in routes_text(app)
        select(app, "host", "node-1")
        await pilot.pause()
        assert pane.border_title == "Routes" and "default via 192.168.100.1 dev eth0" in routes_text(app)
        await pilot.press("slash", *"images")  # the filter keeps the Ingress whose rules say it
        await pilot.pause()
        assert "↪ shop.example/images → images:80 Prefix" in labels(app)


async def test_add_an_ingress_through_the_form_then_undo_redo_and_save(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "ingress", "shop/shop")
        await pilot.pause()
        await add(pilot, "Ingress")
        assert app.screen.id == "ingress-form"
        assert app.screen.values() == {"namespace": "shop", "name": "", "class": "nginx", "host": "", "path": "/", "pathType": "Prefix",
                                       "service": "", "port": "", "secret": ""}
        await pilot.press("tab", *"api", "tab", "tab", *"api.shop.example", "tab", "ctrl+u", *"/v1", "tab", "tab", *"videos", "tab", *"http",
                          "tab", *"shop-tls", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        body = ingress(app, "shop", "api")
        assert body["spec"] == {"ingressClassName": "nginx", "tls": [{"hosts": ["api.shop.example"], "secretName": "shop-tls"}],
                                "rules": [{"host": "api.shop.example", "http": {"paths": [
                                    {"path": "/v1", "pathType": "Prefix", "backend": {"service": {"name": "videos", "port": {"name": "http"}}}}]}}]}
        assert app.screen.selected == Item("ingress", "shop/api")
        assert "⊞ shop/api class nginx" in labels(app) and "↪ api.shop.example/v1 → videos:http Prefix" in labels(app)
        assert routed(app, "https://api.shop.example/v1/users") == (200, "videos")
        assert "unsaved" in app.sub_title
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert ingress(app, "shop", "api") is None and not app.workspace.dirty
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert ingress(app, "shop", "api") is not None
        await pilot.press("ctrl+s")
        await pilot.pause()
    text = (workdir / "08-ingress.yaml").read_text()
    assert text.startswith("# 08 - Ingress") and "host: api.shop.example" in text
    assert load(["08-ingress.yaml"]).topology.objects == app.workspace.loaded.topology.objects


async def test_bad_input_is_shown_beside_its_field_and_nothing_is_lost(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add(pilot, "Ingress")
        await pilot.press("ctrl+u", *"shop", "tab", *"api", "tab", "tab", *"Api.Example", "tab", "ctrl+u", *"v1", "tab", "ctrl+u", *"Prefixx",
                          "tab", "tab", *"99999", "tab", *"api-tls", "enter")
        await pilot.pause()
        assert app.screen.id == "ingress-form"
        assert 'unsupported value "Prefixx": one of Prefix, Exact, ImplementationSpecific' in error(app, "pathType")
        assert "required: the Service" in error(app, "service")
        assert "port 99999 must be between 1 and 65535" in error(app, "port")
        assert app.focused.id == "f-pathType"  # the first field in error
        await pilot.press("ctrl+u", *"Exact", "tab", *"videos", "tab", "ctrl+u", *"80", "enter")
        await pilot.pause()
        assert app.screen.id == "ingress-form"  # now the loader's own words, beside their fields
        assert "is not a DNS subdomain" in error(app, "host")
        assert 'must be an absolute path (start with "/")' in error(app, "path")
        assert error(app, "pathType") == "" and error(app, "service") == ""
        assert app.screen.values() == {"namespace": "shop", "name": "api", "class": "nginx", "host": "Api.Example", "path": "v1",
                                       "pathType": "Exact", "service": "videos", "port": "80", "secret": "api-tls"}
        assert not app.workspace.dirty
        assert app.focused.id == "f-host"
        await pilot.press("ctrl+u", *"api.example", "tab", "ctrl+u", *"/v1", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and ingress(app, "shop", "api") is not None


async def test_a_backend_no_service_answers_is_said_once(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "ingress", "shop/shop")
        await pilot.pause()
        await add(pilot, "IngressRule")
        assert app.screen.id == "rule-form" and app.screen.values()["host"] == "shop.example"
        await pilot.press("tab", "ctrl+u", *"music", "tab", "tab", *"music", "tab", *"80", "enter")
        await pilot.pause()
        assert "no Service shop/music: a request this rule takes gets 503. Enter again keeps it" in error(app, "service")
        assert 'must be an absolute path (start with "/")' in error(app, "path")  # with the other problems, at once
        await pilot.press("enter")
        await pilot.pause()
        assert "no Service shop/music" in error(app, "service")  # still said: the rule was not written
        assert app.focused.id == "f-path"
        await pilot.press("ctrl+u", *"/music", "enter")
        await pilot.pause()
        assert "no Service shop/music" in error(app, "service") and error(app, "path") == ""
        assert not app.workspace.dirty and not app.workspace.undo_stack
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert routed(app, "https://shop.example/music/a.mp3") == (503, "music")


async def test_add_and_edit_a_rule_change_the_routing_and_undo_restores_it(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "ingress-rule", "shop/shop", 0)
        await pilot.pause()
        await add(pilot, "IngressRule")
        await pilot.press("tab", "ctrl+u", *"/pictures", "tab", "ctrl+u", *"Exact", "tab", *"images", "tab", *"80", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.selected == Item("ingress-rule", "shop/shop", index=2)
        assert "↪ shop.example/pictures → images:80 Exact" in labels(app)
        assert routed(app, "https://shop.example/pictures") == (200, "images")
        assert routed(app, "https://shop.example/pictures/a.png")[0] == 404  # Exact: the whole path only
        select(app, "ingress-rule", "shop/shop", 1)
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "rule-form"
        assert app.screen.values() == {"host": "shop.example", "path": "/images", "pathType": "Prefix", "service": "images", "port": "80"}
        await pilot.press("tab", "ctrl+u", *"/img", "enter")
        await pilot.pause()
        assert routed(app, "https://shop.example/images/a.png")[0] == 404
        assert routed(app, "https://shop.example/img/a.png") == (200, "images")
        assert app.screen.selected == Item("ingress-rule", "shop/shop", index=1)
        select(app, "ingress-rule", "shop/shop", 1)  # a new host moves the path to a rule of its own
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("ctrl+u", *"img.example", "enter")
        await pilot.pause()
        rules = ingress(app)["spec"]["rules"]
        assert [r.get("host") for r in rules] == ["shop.example", "img.example"]
        assert routed(app, "http://img.example/img/a") == (200, "images")
        await pilot.press("ctrl+z", "ctrl+z", "ctrl+z")
        await pilot.pause()
        assert routed(app, "https://shop.example/images/a.png") == (200, "images") and not app.workspace.dirty


async def test_delete_a_rule_and_the_last_rule_offers_the_ingress(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "ingress-rule", "shop/shop", 1)
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        assert app.screen.question == "Delete rule shop.example/images (Prefix) → images:80 of Ingress shop/shop?"
        await pilot.press("y")
        await pilot.pause()
        assert [p["path"] for r in ingress(app)["spec"]["rules"] for p in r["http"]["paths"]] == ["/videos"]
        select(app, "ingress-rule", "shop/shop", 0)
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert "is the only rule of Ingress shop/shop" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert ingress(app) is None and "⊞ shop/shop class nginx" not in labels(app)
        await pilot.press("ctrl+z", "ctrl+z")
        await pilot.pause()
        assert len(ingress(app)["spec"]["rules"][0]["http"]["paths"]) == 2


async def test_edit_the_ingress_tls_and_default_backend_and_a_class(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "ingress", "shop/shop")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "ingress-form"
        assert app.screen.values() == {"namespace": "shop", "name": "shop", "class": "nginx", "tls": "shop.example -> shop-tls", "default": ""}
        await pilot.press("tab", "tab", "tab", "end", *"; img.example", "tab", *"images:8080", "enter")
        await pilot.pause()
        assert 'is not HOST[,HOST] -> SECRET' in error(app, "tls")
        await pilot.press("end", *" -> img-tls", "enter")
        await pilot.pause()
        assert "Service shop/images has no port 8080 (its ports: 80 (http))" in error(app, "default")
        await pilot.press("ctrl+u", *"images:80", "enter")
        await pilot.pause()
        spec = ingress(app)["spec"]
        assert spec["tls"][1] == {"hosts": ["img.example"], "secretName": "img-tls"}
        assert spec["defaultBackend"] == {"service": {"name": "images", "port": {"number": 80}}}
        assert routed(app, "https://shop.example/other") == (200, "images")
        assert "↪ default backend → images:80" in labels(app)
        select(app, "ingressclass", "nginx")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "ingressclass-form"
        await pilot.press("ctrl+u", *"public", "enter")
        await pilot.pause()
        assert ingress(app)["spec"]["ingressClassName"] == "public"  # the Ingresses that name it follow
        assert app.screen.selected == Item("ingressclass", "public")


async def test_the_http_form_shows_the_rules_tried_the_winner_and_the_status(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        assert app.screen.values() == {"url": "https://shop.example/videos", "host": "", "client": "internet", "class": ""}
        await pilot.press("escape")
        await http(pilot, "https://shop.example/videos/cat.mp4")
        assert isinstance(app.screen, MainScreen)
        pane = app.screen.query_one(TracePane)
        text = trace_text(app)
        assert text.startswith("HTTPS GET https://shop.example/videos/cat.mp4  from internet")
        assert " ✔ shop/shop shop.example/videos Prefix → videos:http\n     won: path /videos (Prefix) matches /videos/cat.mp4" in text
        assert " ✘ shop/shop shop.example/images Prefix → images:80\n     lost: path /images (Prefix) does not match /videos/cat.mp4" in text
        assert "TLS SNI shop.example: from Secret shop/shop-tls" in text
        assert "200 OK → shop/videos:80, endpoint 10.244.0.4:8080" in text
        # (12 hops: the load balancer's seeded pick of a node, made on its DNAT rule as written with -p tcp, is the
        # controller's own node)
        assert pane.step == 0 and len(pane.rows) == 12 and pane.border_subtitle.startswith("HTTP 200")
        for _ in range(20):
            await pilot.press("right")
        text = trace_text(app)
        assert "the controller ingress-nginx/ingress-nginx-controller-" in text and "proxies to shop/videos:80" in text
        assert "DELIVERED to shop/videos-" in text
        tree = app.screen.query_one(TopologyTree)
        assert {"rule:shop/shop:0", "ingress:shop/shop", "tls:shop/shop:0", "internet", "load-balancer"} <= tree.path
        assert "▶ ↪ shop.example/videos → videos:http Prefix" in labels(app)
        await http(pilot, "https://other.example/videos")
        text = trace_text(app)
        assert "404 Not Found" in text and "host shop.example does not match other.example" in text
        assert "Kubernetes Ingress Controller Fake Certificate" in text
        await http(pilot, "http://shop.example/images")
        assert "308 Permanent Redirect  Location: https://shop.example/images" in trace_text(app)
        await http(pilot, "http://192.168.100.241/images/a.png", host="shop.example", client="shop/videos-86ddf5f896-5r4sz")
        text = trace_text(app)
        assert "Host: shop.example  from shop/videos-86ddf5f896-5r4sz" in text and "308" in text


async def test_the_http_form_says_what_is_wrong_beside_each_field(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await http(pilot, "ftp://shop.example/", host="", client="nobody", cls="traefik")
        assert app.screen.id == "http-form"
        assert "scheme ftp is not http or https" in error(app, "url")
        assert "nobody" in error(app, "client")
        assert 'no IngressClass "traefik" (there are: nginx)' in error(app, "class")
        assert app.screen.values()["client"] == "nobody"  # kept to be corrected
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(TracePane).exchange is None


async def test_an_edit_replays_the_request_shown(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await http(pilot, "https://shop.example/images/a.png")
        assert "200 OK → shop/images:80" in trace_text(app)
        select(app, "ingress-rule", "shop/shop", 1)
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("tab", "ctrl+u", *"/pics", "enter")
        await pilot.pause()
        assert "404 Not Found" in trace_text(app) and "path /pics (Prefix) does not match /images/a.png" in trace_text(app)
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "200 OK → shop/images:80" in trace_text(app)
        await pilot.press("t", *"internet", "tab", *"edge", "enter")  # a packet trace replaces the request
        await pilot.pause()
        assert app.screen.http_request is None and app.screen.query_one(TracePane).exchange is None


async def test_h_is_for_topologies_with_an_ingress_and_help_lists_it(workdir):
    app = app_for("04-two-node-cluster.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("http", ()) is False
        assert "HTTP request" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert ("h", "HTTP request") in app.screen.bindings_list
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("http", ()) is True
        assert "HTTP request" in [c.title for c in app.get_system_commands(app.screen)]


async def test_the_controller_the_simulator_runs_says_why_it_is_there(workdir):
    text = (workdir / "08-ingress.yaml").read_text()
    docs = [d for d in text.split("\n---\n") if "ingress-nginx-controller" not in d]
    (workdir / "own.yaml").write_text("\n---\n".join(docs))
    app = app_for("own.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "service", "ingress-nginx/ingress-nginx-controller")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.workspace.dirty
        said = [n.message for n in app._notifications]
        assert any("is the nginx Ingress controller the simulator runs (IngressClass nginx names spec.controller k8s.io/ingress-nginx)"
                   in m and "not in the file" in m for m in said)
        tree = app.screen.query_one(TopologyTree)
        pod = next(n for n in tree._nodes_of_kind(tree.root, "namespace") if n.data.name.startswith("ingress-nginx/"))
        tree.move_cursor(pod)
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.workspace.dirty
        assert any(m.startswith(f"{pod.data.name} is a pod of the nginx Ingress controller") for m in [n.message for n in app._notifications])
        select(app, "ingress", "shop/shop")
        await pilot.pause()
        assert "added by the simulator: the nginx Ingress controller" in routes_text(app)


async def test_delete_a_tls_entry_and_an_ingress_class_then_undo(workdir):
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, "ingress-tls", "shop/shop", 0)
        await pilot.pause()
        assert "TLS shop.example → Secret shop/shop-tls" in routes_text(app)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.question == "Delete TLS entry 1 of Ingress shop/shop?"
        await pilot.press("y")
        await pilot.pause()
        assert "tls" not in ingress(app)["spec"]
        await http(pilot, "https://shop.example/videos")
        assert "TLS SNI shop.example: Kubernetes Ingress Controller Fake Certificate" in trace_text(app)
        select(app, "ingressclass", "nginx")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.question == "Delete IngressClass nginx?" and "lose their controller" in app.screen.detail
        await pilot.press("y")
        await pilot.pause()
        assert not any(o.kind == "IngressClass" for o in app.workspace.loaded.topology.objects)
        assert "⊞ shop/shop class nginx (no such IngressClass)" not in labels(app)  # no class at all: no such mark
        await pilot.press("ctrl+z", "ctrl+z")
        await pilot.pause()
        assert ingress(app)["spec"]["tls"] and any(o.kind == "IngressClass" for o in app.workspace.loaded.topology.objects)
        assert "TLS SNI shop.example: from Secret shop/shop-tls" in trace_text(app)  # the request shown follows undo


def test_the_ingress_builders_write_real_manifests():
    from tui.edit import ingress as ing

    assert ing.parse_tls("a.example, b.example -> ab-tls; c.example->c-tls") == [
        {"hosts": ["a.example", "b.example"], "secretName": "ab-tls"}, {"hosts": ["c.example"], "secretName": "c-tls"}]
    assert ing.format_tls(ing.parse_tls("a.example,b.example -> ab-tls; -> x")) == "a.example,b.example -> ab-tls; -> x"
    assert ing.parse_port("80") == {"number": 80} and ing.parse_port("http") == {"name": "http"}
    with pytest.raises(ValueError, match="neither a port number nor a port name"):
        ing.parse_port("HTTP!")
    assert ing.parse_backend("web:http") == {"service": {"name": "web", "port": {"name": "http"}}}
    body = {"spec": {"rules": [{"host": "a.example", "http": {"paths": [
        {"path": "/x", "pathType": "Prefix", "backend": {"service": {"name": "x", "port": {"number": 80}}}},
        {"path": "/y", "pathType": "Prefix", "backend": {"service": {"name": "y", "port": {"number": 80}}}}]}}]}}
    where: dict = {}
    out = ing.rule({"host": "b.example", "path": "/y", "pathType": "exact", "service": "y", "port": "80"}, 1, where)(body)
    assert [(rp.host, rp.path, rp.path_type) for rp in ing.rule_paths(out)] == [("a.example", "/x", "Prefix"), ("b.example", "/y", "Exact")]
    assert where == {"rule": 1, "path": 0, "flat": 1}
    out = ing.without_rule(0)(out)
    assert out["spec"]["rules"] == [{"host": "b.example", "http": {"paths": [
        {"path": "/y", "pathType": "Exact", "backend": {"service": {"name": "y", "port": {"number": 80}}}}]}}]
    with pytest.raises(ing.EditRefused, match="only rule"):
        ing.without_rule(0)(out)
