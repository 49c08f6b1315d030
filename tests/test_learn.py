"""Lessons, challenges and goal files (the core and the headless commands): every lesson's answers are the
simulator's, every challenge fails as shipped and passes with its reference fix, and a goal file's
mistakes are located errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main
from tui.learn.command import bundled_challenges
from tui.learn.facts import same
from tui.learn.goals import check, read_goals
from tui.learn.lessons import answer_of, bundled_lessons, check_answer, done_by
from tui.load import LoadError, load

ROOT = Path(__file__).resolve().parent.parent
LESSONS = bundled_lessons()
CHALLENGES = bundled_challenges()


def test_the_lessons_follow_the_subject_in_order():
    assert [lesson.title for lesson in LESSONS] == [
        "A switch: one L2 segment", "A router and the default gateway", "Namespaces and docker0",
        "A two-node cluster and pod CIDRs", "CNI and the overlay (flannel VXLAN)", "Services and kube-proxy",
        "CoreDNS and search lists", "NodePort and LoadBalancer", "Ingress: host and path routing, TLS", "NetworkPolicy"]
    assert all(lesson.topology.is_file() and lesson.steps for lesson in LESSONS)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.path.stem)
def test_every_lesson_passes_on_its_reference_solution(lesson):
    loaded = load([str(lesson.topology)])
    net = loaded.network
    kinds = {s.kind for s in lesson.steps}
    assert kinds & {"do", "ask"}, "a lesson has something to do or answer"
    for step in lesson.steps:
        if step.kind == "ask":  # the reference answer is what the simulator computes
            assert same(step.solution, answer_of(step, loaded, net)), (step.text, step.solution, answer_of(step, loaded, net))
            ok, _ = check_answer(step, loaded, net, ", ".join(map(str, step.solution)) if isinstance(step.solution, list)
                                 else str(step.solution))
            assert ok
        elif step.kind == "do":  # the request the step asks for is answerable, and completes the step
            q = step.query
            request = {"trace": {"src": q.get("from"), "dst": q.get("to"), "proto": q.get("proto")},
                       "dns": {"name": q.get("name"), "pod": q.get("from"), "asked": True},
                       "http": {"url": q.get("url")}}[step.query_kind]
            assert done_by(step, net, step.query_kind, request)
            assert not done_by(step, net, step.query_kind, {"src": "nowhere", "dst": "nowhere", "name": "x.y", "url": "http://x/"})


def test_a_wrong_answer_is_wrong_and_the_simulator_gives_the_right_one():
    lesson = next(x for x in LESSONS if x.name == "overlay")
    loaded = load([str(lesson.topology)])
    ask = next(s for s in lesson.steps if s.kind == "ask")
    assert check_answer(ask, loaded, loaded.network, "eth0") == (False, "flannel.1")
    assert check_answer(ask, loaded, loaded.network, " Flannel.1 ")[0]


@pytest.mark.parametrize("challenge", CHALLENGES, ids=lambda p: p.name)
def test_every_challenge_fails_as_shipped_and_passes_when_fixed(challenge):
    goals = read_goals(str(challenge / "goals.yaml"))
    broken = check(load([str(challenge / "broken.yaml")]), goals)
    fixed = check(load([str(challenge / "solution.yaml")]), goals)
    assert not all(r.passed for r in broken) and any(r.passed for r in broken)
    assert all(r.passed for r in fixed), [r.line() for r in fixed if not r.passed]
    assert all(r.goal.hint for r in broken if not r.passed)  # a failing goal says where to look


def test_the_four_kinds_of_challenge_are_there():
    assert [p.name for p in CHALLENGES] == ["01-missing-route", "02-selector-matches-nothing", "03-policy-blocks-dns",
                                           "04-ingress-path-type"]


def test_challenge_check_grades_and_exits_1_until_fixed(capsys):
    d = ROOT / "topologies" / "challenges" / "04-ingress-path-type"
    assert main(["challenge", "check", "-f", str(d / "broken.yaml"), "--goal", str(d / "goals.yaml")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("FAIL  a video under /videos is served by the videos Service: status is 404, expected 200; "
                      "backend is (none), expected shop/videos:80")
    assert out[1].startswith("      hint: http -f broken.yaml https://shop.example/videos/cat.mp4 lists every rule tried.")
    assert out[-1] == "2 of 3 goals pass"
    assert main(["challenge", "check", "-f", str(d / "solution.yaml"), "--goal", str(d / "goals.yaml"), "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True and [g["passed"] for g in data["goals"]] == [True, True, True]
    assert data["goals"][0]["got"] == {"status": 200, "backend": "shop/videos:80"}
    assert data["goals"][0]["where"].endswith("goals.yaml:5:3")


def test_a_team_asserts_its_own_network(tmp_path, capsys):
    goals = tmp_path / "network-goals.yaml"
    goals.write_text("""apiVersion: kubenet/v1
kind: Goals
goals:
- trace: {from: default/client, to: svc/web}
  expect: {verdict: delivered}
