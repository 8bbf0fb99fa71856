"""Memory and output caps: parsing sizes, defaults, the environment, and the cap applied in the child."""

from __future__ import annotations

import pytest

from gradstep.kernel import limits
from gradstep.kernel.client import Kernel
from gradstep.policies.output_cap import CappedBytes, CappedText, cap_text

FAKE = "tests.kernel.fake_session:FakeSession"


@pytest.mark.parametrize(
    ("text", "size"),
    [("8G", 8 * 2**30), ("512M", 512 * 2**20), ("100K", 102400), ("1.5GiB", 3 * 2**29),
     ("123", 123), ("0", 0), (" 2 g ", 2 * 2**30), ("64MB", 64 * 2**20)],
)
def test_parse_size(text, size):
    assert limits.parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "8X", "-1G", ""])
def test_parse_size_rejects_nonsense_with_a_plain_message(text):
    if text == "":
        assert limits.parse_size(text) == 0
        return
    with pytest.raises(ValueError, match="size"):
        limits.parse_size(text)


def test_default_memory_limit_is_below_half_the_machine_and_above_the_floor():
    ram = limits.machine_memory()
    default = limits.default_memory_limit()
    assert default >= limits.memory_floor()
    assert default <= max(8 * limits.GIB, limits.memory_floor())
    if ram is not None and ram // 2 >= limits.memory_floor():
        assert default <= ram // 2


def test_environment_and_argument_choose_the_memory_limit(monkeypatch):
    monkeypatch.setenv(limits.MEMORY_ENV, "16G")
    assert limits.resolve_memory_limit() == 16 * limits.GIB
    assert limits.resolve_memory_limit("12G") == 12 * limits.GIB
    monkeypatch.setenv(limits.MEMORY_ENV, "0")
    assert limits.resolve_memory_limit() == 0
    assert limits.resolve_memory_limit("1M") == limits.memory_floor()


def test_output_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv(limits.OUTPUT_ENV, "10K")
    assert limits.resolve_output_limit() == 10 * 1024
    monkeypatch.delenv(limits.OUTPUT_ENV)
    assert limits.resolve_output_limit() == limits.DEFAULT_OUTPUT_LIMIT


def test_bounded_output_keeps_head_and_tail_and_counts_the_rest():
    out = CappedBytes(1000)
    data = b"".join(b"%06d\n" % i for i in range(10_000))
    for start in range(0, len(data), 777):
        out.write(data[start:start + 777])
    text = out.text()
    assert out.total == len(data)
    head, tail = out.kept()
    assert (len(head), len(tail)) == (800, 200)  # the first 80 % and the last 20 %
    assert text.startswith("000000\n000001\n")
    assert text.endswith("009999\n")
    assert out.dropped == len(data) - 1000
    assert f"{out.dropped} bytes of output dropped" in text


def test_one_rule_for_bytes_text_streams_and_finished_text():
    """The kernel's bytes, an in-process run's stream and the Output panel's text are
    capped alike: the same start, the same end, the same note."""
    data = "".join(f"{i:06d}\n" for i in range(10_000))
    as_bytes = CappedBytes(1000)
    as_stream = CappedText(1000)
    for start in range(0, len(data), 333):
        as_bytes.write(data[start:start + 333].encode())
        as_stream.write(data[start:start + 333])
    as_bytes_text = as_bytes.text()
    assert as_stream.getvalue() == cap_text(data, 1000)
    assert as_bytes_text == cap_text(data, 1000).replace("characters of output", "bytes of output")
    assert cap_text("short", 1000) == "short"


def test_cap_text_also_caps_lines():
    text = "".join(f"line {i}\n" for i in range(1000))
    capped = cap_text(text, 10**6, max_lines=100)
    assert capped.startswith("line 0\nline 1\n") and capped.endswith("line 999\n")
    kept = [line for line in capped.splitlines() if line.startswith("line ")]
    assert len(kept) == 100 and kept[79] == "line 79" and kept[80] == "line 980"
    assert "characters of output dropped" in capped


def test_memory_cap_applies_in_the_child_and_the_next_run_works():
    source = "import torch\nx = torch.empty(10**9)\n"  # 4 GB, above a 3 GiB cap
    with Kernel(session=FAKE, memory_limit="3G", timeout=60) as kernel:
        reply = kernel.run(source, filename="big.py")
        assert reply["error"]["kind"] == "memory"
        assert "3.0 GiB" in reply["error"]["explanation"]
        assert reply["error"]["line"] == 2
        assert not reply.get("state_lost")
        assert kernel.run("import torch\ny = torch.ones(10**6).sum().item()\n")["ok"]


def test_a_typo_in_the_environment_is_reported_and_ignored(monkeypatch, capsys):
    monkeypatch.setenv(limits.MEMORY_ENV, "lots")
    assert limits.resolve_memory_limit() == limits.default_memory_limit()
    assert "ignoring GRADSTEP_MEMORY_LIMIT" in capsys.readouterr().err
