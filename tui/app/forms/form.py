"""A keyboard form in a modal: Tab between fields, Enter submits, Esc cancels.

The form does not judge values itself: ``submit`` (given by the screen that
opens it) runs them through the core and returns the messages to show, by
field, or ``None`` when the change is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
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


Submit = Callable[[dict], "dict[str, str] | None"]


class FormScreen(ModalScreen[bool]):
    """A titled list of fields; errors appear under the field they concern."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dialogs.tcss"
    BINDINGS = [("escape", "cancel", "Cancel"), ("ctrl+s", "submit", "Submit")]

    def __init__(self, title: str, fields: list[Field], submit: Submit, hint: str = "", form_id: str = "form") -> None:
        super().__init__(id=form_id)
        self.form_title = title
        self.fields = fields
        self.submit = submit
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.form_title, classes="title")
            for f in self.fields:
                if f.kind == "bool":
                    yield Checkbox(f.label, value=f.value in ("true", "True", True), id=f"f-{f.key}")
                else:
                    yield Label(f.label, classes="field-label")
                    suggester = f.suggester or (SuggestFromList(f.suggestions, case_sensitive=False) if f.suggestions else None)
                    yield TextInput(value=str(f.value or ""), placeholder=f.placeholder, id=f"f-{f.key}", suggester=suggester)
                yield Static("", id=f"e-{f.key}", classes="field-error")
            yield Static("", id="form-error", classes="form-error")
            yield Static(self.hint or "Enter submits · Tab next field · → accepts a completion · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        # query, not query_one: when the app is already closing the form has no children
        for w in self.query(f"#f-{self.fields[0].key}") if self.fields else ():
            w.focus()

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
            self.query_one(f"#e-{f.key}", Static).update(errors.get(f.key, ""))
            w = self.query_one(f"#f-{f.key}")
            w.set_class(f.key in errors, "-invalid")
        for k, msg in errors.items():
            if k not in keys:
                general.append(msg)
        self.query_one("#form-error", Static).update("\n".join(general))
        first = next((f.key for f in self.fields if f.key in errors), None)
        if first is not None:
            self.query_one(f"#f-{first}").focus()

    def action_cancel(self) -> None:
        self.dismiss(False)
