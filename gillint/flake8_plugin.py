"""flake8 adapter: gillint's findings as ``GILnnn`` results, through the one engine.

flake8 builds one :class:`GillintChecker` per file and calls :meth:`GillintChecker.run`.
The adapter only translates: it finds the file's ``[tool.gillint]`` configuration
(flake8 does not read pyproject.toml), hands the text to :func:`gillint.engine.lint_source`
with ``apply_noqa=False`` (flake8 applies ``# noqa`` and its own ``--select`` /
``--ignore`` / ``--per-file-ignores`` to what we report) and converts gillint's 1-based
columns to flake8's 0-based offsets.  There is no analysis here.

State kept for the life of one flake8 process (flake8 creates a checker per file, so
this is the only place it can live): the summaries of modules already parsed, so that a
module reached from many files through imports is summarised once per run, and the
configurations already loaded, so that pyproject.toml is read once per run and a broken
one is reported once.

When the project has a ``.gillint_cache/`` (made by ``gillint check``), the plugin reads and
writes the same per-file records: an editor's save then summarises only the saved file, and a
file unchanged since the last check is not parsed at all.  Without one, nothing is written to
the project.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import __version__
from . import config as config_mod
from . import knowledge
from .diagnostics import ERROR_CODE

Result = Tuple[int, int, str, type]


class _RunState:
    """What one flake8 process remembers between files."""

    def __init__(self) -> None:
        self.explicit_config: Optional[Path] = None
        self.summaries: Any = None  # an in-memory SummaryCache, made when a file first needs the engine
        self.disk_caches: Dict[Path, Any] = {}
        self.pyproject_by_directory: Dict[Path, Optional[Path]] = {}
        self.configs: Dict[Optional[Path], Union[config_mod.Config, Exception]] = {}
        self.reported_errors: set = set()

    def pyproject_for(self, filename: str) -> Optional[Path]:
        if self.explicit_config is not None:
            return self.explicit_config
        candidate = Path(filename)
        directory = candidate.parent if candidate.is_file() else Path.cwd()  # stdin: the working directory
        if directory not in self.pyproject_by_directory:
            self.pyproject_by_directory[directory] = config_mod.find_pyproject(directory)
        return self.pyproject_by_directory[directory]

    def cache_for(self, config: config_mod.Config) -> Any:
        """The project's ``.gillint_cache/`` when ``gillint check`` made one, else this run's memory."""
        from .cache import DiskCache, default_cache_dir
        from .engine import SummaryCache

        directory = default_cache_dir(config.root)
        if directory not in self.disk_caches:
            usable = (directory / "CACHEDIR.TAG").is_file()
            if not usable and self.summaries is None:
                self.summaries = SummaryCache()
            self.disk_caches[directory] = DiskCache(directory) if usable else self.summaries
        return self.disk_caches[directory]

    def config_for(self, filename: str) -> Tuple[Optional[Path], Union[config_mod.Config, Exception]]:
        """The file's configuration, or the error that loading it raised (loaded once per run)."""
        from .options import known_codes
        from .knowledge import KnowledgeError

        pyproject = self.pyproject_for(filename)
        if pyproject not in self.configs:
            try:
                if pyproject is None:
                    loaded: Union[config_mod.Config, Exception] = config_mod.Config()
                else:
                    loaded = config_mod.load(pyproject, known_codes(), required=self.explicit_config is not None)
            except (config_mod.ConfigError, KnowledgeError) as exc:
                loaded = exc
            self.configs[pyproject] = loaded
        return pyproject, self.configs[pyproject]


class GillintChecker:
    """The ``GIL`` flake8 extension (see ``[project.entry-points."flake8.extension"]``)."""

    name = "gillint"
    version = __version__

    _state = _RunState()

    def __init__(self, tree: Any, lines: List[str], filename: str) -> None:
        # ``tree`` is requested so that flake8 runs this as an AST plugin: it is then skipped
        # for files flake8 cannot parse (flake8 reports those as E999 itself).  gillint
        # parses the text once with libcst, which the ast tree cannot replace.
        self.lines = lines
        self.filename = filename

    # ------------------------------------------------------------ flake8 options
    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.add_option(
            "--gillint-config",
            metavar="PYPROJECT",
            default=None,
            parse_from_config=True,
            normalize_paths=True,
            help="read [tool.gillint] from this pyproject.toml instead of the nearest one above each "
                 "checked file (default: search upwards, as `gillint check` does)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls._state = _RunState()
        given = getattr(options, "gillint_config", None)
        if given:
            cls._state.explicit_config = Path(given)

    # ------------------------------------------------------------ checking
    def run(self) -> Iterator[Result]:
        state = self._state
        pyproject, config = state.config_for(self.filename)
        if isinstance(config, Exception):
            yield from self._report_config_error(pyproject, config)
            return
        patterns = tuple(config.exclude) + tuple(config.extend_exclude)
        if self._is_real_file() and config_mod.matches(self.filename, patterns, config.root):
            return  # excluded in [tool.gillint], as `gillint check` would skip it
        source = "".join(self.lines)
        if not _may_race(config) and not knowledge.load(config.knowledge).prefilter().search(source):
            return  # what the engine's triage would conclude: nothing here can start work or be a coroutine
        from .engine import _display_path, lint_source

        # the path as `gillint check` names it, so that the project's cached records match
        path = _display_path(self.filename) if self._is_real_file() else self.filename
        for diagnostic in lint_source(source, path, config, cache=state.cache_for(config), apply_noqa=False):
            yield (diagnostic.line, max(diagnostic.column - 1, 0),
                   "%s %s" % (diagnostic.code, diagnostic.message), type(self))

    def _is_real_file(self) -> bool:
        return Path(self.filename).is_file()

    def _report_config_error(self, pyproject: Optional[Path], error: Exception) -> Iterator[Result]:
        """Once per configuration file and process: a GIL000 on this file and a line on stderr."""
        state = self._state
        if pyproject in state.reported_errors:
            return
        state.reported_errors.add(pyproject)
        text = "gillint configuration error, GIL checks are off until it is fixed: %s" % error
        print("flake8: %s" % text, file=sys.stderr)
        yield (1, 0, "%s %s" % (ERROR_CODE, text), type(self))


def _may_race(config: config_mod.Config) -> bool:
    """Whether the race rules (GIL4xx) may be on: then every module is summarised, whatever its text."""
    if config.target_version.endswith("t"):
        return True
    return any(code.upper() in ("ALL", "GIL", "GIL4") or code.upper().startswith("GIL4")
               for code in tuple(config.select) + tuple(config.extend_select))
