"""The rules: one module per family, each rule a small class registered by code."""

from __future__ import annotations

import importlib

FAMILY_MODULES = ("threads", "pools", "asyncio_rules", "races")


def load_all() -> None:
    for name in FAMILY_MODULES:
        importlib.import_module("%s.%s" % (__name__, name))
