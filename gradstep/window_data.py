"""``gradstep.show``: the window, opened from the user's program on a graph and its passes.

The window runs in a process of its own (``gradstep gui --data -``, started like the
kernel so a user's own packages cannot shadow gradstep's), and what it shows travels
to it as plain data on its standard input (``shown_data``): the trace JSON, the
backward timelines recorded in the user's process, a title and the line that asked.
The user's process never imports Qt and the window never holds a tensor.
Pure: no torch, no Qt.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field

from gradstep.i18n import _

DATA_KIND = "gradstep-shown-graph"
DATA_VERSION = 1


def shown_data(trace: dict, timelines: list[dict], *, title: str = "",
               origin: dict | None = None, print_options: dict | None = None) -> dict:
    """Return what the window needs to show a graph from the user's program
    (``docs/api.md``, "The window's data"); ``print_options``: the program's
    ``torch.set_printoptions`` where they are not torch's default (as a run's reply)."""
    data = {"kind": DATA_KIND, "version": DATA_VERSION, "trace": trace,
            "timelines": list(timelines), "title": title, "origin": origin or {}}
    if print_options is not None:
        data["print_options"] = print_options
    return data


def read_shown_data(source: str, stdin=None) -> dict:
    """Return the data ``gradstep gui --data SOURCE`` shows (``-``: standard input).

    Raises ValueError, in plain words, for anything that is not such data.
    """
    import sys

    try:
        if source == "-":
            data = json.load(stdin if stdin is not None else sys.stdin.buffer)
        else:
            with open(source, encoding="utf-8") as fh:
                data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ValueError(_("cannot read the graph data from {source}: {why}", source=source,
                           why=exc)) from None
    if not isinstance(data, dict) or data.get("kind") != DATA_KIND or "trace" not in data:
        raise ValueError(_("{source} holds no graph shown by gradstep.show (expected JSON with "
                           "\"kind\": \"{kind}\")", source=source, kind=DATA_KIND))
    if data.get("version", 0) > DATA_VERSION:
        raise ValueError(_("{source} was written by a newer gradstep (data version {version}); "
                           "update gradstep", source=source, version=data.get("version")))
    return data


@dataclass
class Window:
    """The window ``gradstep.show`` opened: a process of its own."""

    process: subprocess.Popen
    _feeder: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        """True while the window is open."""
        return self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The window process's exit status (None while it is open)."""
        return self.process.poll()

    def wait(self, timeout: float | None = None) -> int:
        """Wait until the window is closed; return its exit status."""
        code = self.process.wait(timeout)
        if self._feeder is not None:
            self._feeder.join()
        return code

    def close(self) -> None:
        """Close the window (as its close button does) and wait for it."""
        if self.running:
            self.process.terminate()
        self.wait(30)


def open_window(data: dict, *, block: bool = True) -> Window:
    """Start the window on ``data`` (``shown_data``); with ``block``, return once it is closed.

    Raises RuntimeError where no window can open here (no display), or when the
    window process could not start.
    """
    from gradstep.display import display_problem
    from gradstep.kernel.launch import child_environment, worker_command

    problem = display_problem()
    if problem:
        raise RuntimeError(problem)
    payload = json.dumps(data, allow_nan=False).encode("utf-8")
    command = worker_command(["gui", "--data", "-"], module="gradstep.cli")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, env=child_environment())
    window = Window(process)
    if block:
        process.communicate(payload)
        _raise_if_it_could_not_open(process.returncode)
        return window
    # The window reads its data as it starts; writing it here would wait for Qt to load.
    # Not a daemon: the data still reaches the window if this program ends right away.
    window._feeder = threading.Thread(target=_feed, args=(process, payload),
                                      name="gradstep-show", daemon=False)
    window._feeder.start()
    return window


def _feed(process: subprocess.Popen, payload: bytes) -> None:
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except (BrokenPipeError, OSError):  # the window ended before reading: it said why
        pass


def _raise_if_it_could_not_open(code: int) -> None:
    from gradstep.display import NO_WINDOW

    if code == NO_WINDOW:
        raise RuntimeError(_("the gradstep window could not open (its reason is printed above)"))
