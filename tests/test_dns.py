"""The cluster DNS: CoreDNS's kubernetes plugin, its Corefile, the upstream, the pods' resolvers, `resolve`.

The reference cases in tests/data/dns (CoreDNS's own kubernetes-plugin tests and the Kubernetes DNS
specification, as standard objects) are asked of the core and of the command line, each world built as the
reference runner builds it: the case's cluster file, its upstream records in cluster.dns.upstream.records, and
a ConfigMap kube-system/coredns whose Corefile carries the case's options.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tui.dns import corefile as cf
from tui.dns.records import NOERROR, NXDOMAIN
from tui.dns.resolver import ResolvConf, resolv_conf, resolve, search_order
from tui.dns.sources import coredns_objects, with_coredns
from tui.dns.zone import build, serial_of
from tui.load import LoadError, load

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "dns"
CASES = yaml.safe_load((DATA / "cases.yaml").read_text()) + yaml.safe_load((DATA / "spec-cases.yaml").read_text())
# the zones CoreDNS's reverse test gives the plugin (reverse-cluster.yaml's header)
REVERSE_ZONES = ("cluster.local 0.10.in-addr.arpa 168.192.in-addr.arpa 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa "
                 "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.0.0.7.7.0.0.0.0.d.f.ip6.arpa")
TWO_NODES = ROOT / "topologies" / "04-two-node-cluster.yaml"


def corefile(cfg: dict, zones: str = "cluster.local in-addr.arpa ip6.arpa") -> str:
    lines = [f"        pods {cfg.get('pods', 'insecure')}"]
    if cfg.get("namespaces"):
        lines.append("        namespaces " + " ".join(cfg["namespaces"]))
    if cfg.get("ignore_empty_service"):
        lines.append("        ignore empty_service")
    return f".:53 {{\n    errors\n    kubernetes {zones} {{\n" + "\n".join(lines) + "\n    }\n    forward . /etc/resolv.conf\n}\n"


def write_world(path: Path, cluster: str, cfg: dict, upstream: list, zones: str | None = None) -> Path:
    docs = [x for x in yaml.safe_load_all((DATA / cluster).read_text()) if x]
    recs = sorted({a for u in upstream for a in u["answer"]})
    for x in docs:
        if x["kind"] == "Topology" and recs:
            x.setdefault("cluster", {}).setdefault("dns", {})["upstream"] = {"records": recs}
    core = corefile(cfg, zones) if zones else corefile(cfg)
    docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
                 "data": {"Corefile": core}})
    with open(path, "w") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A zone per (cluster, options, upstream), built once."""
    cache: dict = {}
    tmp = tmp_path_factory.mktemp("worlds")

    def get(case: dict):
        cfg = dict(case.get("config") or {})
        zones = REVERSE_ZONES if case["cluster"] == "reverse-cluster.yaml" else None
        key = (case["cluster"], json.dumps(cfg, sort_keys=True), json.dumps(case.get("upstream") or [], sort_keys=True))
        if key not in cache:
            path = write_world(tmp / f"w{len(cache)}.yaml", case["cluster"], cfg, case.get("upstream") or [], zones)
            local = tuple(cfg.get("coredns_local_ips") or ("127.0.0.1",))
            cache[key] = build(load([str(path)]).topology, local_ips=local)
        return cache[key]

    return get


def norm(rr: str, case_sensitive: bool = False, serial: bool = True) -> str:
    p = rr.split()
    if len(p) >= 7 and p[3].upper() == "SOA" and serial:
        p[6] = "*"
    p[2:4] = [x.upper() for x in p[2:4]]
    s = " ".join(p)
    return s if case_sensitive else s.lower()


def _id(c):
    return c["id"]


