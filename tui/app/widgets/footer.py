"""The dashboard's footer: Textual's, whose keys are updated in place rather than rebuilt.

Textual's :class:`~textual.widgets.Footer` recomposes (removes every key's widget, mounts new ones, each styled
anew) whenever the screen says its bindings changed: on every focus change, and whenever a pane's state turns a
key on or off. That is tens of milliseconds and several frames, for what is mostly one key dimmed or one key
more. :class:`KeysFooter` keeps a widget per key: a key's widget stays as long as the key is shown, gets the
key's new state (display, description, enabled state, tooltip) when it changes, is hidden while the key is not
shown and shown again when it is; a widget is mounted only for a key never shown before. Grouped keys, which
this app does not have, are left to the footer's own rebuild.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

Shown = tuple[str, str, str, str, bool, str]  # key, key display, description, action, enabled, tooltip
MAX_HIDDEN = 24  # more hidden key widgets than this: the footer is rebuilt instead


class KeysFooter(Footer):
    """A :class:`Footer` that updates its key widgets in place: at once while :attr:`in_place` (the screen sets it for
    a big network), else a frame after it is told, as Textual's footer rebuilds them (what changed meanwhile shown
    too), once however many times it was told in that frame."""

    in_place = False
    _update_pending = False

    def bindings_changed(self, screen) -> None:
        """As :meth:`Footer.bindings_changed`, but the keys updated in place, and once per frame at most."""
        first = not self._bindings_ready
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self.in_place and not first and self._update_in_place(screen):  # at once, in the frame of what changed the keys
            return
        if not self._update_pending:  # (Textual's footer rebuilds once for each time it was told: 10 ms and more each)
            self._update_pending = True
            self.call_after_refresh(self._update_keys)

    def _size_updated(self, size, virtual_size, container_size, layout: bool = True) -> bool:
        """As Textual's, but a change of the keys' total width alone (a key hidden or shown) does not lay the whole
        screen out a second time: the footer, a line docked at the bottom, keeps its size and place; only the
        width it can scroll over changes."""
        if size == self.size and container_size == self.container_size:
            layout = False
        return super()._size_updated(size, virtual_size, container_size, layout)

    async def _update_keys(self) -> None:
        self._update_pending = False
        if self.is_attached and not self._update_in_place(self.screen):
            await self.recompose()

    def _update_in_place(self, screen) -> bool:
        """Show what :meth:`Footer.compose` would, with the key widgets there are: a key's widget stays the same while
        the key is shown (no widget is rebuilt or shifted, so none is laid out or drawn again), one no longer shown is
        hidden, to be shown again when it comes back (a focus change hides and shows one or two keys); a widget is
        mounted for a key first shown. False when only the footer's own rebuild can (grouped keys, nothing composed)."""
        shown = self._shown(screen)
        children = list(self.children)
        if shown is None or not children or any(not isinstance(c, FooterKey) for c in children):
            return False  # grouped keys, or nothing composed yet: the footer's own rebuild
        regular, palette = shown
        keys = [k for k in children if not k.has_class("-command-palette")]
        palette_key = next((k for k in children if k.has_class("-command-palette")), None)
        if (palette is None) != (palette_key is None) or len(keys) > len(regular) + MAX_HIDDEN:
            return False
        at = 0  # the widgets before keys[at] are placed
        for entry in regular:
            found = next((i for i in range(at, len(keys)) if (keys[i].key, keys[i].action) == (entry[0], entry[3])), None)
            if found is None:  # a key not shown here before: a widget for it, in its place
                k, display, description, action, enabled, tooltip = entry
                widget = FooterKey(k, display, description, action, disabled=not enabled, tooltip=tooltip)
                widget.set_reactive(FooterKey.compact, self.compact)  # what compose's data_bind gives it
                before = keys[at] if at < len(keys) else palette_key
                if before is not None:
                    self.mount(widget, before=before)
                else:
                    self.mount(widget)
                continue
            for widget in keys[at:found]:  # shown before, not now
                _show(widget, False)
            _set(keys[found], entry)
            _show(keys[found], True)
            at = found + 1
        for widget in keys[at:]:
            _show(widget, False)
        if palette is not None:
            _set(palette_key, palette)
        # (Footer.compose also sets styles.grid_size_columns, which its horizontal layout does not read: setting it
        # here would lay every key widget out again.) The widgets changed tell the screen now, in this handler, so
        # that one layout takes them all: told on their next idle, after the screen's, they would make another.
        for widget in (self, *keys):
            if widget._layout_required or widget._repaint_required:
                widget._check_refresh()
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


def _show(widget: FooterKey, shown: bool) -> None:
    if widget.display != shown:
        widget.display = shown


def _set(widget: FooterKey, shown: Shown) -> None:
    key, display, description, action, enabled, tooltip = shown
    if (widget.key, widget.key_display, widget.description, widget.action) != (key, display, description, action):
        widget.key, widget.key_display, widget.description, widget.action = key, display, description, action
        widget.refresh(layout=True)
    widget._disabled = not enabled
    widget.set_class(not enabled, "-disabled")
    if (widget.tooltip or "") != (tooltip or ""):
        widget.tooltip = tooltip or None
