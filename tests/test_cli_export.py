"""`gradstep export`: pictures and graph files from a snippet, states after K steps.

The commands run as typed (``gradstep.cli.main``); their snippets run in a kernel process
(one for the module: ``command_kernel``, tests/conftest.py) or, where marked, in this one.
"""

import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
import torch
import torch.nn.functional as F

from gradstep.cli import main
from gradstep.examples import EXAMPLES_DIR as EXAMPLES
from tests.step_oracle import printed

SVG = "{http://www.w3.org/2000/svg}"


def svg_text(path) -> str:
    root = ET.parse(path).getroot()
    return " ".join(" ".join("".join(t.itertext()) for t in root.iter(SVG + "text")).split())


@pytest.mark.usefixtures("command_kernel")  # a kernel process, one for the module
def test_svg_after_one_step_shows_states_and_the_gradient_torch_computes(tmp_path):
    out = tmp_path / "mse.svg"
    assert main(["export", str(EXAMPLES / "mse_backward.py"), "-o", str(out), "--step", "1"]) == 0
    text = svg_text(out)
    for title in ("MseLossBackward0", "MulBackward0", "w"):
        assert title in text
    assert "MulBackward0 ▶" in text  # the node about to run is marked, not only coloured
    assert "MseLossBackward0 ∅" in text  # the node that ran and freed its buffers
    # the gradient written on the edge MseLoss -> Mul is d mse / d (x*w), as torch computes it
    x = torch.ones(1)
    w = torch.full([1], 2.0, requires_grad=True)
    y = x * w
    y.retain_grad()
    F.mse_loss(torch.ones(1), y).backward()
    assert printed(y.grad) in text


@pytest.mark.usefixtures("command_kernel")  # a kernel process, one for the module
def test_frames_one_png_per_step(tmp_path):
    from PySide6 import QtGui

    frames = tmp_path / "frames"
    out = tmp_path / "g.json"
    assert main(["export", str(EXAMPLES / "mse_backward.py"), "-o", str(out),
                 "--frames", str(frames), "--scale", "1"]) == 0
    pngs = sorted(frames.glob("step_*.png"))
    assert [p.name for p in pngs] == ["step_000.png", "step_001.png", "step_002.png", "step_003.png"]
    assert all(not QtGui.QImage(str(p)).isNull() for p in pngs)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {n["name"] for n in data["nodes"]} == {"MseLossBackward0", "MulBackward0", "AccumulateGrad"}
    assert all("x" in n and "width" in n for n in data["nodes"])


@pytest.mark.usefixtures("command_kernel")  # a kernel process, one for the module
def test_collapsed_cnn_as_graphml(tmp_path):
    out = tmp_path / "cnn.graphml"
    assert main(["export", str(EXAMPLES / "cifar_cnn.py"), "-o", str(out), "--collapse", "1",
                 "--rankdir", "LR"]) == 0
    graph = nx.read_graphml(out)
    kinds = nx.get_node_attributes(graph, "kind")
    assert "module" in kinds.values()
    boxes = [n for n, k in kinds.items() if k == "module"]
    assert all(graph.nodes[n]["op_count"] > 0 for n in boxes)