@pytest.mark.parametrize("case", [c for c in CASES if not (c.get("flags") or {}).get("tc")], ids=_id)
def test_reference_case_core(world, case):
    """Same rcode, answer, additional and authority (SOA serial aside) as CoreDNS gives."""
    ans = world(case).query(case["qname"], case["qtype"])
    cs = bool((case.get("compare") or {}).get("case_sensitive_names"))
    assert ans.rcode == case["rcode"], ans.note
    assert {norm(r.text(), cs) for r in ans.answer} == {norm(a, cs) for a in case["answer"]}
    if "additional" in case:
        assert {norm(r.text()) for r in ans.additional} == {norm(a) for a in case["additional"]}
    if "authority" in case:
        assert {norm(r.text()) for r in ans.authority} == {norm(a) for a in case["authority"]}
    if case["rcode"] == NXDOMAIN or not case["answer"]:
        assert len(ans.authority) == 1 and ans.authority[0].type == "SOA"


def test_reference_cases_cli(tmp_path):
    """`resolve -o json` as the reference runner calls it: one call per world and query type."""
    groups = defaultdict(list)
    for c in CASES:
        if (c.get("flags") or {}).get("tc") or "coredns_local_ips" in (c.get("config") or {}):
            continue
        key = (c["cluster"], json.dumps(c.get("config") or {}, sort_keys=True), json.dumps(c.get("upstream") or [], sort_keys=True))
        groups[key].append(c)
    n = 0
    for i, ((cluster, cfg, up), cases) in enumerate(groups.items()):
        w = write_world(tmp_path / f"w{i}.yaml", cluster, json.loads(cfg), json.loads(up))
        by_type = defaultdict(list)
        for c in cases:
            by_type[c["qtype"]].append(c)
        for qt, cc in by_type.items():
            p = subprocess.run([sys.executable, "-m", "tui", "resolve", "-f", str(w), *[c["qname"] for c in cc], "--type", qt, "-o", "json"],
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
            assert p.returncode == 0, p.stderr
            res = json.loads(p.stdout)
            assert len(res) == len(cc)
            for c, r in zip(cc, res, strict=True):
                cs = bool((c.get("compare") or {}).get("case_sensitive_names"))
                assert r["rcode"] == c["rcode"], c["id"]
                assert {norm(a, cs) for a in r["answer"]} == {norm(a, cs) for a in c["answer"]}, c["id"]
                assert r["qname"] == c["qname"] and r["qtype"] == c["qtype"] and r["tries"][0]["qname"] == c["qname"]
                n += 1
    assert n >= 30


# -- the Corefile -----------------------------------------------------------------------------------

def test_kubeadm_corefile():
    c = cf.parse(cf.kubeadm_corefile("cluster.local"))
    (block,) = c.servers
    k = block.kubernetes
    assert block.port == 53 and block.zones == (".",)
    assert k.zones == ("cluster.local.", "in-addr.arpa.", "ip6.arpa.") and k.primary_zone == "cluster.local."
    assert (k.pods, k.ttl, k.fallthrough, k.namespaces) == ("insecure", 30, ("in-addr.arpa.", "ip6.arpa."), ())
    assert block.forward[0].from_zone == "." and block.forward[0].to == ("/etc/resolv.conf",)


def test_corefile_options_and_defaults():
    c = cf.parse(textwrap.dedent("""\
        # comments and odd spacing are fine
        cluster.local:53 10.0.0.0/24 {
            kubernetes {
                namespaces default kube-system
                ignore empty_service
                endpoint_pod_names
                fallthrough
            }
        }
        example.org {
            forward . 10.9.9.9 { except internal.example.org }
        }
        """))
    k = c.servers[0].kubernetes
    assert k.zones == ("cluster.local.", "0.0.10.in-addr.arpa.") and k.ttl == cf.DEFAULT_TTL and k.pods == "disabled"
    assert k.namespaces == ("default", "kube-system") and k.ignore_empty_service and k.endpoint_pod_names and k.fallthrough == ()
    assert c.servers[1].forward[0].except_zones == ("internal.example.org.",)


@pytest.mark.parametrize("text, line, message", [
    (".:53 {\n    kubernets cluster.local\n}\n", 2, 'unknown directive "kubernets" (did you mean "kubernetes"?)'),
    (".:53 {\n  kubernetes cluster.local {\n    pods sometimes\n  }\n}\n", 3, "wrong value for pods"),
    (".:53 {\n  kubernetes cluster.local {\n    ttl 7200\n  }\n}\n", 3, "ttl must be in range [0, 3600]: 7200"),
    (".:53 {\n  kubernetes cluster.local {\n    podz insecure\n  }\n}\n", 3, 'unknown property "podz" (did you mean "pods"?)'),
    (".:53 {\n  kubernetes in-addr.arpa\n}\n", 2, "non-reverse zone name must be used"),
    (".:53 {\n  errors\n", 1, "not closed"),
    (".:53 {\n  kubernetes cluster.local\n  kubernetes cluster.local\n}\n", 3, "only be used once per Server Block"),
    (".:53 {\n  forward .\n}\n", 2, "forward: needs FROM and at least one TO"),
])
def test_corefile_errors(text, line, message):
    with pytest.raises(cf.CorefileError) as e:
        cf.parse(text)
    assert e.value.line == line and message in str(e.value)


CLUSTER = """\
apiVersion: kubenet/v1
kind: Topology
metadata: {name: dns-test}
cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.1.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: node-1, containers: [{name: c, image: busybox}]}
status: {podIP: 10.244.1.5, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: web}}
spec:
  nodeName: node-1
  hostname: web-0
  subdomain: web-hl
  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]
status: {podIP: 10.244.1.10, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec: {nodeName: node-1, hostname: web-1, subdomain: web-hl, containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.244.1.11, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, clusterIP: 10.96.0.20, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-hl}
spec: {selector: {app: web}, clusterIP: None, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: search}
spec: {type: ExternalName, externalName: www.example.com}
"""


@pytest.fixture
def cluster_file(tmp_path):
    def make(extra: str = "", topology_dns: str = "") -> str:
        text = CLUSTER.replace("cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}",
                               "cluster: {podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12" + (f", dns: {topology_dns}" if topology_dns else "") + "}")
        p = tmp_path / "cluster.yaml"
        p.write_text(text + ("---\n" + extra if extra else ""))
        return str(p)
    return make


def zone_of(path: str, **kw):
    return build(load([path]).topology, **kw)


def lines(ans) -> list[str]:
    return [r.text() for r in ans.answer]


def test_kubeadm_default_ttl_30_and_plugin_default_5(cluster_file):
    z = zone_of(cluster_file())
    assert z.corefile.source == "kubeadm's default Corefile"
    assert lines(z.query("web.default.svc.cluster.local")) == ["web.default.svc.cluster.local. 30 IN A 10.96.0.20"]
    soa = z.query("nope.default.svc.cluster.local").authority[0]
    assert soa.ttl == 30 and soa.data.endswith(" 7200 1800 86400 30")
    cm = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n'
          'data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local {\n            pods insecure\n        }\n    }\n')
    z = zone_of(cluster_file(cm))
    assert lines(z.query("web.default.svc.cluster.local")) == ["web.default.svc.cluster.local. 5 IN A 10.96.0.20"]


