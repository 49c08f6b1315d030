"""``kubenet-tui learn`` and ``kubenet-tui challenge``: lessons, challenges and the goal checker.

cli_parser.py and cli.py wire them in with ``add_parsers(sub, fmt, files_arg)`` and ``cmd_learn`` /
``cmd_challenge``. Headless commands import no textual; ``learn N`` and ``challenge open`` start the dashboard
with the lesson's or the goals' panel. Exit codes: 0 done (check: every goal passed), 1 a refusal or a
failed goal, 2 a usage error.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

LEARN_EPILOG = """\
examples:
  kubenet-tui learn               # the lessons, in order
  kubenet-tui learn 5             # lesson 5 in the dashboard, its steps in a side panel
"""

CHALLENGE_EPILOG = """\
examples:
  kubenet-tui challenge list
  kubenet-tui challenge start 01-missing-route              # copies broken.yaml and goals.yaml into ./01-missing-route/
  kubenet-tui challenge open -f 01-missing-route/broken.yaml --goal 01-missing-route/goals.yaml
  kubenet-tui challenge check -f 01-missing-route/broken.yaml --goal 01-missing-route/goals.yaml
  kubenet-tui challenge check -f my-cluster/ --goal network-goals.yaml -o json   # a team's own assertions, in CI
"""


def add_parsers(sub, fmt, files_arg) -> None:
    le = sub.add_parser("learn", help="guided lessons, in order (learn N opens one)", formatter_class=fmt, epilog=LEARN_EPILOG,
                        description="List the lessons, or open lesson N in the dashboard with its steps beside the panes. "
                                    "Each step's answer is checked against the simulation.")
    le.add_argument("lesson", nargs="?", metavar="N", help="the lesson to open (its number or name)")
    ch = sub.add_parser("challenge", help="broken topologies with goals, and the goal checker", formatter_class=fmt,
                        epilog=CHALLENGE_EPILOG,
                        description="Challenges are broken topologies with a goal file; `check` grades any topology against "
                                    "any goal file by the simulator's verdicts (traces, DNS answers, HTTP routes, reachability).")
    verbs = ch.add_subparsers(dest="challenge_command", metavar="list|start|open|check", required=True)
    verbs.add_parser("list", help="the bundled challenges", formatter_class=fmt)
    st = verbs.add_parser("start", help="copy a challenge's broken topology and goals into a directory", formatter_class=fmt)
    st.add_argument("name", metavar="NAME", help="a challenge (its number or name)")
    st.add_argument("--dir", default=".", help="where to put the challenge's directory (default: here)")
    op = verbs.add_parser("open", help="the dashboard with the goals' panel, graded after every edit", formatter_class=fmt)
    files_arg(op)
    op.add_argument("--goal", required=True, metavar="GOALS.yaml", help="the goal file")
    ck = verbs.add_parser("check", help="grade topology files against a goal file (exit 1 if a goal fails)", formatter_class=fmt)
    files_arg(ck)
    ck.add_argument("--goal", required=True, metavar="GOALS.yaml", help="the goal file")
    ck.add_argument("-o", "--output", choices=("text", "json", "yaml"), default="text", help="output format (default text)")


class LearnError(Exception):
    pass


class _BadGoals(Exception):
    """A goal file with mistakes: its located problems were printed."""


def challenges_dir() -> Path:
    from ..bundled import topologies_dir

    return topologies_dir() / "challenges"


def bundled_challenges() -> list[Path]:
    return sorted(p for p in challenges_dir().iterdir() if (p / "goals.yaml").is_file())


def _pick(name: str, items: list, key) -> object:
    for i, item in enumerate(items):
        if name in (str(i + 1), f"{i + 1:02d}", key(item)) or key(item).split("-", 1)[-1] == name:
            return item
    names = ", ".join(key(x) for x in items)
    raise LearnError(f'no "{name}": give a number from 1 to {len(items)} or one of {names}')


def _goals(path: str, output: str = "text", emit=None):
    from ..load import LoadError
    from .goals import read_goals

    try:
        return read_goals(path)
    except LoadError as e:
        if output != "text" and emit is not None:  # the errors as data too, as a topology's are
            emit({"ok": False, "errors": [p.to_dict() for p in e.problems]}, output, "")
        for p in e.problems:
            print(p, file=sys.stderr)
        n = len(e.problems)
        print(f"{n} error{'s' if n != 1 else ''}", file=sys.stderr)
        raise _BadGoals() from None


def cmd_learn(args, load, emit) -> int:
    from .lessons import bundled_lessons

    try:
        lessons = bundled_lessons()
        if args.lesson is None:
            width = max(len(x.title) for x in lessons)
            for x in lessons:
                print(f"{x.number:2d}  {x.title:<{width}}  {len(x.steps)} steps  {x.topology.name}")
            print("\nkubenet-tui learn N opens lesson N.")
            return 0
        lesson = _pick(args.lesson, lessons, lambda x: x.path.stem)
    except LearnError as e:
        print(f"kubenet-tui learn: error: {e}", file=sys.stderr)
        return 1
    from ..app.launch import launch

    return launch([str(lesson.topology)], classroom={"lesson": lesson})


def cmd_challenge(args, load, emit) -> int:
    try:
        return {"list": _list, "start": _start, "open": _open, "check": _check}[args.challenge_command](args, load, emit)
    except LearnError as e:
        print(f"kubenet-tui challenge {args.challenge_command}: error: {e}", file=sys.stderr)
        return 1
    except _BadGoals:
        return 1


def _list(args, load, emit) -> int:
    import yaml

    for i, d in enumerate(bundled_challenges()):
        meta = (yaml.safe_load((d / "goals.yaml").read_text()) or {}).get("metadata") or {}
        print(f"{i + 1:2d}  {d.name:<28}  {meta.get('description', '')}")
    print("\nkubenet-tui challenge start NAME copies one here; edit broken.yaml until challenge check passes.")
    return 0


def _start(args, load, emit) -> int:
    src = _pick(args.name, bundled_challenges(), lambda p: p.name)
    dest = Path(args.dir) / src.name
    for name in ("broken.yaml", "goals.yaml"):
        if os.path.lexists(dest / name):  # (a link too, even one to nowhere: nothing is written through it)
            raise LearnError(f"{dest / name} exists already: your work is not overwritten (give another --dir, or move it)")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("broken.yaml", "goals.yaml"):
            shutil.copyfile(src / name, dest / name)
    except OSError as e:
        raise LearnError(f"cannot put the challenge in {dest}: {e.strerror or e} (give another --dir)") from None
    print(f"challenge {src.name}: {dest / 'broken.yaml'} and {dest / 'goals.yaml'}")
    print(f"  see what is wrong:  kubenet-tui challenge open -f {dest / 'broken.yaml'} --goal {dest / 'goals.yaml'}")
    print(f"  grade your fix:     kubenet-tui challenge check -f {dest / 'broken.yaml'} --goal {dest / 'goals.yaml'}")
    return 0


def _open(args, load, emit) -> int:
    goals = _goals(args.goal)
    from ..bundled import default_topology

    files = args.files or [str(default_topology())]
    from ..app.launch import launch

    return launch(files, classroom={"goals": goals, "goal_file": os.path.abspath(args.goal)})


def _check(args, load, emit) -> int:
    from .goals import check

    goals = _goals(args.goal, args.output, emit)
    loaded = load(args.files, args.output)
    results = check(loaded, goals)
    passed = sum(r.passed for r in results)
    lines = [r.line() for r in results]
    for r in results:
        if not r.passed and r.goal.hint:
            lines[results.index(r)] += f"\n      hint: {r.goal.hint}"
    lines.append(f"{passed} of {len(results)} goals pass")
    emit({"passed": passed == len(results), "goals": [r.to_dict() for r in results]}, args.output, "\n".join(lines))
    return 0 if passed == len(results) else 1
