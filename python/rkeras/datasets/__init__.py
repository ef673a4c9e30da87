"""Bundled datasets (offline)."""

from rkeras.datasets import digits

__all__ = ["digits"]