def test_headless_from_pods_hostname_subdomain_and_readiness(cluster_file):
    """No EndpointSlice given: the slices the controller would write, hostnames from spec.hostname/subdomain."""
    z = zone_of(cluster_file())
    assert lines(z.query("web-hl.default.svc.cluster.local")) == ["web-hl.default.svc.cluster.local. 30 IN A 10.244.1.10"]
    assert lines(z.query("web-0.web-hl.default.svc.cluster.local")) == ["web-0.web-hl.default.svc.cluster.local. 30 IN A 10.244.1.10"]
    assert z.query("web-1.web-hl.default.svc.cluster.local").rcode == NXDOMAIN  # not Ready
    srv = z.query("_http._tcp.web-hl.default.svc.cluster.local", "SRV")
    assert lines(srv) == ["_http._tcp.web-hl.default.svc.cluster.local. 30 IN SRV 0 100 8080 web-0.web-hl.default.svc.cluster.local."]
    # the ClusterIP Service: SRV with the Service port and its name as target, the endpoint's hostname too
    assert lines(z.query("_http._tcp.web.default.svc.cluster.local", "SRV")) == [
        "_http._tcp.web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local."]
    assert z.query("web-0.web.default.svc.cluster.local").rcode == NXDOMAIN  # hostname only below the Service it names


