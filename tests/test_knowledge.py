"""The knowledge base: the bundled rules/*.toml, the schema checks, and user additions."""

from __future__ import annotations

import re
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from gillint import knowledge
from gillint.config import Config
from gillint.engine import lint_source
from gillint.knowledge import KnowledgeBase, KnowledgeError, add_entries

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "knowledge-base.md"


def bundled() -> List[Tuple[str, Dict[str, Any]]]:
    return [(path.name, tomllib.loads(path.read_text(encoding="utf-8"))) for path in knowledge.bundled_files()]


def all_entries() -> List[Tuple[str, str, Dict[str, Any]]]:
    return [(name, kind, entry) for name, data in bundled() for kind, entries in data.items() for entry in entries]


# ---------------------------------------------------------------- the bundled files

def test_every_bundled_file_loads_on_its_own() -> None:
    files = knowledge.bundled_files()
    assert {"stdlib.toml", "stdlib_io.toml", "methods.toml", "workers.toml", "numeric.toml", "web.toml",
            "crypto.toml", "parsing.toml"} <= {path.name for path in files}
    for name, data in bundled():
        kb = KnowledgeBase()
        add_entries(kb, data, "rules/" + name)
        assert kb.calls or kb.call_prefixes or kb.methods or kb.starters or kb.executors, name


def test_every_entry_has_a_one_line_reason() -> None:
    for name, kind, entry in all_entries():
        reason = entry.get("reason", "")
        assert reason.strip(), "%s: %s %r has no reason" % (name, kind, entry.get("name"))
        assert "\n" not in reason, "%s: %s %r: the reason must be one line" % (name, kind, entry.get("name"))
        size = entry.get("size_dependent")
        if size is not None:
            assert size.strip() and "\n" not in size, "%s: %r has an empty size_dependent" % (name, entry["name"])


def test_no_duplicate_names_within_or_across_files() -> None:
    # A method may be listed more than once with different argument bounds; calls, starters
    # and executors are keyed by name alone.
    keys = Counter()
    where: Dict[Tuple, List[str]] = {}
    for name, kind, entry in all_entries():
        key: Tuple = (kind, entry["name"])
        if kind == "method":
            key += (entry.get("min_args", 0), entry.get("max_args", 99))
        keys[key] += 1
        where.setdefault(key, []).append(name)
    duplicates = {key: where[key] for key, count in keys.items() if count > 1}
    assert not duplicates


def test_bundled_entries_remember_their_file() -> None:
    kb = knowledge.load()
    assert kb.call("re.findall").source == "rules/stdlib.toml"
    assert kb.call("time.sleep").source == "rules/stdlib_io.toml"
    assert kb.call("numpy.linalg.inv").source == "rules/numeric.toml"
    assert kb.starters["threading.Thread"].source == "rules/workers.toml"


# The modules the knowledge base must cover: each needs at least one entry of its own.
REQUIRED = [
    # standard library
    "re", "json", "pickle", "marshal", "copy", "struct", "math", "statistics", "decimal", "fractions",
    "itertools", "functools", "heapq", "bisect", "collections", "sorted", "sum", "min", "max", "any", "all",
    "str", "bytes", "hashlib", "hmac", "zlib", "gzip", "bz2", "lzma", "zipfile", "tarfile", "base64",
    "binascii", "csv", "xml.etree", "xml.dom.minidom", "html.parser", "difflib", "textwrap", "unicodedata",
    "gc", "socket", "ssl", "select", "selectors", "http.client", "urllib.request", "ftplib", "smtplib",
    "subprocess", "os", "io", "shutil", "sqlite3", "time.sleep", "queue", "threading",
    # third party
    "numpy", "pandas", "PIL", "lxml", "orjson", "ujson", "requests", "httpx", "urllib3", "aiohttp",
    "psycopg", "boto3", "botocore", "cryptography", "bcrypt", "scipy", "sklearn", "regex",
]


def covered(module: str) -> List[str]:
    names = [entry["name"] for _, kind, entry in all_entries() if kind == "call"]
    return [n for n in names if n == module or n.startswith(module + ".")]


@pytest.mark.parametrize("module", REQUIRED)
def test_required_module_is_covered(module: str) -> None:
    assert covered(module), "the knowledge base has no entry for %s" % module


def test_threading_waits_are_covered() -> None:
    kb = knowledge.load()
    for name in ("threading.Event.wait", "threading.Condition.wait", "threading.Lock.acquire",
                 "threading.Thread.join", "queue.Queue.get"):
        assert kb.call(name).effect == "io", name
    assert kb.call("queue.Queue.put").effect == "light"


