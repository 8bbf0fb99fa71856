"""The command line: ``gradstep [gui] [FILE]``, ``trace``, ``backward``, ``export``, ``check``.

This module only parses arguments; each subcommand lives in ``gradstep.commands``
and is imported when it is used, so ``gradstep trace`` never imports Qt.
Exit status: 0 success, 1 the snippet failed, 2 bad usage or an unavailable device,
130 interrupted (Ctrl+C, or the snippet's own ``raise KeyboardInterrupt``, as ``python
FILE`` ends then; a ``--timeout`` exits 1).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sys

from gradstep import installed_version
from gradstep.autograd.exit_status import INTERRUPTED  # Ctrl+C's, and a snippet's own raise
from gradstep.i18n import N_, _
from gradstep.i18n.columns import columns, wrap

SUBCOMMANDS = ("gui", "trace", "backward", "export", "check")
TOP_OPTIONS = ("-h", "--help", "--version")


VERSION_HELP = N_("print gradstep's version and exit")


class _VersionAction(argparse.Action):
    """``--version``: print gradstep's version (read from the package metadata only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help=VERSION_HELP):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=_(help))

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"gradstep {installed_version()}")
        parser.exit()


def _add_snippet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help=_("snippet file, or - for standard input"))
    parser.add_argument("-c", dest="code", metavar="CODE", help=_("the snippet as a string"))
    parser.add_argument("--root", metavar="NAME", help=_(
        "variable holding the root tensor, or the path to it in one (out.loss, outs[0]); "
        "several: a,b"))
    parser.add_argument(
        "--device", default="cpu", choices=("cpu", "cuda", "mps", "meta"),
        help=_("device the snippet runs under (default: cpu)"),
    )
    parser.add_argument(
        "--timeout", type=_seconds, default=None, metavar="SECONDS",
        help=_("stop the snippet after this many seconds"),
    )
    parser.add_argument(
        "--deep-values", action="store_true",
        help=_("also record the output of every torch call inside library code (more node "
             "values; a Python mode is then active, which can change the kernels and fast "
             "paths torch picks, so the run may differ from plain python)"),
    )


