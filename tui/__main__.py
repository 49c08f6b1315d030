"""``python -m tui``: the same as the ``kubenet-tui`` command."""

from .cli import run

if __name__ == "__main__":
    run()
