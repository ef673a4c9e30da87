"""Keras's naming rules: snake_case class names and per-session unique names (`dense`, `dense_1`)."""

import re

_uids = {}


def to_snake_case(name):
    """`Dense` -> `dense`, `Conv2DTranspose` -> `conv2d_transpose`, `PReLU` -> `p_re_lu` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def get_uid(prefix=""):
    """1, 2, 3… per prefix for this session (reset by `clear_session`)."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def auto_name(prefix):
    """`prefix` the first time in a session, then `prefix_1`, `prefix_2`, …"""
    uid = get_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def reset_uids():
    _uids.clear()