def _seconds(text: str) -> float:
    """Return ``--timeout``'s seconds: a positive number (0 stopped the snippet at once and a
    negative one meant no limit, both without a word)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not value > 0:  # NaN too
        raise argparse.ArgumentTypeError(_("{value}: a time limit is a positive number of "
                                           "seconds (e.g. 30)", value=text))
    if value == math.inf:  # 'inf', '1e400': the kernel's deadline raised OverflowError
        raise argparse.ArgumentTypeError(_("{value}: a time limit is a finite number of "
                                           "seconds (leave out --timeout for no limit)",
                                           value=text))
    return value


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter with "usage: " in the person's language, and Chinese help
    wrapped by terminal columns (argparse's textwrap counts a CJK character as one column
    and, finding no spaces, broke ".gif" in two)."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)

    def _format_usage(self, usage, actions, groups, prefix):
        shift = columns(prefix or "") - len(prefix or "")  # "用法：" is 6 columns, not 3
        if not shift:
            return super()._format_usage(usage, actions, groups, prefix)
        self._width -= shift  # argparse wraps by len(prefix): the lines end `shift` sooner
        try:
            text = super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += shift
        head, *rest = text.split("\n")
        return "\n".join([head] + [" " * shift + line if line.strip() else line for line in rest])

    def _split_lines(self, text, width):
        if columns(text) == len(text):  # no wide character: argparse's own lines
            return super()._split_lines(text, width)
        return wrap(text, width)

    def _fill_text(self, text, width, indent):
        if columns(text) == len(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (help, group titles, "error:") are gradstep's, in
    the person's language; the subcommands' parsers are made of this class too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help=_("show this help message and exit"))

    def error(self, message, hint: str = ""):
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}", prog=self.prog,
                       message=argparse_words(message) + hint) + "\n")


# argparse's own messages (its gettext domain has no Chinese here): in the person's language
_ARGPARSE_WORDS = [
    (re.compile(r"unrecognized arguments: (?P<args>.*)", re.S),
     N_("unrecognized arguments: {args}")),
    (re.compile(r"the following arguments are required: (?P<args>.*)", re.S),
     N_("the following arguments are required: {args}")),
    (re.compile(r"argument (?P<arg>[^:]+): invalid choice: (?P<value>.*) "
                r"\(choose from (?P<choices>.*)\)", re.S),
     N_("argument {arg}: invalid choice: {value} (choose from {choices})")),
    (re.compile(r"argument (?P<arg>[^:]+): expected one argument", re.S),
     N_("argument {arg}: expected one argument")),
    (re.compile(r"argument (?P<arg>[^:]+): invalid (?P<type>\w+) value: (?P<value>.*)", re.S),
     N_("argument {arg}: invalid {type} value: {value}")),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", re.S),
     N_("ambiguous option: {option} could match {matches}")),
    (re.compile(r"argument (?P<arg>[^:]+): ignored explicit argument (?P<value>.*)", re.S),
     N_("argument {arg}: ignored explicit argument {value}")),
    # last: any other refusal of an argument (its own words already the person's: --timeout)
    (re.compile(r"argument (?P<arg>[^:]+): (?P<message>.*)", re.S),
     N_("argument {arg}: {message}")),
]


def argparse_words(message: str) -> str:
    """Return one of argparse's error messages in the person's language (as it is when it
    is not one of those known)."""
    for pattern, words in _ARGPARSE_WORDS:
        found = pattern.fullmatch(message)
        if found:
            return _(words, **found.groupdict())
    return message


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradstep", description=_("Step through a real PyTorch backward pass."),
        epilog=_("gradstep FILE.py [--run] opens the window on FILE.py (the same as gradstep gui FILE.py)."),
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = sub.choices  # name -> the subcommand's parser (its errors, its usage)

    gui = sub.add_parser("gui", help=_("open the window (the default)"))
    gui.add_argument("file", nargs="?", help=_("snippet file to open (it is not run)"))
    gui.add_argument("--run", action="store_true", help=_("run the opened file at once"))
    gui.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps", "meta"),
                     help=_("device the snippet runs under (default: cpu)"))
    gui.add_argument("--data", metavar="FILE",
                     help=_("show a graph and its passes sent by gradstep.show (JSON; - for "
                            "standard input) instead of running a snippet"))

    trace = sub.add_parser("trace", help=_("print the autograd graph"))
    _add_snippet_options(trace)
    trace.add_argument("--json", action="store_true", help=_("print JSON (the only format)"))

    backward = sub.add_parser("backward", help=_("run backward and print the step timeline"))
    _add_snippet_options(backward)
    backward.add_argument("--json", action="store_true", help=_("print JSON (the only format)"))
    backward.add_argument("--retain-graph", action="store_true", default=None,
                          help=_("keep the graph's saved tensors after each pass"))
    backward.add_argument("--mode", choices=("backward", "grad"), default=None,
                          help=_("backward(), or torch.autograd.grad on every leaf that "
                                 "requires grad (default: backward)"))
    backward.add_argument("--passes", type=int, default=None, metavar="N",
                          help=_("run N passes (default: 1; a second one without "
                                 "--retain-graph fails as in torch)"))
    backward.add_argument(
        "--gradient", choices=("ones",), default=None,
        help=_("gradient for a non-scalar root (ones_like the root)"),
    )

    export = sub.add_parser("export", help=_("write a picture or a graph file"))
    _add_snippet_options(export)
    export.add_argument("-o", "--output", required=True, metavar="OUT",
                        help=_("the file to write; its extension picks the format (.png, .svg, "
                               ".pdf, .dot, .graphml, .json; .gif, .apng, .webp: the pass "
                               "animated)"))
    export.add_argument("--step", type=int, default=None, metavar="K",
                        help=_("draw the state after K backward steps (0 = before the first)"))
    export.add_argument("--pass", dest="pass_number", type=int, default=None, metavar="P",
                        help=_("step through the snippet's P-th backward call (1-based)"))
    export.add_argument("--layout", choices=("layered", "dot"), default="layered",
                        help=_("layered: gradstep's own layout; dot: Graphviz's (it must be "
                               "installed)"))
    export.add_argument("--collapse", type=int, default=None, metavar="DEPTH",
                        help=_("fold each module DEPTH names deep (layer1.0 is 2) into one box"))
    export.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                        help=_("TB: top to bottom (default); LR: left to right"))
    export.add_argument("--scale", type=float, default=None, metavar="S",
                        help=_("PNG pixels per point (default 2); an SVG or a PDF is shown S "
                               "times its size (default 1)"))
    export.add_argument("--transparent", action="store_true", help=_("PNG without background"))
    export.add_argument("--frames", metavar="DIR",
                        help=_("also write one PNG per backward step into DIR (made if "
                               "missing, in a folder that exists)"))
    export.add_argument("--delay", type=int, default=None, metavar="MS",
                        help=_("time per step of an animation (-o pass.gif/.apng/.webp; default 1000)"))

    check = sub.add_parser(
        "check", help=_("find where NaN/Inf values start and how gradients flow"),
        description=_("Run the snippet, trace it, run one backward pass (the snippet's own, "
                    "else from the root) and report where NaN/Inf values start, forward and "
                    "backward, and layers whose gradients vanish, explode or are mostly zero. "
                    "Exit status 1 when NaN/Inf was found."))
    _add_snippet_options(check)
    check.add_argument("--json", action="store_true", help=_("print the findings as JSON"))
    return parser


def _with_command(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Return ``argv`` with its subcommand: ``gui`` for none, for a file or for gui options.

    A first word that is neither a command nor a file (``gradstep frob``) is a usage
    error listing the commands; it must not open the window.
    """
    if not argv:
        return ["gui"]
    first = argv[0]
    if first in SUBCOMMANDS or first in TOP_OPTIONS:
        return argv
    if first.startswith("-") or first.endswith(".py") or os.path.exists(first):
        return ["gui", *argv]  # `gradstep FILE --run`, `gradstep --device cuda`
    import difflib  # here: only a mistyped command needs it (~1 ms of every command's start)

    close = difflib.get_close_matches(first, SUBCOMMANDS, n=1)
    hint = _(" Did you mean '{command}'?", command=close[0]) if close else ""
    parser.error(_("'{word}' is neither a command nor a file.{hint} Commands: {commands} "
                   "(gradstep COMMAND --help). To open a snippet, give its path: gradstep "
                   "model.py", word=first, hint=hint, commands=", ".join(SUBCOMMANDS)))
    raise AssertionError("unreachable: parser.error exits")


