"""The rules: one module per family, each rule a small class registered by code."""

from __future__ import annotations

import importlib

FAMILY_MODULES = ("threads", "pools", "asyncio_rules", "races")
# Every rule's code, known without importing the rules (configuration is validated against it before
# any analysis is loaded); a test keeps it equal to the registered rules.
RULE_CODES = ("GIL101", "GIL102", "GIL103", "GIL201", "GIL202", "GIL203", "GIL301", "GIL302",
              "GIL401", "GIL402", "GIL403", "GIL404")
# The rules with a fixer (gillint/fixes/codemods): only a run with such findings loads the fixers,
# which import libcst's codemod machinery.  A test keeps it equal to the registered fixers.
FIXABLE_CODES = frozenset({"GIL102", "GIL103", "GIL201", "GIL203", "GIL301", "GIL302"})


def load_all() -> None:
    for name in FAMILY_MODULES:
        importlib.import_module("%s.%s" % (__name__, name))