def test_the_classic_misconception(cluster_file):
    """A pod gets no <pod>.<namespace>.svc name; the answer says why and what would make one."""
    ans = zone_of(cluster_file()).query("client.default.svc.cluster.local")
    assert ans.rcode == NXDOMAIN
    assert "there is a pod named client" in ans.note and "A Service named client" in ans.note


def test_pod_records_insecure(cluster_file):
    z = zone_of(cluster_file())
    assert lines(z.query("10-244-1-5.default.pod.cluster.local")) == ["10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5"]
    assert lines(z.query("1-2-3-4.default.pod.cluster.local")) == ["1-2-3-4.default.pod.cluster.local. 30 IN A 1.2.3.4"]
    assert z.query("1-2-3-4.nosuchns.pod.cluster.local").rcode == NXDOMAIN


def test_dns_version_ptr_ns_soa(cluster_file):
    z = zone_of(cluster_file())
    assert lines(z.query("dns-version.cluster.local", "TXT")) == ['dns-version.cluster.local. 28800 IN TXT "1.1.0"']
    assert lines(z.query("20.0.96.10.in-addr.arpa", "PTR")) == ["20.0.96.10.in-addr.arpa. 30 IN PTR web.default.svc.cluster.local."]
    assert set(lines(z.query("10.1.244.10.in-addr.arpa", "PTR"))) == {  # an endpoint of two Services: two names
        "10.1.244.10.in-addr.arpa. 30 IN PTR web-0.web-hl.default.svc.cluster.local.",
        "10.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-10.web.default.svc.cluster.local."}
    ns = z.query("cluster.local", "NS")
    assert lines(ns) == ["cluster.local. 30 IN NS ns.dns.cluster.local."] and [r.text() for r in ns.additional] == [
        "ns.dns.cluster.local. 30 IN A 127.0.0.1"]
    soa = z.query("cluster.local", "SOA")
    assert soa.answer[0].data.startswith("ns.dns.cluster.local. hostmaster.cluster.local. ")
    assert z.query("web.default.svc.cluster.local", "SOA").nodata  # SOA only at the apex


def test_nxdomain_versus_nodata(cluster_file):
    z = zone_of(cluster_file())
    assert z.query("web.default.svc.cluster.local", "AAAA").nodata
    assert z.query("default.svc.cluster.local").nodata  # an existing namespace
    assert z.query("nosuchns.svc.cluster.local").rcode == NXDOMAIN
    assert z.query("web.default.svc.cluster.local", "ANY").nodata  # no any plugin: a fake A lookup decides
    assert z.query("web.default.svc.cluster.local", "TXT").nodata
    assert z.query("nope.default.svc.cluster.local", "TXT").rcode == NXDOMAIN


def test_externalname_followed_into_the_upstream(cluster_file):
    dns = '{upstream: {records: ["www.example.com. 300 IN CNAME example.com.", "example.com. 300 IN A 93.184.216.34"]}}'
    z = zone_of(cluster_file(topology_dns=dns))
    assert lines(z.query("search.default.svc.cluster.local")) == [
        "search.default.svc.cluster.local. 30 IN CNAME www.example.com.", "www.example.com. 300 IN CNAME example.com.",
        "example.com. 300 IN A 93.184.216.34"]
    assert lines(z.query("search.default.svc.cluster.local", "CNAME")) == ["search.default.svc.cluster.local. 30 IN CNAME www.example.com."]
    up = z.query("EXAMPLE.com")
    assert up.source == "forward" and up.ra and not up.aa and lines(up) == ["EXAMPLE.com. 300 IN A 93.184.216.34"]
    assert z.query("example.com", "AAAA").nodata and z.query("nothing.example.net").rcode == NXDOMAIN
    # an upstream that does not know the target: CoreDNS still answers the CNAME alone
    z = zone_of(cluster_file())
    ans = z.query("search.default.svc.cluster.local")
    assert ans.rcode == NOERROR and lines(ans) == ["search.default.svc.cluster.local. 30 IN CNAME www.example.com."]