@pytest.mark.parametrize(
    "name, effect",
    [
        # the stdlib: re and json hold it; hashlib, zlib release it
        ("re.compile.findall", "cpu"),
        ("re.compile", "light"),
        ("json.loads", "cpu"),
        ("pickle.dumps", "cpu"),
        ("hashlib.sha256", "releases"),
        ("hashlib.sha256.update", "releases"),
        ("zlib.compressobj.compress", "releases"),
        ("zlib.compressobj", "light"),
        ("sqlite3.connect.execute", "io"),
        ("os.path.join", "light"),
        ("os.path.exists", "io"),
        ("io.StringIO.write", "light"),
        ("socket.socket.recv", "io"),
        ("socket.socket.settimeout", "light"),
        ("sorted", "cpu"),
        # third party: exact names win over the module-wide entry
        ("numpy.sum", "releases"),
        ("numpy.linalg.svd", "releases"),
        ("numpy.vectorize", "cpu"),
        ("pandas.DataFrame.apply", "cpu"),
        ("pandas.read_csv.groupby.sum", "releases"),
        ("scipy.linalg.solve", "releases"),
        ("scipy.optimize.minimize", "cpu"),
        ("sklearn.ensemble.RandomForestClassifier.fit", "releases"),
        ("PIL.Image.open", "io"),
        ("PIL.Image.open.resize", "releases"),
        ("lxml.etree.fromstring", "releases"),
        ("orjson.loads", "cpu"),
        ("ujson.dumps", "cpu"),
        ("regex.findall", "releases"),
        ("requests.get", "io"),
        ("requests.Session", "light"),
        ("requests.Session.get", "io"),
        ("httpx.Client.post", "io"),
        ("boto3.client", "cpu"),
        ("boto3.client.get_object", "io"),
        ("bcrypt.hashpw", "releases"),
        ("bcrypt.gensalt", "light"),
        ("cryptography.hazmat.primitives.ciphers.aead.AESGCM.encrypt", "releases"),
    ],
)
def test_effects_of_representative_calls(name: str, effect: str) -> None:
    entry = knowledge.load().call(name)
    assert entry is not None, name
    assert entry.effect == effect, "%s: %s (%s)" % (name, entry.effect, entry.reason)


def test_size_dependent_behaviour_is_stated() -> None:
    kb = knowledge.load()
    assert "2047" in kb.call("hashlib.sha256").size_dependent
    assert "5 KiB" in kb.call("zlib.crc32").size_dependent
    assert "object" in kb.call("numpy.add").size_dependent


def test_unknown_calls_stay_unknown() -> None:
    kb = knowledge.load()
    assert kb.call("fastscore.score_rows") is None
    assert kb.call("mylib.helpers.parse") is None


# ---------------------------------------------------------------- schema errors

def call(**fields: Any) -> Dict[str, Any]:
    entry = {"name": "fastscore.score_rows", "effect": "cpu", "reason": "the C loop holds the GIL"}
    entry.update(fields)
    return {k: v for k, v in entry.items() if v is not None}


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"call": [call(speed="fast")]}, "unknown key 'speed'"),
        ({"call": [call(effect=3)]}, "'effect' must be str"),
        ({"call": [call(size_dependent=True)]}, "'size_dependent' must be str"),
        ({"call": [call(effect="fast")]}, "'effect' must be one of cpu, releases, io, light, not 'fast'"),
        ({"call": [call(reason=None)]}, "missing required key 'reason'"),
        ({"call": [call(reason="  ")]}, "'reason' must not be empty"),
        ({"call": [call(effect=None)]}, "missing required key 'effect'"),
        ({"method": [{"name": "fetch", "effect": "io", "reason": "r", "max_args": "1"}]}, "'max_args' must be int"),
        ({"method": [{"name": "fetch", "effect": "io", "reason": "r", "min_args": True}]}, "'min_args' must be int"),
        ({"starter": [{"name": "pool.run", "worker": "fiber", "form": "function", "target": "fn:0", "reason": "r"}]},
         "'worker' must be one of thread, process, interpreter"),
        ({"starter": [{"name": "pool.run", "worker": "thread", "form": "function", "target": "fn:x", "reason": "r"}]},
         "position that is not a number"),
        ({"executor": [{"name": "pool.Pool", "worker": "thread", "api": "futures"}]}, "missing required key 'reason'"),
    ],
)
def test_bad_entries_name_the_file_and_the_entry(data: Dict[str, Any], expected: str) -> None:
    with pytest.raises(KnowledgeError) as error:
        add_entries(KnowledgeBase(), data, "team.toml")
    message = str(error.value)
    assert message.startswith("team.toml")
    assert expected in message
    entry = next(iter(data.values()))[0]
    assert repr(entry["name"]) in message


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"call": ["fastscore.score_rows"]}, "each call entry must be a table"),
        ({"call": {"name": "fastscore.score_rows"}}, "'call' must be an array of tables ([[call]])"),
        ({"calls": []}, "unknown table 'calls'"),
    ],
)
def test_malformed_tables_name_the_file(data: Dict[str, Any], expected: str) -> None:
    with pytest.raises(KnowledgeError) as error:
        add_entries(KnowledgeBase(), data, "team.toml")
    assert str(error.value).startswith("team.toml")
    assert expected in str(error.value)


