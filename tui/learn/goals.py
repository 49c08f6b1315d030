"""Goal files: what a network must do, in plain YAML, and the checker that grades a topology against them.

An instructor grades a student's fix with one; a team asserts its own cluster's networking in CI with the
same file (as Batfish's assertions do)::

    apiVersion: kubenet/v1
    kind: Goals
    metadata: {name: fix-the-route}
    goals:
    - name: the laptop reaches system-c
      trace: {from: laptop, to: 192.168.2.10, proto: icmp}
      expect: {verdict: delivered, delivered_to: system-c}
      hint: the router has no route to 192.168.2.0/24
    - name: web resolves from the client
      dns: {from: default/client, name: web}
      expect: {answers: [10.96.0.20]}
    - http: {url: "https://shop.example/videos"}
      expect: {status: 200, backend: "shop/videos:80"}
    - reach: {from: shop/frontend, to: shop/db, port: 5432}
      expect: {allowed: false}

Each goal asks one question (:mod:`tui.learn.facts`: trace, route, dns, http or reach) and expects some of its
facts; it passes when every fact expected is what the simulator answers. A mistake in the file is a located
error (``FILE:LINE:COL: error: goals[1].expect.verdict: ...``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..load.errors import LoadError, Mark, Problems, did_you_mean
from ..load.fields import Fields
from ..load.yamlsrc import SourceError, YMap, plain, read_documents
from .facts import FACTS, FIELDS, KINDS, ORDERED, PROTOCOLS, REQUIRED, FactError, facts, same, shown

VERDICTS = ("delivered", "dropped")


@dataclass(frozen=True)
class Goal:
    name: str
    kind: str  # trace, route, dns, http, reach
    query: dict
    expect: dict
    hint: str
    mark: Mark


@dataclass
class Result:
    goal: Goal
    passed: bool
    got: dict  # the facts expected, as the simulator answered them ({} when it could not answer)
    error: str = ""  # the simulator's refusal of the question

    def to_dict(self) -> dict:
        return {"name": self.goal.name, "passed": self.passed, "kind": self.goal.kind, "query": self.goal.query,
                "expected": self.goal.expect, "got": self.got, "error": self.error or None,
                "hint": self.goal.hint if not self.passed else None,
                "where": f"{self.goal.mark.file}:{self.goal.mark.line}:{self.goal.mark.col}"}

    def detail(self) -> str:
        """Why a goal failed: the simulator's refusal, or each fact that differs ("" when it passed)."""
        if self.passed:
            return ""
        if self.error:
            return f"the simulator cannot answer: {self.error}"
        return "; ".join(f"{k} is {shown(self.got.get(k))}, expected {shown(v)}" for k, v in self.goal.expect.items()
                         if not same(v, self.got.get(k), k in ORDERED))

    def line(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'}  {self.goal.name}"
        return head if self.passed else f"{head}: {self.detail()}"


def _describe(kind: str, q: dict) -> str:
    if kind == "trace":
        return f"trace {q['from']} -> {q['to']}" + (f" ({q['proto']})" if q.get("proto") else "")
    if kind == "route":
        return f"route on {q['host']} to {q['to']}"
    if kind == "dns":
        return f"dns {q['name']}" + (f" from {q['from']}" if q.get("from") else "")
    if kind == "http":
        return f"http {q['url']}"
    return f"reach {q['from']} -> {q['to']}:{q['port']}"


def _query_problem(kind: str, q: dict) -> tuple[str, str] | None:
    """(field, message) of a question the simulator would refuse for its form, else None."""
    if kind == "trace" and "proto" in q and q["proto"].lower() not in PROTOCOLS:
        return "proto", f'"{q["proto"]}" is no protocol the simulator traces: tcp, udp, sctp or icmp'
    if kind == "dns":
        if "type" in q:
            import dns.rdatatype

            try:
                q["type"] = dns.rdatatype.to_text(dns.rdatatype.from_text(q["type"]))
            except Exception:  # noqa: BLE001 (dnspython's several errors for a name it does not know)
                return "type", f'"{q["type"]}" is not a DNS query type (A, AAAA, SRV, PTR, CNAME, TXT, ANY, NS, SOA, ...)'
        name = q.get("name")
        if name is not None:
            labels = name.rstrip(".").split(".")
            why = ("empty" if name.strip(".") == "" else "an empty label (two dots in a row)" if any(not x for x in labels)
                   else "a label longer than 63 characters" if any(len(x) > 63 for x in labels)
                   else "longer than 253 characters" if len(name.rstrip(".")) > 253 else "")
            if why:
                return "name", f'"{name}" is not a name to ask: {why}'
    if kind == "reach" and "protocol" in q and q["protocol"].upper() not in ("TCP", "UDP", "SCTP"):
        return "protocol", f'"{q["protocol"]}" is no protocol a NetworkPolicy names: TCP, UDP or SCTP'
    return None


def read_goal_list(seq_fields: Fields, problems: Problems, key: str = "goals") -> list[Goal]:
    """The goals of a ``goals:`` list (also a lesson's and a challenge's)."""
    out: list[Goal] = []
    for _i, item, path in seq_fields.maps(key, required=True):
        g = read_goal(item, path, problems)
        if g is not None:
            out.append(g)
    return out


def read_goal(item: YMap, path: str, problems: Problems) -> Goal | None:
    f = Fields(item, path, problems, ("name", "hint", "expect") + KINDS)
    kinds = [k for k in KINDS if k in item]
    if len(kinds) != 1:
        problems.error(item.mark, path, "a goal asks one question: give one of trace, route, dns, http or reach"
                       if not kinds else f"a goal asks one question, this one has {' and '.join(kinds)}: split it in two")
        f.done()
        return None
    kind = kinds[0]
    q = f.sub(kind, FIELDS[kind], required=True)
    query: dict = {}
    if q is not None:
        for name in FIELDS[kind]:
            if name == "port":
                v = q.get(name, int, None, name in REQUIRED[kind])
                if v is not None and not 0 < v < 65536:
                    q.error(name, "a port is 1 to 65535")
                    v = None
            else:
                v = q.get(name, str, None, name in REQUIRED[kind])
            if v is not None:
                query[name] = v
        why = _query_problem(kind, query)
        if why:
            q.error(why[0], why[1])
            query.pop(why[0], None)
        q.done()
    e = f.sub("expect", FACTS[kind], required=True)
    expect: dict = {}
    if e is not None:
        for k in e.m:
            if k in FACTS[kind]:
                expect[k] = plain(e.m[k])
        if kind == "trace" and isinstance(expect.get("verdict"), str):
            expect["verdict"] = expect["verdict"].strip().lower()
        if kind == "trace" and "verdict" in expect and expect["verdict"] not in VERDICTS:
            e.error("verdict", f"a verdict is delivered or dropped, not {shown(expect['verdict'])}")
        if not e.m:
            problems.error(e.m.mark, e.path, f"expect at least one fact: {', '.join(FACTS[kind])}")
        e.done()
    name = f.get("name", str, None) or (_describe(kind, query) if all(k in query for k in REQUIRED[kind]) else path)
    hint = f.get("hint", str, "") or ""
    f.done()
    if q is None or e is None or any(k not in query for k in REQUIRED[kind]):
        return None
    return Goal(name, kind, query, expect, hint, item.mark)


def read_goals(path: str, text: str | None = None) -> list[Goal]:
    """The goals of a goal file; LoadError with every located problem."""
    problems = Problems()
    from ..load.yamlsrc import MAX_FILE_BYTES

    try:  # (at most one byte past the limit: an endless file such as /dev/zero is refused, located, not read whole)
        data = text if text is not None else open(path, "rb").read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise LoadError([problems_one(path, f"cannot read the goal file: {e.strerror or e}")]) from None
    try:
        docs = read_documents(data, path)
    except SourceError as e:
        raise LoadError(e.problems) from None
    docs = [(d, m) for d, m in docs if d is not None]
    if len(docs) != 1 or not isinstance(docs[0][0], YMap):
        mark = docs[0][1] if docs else Mark(path, 1, 1)
        raise LoadError([problems_one(path, "a goal file is one YAML mapping with kind: Goals and a goals: list", mark)])
    doc = docs[0][0]
    f = Fields(doc, "", problems, ("apiVersion", "kind", "metadata", "goals"))
    kind = f.get("kind", str, "Goals")
    if kind != "Goals":
        f.error("kind", f'a goal file has kind: Goals, not "{kind}"{did_you_mean(str(kind), ("Goals",))}')
    api = f.get("apiVersion", str, "kubenet/v1")
    if api != "kubenet/v1":
        f.error("apiVersion", f'expected apiVersion: kubenet/v1, not "{api}"')
    f.get("metadata", YMap, None)
    goals = read_goal_list(f, problems)
    f.done()
    if problems.items:
        raise LoadError(problems.items)
    if not goals:
        raise LoadError([problems_one(path, "goals: the list is empty: give at least one goal", doc.mark)])
    return goals


def problems_one(path: str, message: str, mark: Mark | None = None):
    from ..load.errors import Problem

    return Problem(mark or Mark(path, 1, 1), "", message)


def check(loaded, goals: list[Goal], net=None) -> list[Result]:
    """Grade a loaded topology: each goal's facts as the simulator answers them."""
    if net is None:
        net = loaded.network
        if net is None or net.described is not loaded.topology:
            from ..sim.network import compile_topology

            net = compile_topology(loaded.topology)
    out = []
    for g in goals:
        try:
            got = facts(loaded, net, g.kind, g.query)
        except FactError as e:
            out.append(Result(g, False, {}, str(e)))
            continue
        picked = {k: got.get(k) for k in g.expect}
        out.append(Result(g, all(same(v, got.get(k), k in ORDERED) for k, v in g.expect.items()), picked))
    return out