def test_fallthrough_sends_reverse_misses_upstream(cluster_file):
    dns = '{upstream: {records: ["8.8.8.8.in-addr.arpa. 300 IN PTR dns.google."]}}'
    z = zone_of(cluster_file(topology_dns=dns))
    assert lines(z.query("8.8.8.8.in-addr.arpa", "PTR")) == ["8.8.8.8.in-addr.arpa. 300 IN PTR dns.google."]
    cm = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n'
          'data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local in-addr.arpa {\n            pods insecure\n        }\n'
          '        forward . /etc/resolv.conf\n    }\n')
    z = zone_of(cluster_file(cm, topology_dns=dns))
    ans = z.query("8.8.8.8.in-addr.arpa", "PTR")
    assert ans.rcode == NXDOMAIN and ans.authority[0].name == "in-addr.arpa."


def test_namespaces_and_ignore_empty_service(cluster_file):
    cm = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n'
          'data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local {\n            namespaces kube-system\n'
          '            ignore empty_service\n        }\n    }\n')
    z = zone_of(cluster_file(cm + "---\napiVersion: v1\nkind: Service\nmetadata: {name: empty, namespace: kube-system}\n"
                                  "spec: {clusterIP: 10.96.0.30, ports: [{port: 80}], selector: {app: none}}\n"))
    assert z.query("web.default.svc.cluster.local").rcode == NXDOMAIN
    assert 'namespace "default" is not served' in z.query("web.default.svc.cluster.local").note
    assert z.query("kube-dns.kube-system.svc.cluster.local").rcode == NOERROR
    assert z.query("empty.kube-system.svc.cluster.local").rcode == NXDOMAIN
    assert z.query("google.com").rcode == "SERVFAIL"  # no forward in this Corefile


def test_dns_service_is_whatever_holds_the_address(cluster_file):
    topo = load([cluster_file()]).topology
    objs = coredns_objects(topo)
    assert [(o.kind, o.namespace, o.name) for o in objs] == [("Service", "kube-system", "kube-dns"), ("Deployment", "kube-system", "coredns")]
    z = zone_of(cluster_file())
    assert z.sources.dns_service.name == "kube-dns"
    pods = [p for p in z.cluster.pods if p.namespace == "kube-system"]
    assert len(pods) == 2 and all(p.name.startswith("coredns-") for p in pods)
    assert {r.text() for r in z.query("kube-dns.kube-system.svc.cluster.local").answer} == {
        "kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10"}
    own = "---\napiVersion: v1\nkind: Service\nmetadata: {name: my-dns, namespace: infra}\nspec: {clusterIP: 10.96.0.10, ports: [{name: dns, port: 53, protocol: UDP}]}\n"
    topo = load([cluster_file(own)]).topology
    assert coredns_objects(topo) == () and with_coredns(topo) is topo
    assert zone_of(cluster_file(own)).sources.dns_service.name == "my-dns"
    z = zone_of(cluster_file(topology_dns="{clusterIP: 10.96.0.53}"))
    assert z.sources.dns_service.cluster_ips == ("10.96.0.53",)


def test_serial_is_deterministic(cluster_file):
    a = load([cluster_file()]).topology
    assert serial_of(a) == serial_of(load([cluster_file()]).topology)
    assert serial_of(a) != serial_of(load([cluster_file(topology_dns="{clusterIP: 10.96.0.53}",
                                                         extra="apiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n")]).topology)


def test_records_list(cluster_file):
    recs = [r.text() for r in zone_of(cluster_file()).records()]
    for want in ("cluster.local. 30 IN NS ns.dns.cluster.local.", 'dns-version.cluster.local. 28800 IN TXT "1.1.0"',
                 "web.default.svc.cluster.local. 30 IN A 10.96.0.20",
                 "_http._tcp.web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local.",
                 "web-0.web-hl.default.svc.cluster.local. 30 IN A 10.244.1.10",
                 "search.default.svc.cluster.local. 30 IN CNAME www.example.com.",
                 "20.0.96.10.in-addr.arpa. 30 IN PTR web.default.svc.cluster.local.",
                 "10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5"):
        assert want in recs
    assert recs == [r.text() for r in zone_of(cluster_file()).records()]
    assert not any("web-1" in r for r in recs)


