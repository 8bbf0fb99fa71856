"""The snippet editor: typing, Ctrl+Enter, the error marker, dropped files."""

from __future__ import annotations

from PySide6 import QtCore, QtGui

from gradstep.ui.qt_editor import QtEditor


def test_ctrl_enter_asks_to_run_and_does_not_insert_a_newline(qtbot):
    editor = QtEditor()
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor, "x = 1")
    with qtbot.waitSignal(editor.sigRunRequested, timeout=1000):
        qtbot.keyClick(editor, QtCore.Qt.Key.Key_Return, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert editor.toPlainText() == "x = 1"


def test_error_marks_the_line_and_paints_its_text(qtbot):
    editor = QtEditor()
    qtbot.addWidget(editor)
    editor.resize(600, 200)
    editor.setPlainText("a = 1\nb = (\nc = 3\n")
    editor.show()
    clean = editor.viewport().grab().toImage()
    editor.set_error(2, "SyntaxError: '(' was never closed")
    assert editor.error_line == 2
    [selection] = editor.extraSelections()
    assert selection.cursor.blockNumber() == 1
    marked = editor.viewport().grab().toImage()
    assert marked != clean  # the red band and the note were drawn
    y = int(editor.blockBoundingGeometry(editor.document().findBlockByNumber(1))
            .translated(editor.contentOffset()).center().y())
    red = [marked.pixelColor(x, y) for x in range(0, marked.width(), 3)]
    assert any(c.red() > 150 and c.green() < 120 for c in red)  # the red note text
    editor.set_error(None)
    assert editor.extraSelections() == [] and editor.error_text == ""


def test_go_to_line_moves_the_cursor(qtbot):
    editor = QtEditor()
    qtbot.addWidget(editor)
    editor.setPlainText("a\nb\nc\nd\n")
    editor.go_to_line(3)
    assert editor.textCursor().blockNumber() == 2


def test_dropping_a_file_reports_its_path(qtbot, tmp_path):
    editor = QtEditor()
    qtbot.addWidget(editor)
    path = tmp_path / "snippet.py"
    path.write_text("x = 1\n")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    event = QtGui.QDropEvent(QtCore.QPointF(5, 5), QtCore.Qt.DropAction.CopyAction, mime,
                             QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(editor.sigFileDropped, timeout=1000) as blocker:
        editor.dropEvent(event)
    assert blocker.args == [str(path)]
    assert editor.toPlainText() == ""  # dropping opens, it never pastes or runs


def test_highlighter_colours_keywords_and_comments(qtbot):
    editor = QtEditor()
    qtbot.addWidget(editor)
    editor.setPlainText("import torch  # comment")
    block = editor.document().firstBlock()
    formats = {r.start: r.format.foreground().color().name() for r in block.layout().formats()}
    assert 0 in formats  # 'import'
    comment_start = "import torch  # comment".index("#")
    assert comment_start in formats and formats[comment_start] != formats[0]
