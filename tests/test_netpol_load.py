"""NetworkPolicy specs checked by the loader as the API server checks them (ValidateNetworkPolicySpec): each mistake
is a located ``FILE:LINE:COL: error: spec...: message`` and `kubenet-tui check` exits 1; a valid policy loads cleanly;
every bundled topology and reference scenario still loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tui.cli import main
from tui.load import LoadError, load
from tui.load.netpol import parse_ipblock_cidr
from tui.model.topology import KubeObject
from tui.netpol import PolicyError, parse_policies, parse_policy

ROOT = Path(__file__).resolve().parent.parent
HEADER = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: default}\nspec:\n"  # spec lines from 5


def write(tmp_path, spec: str, name: str = "np.yaml") -> str:
    f = tmp_path / name
    f.write_text(HEADER + spec + "\n")
    return str(f)


def run(argv) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # a load error exits 1 from inside
        return int(e.code)


SEL = "  podSelector:\n    matchExpressions:\n"  # an expression is on line 7
FROM = "  podSelector: {}\n  ingress:\n  - from:\n"  # a peer is on line 8
PORTS = "  podSelector: {}\n  egress:\n  - ports:\n"  # a port is on line 8

CASES = [
    # spec.podSelector and the spec's own fields
    ("  policyTypes: [Ingress]", "5:3", "spec.podSelector", "required field is missing (podSelector: {} selects every pod"),
    ("  podSelctor: {}", "5:3", "spec.podSelctor", 'unknown field "podSelctor" (did you mean "podSelector"?)'),
    # label selectors
    ("  podSelector:\n    matchLabels:\n      a/b/c: x", "7:7", "spec.podSelector.matchLabels.a/b/c", '"a/b/c" is not a valid label key'),
    ("  podSelector:\n    matchLabels:\n      /app: x", "7:7", "spec.podSelector.matchLabels./app", '"/app" is not a valid label key'),
    ("  podSelector:\n    matchLabels:\n      app: no spaces", "7:12", "spec.podSelector.matchLabels.app", '"no spaces" is not a valid label value'),
    ("  podSelector:\n    matchLabels:\n      app: 5", "7:12", "spec.podSelector.matchLabels.app", "a label value is a string, got an integer (quote it)"),
    (SEL + "    - {key: app, operator: in, values: [a]}", "7:28", "spec.podSelector.matchExpressions[0].operator",
     'unsupported value "in": one of In, NotIn, Exists, DoesNotExist (did you mean "In"?)'),
    (SEL + "    - {key: app, operator: NotIn}", "7:7", "spec.podSelector.matchExpressions[0].values", "required when operator is NotIn"),
    (SEL + "    - {key: app, operator: In, values: []}", "7:40", "spec.podSelector.matchExpressions[0].values", "required when operator is In"),
    (SEL + "    - {key: app, operator: Exists, values: [a]}", "7:44", "spec.podSelector.matchExpressions[0].values",
     "may not be specified when operator is Exists"),
    (SEL + "    - {key: a/b/c, operator: Exists}", "7:13", "spec.podSelector.matchExpressions[0].key", '"a/b/c" is not a valid label key'),
    (SEL + "    - {operator: Exists}", "7:7", "spec.podSelector.matchExpressions[0].key", "required field is missing"),
    (SEL + "    - {key: app, operator: In, values: [ok, 'bad value']}", "7:45", "spec.podSelector.matchExpressions[0].values[1]",
     '"bad value" is not a valid label value'),
    (SEL + "    - {key: app, operator: In, value: [a]}", "7:32", "spec.podSelector.matchExpressions[0].value",
     'unknown field "value" (did you mean "values"?)'),
    ("  podSelector: {matchLabel: {app: a}}", "5:17", "spec.podSelector.matchLabel", 'unknown field "matchLabel" (did you mean "matchLabels"?)'),
    # policyTypes
    ("  podSelector: {}\n  policyTypes: [ingress]", "6:17", "spec.policyTypes[0]",
     'unsupported value "ingress": one of Ingress, Egress (did you mean "Ingress"?)'),
    ("  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]", "6:16", "spec.policyTypes", "may not specify more than two policyTypes"),
    # peers
    (FROM + "    - {}", "8:7", "spec.ingress[0].from[0]", "must specify a peer: podSelector, namespaceSelector or ipBlock"),
    (FROM + "    - {podSelector: null}", "8:7", "spec.ingress[0].from[0]", "must specify a peer"),
    (FROM + "    - {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}", "8:7", "spec.ingress[0].from[0]",
     "may not specify both ipBlock and another peer"),
    (FROM + "    - podselector: {}", "8:7", "spec.ingress[0].from[0].podselector", 'unknown field "podselector" (did you mean "podSelector"?)'),
    ("  podSelector: {}\n  egress:\n  - to:\n    - namespaceSelector: {matchExpressions: [{key: team, operator: Exists, values: [x]}]}",
     "8:84", "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values", "may not be specified when operator is Exists"),
    ("  podSelector: {}\n  ingress:\n  - to: []", "7:5", "spec.ingress[0].to", 'unknown field "to": an ingress rule has "from"'),
    ("  podSelector: {}\n  egress:\n  - port: []", "7:5", "spec.egress[0].port", 'unknown field "port" (did you mean "ports"?)'),
    # ipBlock
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/33}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr",
     '"10.0.0.0/33" is not a CIDR: the prefix length is a number from 0 to 32'),
    (FROM + "    - ipBlock: {cidr: 10.0.0.1}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr", '"10.0.0.1" is not a CIDR: it needs a prefix length'),
    (FROM + "    - ipBlock: {cidr: nope/8}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr", '"nope" is not an IP address'),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/255.0.0.0}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr", "the prefix length is a number"),
    (FROM + "    - ipBlock: {}", "8:16", "spec.ingress[0].from[0].ipBlock.cidr", "required field is missing"),
    (FROM + "    - ipBlock: {cidr: ''}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr", "required: a CIDR like 10.0.0.0/16"),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}", "8:45", "spec.ingress[0].from[0].ipBlock.except[0]",
     '"10.1.0.0/24" must be a strict subset of cidr 10.0.0.0/16'),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}", "8:45", "spec.ingress[0].from[0].ipBlock.except[0]",
     "inside it, with a longer prefix"),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/16, except: ['fd00::/64']}", "8:45", "spec.ingress[0].from[0].ipBlock.except[0]",
     "it is IPv6, the cidr IPv4"),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/40]}", "8:45", "spec.ingress[0].from[0].ipBlock.except[0]", "is not a CIDR"),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/8, exept: []}", "8:35", "spec.ingress[0].from[0].ipBlock.exept",
     'unknown field "exept" (did you mean "except"?)'),
    # ports
    (PORTS + "    - {port: 0}", "8:14", "spec.egress[0].ports[0].port", "port 0 must be between 1 and 65535, inclusive"),
    (PORTS + "    - {port: '80'}", "8:14", "spec.egress[0].ports[0].port", '"80" is not a valid port name: it has no letter'),
    (PORTS + "    - {port: a-very-long-port-name}", "8:14", "spec.egress[0].ports[0].port", "is longer than 15 characters"),
    (PORTS + "    - {port: my--port}", "8:14", "spec.egress[0].ports[0].port", 'has "--"'),
    (PORTS + "    - {port: Http}", "8:14", "spec.egress[0].ports[0].port", "a character other than lower-case letters"),
    (PORTS + "    - {port: 1.5}", "8:14", "spec.egress[0].ports[0].port", "expected a port number or name, got a number"),
    (PORTS + "    - {port: http, endPort: 90}", "8:29", "spec.egress[0].ports[0].endPort", "may not be specified when port is a name"),
    (PORTS + "    - {port: 90, endPort: 80}", "8:27", "spec.egress[0].ports[0].endPort", "endPort 80 must be greater than or equal to port 90"),
    (PORTS + "    - {endPort: 80}", "8:17", "spec.egress[0].ports[0].endPort", "may not be specified when port is not specified"),
    (PORTS + "    - {port: 80, endPort: 70000}", "8:27", "spec.egress[0].ports[0].endPort", "endPort 70000 must be between 1 and 65535"),
    (PORTS + "    - {protocol: tcp}", "8:18", "spec.egress[0].ports[0].protocol",
     'unsupported value "tcp": one of TCP, UDP, SCTP (did you mean "TCP"?)'),
    (PORTS + "    - {protocol: ICMP}", "8:18", "spec.egress[0].ports[0].protocol", 'unsupported value "ICMP": one of TCP, UDP, SCTP'),
]


@pytest.mark.parametrize("spec,where,path,msg", CASES, ids=[f"{c[2]}:{c[3][:30]}" for c in CASES])
def test_network_policy_checked_as_the_api_server_does(tmp_path, capsys, spec, where, path, msg):
    f = write(tmp_path, spec)
    code = run(["check", "-f", f])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    want = f"{f}:{where}: error: {path}: "
    assert any(line.startswith(want) and msg in line for line in err.splitlines()), err


def test_every_mistake_of_a_policy_is_reported_at_once(tmp_path, capsys):
    spec = FROM + "    - {}\n    - ipBlock: {cidr: 10.0.0.0/33}\n    ports:\n    - {port: 0, protocol: ICMP}\n  policyTypes: [Ingres]"
    code = run(["check", "-f", write(tmp_path, spec)])
    err = capsys.readouterr().err
    assert code == 1 and err.count(": error: spec.") == 5 and err.rstrip().endswith("5 errors")


VALID = """\
  podSelector:
    matchLabels: {app.kubernetes.io/name: web, tier: ""}
    matchExpressions:
    - {key: env, operator: In, values: [prod, staging]}
    - {key: example.com/canary, operator: DoesNotExist}
    - {key: legacy, operator: NotIn, values: ["true"]}
    - {key: owner, operator: Exists, values: []}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
      podSelector: {matchLabels: {app: prometheus}}
    - podSelector: {}
    - namespaceSelector: null
      podSelector: {matchExpressions: [{key: role, operator: In, values: [frontend]}]}
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24, 172.17.2.128/25]}
    - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}
    ports:
    - {port: http}
    - {port: 8080, endPort: 8090}
    - {protocol: UDP, port: 53}
    - {protocol: SCTP}
    - {port: metrics-9090}
  - {}
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32, 10.0.0.0/8]}
    ports: [{port: 443, endPort: 443}]
  - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
  - to: []
    ports: null