- dns: {from: default/client, name: web}
  expect: {answers: [10.96.0.20], rcode: NOERROR}
- route: {host: node-1, to: 10.244.2.2}
  expect: {dev: flannel.1}
- reach: {from: default/client, to: default/web-b, port: 80}
  expect: {allowed: true}
""")
    assert main(["challenge", "check", "-f", str(ROOT / "topologies" / "04-cni-flannel.yaml"), "--goal", str(goals)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["PASS  trace default/client -> svc/web", "PASS  dns web from default/client", "PASS  route on node-1 to 10.244.2.2",
                   "PASS  reach default/client -> default/web-b:80", "4 of 4 goals pass"]


BAD_GOALS = [
    ("goals: []\n", "1:1: error: goals: the list is empty"),
    ("goals:\n- trace: {from: a}\n  expect: {verdict: delivered}\n", "2:10: error: goals[0].trace.to: required field is missing"),
    ("goals:\n- trace: {from: a, to: b}\n  expect: {verdict: arrived}\n", "3:21: error: goals[0].expect.verdict: a verdict is delivered or dropped"),
    ("goals:\n- trace: {from: a, to: b}\n  dns: {name: x}\n  expect: {verdict: dropped}\n",
     "2:3: error: goals[0]: a goal asks one question, this one has trace and dns: split it in two"),
    ("goals:\n- trace: {from: a, to: b}\n  expect: {verdict: dropped, colour: red}\n", '3:30: error: goals[0].expect.colour: unknown field "colour"'),
    ("kind: Goal\ngoals:\n- reach: {from: a, to: b, port: 99999}\n  expect: {allowed: true}\n", "1:7: error: kind: a goal file has kind: Goals"),
    ("goals:\n- http: {url: x}\n  expect: {status: 200}\n  hnit: typo\n", '4:3: error: goals[0].hnit: unknown field "hnit" (did you mean "hint"?)'),
    ("goals:\n- trace: {from: a, to: b, proto: xyz}\n  expect: {verdict: dropped}\n",
     '2:34: error: goals[0].trace.proto: "xyz" is no protocol the simulator traces: tcp, udp, sctp or icmp'),
    ("goals:\n- dns: {name: web, type: BOGUS}\n  expect: {rcode: NOERROR}\n",
     '2:26: error: goals[0].dns.type: "BOGUS" is not a DNS query type'),
    ("goals:\n- dns: {name: ''}\n  expect: {rcode: NOERROR}\n", '2:15: error: goals[0].dns.name: "" is not a name to ask: empty'),
    ("goals:\n- reach: {from: a, to: b, port: 80, protocol: ICMP}\n  expect: {allowed: true}\n",
     '2:47: error: goals[0].reach.protocol: "ICMP" is no protocol a NetworkPolicy names'),
]


@pytest.mark.parametrize("text,error", BAD_GOALS)
def test_a_goal_files_mistakes_are_located(tmp_path, capsys, text, error):
    goals = tmp_path / "g.yaml"
    goals.write_text(text)
    with pytest.raises(LoadError) as e:
        read_goals(str(goals))
    assert any(str(p).startswith(f"{goals}:{error}") for p in e.value.problems), [str(p) for p in e.value.problems]
    assert main(["challenge", "check", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "--goal", str(goals)]) == 1
    err = capsys.readouterr().err
    assert f"{goals}:{error.split(': error')[0]}: error" in err and "Traceback" not in err


def test_a_question_the_simulator_refuses_fails_with_its_words(tmp_path, capsys):
    goals = tmp_path / "g.yaml"
    goals.write_text("goals:\n- name: nowhere\n  trace: {from: nobody, to: 10.0.0.1}\n  expect: {verdict: delivered}\n")
    assert main(["challenge", "check", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "--goal", str(goals)]) == 1
    assert capsys.readouterr().out.startswith('FAIL  nowhere: the simulator cannot answer: no host, container or namespace "nobody"')


def test_grading_compares_as_each_fact_means(tmp_path, capsys):
    goals = tmp_path / "g.yaml"
    goals.write_text("""goals:
- name: path in order
  trace: {from: default/client, to: default/web-b, proto: TCP}
  expect: {verdict: DELIVERED, path: [default/client, node-1, node-2, default/web-b]}
- name: path reversed
  trace: {from: default/client, to: default/web-b}
  expect: {path: [default/web-b, node-2, node-1, default/client]}
- name: answers in any order, allowed as yes
  dns: {from: default/client, name: web, type: a}
  expect: {answers: [10.96.0.20]}
- name: the Service's endpoint
  trace: {from: default/client, to: svc/web}
  expect: {dnat: "10.244.1.3:80"}
