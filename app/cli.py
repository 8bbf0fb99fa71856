"""The command line: ``gradstep [gui] [FILE]``, ``trace``, ``backward``, ``export``.

This module only parses arguments; each subcommand lives in ``app.commands``
and is imported when it is used, so ``gradstep trace`` never imports Qt.
Exit status: 0 success, 1 the snippet failed, 2 bad usage or an unavailable device.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ("gui", "trace", "backward", "export")


def _add_snippet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="snippet file, or - for standard input")
    parser.add_argument("-c", dest="code", metavar="CODE", help="the snippet as a string")
    parser.add_argument("--root", metavar="NAME", help="variable holding the root tensor")
    parser.add_argument(
        "--device", default="cpu", choices=("cpu", "cuda", "mps", "meta"),
        help="device the snippet runs under (default: cpu)",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, metavar="SECONDS",
        help="stop the snippet after this many seconds",
    )
    parser.add_argument(
        "--deep-values", action="store_true",
        help="also record the output of every torch call inside library code (more node "
             "values; a Python mode is then active, which can change the kernels and fast "
             "paths torch picks, so the run may differ from plain python)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstep", description="Step through a real PyTorch backward pass."
    )
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("file", nargs="?", help="snippet file to open (it is not run)")
    gui.add_argument("--run", action="store_true", help="run the opened file at once")
    gui.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps", "meta"))

    trace = sub.add_parser("trace", help="print the autograd graph")
    _add_snippet_options(trace)
    trace.add_argument("--json", action="store_true", help="print JSON (the only format)")

    backward = sub.add_parser("backward", help="run backward and print the step timeline")
    _add_snippet_options(backward)
    backward.add_argument("--json", action="store_true", help="print JSON (the only format)")
    backward.add_argument("--retain-graph", action="store_true")
    backward.add_argument("--mode", choices=("backward", "grad"), default="backward")
    backward.add_argument("--passes", type=int, default=1, metavar="N")
    backward.add_argument(
        "--gradient", choices=("ones",), default=None,
        help="gradient for a non-scalar root (ones_like the root)",
    )

    export = sub.add_parser("export", help="write a picture or a graph file")
    _add_snippet_options(export)
    export.add_argument("-o", "--output", required=True, metavar="OUT")
    export.add_argument("--step", type=int, default=None, metavar="K",
                        help="draw the state after K backward steps (0 = before the first)")
    export.add_argument("--pass", dest="pass_number", type=int, default=None, metavar="P",
                        help="step through the snippet's P-th backward call (1-based)")
    export.add_argument("--layout", choices=("layered", "dot"), default="layered")
    export.add_argument("--collapse", type=int, default=None, metavar="DEPTH")
    export.add_argument("--rankdir", choices=("TB", "LR"), default="TB")
    export.add_argument("--scale", type=float, default=2.0, help="PNG pixels per point")
    export.add_argument("--transparent", action="store_true", help="PNG without background")
    export.add_argument("--frames", metavar="DIR", help="also write one PNG per backward step")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS + ("-h", "--help"):
        argv.insert(0, "gui")  # `gradstep FILE --run` opens the window
    args = build_parser().parse_args(argv)
    handler = importlib.import_module(f"app.commands.{args.command}")
    return handler.run(args)