@pytest.mark.parametrize("argv, words", [
    (["-o", "{tmp}/g.bmp"], "extension"),
    # "-o -" read as a name without an extension; the snippet's prints share standard output
    (["-o", "-"], "-o -: the file cannot go to standard output, where the snippet's own output "
                  "goes; name a file (e.g. -o graph.svg, then cat graph.svg)"),
    (["-o", "{tmp}/missing/g.png"], "does not exist"),
    # a file where a folder is needed was named a folder that "does not exist"
    (["-o", "{tmp}/g.json/sub/g.png"], "-o {tmp}/g.json/sub/g.png: {tmp}/g.json is a file, not "
                                       "a folder; write into a folder"),
    (["-o", "{tmp}/g.png", "--frames", "{tmp}/g.json/f"], "--frames {tmp}/g.json/f: {tmp}/g.json "
                                                          "is a file, not a folder"),
    (["-o", "{tmp}/g.png", "--step", "-1"], "--step"),
    (["-o", "{tmp}/g.png", "--scale", "0"], "--scale"),
    (["-o", "{tmp}/g.png", "--scale", "nan"], "--scale nan: use a positive scale"),  # was a
    (["-o", "{tmp}/g.png", "--scale", "inf"], "--scale inf: use a positive scale"),  # traceback
    (["-o", "{tmp}/g.json", "--frames", "{tmp}/missing/frames"],
     "--frames {tmp}/missing/frames: the folder {tmp}/missing does not exist; create it first"),
    (["-o", "{tmp}/g.json", "--frames", "{tmp}/g.json"], "that is a file; name a folder"),
    # a graph file has no size: --scale (which wrote the same file) is told, not passed over;
    # with --frames it sizes the frames (test_frames_one_png_per_step)
    # (a DOT file holds no coordinates either: Graphviz lays it out)
    (["-o", "{tmp}/g.dot", "--scale", "2"], "--scale 2: a DOT file has no size (it holds the "
                                            "graph, not a picture)"),
    (["-o", "{tmp}/g.graphml", "--scale", "0.5"], "--scale 0.5: a GraphML file has no size"),
    (["-o", "{tmp}/g.json", "--scale", "3"], "it sizes PNG, SVG and PDF pictures, --frames and "
                                             "animations"),
    # --delay and --transparent where they change nothing were passed over without a word
    (["-o", "{tmp}/g.png", "--delay", "500"], "--delay 500: only an animation has frames to "
                                              "time, and -o {tmp}/g.png is not one"),
    (["-o", "{tmp}/g.svg", "--frames", "{tmp}/f", "--delay", "5"], "--delay 5: only an animation"),
    (["-o", "{tmp}/g.svg", "--transparent"], "--transparent: only a PNG picture (and the PNGs "
                                             "of --frames) is written without its background"),
    (["-o", "{tmp}/g.gif", "--transparent"], "-o {tmp}/g.gif is not one"),
])
def test_bad_options_exit_2_before_running_anything(tmp_path, capsys, argv, words):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    (tmp_path / "g.json").write_text("{}")
    assert main(["export", "-c", "raise SystemExit('must not run')", *argv]) == 2
    err = capsys.readouterr().err
    assert words.replace("{tmp}", str(tmp_path)) in err
    # it was never run: not "The snippet is fine"
    assert "The snippet was not run" in err and "is fine" not in err, err
    # the message says what to change; no generic example command under it
    assert "How to fix" not in err, err
    assert not (tmp_path / "missing").exists()  # --frames made missing folders, -o refused them


@pytest.mark.usefixtures("command_kernel")  # a kernel process, one for the module
def test_a_snippet_without_graph_exits_1(tmp_path, capsys):
    assert main(["export", "-c", "x = 1", "-o", str(tmp_path / "g.png")]) == 1
    assert "grad_fn" in capsys.readouterr().err


def test_layout_dot_without_graphviz_exits_2(tmp_path, capsys, monkeypatch):
    import shutil  # the command imports it when --layout dot asks for Graphviz

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["export", "-c", "raise SystemExit('must not run')", "-o",
                 str(tmp_path / "g.svg"), "--layout", "dot"]) == 2
    assert "Graphviz" in capsys.readouterr().err


@pytest.mark.usefixtures("command_kernel")  # a kernel process, one for the module
def test_a_failing_lesson_still_writes_its_picture(tmp_path, capsys):
    """The real command line (kernel process): the retain_graph error is drawn, exit 1."""
    out = tmp_path / "retain_graph_error.png"
    assert main(["export", str(EXAMPLES / "retain_graph_error.py"), "-o", str(out)]) == 1
    from PySide6 import QtGui

    assert not QtGui.QImage(str(out)).isNull()
    err = capsys.readouterr().err
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    p[1].backward()
    with pytest.raises(RuntimeError) as torch_error:
        p[1].backward()
    assert str(torch_error.value).split(".")[0] in err
    # exit 1 and the error alone read as if nothing was written
    assert err.endswith(f"{out} was written all the same: the graph as far as the snippet got\n")


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize("options", [[], ["--scale", "3"], ["--frames", "FRAMES"]])
def test_export_leaves_the_parsed_options_as_they_were(tmp_path, options):
    """``export.run`` set ``args.scale`` to 2 and added ``args.size``: a caller's namespace
    (the API's, a test's) changed under it."""
    from gradstep.cli import build_parser
    from gradstep.commands import export

    argv = [a.replace("FRAMES", str(tmp_path / "frames")) for a in options]
    args = build_parser().parse_args(["export", str(EXAMPLES / "mse_backward.py"), "-o",
                                      str(tmp_path / "g.svg"), "--step", "1", *argv])
    before = dict(vars(args))
    assert export.run(args) == 0
    assert vars(args) == before


