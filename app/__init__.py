"""gradstep: make PyTorch autograd visible."""

__version__ = "0.1.0"
