"""Every export is written whole or not at all (``gradstep.policies.whole_file``).

A write that failed halfway (a full disk) left a partial file where the old one was, and a
link to nothing got an empty target from the writability probe. Each writer now writes a
temporary file beside the target and replaces the target with it; these tests make each
writer fail halfway (mocked: the tests may run as root, where nothing is read-only).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from gradstep.drawing.export import ExportError, export_graph
from gradstep.drawing.formats import check_writable, unwritten
from gradstep.policies.whole_file import replacing, write_error

OLD = b"the old file\n"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def small_graph() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(root="n0")
    graph.add_node("n0", name="SumBackward0", kind="op", label="sum")
    graph.add_node("n1", name="MulBackward0", kind="op", label="mul")
    graph.add_node("n2", name="AccumulateGrad", kind="leaf", label="x")
    graph.add_edge("n0", "n1", key=0, slot=0, input_nr=0)
    graph.add_edge("n1", "n2", key=0, slot=0, input_nr=0)  # x * x: two edges, one pair
    graph.add_edge("n1", "n2", key=1, slot=1, input_nr=0)
    return graph


def full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def half_saved(image, name, *args):
    """``QImage.save`` as a full disk makes it: part of the file written, then False."""
    with open(name, "wb") as out:
        out.write(b"\x89PNG half")
    return False


def listing(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_file_gets_the_umasks_mode_and_an_old_one_keeps_its_own(tmp_path):
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    old.write_bytes(OLD)
    os.chmod(old, 0o604)
    umask = os.umask(0o027)
    try:
        for path in (new, old):
            export_graph(small_graph(), path)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o640  # as open(path, "w") makes it
    assert stat.S_IMODE(old.stat().st_mode) == 0o604
    assert json.loads(old.read_text(encoding="utf-8"))["root"] == "n0"
    assert listing(tmp_path) == ["new.json", "old.json"]


def test_a_link_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "graph.svg"
    target.write_bytes(OLD)
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    export_graph(small_graph(), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(b"<?xml")
    assert listing(tmp_path / "real") == ["graph.svg"] and listing(tmp_path) == ["link.svg", "real"]


def test_a_link_to_nothing_creates_its_target_as_open_does(tmp_path):
    link = tmp_path / "link.dot"
    link.symlink_to(tmp_path / "made.dot")
    assert check_writable(link) is None
    assert listing(tmp_path) == ["link.dot"]  # the probe made no empty target (it did)
    export_graph(small_graph(), link)
    assert link.is_symlink() and "digraph" in (tmp_path / "made.dot").read_text(encoding="utf-8")


def test_a_link_to_nothing_in_a_missing_folder_names_that_folder(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "gone" / "made.json")
    with pytest.raises(ExportError) as raised:
        check_writable(link)
    assert str(raised.value) == (f"could not write {tmp_path / 'gone' / 'made.json'}: the folder "
                                 f"{tmp_path / 'gone'} does not exist; create it first")
    assert listing(tmp_path) == ["link.json"]


def half_then_full(path, *_args, **_kwargs):
    """Write part of a file at ``path`` (the writer's first argument after the graph), then
    fail as a full disk does."""
    with open(path, "wb") as out:
        out.write(b"<half")
    full_disk()


@pytest.mark.parametrize("suffix, writer", [
    (".svg", "gradstep.drawing.files.write_svg"),
    (".dot", "pathlib.Path.write_text"),
    (".graphml", "gradstep.drawing.files.write_graphml"),
    (".json", "gradstep.drawing.files.write_json"),
])
def test_a_graph_file_that_fails_halfway_leaves_the_old_file(tmp_path, monkeypatch, suffix,
                                                             writer):
    """The disk fills after part of the file is written: the old file stays whole, no
    temporary file is left, and the error names the file, not the temporary one."""
    path = tmp_path / f"graph{suffix}"
    path.write_bytes(OLD)
    if suffix == ".dot":  # Path.write_text(self, text)
        monkeypatch.setattr(writer, lambda into, *a, **k: half_then_full(into))
    elif suffix == ".svg":  # write_svg(graph, layout, path, ...)
        monkeypatch.setattr(writer, lambda graph, lay, into, **k: half_then_full(into))
    else:  # write_json / write_graphml(graph, path, ...)
        monkeypatch.setattr(writer, lambda graph, into, **k: half_then_full(into))
    with pytest.raises(OSError) as raised:
        export_graph(small_graph(), path)
    assert raised.value.errno == errno.ENOSPC
    assert path.read_bytes() == OLD and listing(tmp_path) == [path.name]
    assert str(unwritten(path, raised.value)) == (
        f"could not write {path}: the disk is full; free some space or write into another folder")


def test_an_error_after_part_is_written_removes_the_part(tmp_path):
    path = tmp_path / "g.json"
    path.write_bytes(OLD)
    with pytest.raises(OSError) as raised, replacing(path) as into:
        into.write_text("{\"half\": ")
        open(into, "rb").close()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(into))
    assert raised.value.filename == str(path)  # not the hidden temporary file's name
    assert path.read_bytes() == OLD and listing(tmp_path) == ["g.json"]
    with pytest.raises(KeyboardInterrupt), replacing(path) as into:
        into.write_text("{")
        raise KeyboardInterrupt
    assert path.read_bytes() == OLD and listing(tmp_path) == ["g.json"]


def test_a_png_and_a_pdf_that_fail_to_save_leave_the_old_file(tmp_path, monkeypatch):
    from PySide6 import QtGui

    png, pdf = tmp_path / "g.png", tmp_path / "g.pdf"
    for path in (png, pdf):
        path.write_bytes(OLD)

    monkeypatch.setattr(QtGui.QImage, "save", half_saved)
    with pytest.raises(ExportError):
        export_graph(small_graph(), png)
    from gradstep.drawing import export

    real_render = export._render

    def painted_then_full(*args):  # the painter ends (a live one on a gone writer crashes)
        real_render(*args)
        full_disk()

    monkeypatch.setattr(export, "_render", painted_then_full)
    with pytest.raises(OSError):
        export_graph(small_graph(), pdf)
    assert png.read_bytes() == OLD and pdf.read_bytes() == OLD
    assert listing(tmp_path) == ["g.pdf", "g.png"]


def test_an_animation_and_frames_that_fail_halfway_leave_the_old_files(tmp_path, monkeypatch):
    import argparse

    from PySide6 import QtGui

    from gradstep.commands import animation
    from gradstep.drawing import qt_animation

    class Frames:  # two frames of 4x3 pixels: what write_animation reads of StepFrames
        size, count = (4, 3), 2

        def frames(self):
            for _ in range(self.count):
                image = QtGui.QImage(4, 3, QtGui.QImage.Format.Format_ARGB32)
                image.fill(0xFFFFFFFF)
                yield image

    class HalfWritten:
        def save(self, path, **_options):
            with open(path, "wb") as out:
                out.write(b"GIF89a half")
            full_disk()

    gif = tmp_path / "pass.gif"
    gif.write_bytes(OLD)
    monkeypatch.setattr(qt_animation, "_to_pillow", lambda *a: HalfWritten())
    with pytest.raises(OSError) as raised:
        qt_animation.write_animation(Frames(), gif)
    assert "the disk is full" in str(unwritten(gif, raised.value))  # a write's error names no file
    assert gif.read_bytes() == OLD and listing(tmp_path) == ["pass.gif"]

    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "step_000.png").write_bytes(OLD)
    monkeypatch.setattr("gradstep.qt_step_frames.StepFrames", lambda *a, **k: Frames())
    monkeypatch.setattr(QtGui.QImage, "save", half_saved)
    args = argparse.Namespace(rankdir="TB", layout="layered", collapse=None, transparent=False)
    with pytest.raises(ExportError):
        animation.write_frames(args, None, (None, 0, None), folder, 1.0)
    assert listing(folder) == ["step_000.png"] and (folder / "step_000.png").read_bytes() == OLD


def test_a_file_the_person_cannot_write_is_refused_though_its_folder_could_replace_it(
        tmp_path, monkeypatch):
    """``open(path, "w")`` refuses a read-only file; a replace would not (its folder is
    writable): the export says the file is not writable and leaves it alone."""
    path = tmp_path / "g.dot"
    path.write_bytes(OLD)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: (
        False if str(p) == str(path) and mode == os.W_OK else real_access(p, mode, **k)))
    with pytest.raises(ExportError) as raised:
        check_writable(path)
    assert "the file is not writable (read-only, or no permission)" in str(raised.value)
    with pytest.raises(PermissionError):
        export_graph(small_graph(), path)
    assert path.read_bytes() == OLD and listing(tmp_path) == ["g.dot"]


def test_a_writable_file_in_a_folder_that_makes_no_files_is_written_in_place(tmp_path,
                                                                              monkeypatch):
    path = tmp_path / "g.dot"
    path.write_bytes(OLD)
    real_open = os.open

    def no_new_files(name, flags, *args, **kwargs):
        if flags & os.O_CREAT and ".tmp" in os.fspath(name):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_new_files)
    assert write_error(path) is None
    export_graph(small_graph(), path)
    assert "digraph" in path.read_text(encoding="utf-8") and listing(tmp_path) == ["g.dot"]
    with pytest.raises(ExportError) as raised:  # a new file there cannot be made
        check_writable(tmp_path / "new.dot")
    assert "is not writable" in str(raised.value)


def test_what_is_not_a_file_is_written_in_place(tmp_path):
    with replacing(os.devnull) as into:
        assert str(into) == os.devnull
        into.write_bytes(b"x")
    assert write_error(os.devnull) is None
    assert isinstance(write_error(tmp_path), IsADirectoryError)


def test_graphml_edges_have_ids_unique_in_the_file(tmp_path):
    """networkx wrote a multigraph's keys as the edges' ids: ``0`` for most edges, which GraphML
    readers (yEd) take as unique in the file."""
    path = tmp_path / "g.graphml"
    export_graph(small_graph(), path)
    edges = list(ET.parse(path).getroot().iter(GRAPHML + "edge"))
    assert [e.get("id") for e in edges] == ["e0", "e1", "e2"]
    back = nx.read_graphml(path, force_multigraph=True)
    assert sorted((u, v, d["slot"]) for u, v, d in back.edges(data=True)) == [
        ("n0", "n1", 0), ("n1", "n2", 0), ("n1", "n2", 1)]


def test_the_apis_pictures_and_notebook_pages_are_written_whole(tmp_path, monkeypatch):
    """``gradstep.draw(...).save("g.svg")`` and ``step_through(...).save("p.html")`` wrote
    with ``Path.write_bytes``/``write_text``: a full disk left part of the file."""
    from gradstep.notebook import StepThrough
    from gradstep.picture import Drawing

    drawing, page = object.__new__(Drawing), object.__new__(StepThrough)
    drawing._picture = lambda key: b"<svg>new</svg>"
    page.to_html, page.title = (lambda: "<p>new</p>"), "t"
    svg, html = tmp_path / "g.svg", tmp_path / "p.html"
    for path in (svg, html):
        path.write_bytes(OLD)
    monkeypatch.setattr("pathlib.Path.write_bytes", lambda into, data: half_then_full(into))
    monkeypatch.setattr("pathlib.Path.write_text", lambda into, *a, **k: half_then_full(into))
    for save, path in ((drawing.save, svg), (page.save, html)):
        with pytest.raises(OSError):
            save(path)
    assert svg.read_bytes() == OLD and html.read_bytes() == OLD
    assert listing(tmp_path) == ["g.svg", "p.html"]
    monkeypatch.undo()
    drawing.save(svg), page.save(html)
    assert svg.read_bytes() == b"<svg>new</svg>" and "<p>new</p>" in html.read_text("utf-8")


def test_a_file_with_other_hard_links_is_written_in_place_as_open_writes_it(tmp_path):
    """``open(path, "w")`` writes the file every hard link names; a replace gave ``path`` a
    new file and left the other names with the old text."""
    path, other = tmp_path / "g.dot", tmp_path / "also.dot"
    path.write_bytes(OLD)
    os.link(path, other)
    inode = path.stat().st_ino
    export_graph(small_graph(), path)
    assert path.stat().st_ino == other.stat().st_ino == inode
    assert other.read_bytes() == path.read_bytes() and b"digraph" in other.read_bytes()
    assert listing(tmp_path) == ["also.dot", "g.dot"]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no file owners")
def test_a_file_of_another_owner_is_written_in_place_as_open_writes_it(tmp_path, monkeypatch):
    """A replace made the file the writer's (under sudo: root's), and a sticky folder
    (``/tmp``) refuses to replace another's file that ``open`` writes: the file is written
    in place, its owner kept. (Mocked: the tests cannot make a file of another user's.)"""
    path = tmp_path / "g.json"
    path.write_bytes(OLD)
    inode, owner = path.stat().st_ino, path.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    export_graph(small_graph(), path)
    assert path.stat().st_ino == inode and path.stat().st_uid == owner
    assert json.loads(path.read_text(encoding="utf-8"))["root"] == "n0"
    monkeypatch.undo()
    export_graph(small_graph(), path)  # the writer's own file: replaced whole
    assert path.stat().st_ino != inode and listing(tmp_path) == ["g.json"]


def test_a_name_as_long_as_the_system_allows_is_written(tmp_path):
    """The temporary file's name is the target's and 20 bytes more: a name of 250 bytes
    (``open`` writes it) was refused as too long."""
    path = tmp_path / ("图" * 81 + ".svg")  # 243 + 4 bytes
    with open(path, "wb"):  # the oracle: python's open makes it
        pass
    path.unlink()
    export_graph(small_graph(), path)
    assert path.read_bytes().startswith(b"<?xml") and listing(tmp_path) == [path.name]


def test_a_screenshot_qt_fails_to_save_leaves_the_old_file_and_the_window_quits(
        tmp_path, qtbot, monkeypatch, capsys):
    """``GRADSTEP_SCREENSHOT``: Qt's save only says False. The empty temporary file replaced
    the old picture then; a missing folder raised out of the timer and the window never
    quit."""
    from gradstep.commands import gui

    class Image:
        def save(self, name):
            with open(name, "wb") as out:
                out.write(b"\x89PNG half")
            return False

    class Window:
        def grab(self):
            return Image()

    class App:
        quits = 0

        def quit(self):
            App.quits += 1

    monkeypatch.setattr(gui, "SCREENSHOT_DELAY_MS", 0)
    shot = tmp_path / "shot.png"
    shot.write_bytes(OLD)
    for path, quits in ((shot, 1), (tmp_path / "gone" / "shot.png", 2)):
        gui._screenshot_when_ready(App(), Window(), str(path), wait_for_run=False)
        qtbot.waitUntil(lambda n=quits: App.quits == n, timeout=5000)
    assert shot.read_bytes() == OLD and listing(tmp_path) == ["shot.png"]
    err = capsys.readouterr().err
    assert f"could not write {shot}" in err
    assert f"the folder {tmp_path / 'gone'} does not exist" in err
