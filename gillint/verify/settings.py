"""``[tool.gillint.verify]``: validated into :class:`VerifySettings`.

Every mistake is a :class:`gillint.config.ConfigError` naming the file and the key::

    [tool.gillint.verify]
    timeout = 10            # wall-clock seconds per measurement (the whole process group is killed after)
    repeat = 3              # probe windows per measurement (the verdict takes their median)
    window = 0.2            # seconds per probe window
    jobs = 1                # measurements at a time, each on cores of its own
    cpu-seconds = 0         # CPU limit per measurement (0: derived from timeout)
    memory-mb = 2048        # address-space limit (0: none); some native libraries reserve a lot
    file-size-mb = 64
    open-files = 256
    network = "auto"        # "namespace" (unshare -rn), "audit-hook", or "auto": the first that works
    timing-rounds = 3       # interleaved rounds of serial / two threads / two processes (0: none)
    timing-unit = 0.1       # seconds of calls per worker and round
    ladder = true           # literal arguments are also timed scaled x10 and x100
    from-tests = "python -m pytest -q"   # record arguments from this test command (also --from-tests)
    from-tests-timeout = 1800
    record-calls = 3        # calls kept per target (the largest)
    record-mb = 8           # largest pickled call kept

    [tool.gillint.verify.targets."package.module.function"]   # or "path/to/file.py::function"
    args = [100_000]
    kwargs = { mode = "fast" }
    factory = "package.testing:make_args"   # returns {"args": ..., "kwargs": ..., "self": ...}
    timeout = 5
    repeat = 5
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..config import ConfigError

NETWORK_CHOICES = ("auto", "namespace", "audit-hook")


@dataclass(frozen=True)
class TargetSettings:
    """What the user's configuration says about one target."""

    key: str
    args: Optional[Tuple[Any, ...]] = None
    kwargs: Optional[Dict[str, Any]] = None
    factory: Optional[str] = None
    timeout: Optional[float] = None
    repeat: Optional[int] = None
    memory_mb: Optional[int] = None


@dataclass
class VerifySettings:
    timeout: float = 10.0
    repeat: int = 3
    window: float = 0.2
    jobs: int = 1
    cpu_seconds: int = 0
    memory_mb: int = 2048
    file_size_mb: int = 64
    open_files: int = 256
    network: str = "auto"
    timing_rounds: int = 3  # interleaved rounds of serial / two threads / two processes (0: no timing)
    timing_unit: float = 0.1  # seconds of calls per worker per round
    ladder: bool = True  # literal arguments: also time them scaled x10 and x100
    from_tests: Optional[str] = None  # the test command whose calls give the arguments
    from_tests_timeout: float = 1800.0
    record_calls: int = 3  # calls kept per target (the largest)
    record_mb: int = 8  # largest pickled call kept
    targets: Dict[str, TargetSettings] = field(default_factory=dict)
    root: Optional[Path] = None  # the directory of the pyproject.toml, for path-style target keys

    def target_for(self, candidates: List[str]) -> Optional[TargetSettings]:
        for key in candidates:
            if key in self.targets:
                return self.targets[key]
        return None