@pytest.mark.usefixtures("in_process")
def test_scale_sizes_an_svg_and_a_pdf_keeping_the_drawing(tmp_path):
    """``--scale 3`` made the same SVG as none (it was for PNG only): now an SVG's width and
    height are 3 times its drawing's (the viewBox, the drawing itself, unchanged) and a PDF's
    page 3 times as big; without --scale both keep their own size (a PNG: 2 px per point)."""
    import re

    snippet = str(EXAMPLES / "mse_backward.py")
    for name, options in (("own.svg", []), ("big.svg", ["--scale", "3"]),
                          ("step.svg", ["--scale", "3", "--step", "1"]),
                          ("own.pdf", []), ("big.pdf", ["--scale", "3"])):
        assert main(["export", snippet, "-o", str(tmp_path / name), *options]) == 0
    own, big = (ET.parse(tmp_path / name).getroot().attrib for name in ("own.svg", "big.svg"))
    assert big["viewBox"] == own["viewBox"] == ET.parse(tmp_path / "step.svg").getroot().attrib[
        "viewBox"]
    view = [float(v) for v in own["viewBox"].split()]
    assert float(own["width"]) == pytest.approx(view[2]) and float(own["height"]) == pytest.approx(view[3])
    assert float(big["width"]) == pytest.approx(3 * view[2], abs=0.02)
    assert float(big["height"]) == pytest.approx(3 * view[3], abs=0.02)
    pages = [re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", (tmp_path / name).read_bytes())
             for name in ("own.pdf", "big.pdf")]
    assert float(pages[1][1]) == pytest.approx(3 * float(pages[0][1]), abs=2)


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize("name, scale, words", [
    ("g.svg", "1e308", "the picture would be inf by inf"),  # width="inf": no SVG
    ("g.svg", "1e-9", "the picture would be 1.94e-07 by"),  # width="0": nothing shown
    ("g.pdf", "1e308", "the picture would be inf by inf"),  # a page of inf points, exit 0
    ("g.png", "1e308", "the PNG is too big"),  # round(inf): a traceback, exit 1
])
def test_a_scale_whose_picture_cannot_be_written_is_refused(tmp_path, capsys, name, scale, words):
    """A finite --scale can still make the picture's size inf (or round it to 0)."""
    out = tmp_path / name
    assert main(["export", str(EXAMPLES / "mse_backward.py"), "-o", str(out), "--scale",
                 scale]) == 2
    assert f"--scale {float(scale):g}: {words}" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.usefixtures("in_process")