def _unrecognized(parser: _Parser, extras: list[str]) -> None:
    """Refuse words the command does not know with that command's usage (argparse gave the
    top level's, which shows no option of the command), naming the option a mistyped one
    is close to: torch's spelling ``--retain_graph`` is ``--retain-graph`` here."""
    import difflib  # here: only a mistyped option needs it

    known = [o for action in parser._actions for o in action.option_strings
             if o.startswith("--")]
    close = [match for word in extras if word.startswith("--")
             for match in difflib.get_close_matches(word.split("=", 1)[0].replace("_", "-"),
                                                    known, n=1)]
    hint = _(" (did you mean {option}?)", option=", ".join(dict.fromkeys(close))) if close \
        else ""
    parser.error(f"unrecognized arguments: {' '.join(extras)}", hint)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(_with_command(parser, argv))
        if extras:
            _unrecognized(parser.commands.get(args.command, parser), extras)
        handler = importlib.import_module(f"{__package__}.commands.{args.command}")
        return handler.run(args)
    except KeyboardInterrupt:
        # the kernel process is ended at exit (gradstep.kernel.client's atexit hook)
        print(_("gradstep: interrupted"), file=sys.stderr)
        return INTERRUPTED


def gui_main(argv: list[str] | None = None) -> int:
    """The ``gradstep-gui`` launcher: open the window (``gradstep-gui [FILE] [--run]``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--version"]:
        return main(argv)
    return main(["gui", *argv])
