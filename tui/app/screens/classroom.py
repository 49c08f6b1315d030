"""Lessons and goals in the dashboard, for :class:`MainScreen`: a panel beside the panes.

* A lesson (``kubenet-tui learn N``): its steps, the current one marked. A read step goes on with ctrl+n; a do
  step is done when the learner runs that trace, resolve or HTTP request; an ask step takes an answer typed in
  the panel (enter), compared with what the simulator computes; a goal step is met by editing the topology.
  ctrl+b goes back a step.
* Goals (``kubenet-tui challenge open``): each goal PASS or FAIL, graded again after every edit, undo and
  save, with the hint of each that fails.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from ..widgets.inputs import TextInput

MAX_TRIES = 3  # wrong answers before the panel shows the simulator's


class ClassPanel(Vertical):
    DEFAULT_CSS = """
    ClassPanel {
        width: 40;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        padding: 0 1;
    }
    ClassPanel:focus-within {
        border: round $accent;
    }
    ClassPanel #class-body {
        height: 1fr;
        overflow-y: auto;
    }
    ClassPanel #answer {
        display: none;
    }
    ClassPanel.-asking #answer {
        display: block;
    }
    """

    def compose(self):
        yield Static(id="class-body")
        yield TextInput(placeholder="your answer (enter)", id="answer")


class ClassroomMixin:
    class_step = 0
    class_done: set | None = None
    class_tries: dict | None = None
    class_said: dict | None = None  # step -> what the panel says of the last answer
    class_results: list | None = None  # goals mode: tui.learn.goals.Result each

    @property
    def classroom(self) -> dict | None:
        return getattr(self.app, "classroom", None)

    def class_panel(self) -> ClassPanel | None:
        found = self.query(ClassPanel)
        return found.first() if found else None

    # -- state ---------------------------------------------------------------------------------------------
    def class_refresh(self) -> None:
        """After the model changed: goals graded again, the panel drawn."""
        room = self.classroom
        if room is None or self.class_panel() is None:
            return
        if self.class_done is None:
            self.class_done, self.class_tries, self.class_said = set(), {}, {}
        if "goals" in room:
            from ...learn.goals import check

            self.class_results = check(self.workspace.loaded, room["goals"], self.net)
        else:
            self._lesson_goals()
        self.class_render()

    def _lesson_goals(self) -> None:
        from ...learn.goals import check

        for i, step in enumerate(self.classroom["lesson"].steps):
            if step.kind == "goal" and step.goal is not None and i not in self.class_done:
                if check(self.workspace.loaded, [step.goal], self.net)[0].passed:
                    self.class_done.add(i)

    def class_did(self, kind: str, request: dict) -> None:
        """The learner ran a trace, resolve or HTTP request: the do step it completes is done."""
        room = self.classroom
        if room is None or "lesson" not in room or self.class_done is None:
            return
        from ...learn.lessons import done_by

        steps = room["lesson"].steps
        if self.class_step < len(steps) and done_by(steps[self.class_step], self.net, kind, request):
            self.class_done.add(self.class_step)
            self._advance()
        self.class_render()

    def _advance(self) -> None:
        steps = self.classroom["lesson"].steps
        if self.class_step < len(steps):
            self.class_step += 1
        self.class_render()
        if self.class_step < len(steps) and steps[self.class_step].kind == "ask":
            self.query_one("#answer", TextInput).focus()

    def action_class_next(self) -> None:
        room = self.classroom
        if room is None or "lesson" not in room or self.class_done is None:
            return
        steps = room["lesson"].steps
        if self.class_step < len(steps) and steps[self.class_step].kind == "read":
            self.class_done.add(self.class_step)
        if self.class_step < len(steps):
            self._advance()

    def action_class_back(self) -> None:
        if self.classroom is not None and "lesson" in self.classroom and self.class_step > 0:
            self.class_step -= 1
            self.class_render()

    def on_input_submitted(self, event) -> None:
        if getattr(event.input, "id", None) != "answer" or self.classroom is None or "lesson" not in self.classroom:
            return
        event.stop()
        from ...learn.facts import shown
        from ...learn.lessons import check_answer

        step = self.classroom["lesson"].steps[self.class_step] if self.class_step < len(self.classroom["lesson"].steps) else None
        answer = event.value.strip()
        if step is None or step.kind != "ask" or not answer:
            return
        ok, right = check_answer(step, self.workspace.loaded, self.net, answer)
        tries = self.class_tries[self.class_step] = self.class_tries.get(self.class_step, 0) + 1
        event.input.value = ""
        if ok:
            self.class_said[self.class_step] = f"✓ {answer}: right"
            self.class_done.add(self.class_step)
            self._advance()
            return
        if tries >= MAX_TRIES:
            self.class_said[self.class_step] = f"✗ {answer}. The simulator says: {shown(right)} (ctrl+n goes on)"
        else:
            self.class_said[self.class_step] = f"✗ {answer}: not what the simulator says; try again ({MAX_TRIES - tries} left)"
        self.class_render()

    # -- drawing -------------------------------------------------------------------------------------------
    def class_render(self) -> None:
        panel = self.class_panel()
        room = self.classroom
        if panel is None or room is None:
            return
        body = panel.query_one("#class-body", Static)
        if "goals" in room:
            body.update(self._goals_text())
            panel.border_title = "Goals"
            results = self.class_results or []
            panel.border_subtitle = f"{sum(r.passed for r in results)}/{len(results)} pass"
            panel.set_class(False, "-asking")
            return
        lesson = room["lesson"]
        panel.border_title = f"Lesson {lesson.number}"
        panel.border_subtitle = f"step {min(self.class_step + 1, len(lesson.steps))}/{len(lesson.steps)} · ^n next ^b back"
        body.update(self._lesson_text(lesson))
        current = lesson.steps[self.class_step] if self.class_step < len(lesson.steps) else None
        panel.set_class(current is not None and current.kind == "ask", "-asking")

    def _lesson_text(self, lesson) -> Text:
        t = Text()
        t.append(lesson.title + "\n", style="bold")
        if lesson.intro and self.class_step == 0:
            t.append(lesson.intro + "\n", style="grey62")
        t.append("\n")
        for i, step in enumerate(lesson.steps):
            mark = "✓" if i in self.class_done else "▸" if i == self.class_step else "·"
            style = "bold" if i == self.class_step else "green" if i in self.class_done else "grey50"
            text = step.text if i == self.class_step or len(step.text) <= 34 else step.text[:33] + "…"
            t.append(f"{mark} {i + 1}. {text}\n", style=style)
            if i == self.class_step:
                hint = {"read": "ctrl+n when done", "do": "done when you run it", "ask": "type the answer below, enter",
                        "goal": "edit the topology until it holds"}[step.kind]
                t.append(f"   ({hint})\n", style="grey62")
                said = self.class_said.get(i)
                if said:
                    t.append(f"   {said}\n", style="green" if said.startswith("✓") else "red")
        if self.class_step >= len(lesson.steps):
            t.append(f"\nLesson done: {len(self.class_done)} of {len(lesson.steps)} steps.\n", style="bold green")
        return t

    def _goals_text(self) -> Text:
        t = Text()
        room = self.classroom
        if room.get("goal_file"):
            t.append(room["goal_file"].rsplit("/", 1)[-1] + "\n\n", style="grey62")
        for r in self.class_results or []:
            t.append("PASS " if r.passed else "FAIL ", style="bold green" if r.passed else "bold red")
            t.append(r.goal.name + "\n")
            if not r.passed:
                detail = r.detail()
                if detail:
                    t.append(f"  {detail}\n", style="red")
                if r.goal.hint:
                    t.append(f"  hint: {r.goal.hint}\n", style="grey62")
        results = self.class_results or []
        if results and all(r.passed for r in results):
            t.append("\nEvery goal passes. Save (ctrl+s) to keep your fix.\n", style="bold green")
        return t