def test_a_refused_picture_is_told_in_the_persons_language(tmp_path, capsys):
    """The drawing's own refusals (ExportError: a PNG too big, a folder not writable) were
    English under LANG=zh_CN, with a generic "How to fix" under them."""
    from gradstep import i18n

    out = tmp_path / "g.png"
    argv = ["export", str(EXAMPLES / "mse_backward.py"), "-o", str(out), "--scale", "1e308"]
    with i18n.using("zh_CN"):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--scale 1e+308：PNG 太大：请调低 --scale，或导出 SVG/PDF" in err, err
    assert "怎么改" not in err and "too big" not in err, err
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--scale 1e+308: the PNG is too big: lower --scale or export SVG/PDF" in err, err
    assert "How to fix" not in err


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize("suffix", [".pdf", ".png", ".svg", ".json", ".graphml", ".dot"])
def test_an_output_that_cannot_be_written_is_told_in_words_exit_2(tmp_path, capsys, suffix):
    """``-o NAME`` where NAME is a folder: a PDF was not written and the command said nothing
    and exited 0 (Qt's writer only warned); SVG and the graph files gave the system's English
    ``[Errno 21] Is a directory`` under LANG=zh_CN too. Now each names what to change."""
    from gradstep import i18n

    out = tmp_path / f"graph{suffix}"
    out.mkdir()
    argv = ["export", str(EXAMPLES / "mse_backward.py"), "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"could not write {out}: it is a folder; name a file in it (e.g. {out / out.name})" in err, err
    assert "Errno" not in err and "The snippet is fine" in err, err
    with i18n.using("zh_CN"):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"无法写入 {out}：它是一个文件夹；请给出其中的一个文件名（例如 {out / out.name}）" in err, err
    assert list(out.iterdir()) == []  # nothing written into it either


@pytest.mark.usefixtures("in_process")
def test_an_output_link_is_written_through_and_a_link_to_a_missing_folder_is_refused(
        tmp_path, capsys):
    """``-o link.svg``: the link's target is replaced whole and the link stays; a link into a
    folder that does not exist is refused before the snippet runs, naming that folder (it
    ran the snippet, then said so), in both languages."""
    from gradstep import i18n

    (tmp_path / "real").mkdir()
    target, link = tmp_path / "real" / "g.svg", tmp_path / "g.svg"
    target.write_text("old")
    link.symlink_to(target)
    assert main(["export", str(EXAMPLES / "mse_backward.py"), "-o", str(link)]) == 0
    assert link.is_symlink() and "MseLossBackward0" in svg_text(target)
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["g.svg"]
    capsys.readouterr()
    dangling = tmp_path / "d.svg"
    dangling.symlink_to(tmp_path / "gone" / "g.svg")
    argv = ["export", "-c", "print('ran')", "-o", str(dangling)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "ran" not in out
    assert f"-o {dangling}: the folder {tmp_path / 'gone'} does not exist; create it first" in err
    with i18n.using("zh_CN"):
        assert main(argv) == 2
    assert f"文件夹 {tmp_path / 'gone'} 不存在" in capsys.readouterr().err
    assert not (tmp_path / "gone").exists()


@pytest.mark.parametrize("code, words, chinese", [
    ("EACCES", "the folder {folder} is not writable (no permission, or read-only); write into "
               "another folder", "文件夹 {folder} 不可写（没有权限，或是只读的）；请写到别的文件夹"),
    ("EROFS", "the folder {folder} is not writable", "文件夹 {folder} 不可写"),
    ("ENOENT", "the folder {folder}/gone does not exist; create it first",
     "文件夹 {folder}/gone 不存在；请先创建它"),
    ("ENOSPC", "the disk is full; free some space or write into another folder", "磁盘已满"),
    # a read-only file in a writable folder was said to be in a folder not writable
    ("EACCES-file", "the file is not writable (read-only, or no permission); make it writable "
                    "or name another file", "这个文件不可写（只读，或没有权限）"),
    # a file where a folder is needed (ENOTDIR) read "the folder ... does not exist"
    ("ENOTDIR", "{folder}/file is a file, not a folder; write into a folder",
     "{folder}/file 是一个文件，不是文件夹；请写到一个文件夹里"),
])
def test_a_write_error_names_what_to_fix_in_both_languages(tmp_path, code, words, chinese):
    """The OSError a writer raises (a read-only folder, a full disk) was shown as the system's
    English text, ``[Errno 13] Permission denied: '...'``, in both languages."""
    import errno
    import os

    from gradstep import i18n
    from gradstep.drawing.formats import unwritten

    path = tmp_path / {"ENOENT": "gone", "ENOTDIR": "file/sub"}.get(code, "") / "g.json"
    (tmp_path / "file").write_text("")
    if code == "EACCES-file":
        code = "EACCES"
        path.write_text("")
    exc = OSError(getattr(errno, code), os.strerror(getattr(errno, code)), str(path))
    error = unwritten(path, exc)
    assert str(error).startswith(f"could not write {path}: " + words.format(folder=tmp_path)), error
    with i18n.using("zh_CN"):
        assert i18n.render(error.message).startswith(
            f"无法写入 {path}：" + chinese.format(folder=tmp_path)), i18n.render(error.message)


@pytest.mark.usefixtures("command_kernel")  # a kernel process, one for the module
def test_graphml_has_one_key_per_attribute_and_the_json_files_values(tmp_path):
    """A leaf's ``seq`` and ``line`` (None, written '') beside the ops' numbers made two keys
    named ``seq`` and two named ``line`` (networkx writes one per name and type): Gephi and
    yEd read a column by its name. Each name now has one key, and every value read back is
    the JSON file's (None: no data element)."""
    graphml, js = tmp_path / "g.graphml", tmp_path / "g.json"
    for out in (graphml, js):
        assert main(["export", str(EXAMPLES / "cifar_cnn.py"), "-o", str(out)]) == 0
    keys = [(k.get("for"), k.get("attr.name"))
            for k in ET.parse(graphml).getroot().iter("{http://graphml.graphdrawing.org/xmlns}key")]
    assert len(keys) == len(set(keys)), sorted(keys)
    read = nx.read_graphml(graphml)
    nodes = json.loads(js.read_text(encoding="utf-8"))["nodes"]
    assert {n["id"] for n in nodes} == set(read.nodes)
    for node in nodes:
        for name in ("line", "name", "label", "kind"):
            assert read.nodes[node["id"]].get(name) == node.get(name), (node["id"], name)
    # torch's sequence numbers count on in the kernel both runs shared: compare them from the first
    seqs = [(n["id"], n.get("seq")) for n in nodes]
    first_json = min(s for _, s in seqs if s is not None)
    first_read = min(read.nodes[i]["seq"] for i, s in seqs if s is not None)
    assert [(i, None if s is None else s - first_json) for i, s in seqs] == [
        (i, read.nodes[i]["seq"] - first_read if "seq" in read.nodes[i] else None) for i, _ in seqs]
    assert any(s is None for _, s in seqs) and any(s is not None for _, s in seqs)
