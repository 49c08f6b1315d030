"""The dashboard's footer: Textual's, whose keys are updated in place rather than rebuilt.

Textual's :class:`~textual.widgets.Footer` recomposes (removes every key's widget, mounts new ones, each styled
anew) whenever the screen says its bindings changed: on every focus change, and whenever a pane's state turns a
key on or off. That is tens of milliseconds and several frames, for what is mostly one key dimmed or one key
more. :class:`KeysFooter` gives the key widgets it has the keys :meth:`Footer.compose` would make (key,
display, description, action, enabled state, tooltip), mounts the few more it needs and removes the few it no
longer does; grouped keys, which this app does not have, are left to the footer's own rebuild.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

Shown = tuple[str, str, str, str, bool, str]  # key, key display, description, action, enabled, tooltip


class KeysFooter(Footer):
    """A :class:`Footer` that updates its key widgets in place while :attr:`in_place` (the screen sets it for a big
    network; otherwise it is Textual's footer, whose rebuild composes the keys a moment later than this would)."""

    in_place = False

    def bindings_changed(self, screen) -> None:
        """As :meth:`Footer.bindings_changed`, but the keys updated in place at once when they can be."""
        if not self.in_place:
            super().bindings_changed(screen)
            return
        first = not self._bindings_ready
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if first or not self._update_in_place(screen):  # in place: at once, in the frame of what changed the keys
            self.call_after_refresh(self.recompose if first else self._update_keys)

    async def _update_keys(self) -> None:
        if not self._update_in_place(self.screen):
            await self.recompose()

    def _update_in_place(self, screen) -> bool:
        shown = self._shown(screen)
        children = list(self.children)
        if shown is None or not children or any(not isinstance(c, FooterKey) for c in children):
            return False  # grouped keys, or nothing composed yet: the footer's own rebuild
        regular, palette = shown
        keys = [k for k in children if not k.has_class("-command-palette")]
        palette_key = next((k for k in children if k.has_class("-command-palette")), None)
        if (palette is None) != (palette_key is None):
            return False
        for widget, key in zip(keys, regular, strict=False):
            _set(widget, key)
        if len(regular) > len(keys):
            more = [FooterKey(k, display, description, action, disabled=not enabled, tooltip=tooltip)
                    for k, display, description, action, enabled, tooltip in regular[len(keys):]]
            for widget in more:
                widget.set_reactive(FooterKey.compact, self.compact)  # what compose's data_bind gives it
            if palette_key is not None:
                self.mount_all(more, before=palette_key)
            else:
                self.mount_all(more)
        for widget in keys[len(regular):]:
            widget.remove()
        if palette is not None:
            _set(palette_key, palette)
        self.styles.grid_size_columns = len(regular)
        return True

    def _shown(self, screen) -> tuple[list[Shown], Shown | None] | None:
        """What :meth:`Footer.compose` would show, in its order: the keys, and the command palette's; None when it
        would group keys."""
        active = screen.active_bindings
        by_action: dict[str, Shown] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show:
                if binding.group is not None:
                    return None
                by_action.setdefault(binding.action, (binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                                                      enabled, tooltip))
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = (binding.key, self.app.get_key_display(binding), binding.description, binding.action, enabled,
                       binding.tooltip or binding.description)
        return list(by_action.values()), palette


def _set(widget: FooterKey, shown: Shown) -> None:
    key, display, description, action, enabled, tooltip = shown
    if (widget.key, widget.key_display, widget.description, widget.action) != (key, display, description, action):
        widget.key, widget.key_display, widget.description, widget.action = key, display, description, action
        widget.refresh(layout=True)
    widget._disabled = not enabled
    widget.set_class(not enabled, "-disabled")
    if (widget.tooltip or "") != (tooltip or ""):
        widget.tooltip = tooltip or None
