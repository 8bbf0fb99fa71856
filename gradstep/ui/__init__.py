"""Qt widgets. They observe models and never compute autograd themselves."""

from gradstep.none_guard import protect_none

protect_none()  # PySide6 6.12 on Python 3.11 drops a reference to None per void call
