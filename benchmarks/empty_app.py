"""The baseline for first-paint timing: an empty Textual app (header, one label, footer)."""

from textual.app import App
from textual.widgets import Footer, Header, Label


class Empty(App):
    def compose(self):
        yield Header()
        yield Label("kubenet-tui baseline")
        yield Footer()


if __name__ == "__main__":
    Empty().run()
