"""Import one distribution's extension modules and report whether the GIL came back on.

Runs as a script in the verifier's sandbox (see gillint/verify/sandbox.py), under the
interpreter being inspected, beside a copy of the verifier's child (``gillint_probe``)
whose limits and network guard it reuses.  Appends JSON lines to the spec's
``result_path``: ``started``, one ``module`` per import, then ``done``.

On a free-threaded build an extension that does not declare free-threading support
(no ``Py_mod_gil`` slot, or single-phase initialisation) turns the GIL on when it is
imported and says so in a RuntimeWarning naming the module; the GIL then stays on for
the life of the process, so this stops at the first module that turns it on.
"""

import importlib
import json
import os
import re
import sys
import time
import traceback
import warnings

from gillint_probe import Reporter, apply_limits, block_network, gil_enabled, interpreter_info

# "The global interpreter lock (GIL) has been enabled to load module 'x', which has not declared ..."
ENABLED_BY = re.compile(r"GIL\) has been enabled to load module '(?P<module>[^']+)'")


def main(spec_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    reporter = Reporter(spec["result_path"])
    limits = apply_limits(spec.get("limits", {}))
    if spec.get("network") == "audit-hook":
        block_network()
    reporter.emit("started", interpreter=interpreter_info(), limits=limits, pid=os.getpid())
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd(), os.path.dirname(os.path.abspath(__file__)))]
    for entry in reversed(spec.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    for name in spec.get("modules", []):
        began = time.perf_counter()
        enabled_by = []
        error = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                importlib.import_module(name)
            except BaseException as exc:  # noqa: B902 - SystemExit at import is the module's doing
                lines = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
                error = lines[-1] if lines else type(exc).__name__
        for warning in caught:
            match = ENABLED_BY.search(str(warning.message))
            if match:
                enabled_by.append(match.group("module"))
        enabled = gil_enabled()
        reporter.emit("module", module=name, gil_enabled=enabled, enabled_by=enabled_by, error=error,
                      seconds=round(time.perf_counter() - began, 4))
        if enabled:
            break  # it stays on: later imports cannot be judged in this process
    reporter.emit("done", gil_enabled=gil_enabled())
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1])
    except BaseException:  # noqa: B902 - a bug here: say so on stderr
        traceback.print_exc()
        status = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