# -- the upstream records in the topology ---------------------------------------------------------------

@pytest.mark.parametrize("record, message", [
    ("example.com. 300 IN AA 1.2.3.4", '"AA" is not a DNS record type'),
    ("example.com. 300 IN A 1.2.3", "bad A data"),
    ("example.com. 300 CH A 1.2.3.4", "only class IN"),
    ("example.com.", "is not a zone-file record"),
    ("example..com. 300 IN A 1.2.3.4", "is not a domain name"),
])
def test_upstream_record_errors_are_located(tmp_path, record, message):
    p = tmp_path / "t.yaml"
    p.write_text(f'apiVersion: kubenet/v1\nkind: Topology\ncluster:\n  dns:\n    upstream:\n      records:\n      - "{record}"\n')
    with pytest.raises(LoadError) as e:
        load([str(p)])
    (problem,) = e.value.problems
    assert str(problem).startswith(f"{p}:7:9: error: cluster.dns.upstream.records[0]: ") and message in str(problem)


def test_upstream_records_stored_and_checked(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("apiVersion: kubenet/v1\nkind: Topology\ncluster:\n  dns:\n    upstream:\n      nameservers: [1.1.1.1]\n"
                 "      records:\n      - 'example.com 60 in a 93.184.216.34'\n      - 'txt.example.com. IN TXT \"a b\" c'\n")
    cfg = load([str(p)]).topology.cluster
    assert cfg.dns_upstream_records == (("example.com.", 60, "A", "93.184.216.34"), ("txt.example.com.", 300, "TXT", '"a b" "c"'))
    assert [str(x) for x in cfg.dns_upstream_nameservers] == ["1.1.1.1"]
    p.write_text("apiVersion: kubenet/v1\nkind: Topology\ncluster:\n  dns:\n    upstream:\n      records:\n"
                 "      - 'www.example.com. 60 IN CNAME example.com.'\n      - 'www.example.com. 60 IN A 1.2.3.4'\n      - 7\n")
    with pytest.raises(LoadError) as e:
        load([str(p)])
    msgs = [str(x) for x in e.value.problems]
    assert any(":8:9: error: cluster.dns.upstream.records[1]: " in m and "CNAME and other data" in m for m in msgs)
    assert any(":9:9: error: cluster.dns.upstream.records[2]: expected a zone-file line" in m for m in msgs)


# -- the resolver -----------------------------------------------------------------------------------

def test_resolv_conf_cluster_first(cluster_file):
    z = zone_of(cluster_file())
    pod = next(p for p in z.cluster.pods if p.name == "client")
    conf = resolv_conf(z, pod)
    assert conf.text() == ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
                           "nameserver 10.96.0.10\noptions ndots:5\n")


@pytest.mark.parametrize("spec, policy, text", [
    ("hostNetwork: true", "Default", "nameserver 8.8.8.8\n"),
    ("hostNetwork: true, dnsPolicy: ClusterFirstWithHostNet", "ClusterFirst",
     "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"),
    ("dnsPolicy: Default", "Default", "nameserver 8.8.8.8\n"),
    ("dnsPolicy: None, dnsConfig: {nameservers: [10.96.0.10], searches: [corp.example], options: [{name: ndots, value: '2'}]}",
     "None", "search corp.example\nnameserver 10.96.0.10\noptions ndots:2\n"),
    ("dnsConfig: {nameservers: [1.1.1.1], searches: [corp.example], options: [{name: ndots, value: '1'}, {name: edns0}]}",
     "ClusterFirst", "search default.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\n"
                     "nameserver 1.1.1.1\noptions ndots:1 edns0\n"),
])
def test_resolv_conf_policies(cluster_file, spec, policy, text):
    pod = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{nodeName: node-1, {spec}, containers: [{{name: c, image: x}}]}}\n"
    z = zone_of(cluster_file(pod))
    conf = resolv_conf(z, next(p for p in z.cluster.pods if p.name == "p"))
    assert conf.applied == policy and conf.text() == text