def _number(value: Any, where: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ConfigError("%s: %s must be a number from %g to %g" % (where, key, low, high))
    return float(value)


def _whole(value: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError("%s: %s must be a whole number from %d to %d" % (where, key, low, high))
    return value


def _plain(value: Any) -> bool:
    """Values a call can be given from TOML: no dates or times, no infinities."""
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _target(key: str, table: Any, where: str) -> TargetSettings:
    here = "%s: targets.%s" % (where, key)
    if not isinstance(table, dict):
        raise ConfigError("%s must be a table with args, kwargs or factory" % here)
    args = kwargs = factory = None
    timeout = None
    repeat = memory = None
    for name, value in table.items():
        option = name.replace("_", "-")
        if option == "args":
            if not isinstance(value, list) or not _plain(value):
                raise ConfigError("%s: args must be a list of strings, numbers, booleans, lists or tables" % here)
            args = tuple(value)
        elif option == "kwargs":
            if not isinstance(value, dict) or not _plain(value):
                raise ConfigError("%s: kwargs must be a table of strings, numbers, booleans, lists or tables" % here)
            kwargs = dict(value)
        elif option == "factory":
            if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
                raise ConfigError("%s: factory must be \"module:function\", like \"mypkg.testing:make_args\"" % here)
            factory = value
        elif option == "timeout":
            timeout = _number(value, here, "timeout", 0.5, 3600)
        elif option == "repeat":
            repeat = _whole(value, here, "repeat", 1, 50)
        elif option == "memory-mb":
            memory = _whole(value, here, "memory-mb", 0, 1 << 24)
        else:
            raise ConfigError("%s: unknown key %r (args, kwargs, factory, timeout, repeat, memory-mb)" % (here, name))
    return TargetSettings(key, args, kwargs, factory, timeout, repeat, memory)


def from_table(table: Mapping[str, Any], where: str, root: Optional[Path] = None) -> VerifySettings:
    """Validate the raw ``[tool.gillint.verify]`` table; ``where`` names the file."""
    settings = VerifySettings(root=root)
    where = "%s [tool.gillint.verify]" % where
    for name, value in table.items():
        option = name.replace("_", "-")
        if option == "timeout":
            settings.timeout = _number(value, where, name, 0.5, 3600)
        elif option == "repeat":
            settings.repeat = _whole(value, where, name, 1, 50)
        elif option == "window":
            settings.window = _number(value, where, name, 0.05, 5)
        elif option == "jobs":
            settings.jobs = _whole(value, where, name, 1, 1024)
        elif option == "cpu-seconds":
            settings.cpu_seconds = _whole(value, where, name, 0, 86400)
        elif option == "memory-mb":
            settings.memory_mb = _whole(value, where, name, 0, 1 << 24)
        elif option == "file-size-mb":
            settings.file_size_mb = _whole(value, where, name, 1, 1 << 24)
        elif option == "open-files":
            settings.open_files = _whole(value, where, name, 16, 1 << 20)
        elif option == "network":
            if value not in NETWORK_CHOICES:
                raise ConfigError("%s: network must be one of %s, not %r" % (where, ", ".join(NETWORK_CHOICES), value))
            settings.network = value
        elif option == "timing-rounds":
            settings.timing_rounds = _whole(value, where, name, 0, 20)
        elif option == "timing-unit":
            settings.timing_unit = _number(value, where, name, 0.01, 5)
        elif option == "ladder":
            if not isinstance(value, bool):
                raise ConfigError("%s: ladder must be true or false" % where)
            settings.ladder = value
        elif option == "from-tests":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError("%s: from-tests must be the test command as a string, like \"python -m pytest -q\""
                                  % where)
            settings.from_tests = value
        elif option == "from-tests-timeout":
            settings.from_tests_timeout = _number(value, where, name, 1, 86400)
        elif option == "record-calls":
            settings.record_calls = _whole(value, where, name, 1, 20)
        elif option == "record-mb":
            settings.record_mb = _whole(value, where, name, 1, 1024)
        elif option == "targets":
            if not isinstance(value, dict):
                raise ConfigError("%s: targets must be a table of [tool.gillint.verify.targets.\"module.function\"] tables"
                                  % where)
            settings.targets = {key: _target(key, entry, where) for key, entry in value.items()}
        else:
            raise ConfigError("%s: unknown key %r (see docs/verify.md)" % (where, name))
    return settings


def settings_from_config(config: Any) -> VerifySettings:
    """The verifier's settings from a loaded :class:`gillint.config.Config`."""
    where = str(config.path) if getattr(config, "path", None) is not None else "pyproject.toml"
    return from_table(config.verify or {}, where, config.root)
