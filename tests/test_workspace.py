"""The editing core: edits validated by the loader, undo/redo, atomic saves that keep modes."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tui.edit import EditError, Workspace, atomic_write, edits

TOPO = Path(__file__).resolve().parent.parent / "topologies"


@pytest.fixture
def switch(tmp_path):
    f = tmp_path / "01-switch.yaml"
    shutil.copy(TOPO / "01-switch.yaml", f)
    return f


def test_an_invalid_edit_is_refused_with_the_loaders_message_and_changes_nothing(switch):
    ws = Workspace([str(switch)])
    before = ws.state
    edit = edits.upsert_route("system-a", None, {"to": "10.0.0.0/8", "via": "10.9.9.9"})
    with pytest.raises(EditError) as e:
        ws.edit(edit)
    assert [(p.path, p.message.split(":")[0]) for p in e.value.problems] == [("hosts[0].routes[0].via", "Nexthop has invalid gateway")]
    assert edit.path == "hosts[0].routes[0]"
    assert ws.state == before and not ws.dirty and not ws.undo_stack


def test_undo_redo_and_dirty(switch):
    ws = Workspace([str(switch)])
    ws.edit(edits.upsert_network(None, {"name": "lan2", "cidr": "10.0.0.0/24"}))
    assert ws.dirty and [n.name for n in ws.loaded.topology.networks] == ["switch", "lan2"]
    assert ws.undo() and not ws.dirty and [n.name for n in ws.loaded.topology.networks] == ["switch"]
    assert ws.redo() and ws.dirty
    assert not ws.redo()


def test_renaming_a_network_follows_its_interfaces(switch):
    ws = Workspace([str(switch)])
    ws.edit(edits.upsert_network("switch", {"name": "office", "cidr": "192.168.1.0/24"}))
    assert {i.network for h in ws.loaded.topology.hosts for i in h.interfaces} == {"office"}


def test_save_keeps_unknown_fields_the_header_and_the_file_mode(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("# my notes\napiVersion: kubenet/v1\nkind: Topology\nmetadata: {name: t, labels: {team: x}}\n"
                 "networks: [{name: lan}]\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n")
    os.chmod(f, 0o640)
    ws = Workspace([str(f)])
    ws.edit(edits.upsert_host(None, {"name": "h", "forwarding": "true"}))
    assert ws.save() == [str(f)]
    text = f.read_text()
    assert text.startswith("# my notes\n")
    assert "team: x" in text and "kind: Widget" in text and "size: 3" in text
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert (tmp_path / "t.yaml.bak").read_text().startswith("# my notes")
    again = Workspace([str(f)])
    assert again.loaded.topology.hosts == ws.loaded.topology.hosts


def test_atomic_write_of_a_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(str(tmp_path / "new.yaml"), "x: 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