def test_search_order_ndots():
    conf = ResolvConf(("10.96.0.10",), ("ns.svc.cluster.local", "svc.cluster.local", "cluster.local"),
                      ("ndots:5",), "ClusterFirst", "ClusterFirst")
    assert search_order(conf, "web")[0] == ["web.ns.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web."]
    assert search_order(conf, "a.b.c.d.e.f")[0][0] == "a.b.c.d.e.f."
    assert search_order(conf, "web.default.svc.cluster.local.")[0] == ["web.default.svc.cluster.local."]


def test_resolve_from_a_pod_walks_the_search_list(cluster_file):
    dns = '{upstream: {records: ["example.com. 300 IN A 93.184.216.34"]}}'
    z = zone_of(cluster_file(topology_dns=dns))
    r = resolve(z, z.cluster, "default/client", "web", "A")
    assert [t.qname for t in r.tries] == ["web.default.svc.cluster.local."] and r.kept == 0
    r = resolve(z, z.cluster, "client", "web.default", "A")  # a bare pod name is in namespace default
    assert [(t.qname, t.answer.rcode) for t in r.tries] == [("web.default.default.svc.cluster.local.", NXDOMAIN),
                                                             ("web.default.svc.cluster.local.", NOERROR)] and r.kept == 1
    r = resolve(z, z.cluster, "default/client", "example.com", "A")
    assert len(r.tries) == 4 and r.kept == 3 and r.final.answer[0].data == "93.184.216.34"
    r = resolve(z, z.cluster, "default/client", "web", "AAAA")  # NODATA everywhere: glibc goes on, then says NODATA
    assert len(r.tries) == 4 and r.final.nodata and r.kept == 0
    r = resolve(z, z.cluster, None, "web", "A")
    assert [t.qname for t in r.tries] == ["web."] and r.final.rcode == NXDOMAIN


# -- the command line -----------------------------------------------------------------------------------

def kn(*args: str) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    return p


def test_cli_resolve_text_and_from():
    p = kn("resolve", "-f", str(TWO_NODES), "web", "--from", "default/client")
    assert p.returncode == 0, p.stderr
    assert ";;   search default.svc.cluster.local svc.cluster.local cluster.local" in p.stdout
    assert ";; try 1: web.default.svc.cluster.local. A -> NOERROR, 1 record   <- kept" in p.stdout
    assert "\nweb.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.20" in p.stdout
    data = json.loads(kn("resolve", "-f", str(TWO_NODES), "web-a", "--from", "client", "-o", "json").stdout)
    (one,) = data
    assert one["rcode"] == NXDOMAIN and [t["qname"] for t in one["tries"]][-1] == "web-a."
    assert one["resolv_conf"]["nameservers"] == ["10.96.0.10"] and not any(t["kept"] for t in one["tries"])


def test_cli_resolve_reverse_and_types():
    data = json.loads(kn("resolve", "-f", str(TWO_NODES), "-x", "10.96.0.20", "cluster.local", "--type", "soa", "-o", "json").stdout)
    assert data[0]["qtype"] == "SOA" and data[1]["qname"] == "20.0.96.10.in-addr.arpa." and data[1]["qtype"] == "PTR"
    assert data[1]["answer"] == ["20.0.96.10.in-addr.arpa. 30 IN PTR web.default.svc.cluster.local."]


@pytest.mark.parametrize("args, code, message", [
    (("resolve", "-f", str(TWO_NODES), "web", "--type", "BOGUS"), 1, "--type BOGUS: not a DNS query type"),
    (("resolve", "-f", str(TWO_NODES), "web", "--from", "default/nosuch"), 1, 'no pod "default/nosuch"'),
    (("resolve", "-f", str(TWO_NODES)), 2, "give at least one NAME"),
    (("resolve", "-f", str(TWO_NODES), "-x", "10.96"), 1, "-x 10.96: not an IP address"),
    (("resolve", "-f", str(TWO_NODES), "a..b"), 1, '"a..b" is not a domain name'),
    (("resolve", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "web"), 1, "no Kubernetes cluster"),
    (("serve-dns", "-f", str(TWO_NODES), "--listen", "nowhere"), 2, "expected ADDRESS:PORT"),
])
def test_cli_errors(args, code, message):
    p = kn(*args)
    assert p.returncode == code and message in p.stderr