"""


def test_a_valid_complex_policy_loads_cleanly(tmp_path, capsys):
    f = write(tmp_path, VALID)
    code = run(["check", "-f", f])
    out, err = capsys.readouterr()
    assert code == 0 and ": error:" not in err and out.startswith("ok:")
    loaded = load([f])
    # no warning of the loader; the policy lint's advice (no pods in namespace default) names the policy
    assert [w for w in loaded.warnings if "NetworkPolicy default/bad: " not in w.message] == []
    objects = loaded.topology.objects
    policies, errors = parse_policies(objects, strict=False)  # the evaluation-time parser agrees
    assert errors == [] and [p.key for p in policies] == ["default/bad"]
    assert len(policies[0].ingress) == 2 and len(policies[0].ingress[0].peers) == 5


@pytest.mark.parametrize("spec,where,path,msg", [
    (FROM + "    - ipBlock: {cidr: 10.0.0.1/24}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr",
     '"10.0.0.1/24" has host bits set: it is read as 10.0.0.0/24 (did you mean 10.0.0.0/24 or 10.0.0.1/32?)'),
    (FROM + "    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.2.3/16]}", "8:44", "spec.ingress[0].from[0].ipBlock.except[0]",
     "it is read as 10.1.0.0/16"),
    (FROM + "    - ipBlock: {cidr: 010.0.0.0/08}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr",
     'not in a standard form (leading zeros): use "10.0.0.0/8"'),
    (FROM + "    - ipBlock: {cidr: '::ffff:10.0.0.0/104'}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr",
     'not in a standard form (an IPv4-mapped IPv6 address): use "10.0.0.0/8"'),
    (FROM + "    - ipBlock: {cidr: '2001:DB8::/32'}", "8:23", "spec.ingress[0].from[0].ipBlock.cidr", 'canonical form, "2001:db8::/32"'),
    ("  podSelector: {}\n  policyTypes: [Egress, Egress]", "6:25", "spec.policyTypes[1]", '"Egress" is listed twice'),
])
def test_what_the_api_server_accepts_with_a_warning(tmp_path, capsys, spec, where, path, msg):
    f = write(tmp_path, spec)
    code = run(["check", "-f", f])
    err = capsys.readouterr().err
    assert code == 0
    want = f"{f}:{where}: warning: {path}: "
    assert any(line.startswith(want) and msg in line for line in err.splitlines()), err


@pytest.mark.parametrize("text,network", [
    ("10.0.0.0/8", "10.0.0.0/8"), ("10.0.0.1/24", "10.0.0.0/24"), ("0.0.0.0/0", "0.0.0.0/0"), ("192.168.1.1/32", "192.168.1.1/32"),
    ("010.001.0.0/016", "10.1.0.0/16"), ("2001:db8::/32", "2001:db8::/32"), ("::/0", "::/0"), ("::ffff:1.2.3.0/120", "::ffff:102:300/120"),
])
def test_ipblock_cidrs_the_api_server_parses(text, network):
    assert str(parse_ipblock_cidr(text)[0]) == network


@pytest.mark.parametrize("text", ["10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "256.0.0.0/8", "10.0.0/8", "10.0.0.0/-1", "10.0.0.0/+8",
                                  "fe80::/129", "fe80::%eth0/64", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8\n", "host/8", "/8", ""])
def test_ipblock_cidrs_the_api_server_refuses(text):
    with pytest.raises(ValueError, match="is not a CIDR"):
        parse_ipblock_cidr(text)


# The policies tests/test_netpol.py gives the evaluation-time parser: the loader refuses each at the same path.
REFUSED = [
    ("  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]", "spec.ingress[0].from[0].ipBlock.cidr"),
    ("  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]", "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16}, podSelector: {}}]}]", "spec.ingress[0].from[0]"),
    ("  podSelector: {}\n  ingress: [{from: [{}]}]", "spec.ingress[0].from[0]"),
    ("  podSelector: {}\n  egress: [{ports: [{port: http, endPort: 90}]}]", "spec.egress[0].ports[0].endPort"),
    ("  podSelector: {}\n  egress: [{ports: [{port: 90, endPort: 80}]}]", "spec.egress[0].ports[0].endPort"),
    ("  podSelector: {}\n  egress: [{ports: [{port: 80, protocol: ICMP}]}]", "spec.egress[0].ports[0].protocol"),
    ("  podSelector: {}\n  egress: [{ports: [{port: 0}]}]", "spec.egress[0].ports[0].port"),
    ("  podSelector: {}\n  policyTypes: [ingress]", "spec.policyTypes[0]"),
    ("  podSelector: {matchExpressions: [{key: a, operator: In}]}", "spec.podSelector.matchExpressions[0].values"),
]


@pytest.mark.parametrize("spec,path", REFUSED)
def test_loader_and_evaluation_parser_refuse_at_the_same_path(spec, path):
    text = HEADER + spec + "\n"
    with pytest.raises(LoadError) as e:
        load(["np.yaml"], {"np.yaml": text})
    assert [p.path for p in e.value.problems] == [path]
    body = yaml.safe_load(text)
    with pytest.raises(PolicyError) as pe:
        parse_policy(KubeObject("networking.k8s.io/v1", "NetworkPolicy", "bad", "default", body))
    assert pe.value.path == path


FILES = sorted((ROOT / "topologies").glob("*.yaml")) + sorted((ROOT / "tests" / "data" / "netpol" / "scenarios").glob("*/resources.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_files_still_load(path, capsys):
    code = run(["check", "-f", str(path)])
    err = capsys.readouterr().err
    assert code == 0 and ": error:" not in err and "ipBlock" not in err


def test_there_are_policies_among_the_bundled_files():
    texts = [p.read_text() for p in FILES]
    assert sum("kind: NetworkPolicy" in t for t in texts) >= 9