""")
    assert main(["challenge", "check", "-f", str(ROOT / "topologies" / "04-cni-cilium.yaml"), "--goal", str(goals)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "PASS  path in order"
    assert out[1].startswith("FAIL  path reversed: path is default/client, node-1, node-2, default/web-b, expected default/web-b,")
    assert out[2] == "PASS  answers in any order, allowed as yes"
    assert out[3] == "PASS  the Service's endpoint"  # (Cilium's socket LB translates it: its rewrite is the DNAT fact too)


def test_a_yes_or_no_question_takes_yes_or_no():
    lesson = next(x for x in LESSONS if x.name == "netpol")
    loaded = load([str(lesson.topology)])
    ask = [s for s in lesson.steps if s.kind == "ask"]
    assert check_answer(ask[0], loaded, loaded.network, "No")[0] and check_answer(ask[0], loaded, loaded.network, "false")[0]
    assert not check_answer(ask[0], loaded, loaded.network, "yes")[0]
    assert check_answer(ask[1], loaded, loaded.network, "yes")[0]


def test_a_do_step_is_done_by_what_it_asks_only():
    lesson = next(x for x in LESSONS if x.name == "coredns")
    net = load([str(lesson.topology)]).network
    step = lesson.steps[0]
    assert done_by(step, net, "dns", {"name": "web-service", "pod": "apps/pod-a", "asked": True})
    assert not done_by(step, net, "dns", {"name": "web-service", "pod": "apps/pod-a"})  # typed, not resolved
    assert not done_by(step, net, "dns", {"name": "web-service", "pod": "apps/pod-b", "asked": True})  # another pod
    router = next(x for x in LESSONS if x.name == "router")
    icmp = next(s for s in router.steps if s.kind == "do")
    rnet = load([str(router.topology)]).network
    icmp = type(icmp)(**{**icmp.__dict__, "query": {**icmp.query, "proto": "icmp"}})
    assert done_by(icmp, rnet, "trace", {"src": "laptop", "dst": "8.8.8.8", "proto": "icmp"})
    assert not done_by(icmp, rnet, "trace", {"src": "laptop", "dst": "8.8.8.8", "proto": "tcp"})


def test_a_name_with_its_final_dot_is_the_same_name():
    lesson = next(x for x in LESSONS if x.name == "coredns")
    loaded = load([str(lesson.topology)])
    last = lesson.steps[-1]
    assert check_answer(last, loaded, loaded.network, "web-service.apps.svc.cluster.local.")[0]


def test_an_endless_goal_file_is_refused_located(capsys):
    assert main(["challenge", "check", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "--goal", "/dev/zero"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("/dev/zero:1:1: error:") and "Traceback" not in err


def test_a_goal_named_with_a_colon_fails_with_its_own_detail(tmp_path):
    goals = tmp_path / "g.yaml"
    goals.write_text("goals:\n- name: 'web: from a'\n  trace: {from: system-a, to: 192.168.9.9}\n  expect: {verdict: delivered}\n")
    r = check(load([str(ROOT / "topologies" / "01-switch.yaml")]), read_goals(str(goals)))[0]
    assert r.detail() == "verdict is dropped, expected delivered" and r.line() == "FAIL  web: from a: verdict is dropped, expected delivered"


def test_a_bad_goal_file_with_json_output_says_so_as_data(tmp_path, capsys):
    goals = tmp_path / "g.yaml"
    goals.write_text("goals: []\n")
    assert main(["challenge", "check", "-f", str(ROOT / "topologies" / "01-switch.yaml"), "--goal", str(goals), "-o", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["errors"][0]["line"] == 1


def test_challenge_start_copies_and_never_overwrites(tmp_path, capsys):
    assert main(["challenge", "start", "3", "--dir", str(tmp_path)]) == 0
    d = tmp_path / "03-policy-blocks-dns"
    assert sorted(p.name for p in d.iterdir()) == ["broken.yaml", "goals.yaml"]  # not the solution
    (d / "broken.yaml").write_text("# my work\n")
    capsys.readouterr()
    assert main(["challenge", "start", "policy-blocks-dns", "--dir", str(tmp_path)]) == 1
    assert "exists already: your work is not overwritten" in capsys.readouterr().err
    assert (d / "broken.yaml").read_text() == "# my work\n"
    assert main(["challenge", "start", "9"]) == 1
    assert 'no "9": give a number from 1 to 4' in capsys.readouterr().err
    (tmp_path / "in-the-way").write_text("a file\n")
    assert main(["challenge", "start", "1", "--dir", str(tmp_path / "in-the-way")]) == 1
    assert "cannot put the challenge in" in capsys.readouterr().err and (tmp_path / "in-the-way").read_text() == "a file\n"


def test_learn_lists_the_lessons(capsys):
    assert main(["learn"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() [:4] == ["1", "A", "switch:", "one"] and len([line for line in out if line.strip()]) == 11
    assert main(["learn", "11"]) == 1
    assert 'no "11": give a number from 1 to 10' in capsys.readouterr().err


def test_the_learn_and_challenge_commands_import_no_textual():
    import subprocess
    import sys

    code = ("import sys; from tui.cli import main; main(['learn']); "
            "main(['challenge', 'check', '-f', 'topologies/challenges/01-missing-route/solution.yaml', '--goal', "
            "'topologies/challenges/01-missing-route/goals.yaml']); print('textual' in sys.modules, 'rich' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.splitlines()
    assert out[-1] == "False False"