def test_a_bad_bundled_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.toml").write_text('[[call]]\nname = "a.b"\neffect = "cpu"\nreason = "r"\n', encoding="utf-8")
    (tmp_path / "bad.toml").write_text('[[call]]\nname = "a.c"\neffect = "slow"\nreason = "r"\n', encoding="utf-8")
    monkeypatch.setattr(knowledge, "rules_dir", lambda: tmp_path)
    with pytest.raises(KnowledgeError, match=r"^rules/bad.toml call 'a.c': 'effect' must be one of"):
        knowledge._load_bundled()
    (tmp_path / "bad.toml").write_text('[[call]]\nname = "a.c\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^bad.toml: .*line 2"):
        knowledge._load_bundled()


# ---------------------------------------------------------------- user additions

def test_user_entries_override_bundled_ones_and_leave_the_bundle_alone() -> None:
    user = {"call": [
        {"name": "json.loads", "effect": "releases", "reason": "we patched json"},
        {"name": "numpy.*", "effect": "cpu", "reason": "object arrays everywhere"},
    ]}
    kb = knowledge.load([("pyproject.toml", user)])
    assert (kb.call("json.loads").effect, kb.call("json.loads").source) == ("releases", "pyproject.toml")
    assert kb.call("numpy.sum").effect == "cpu"
    assert kb.call("numpy.vectorize").source == "rules/numeric.toml"  # an exact bundled name still wins
    again = knowledge.load()
    assert again.call("json.loads").effect == "cpu"
    assert again.call("numpy.sum").effect == "releases"
    assert kb.fingerprint != again.fingerprint


def test_later_additions_win_and_methods_are_replaced_by_bounds() -> None:
    first = {"call": [{"name": "fastscore.score_rows", "effect": "cpu", "reason": "first"}]}
    second = {"call": [{"name": "fastscore.score_rows", "effect": "releases", "reason": "second"}],
              "method": [{"name": "get", "effect": "light", "max_args": 0, "reason": "our get() never blocks"}]}
    kb = knowledge.load([("a.toml", first), ("b.toml", second)])
    assert kb.call("fastscore.score_rows").reason == "second"
    assert kb.method("get", 0).effect == "light"
    assert len([m for m in kb.methods["get"] if (m.min_args, m.max_args) == (0, 0)]) == 1


THREAD_TARGET = textwrap.dedent(
    """
    import threading

    import fastscore


    def score_all(batches):
        for batch in batches:
            fastscore.score_rows(batch)


    threading.Thread(target=score_all, args=([],)).start()
    """
)


def lint(source: str, calls: List[Dict[str, Any]] = ()) -> List[str]:
    config = Config(knowledge=(("pyproject.toml", {"call": list(calls)}),)) if calls else Config()
    return [d.code for d in lint_source(source, "jobs.py", config)]


def test_an_unknown_extension_is_not_flagged_by_default() -> None:
    assert lint(THREAD_TARGET) == []


def test_a_user_entry_makes_an_unknown_call_count() -> None:
    declared = [{"name": "fastscore.score_rows", "effect": "cpu", "reason": "our C loop holds the GIL"}]
    assert lint(THREAD_TARGET, declared) == ["GIL101"]
    module_wide = [{"name": "fastscore.*", "effect": "cpu", "reason": "nothing in it releases the GIL"}]
    assert lint(THREAD_TARGET, module_wide) == ["GIL101"]


def test_a_user_entry_overrides_a_bundled_cpu_call() -> None:
    source = THREAD_TARGET.replace("import fastscore", "import orjson").replace("fastscore.score_rows", "orjson.loads")
    assert lint(source) == ["GIL101"]
    assert lint(source, [{"name": "orjson.loads", "effect": "releases", "reason": "our fork releases it"}]) == []


def test_releasing_and_io_entries_keep_a_thread_target_clean() -> None:
    assert lint(THREAD_TARGET, [{"name": "fastscore.score_rows", "effect": "releases", "reason": "r"}]) == []
    assert lint(THREAD_TARGET, [{"name": "fastscore.score_rows", "effect": "io", "reason": "r"}]) == []


def test_the_documented_pyproject_example_works() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    example = next(b for b in blocks if "fastscore.score_rows" in b and "[tool.gillint" in b)
    table = tomllib.loads(example)["tool"]["gillint"]["knowledge"]
    kb = knowledge.load([("pyproject.toml", table)])
    assert kb.call("fastscore.score_rows").effect == "releases"
    assert lint(THREAD_TARGET, table["call"]) == []
    as_cpu = [dict(entry, effect="cpu") for entry in table["call"]]
    assert lint(THREAD_TARGET, as_cpu) == ["GIL101"]


def test_the_docs_list_every_bundled_file_and_effect() -> None:
    text = DOC.read_text(encoding="utf-8")
    for path in knowledge.bundled_files():
        assert path.name in text, path.name
    for effect in knowledge.EFFECTS:
        assert "`%s`" % effect in text, effect
