"""Lessons: a bundled topology and short steps, each checked against the simulation.

A lesson file (``topologies/lessons/NN-name.yaml``)::

    apiVersion: kubenet/v1
    kind: Lesson
    metadata: {name: overlay, title: "CNI and the overlay"}
    topology: ../04-cni-flannel.yaml      # relative to the lesson file
    intro: "..."
    steps:
    - text: "Trace from default/client to default/web-b."
      do: {trace: {from: default/client, to: default/web-b}}
    - text: "Which interface on node-1 wraps the packet in a VXLAN header?"
      ask: {trace: {from: default/client, to: default/web-b}, fact: vxlan_device}
      solution: flannel.1

A step is read (text only), done (``do``: the learner runs that trace, resolve or HTTP request in the
dashboard), answered (``ask``: the answer typed is compared with the fact the simulator computes, never with
a stored one; ``solution`` is the reference answer the tests hold the simulator to) or reached (``goal``: a
goal as in a goal file, met by editing the topology).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..load.errors import LoadError, Mark, Problems
from ..load.fields import Fields
from ..load.yamlsrc import SourceError, YMap, plain, read_documents
from .facts import FACTS, FIELDS, KINDS, REQUIRED, FactError, facts, same
from .goals import Goal, read_goal

DO_KINDS = ("trace", "dns", "http")


@dataclass(frozen=True)
class Step:
    text: str
    kind: str  # read, do, ask, goal
    query_kind: str = ""  # trace, route, dns, http, reach
    query: dict = field(default_factory=dict)
    fact: str = ""
    solution: object = None
    goal: Goal | None = None
    mark: Mark | None = None


@dataclass(frozen=True)
class Lesson:
    number: int
    name: str
    title: str
    topology: Path
    intro: str
    steps: tuple[Step, ...]
    path: Path


def lessons_dir() -> Path:
    from ..bundled import topologies_dir

    return topologies_dir() / "lessons"


def _query(f: Fields, kind: str) -> dict:
    q = f.sub(kind, FIELDS[kind], required=True)
    out: dict = {}
    if q is None:
        return out
    for name in FIELDS[kind]:
        v = q.get(name, int if name == "port" else str, None, name in REQUIRED[kind])
        if name == "port" and v is not None and not 0 < v < 65536:
            q.error(name, "a port is 1 to 65535")
            v = None
        if v is not None:
            out[name] = v
    q.done()
    return out


def _step(item: YMap, path: str, problems: Problems) -> Step | None:
    f = Fields(item, path, problems, ("text", "do", "ask", "goal", "solution"))
    text = f.get("text", str, "", required=True) or ""
    kinds = [k for k in ("do", "ask", "goal") if k in item]
    if len(kinds) > 1:
        problems.error(item.mark, path, f"a step is one of do, ask or goal, this one has {' and '.join(kinds)}")
        return None
    if not kinds:
        f.done()
        return Step(text, "read", mark=item.mark)
    kind = kinds[0]
    if kind == "goal":
        g = read_goal(f.get("goal", YMap, None, True), f.at("goal"), problems) if isinstance(item.get("goal"), YMap) else None
        if not isinstance(item.get("goal"), YMap):
            f.error("goal", "a goal is a mapping, as in a goal file")
        f.done()
        return Step(text, "goal", goal=g, mark=item.mark) if g is not None else None
    sub = f.sub(kind, ((DO_KINDS if kind == "do" else KINDS) + (("fact",) if kind == "ask" else ())), required=True)
    if sub is None:
        f.done()
        return None
    qk = [k for k in (DO_KINDS if kind == "do" else KINDS) if k in sub.m]
    if len(qk) != 1:
        problems.error(sub.m.mark, sub.path, f"{kind}: give one of {', '.join(DO_KINDS if kind == 'do' else KINDS)}")
        f.done()
        return None
    query = _query(sub, qk[0])
    fact = ""
    if kind == "ask":
        fact = sub.get("fact", str, "", required=True) or ""
        if fact and fact not in FACTS[qk[0]]:
            sub.error("fact", f'"{fact}" is no fact of a {qk[0]}: one of {", ".join(FACTS[qk[0]])}')
    sub.done()
    solution = plain(item["solution"]) if "solution" in item else None
    if kind == "ask" and solution is None:
        problems.error(item.mark, f.at("solution"), "an ask step gives its reference answer (solution), which the tests check")
    f.done()
    return Step(text, kind, qk[0], query, fact, solution, mark=item.mark)


def read_lesson(path: Path, number: int = 0) -> Lesson:
    problems = Problems()
    try:
        docs = read_documents(path.read_bytes(), str(path))
    except SourceError as e:
        raise LoadError(e.problems) from None
    doc = docs[0][0] if docs else None
    if not isinstance(doc, YMap):
        from ..load.errors import Problem

        raise LoadError([Problem(Mark(str(path), 1, 1), "", "a lesson is one YAML mapping with kind: Lesson")])
    f = Fields(doc, "", problems, ("apiVersion", "kind", "metadata", "topology", "intro", "steps"))
    meta = f.sub("metadata", ("name", "title"), required=True)
    name = meta.get("name", str, path.stem) if meta else path.stem
    title = meta.get("title", str, name, required=True) if meta else name
    if meta:
        meta.done()
    topo = f.get("topology", str, "", required=True) or ""
    intro = f.get("intro", str, "") or ""
    steps = [s for _i, item, p in f.maps("steps", required=True) if (s := _step(item, p, problems)) is not None]
    f.get("kind", str)
    f.get("apiVersion", str)
    f.done()
    if problems.items:
        raise LoadError(problems.items)
    return Lesson(number, name, title, (path.parent / topo).resolve(), intro, tuple(steps), path)


def bundled_lessons() -> list[Lesson]:
    return [read_lesson(p, i + 1) for i, p in enumerate(sorted(lessons_dir().glob("*.yaml")))]


def answer_of(step: Step, loaded, net):
    """What the simulator says the answer of an ask step is."""
    return facts(loaded, net, step.query_kind, step.query)[step.fact]


def check_answer(step: Step, loaded, net, answer: str) -> tuple[bool, object]:
    """Whether ``answer`` is right for an ask step, and the simulator's answer."""
    try:
        right = answer_of(step, loaded, net)
    except FactError as e:
        return False, f"(the simulator cannot answer: {e})"
    if isinstance(right, list):  # a list typed as words: "a, b, c" or "a b c", in order
        typed = [w for w in answer.replace(",", " ").split() if w]
        return [w.lower() for w in typed] == [str(x).lower() for x in right], right
    return same(right, answer), right


def done_by(step: Step, net, kind: str, request: dict) -> bool:
    """Whether the dashboard request (``kind`` trace, dns or http; ``request`` its form's values) is the one a
    do step asks for: the same source and destination, as the simulator names them."""
    if step.kind != "do" or step.query_kind != kind:
        return False
    q = step.query
    if kind == "trace":
        from ..sim.query import QueryError, destination, namespace

        if q.get("proto") and str(request.get("proto") or "tcp").lower() != str(q["proto"]).lower():
            return False
        try:
            if namespace(net, str(request.get("src", ""))).name != namespace(net, str(q["from"])).name:
                return False
        except QueryError:
            return False
        try:
            return destination(net, str(request.get("dst", ""))).ip == destination(net, str(q["to"])).ip
        except QueryError:  # a DNS name (from a pod): the name as the step writes it
            return str(request.get("dst", "")).strip().lower() == str(q["to"]).strip().lower()
    if kind == "dns":
        return (bool(request.get("asked")) and str(request.get("name", "")).rstrip(".").lower() == str(q["name"]).rstrip(".").lower()
                and (not q.get("from") or str(request.get("pod") or "").strip() == str(q["from"])))
    return str(request.get("url", "")).rstrip("/") == str(q["url"]).rstrip("/")