def test_cli_bad_corefile_is_a_located_error(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(TWO_NODES.read_text() + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n"
                 "data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local {\n            pods always\n        }\n    }\n")
    r = kn("resolve", "-f", str(p), "web.default.svc.cluster.local")
    assert r.returncode == 1
    n = len(TWO_NODES.read_text().splitlines()) + 9
    assert f"{p}:{n}:13: error: data.Corefile: CoreDNS would not start: line 3: kubernetes: wrong value for pods" in r.stderr


def test_resolve_and_core_never_import_textual():
    code = ("import sys, contextlib, io\nfrom tui.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['resolve', '-f', {str(TWO_NODES)!r}, 'web', '--from', 'client'])\n"
            "import tui.dns.server, tui.dns.zone, tui.dns.resolver\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_endpoints_objects_are_mirrored_and_endpoint_pod_names(cluster_file):
    extra = ("apiVersion: v1\nkind: Service\nmetadata: {name: legacy}\nspec: {clusterIP: None, ports: [{name: pg, port: 5432}]}\n---\n"
             "apiVersion: v1\nkind: Endpoints\nmetadata: {name: legacy}\nsubsets:\n- addresses: [{ip: 10.9.0.1, hostname: db-a},"
             " {ip: 10.9.0.2, targetRef: {kind: Pod, name: db-b}}]\n  notReadyAddresses: [{ip: 10.9.0.3}]\n"
             "  ports: [{name: pg, port: 5432, protocol: TCP}]\n---\n")
    cm = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n'
          'data:\n  Corefile: |\n    .:53 {\n        kubernetes cluster.local in-addr.arpa {\n            endpoint_pod_names\n        }\n    }\n')
    z = zone_of(cluster_file(extra + cm))
    assert sorted(r.data for r in z.query("legacy.default.svc.cluster.local").answer) == ["10.9.0.1", "10.9.0.2"]
    assert lines(z.query("db-b.legacy.default.svc.cluster.local")) == ["db-b.legacy.default.svc.cluster.local. 5 IN A 10.9.0.2"]
    assert {r.data for r in z.query("_pg._tcp.legacy.default.svc.cluster.local", "SRV").answer} == {
        "0 50 5432 db-a.legacy.default.svc.cluster.local.", "0 50 5432 db-b.legacy.default.svc.cluster.local."}
    z = zone_of(cluster_file(extra + cm.replace("endpoint_pod_names", "noendpoints")))
    assert z.query("legacy.default.svc.cluster.local").rcode == NXDOMAIN  # noendpoints: no headless records
    assert z.query("web.default.svc.cluster.local").rcode == NOERROR


def test_ns_names_the_dns_service_when_coredns_listens_on_its_endpoint(cluster_file):
    z = zone_of(cluster_file())
    coredns_ip = next(str(p.ip) for p in z.cluster.pods if p.name.startswith("coredns-"))
    z = zone_of(cluster_file(), local_ips=(coredns_ip,))
    ns = z.query("cluster.local", "NS")
    assert lines(ns) == ["cluster.local. 30 IN NS kube-dns.kube-system.svc.cluster.local."]
    assert [r.text() for r in ns.additional] == ["kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10"]


@pytest.mark.parametrize("line", ["example.com. 300 IN A 93.184.216.34", "example.com A 1.2.3.4", "Foo.Example.com. 30 IN AAAA 2001:DB8:0:0::1",
                                  "www.example.com. 60 CNAME example.com", "a_b.example. 5 IN CNAME Target.Example.",
                                  "example.com. 300 IN AAAA ::ffff:1.2.3.4", "a.b. 0 A 0.0.0.0", "x. IN A 1.2.3.256"])
def test_upstream_records_read_without_dnspython_as_dnspython_reads_them(line, monkeypatch):
    from tui.dns import upstream

    fast = upstream._simple(line)
    monkeypatch.setattr(upstream, "_simple", lambda text: None)
    try:
        slow = upstream.parse_record(line)
    except ValueError:
        slow = None
    assert fast is None or fast == slow  # the fast path takes only what it reads exactly as dnspython does
