"""The device selector disables a device torch does not have and says why."""

from __future__ import annotations

import torch

from gradstep.autograd.devices import available_devices
from gradstep.ui.qt_device_selector import QtDeviceSelector


def test_cuda_is_disabled_with_its_reason(qtbot, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    expected = {d["name"]: d for d in available_devices()}  # what the selector asks, same process
    selector = QtDeviceSelector()
    qtbot.addWidget(selector)
    assert selector.is_enabled("cpu")
    assert not selector.is_enabled("cuda")
    assert expected["cuda"]["reason"] in selector.reason("cuda")
    assert "not available" in selector.reason("cuda")
    for name, dev in expected.items():
        assert selector.is_enabled(name) == dev["available"]


def test_choosing_a_device_emits_it(qtbot):
    selector = QtDeviceSelector()
    qtbot.addWidget(selector)
    with qtbot.waitSignal(selector.sigDeviceChanged, timeout=1000) as blocker:
        selector.setCurrentIndex(selector.findData("meta"))
    assert blocker.args == ["meta"]
