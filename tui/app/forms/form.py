"""A keyboard form in a modal: Tab between fields, Enter submits, Esc cancels.

The form does not judge values itself: ``submit`` (given by the screen that
opens it) runs them through the core and returns the messages to show, by
field, or ``None`` when the change is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester, SuggestFromList
from textual.widgets import Checkbox, Input, Label, Static

from ..widgets.inputs import TextInput


@dataclass
class Field:
    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    suggestions: list[str] = field(default_factory=list)
    kind: str = "text"  # text or bool
    suggester: Suggester | None = None
    help: str = ""  # shown below the form while the field has the focus (compact forms)


Submit = Callable[[dict], "dict[str, str] | None"]


class FormScreen(ModalScreen[bool]):
    """A titled list of fields; errors appear under the field they concern."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dialogs.tcss"
    BINDINGS = [("escape", "cancel", "Cancel"), ("ctrl+s", "submit", "Submit")]

    def __init__(self, title: str, fields: list[Field], submit: Submit, hint: str = "", form_id: str = "form", compact: bool = False,
                 note: str = "") -> None:
        super().__init__(id=form_id)
        self.form_title = title
        self.fields = fields
        self.submit = submit
        self.hint = hint
        self.compact = compact  # labels beside the inputs, the focused field's help below: for long forms
        self.note = note  # a line under the title

    def _input(self, f: Field) -> TextInput:
        suggester = f.suggester or (SuggestFromList(f.suggestions, case_sensitive=False) if f.suggestions else None)
        return TextInput(value=str(f.value or ""), placeholder=f.placeholder, id=f"f-{f.key}", suggester=suggester)

    def compose(self) -> ComposeResult:
        # scrollable either way: in a small terminal the field with the focus is scrolled into view
        with VerticalScroll(classes="dialog compact" if self.compact else "dialog"):
            yield Label(self.form_title, classes="title")
            if self.note:
                yield Static(self.note, classes="note")
            for f in self.fields:
                if f.kind == "bool":
                    yield Checkbox(f.label, value=f.value in ("true", "True", True), id=f"f-{f.key}")
                elif self.compact:
                    with Horizontal(classes="row"):
                        yield Label(f.label, classes="row-label")
                        yield self._input(f)
                else:
                    yield Label(f.label, classes="field-label")
                    yield self._input(f)
                yield Static("", id=f"e-{f.key}", classes="field-error")
            yield Static("", id="form-error", classes="form-error")
            if self.compact:
                yield Static("", id="field-help", classes="field-help")
            yield Static(self.hint or "Enter submits · Tab next field · → accepts a completion · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        # query, not query_one: when the app is already closing the form has no children
        for w in self.query(f"#f-{self.fields[0].key}") if self.fields else ():
            w.focus()
        for d in self.query(".dialog"):
            d.can_focus = False

    def on_descendant_focus(self, event) -> None:
        if not self.compact:
            return
        key = (event.widget.id or "")[2:]
        f = next((f for f in self.fields if f.key == key), None)
        for w in self.query("#field-help"):
            w.update(Text(f.help if f else ""))

    def values(self) -> dict:
        out = {}
        for f in self.fields:
            w = self.query_one(f"#f-{f.key}")
            out[f.key] = ("true" if w.value else "false") if isinstance(w, Checkbox) else w.value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        errors = self.submit(self.values())
        if errors is None:
            self.dismiss(True)
            return
        self.show_errors(errors)

    def show_errors(self, errors: dict[str, str]) -> None:
        keys = {f.key for f in self.fields}
        general = []
        for f in self.fields:
            error = self.query_one(f"#e-{f.key}", Static)
            error.update(Text(errors.get(f.key, "")))
            error.set_class(f.key in errors, "shown")
            w = self.query_one(f"#f-{f.key}")
            w.set_class(f.key in errors, "-invalid")
        for k, msg in errors.items():
            if k not in keys:
                general.append(msg)
        self.query_one("#form-error", Static).update(Text("\n".join(general)))
        first = next((f.key for f in self.fields if f.key in errors), None)
        if first is not None:
            self.query_one(f"#f-{first}").focus()

    def action_cancel(self) -> None:
        self.dismiss(False)
