"""The knowledge base: the bundled rules/*.toml, the schema checks, and user additions."""

from __future__ import annotations

import json
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
            "crypto.toml", "parsing.toml", "compression.toml", "imaging.toml"} <= {path.name for path in files}
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
    assert kb.call("PIL.Image.open").source == "rules/imaging.toml"
    assert kb.call("zstandard.compress").source == "rules/compression.toml"
    assert kb.call("argon2.PasswordHasher.hash").source == "rules/crypto.toml"


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
    # password hashing, compression, images, serialisation
    "scrypt", "argon2", "passlib.hash", "passlib.context", "zstandard", "lz4", "brotli", "snappy", "imageio",
    "cv2", "simplejson", "rapidjson", "msgpack", "yaml", "tomllib", "tomli", "google.protobuf", "xmltodict", "bs4",
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


# What each group of calls does to the GIL ("cpu" is "holds it") and whether one call blocks
# an event loop (blocks_loop), resolved by qualified name as the analysis resolves calls.
GROUPS = {
    "password hashing and key derivation": [
        ("bcrypt.hashpw", "releases", True),
        ("bcrypt.checkpw", "releases", True),
        ("bcrypt.kdf", "releases", True),
        ("bcrypt.gensalt", "light", False),
        ("scrypt.hash", "releases", True),
        ("scrypt.encrypt", "releases", True),
        ("scrypt.decrypt", "releases", True),
        ("hashlib.scrypt", "releases", True),
        ("hashlib.pbkdf2_hmac", "releases", True),
        ("hmac.compare_digest", "light", False),
        ("secrets.compare_digest", "light", False),
        ("secrets.token_hex", "light", False),
        ("argon2.PasswordHasher", "light", False),
        ("argon2.PasswordHasher.hash", "releases", True),
        ("argon2.PasswordHasher.verify", "releases", True),
        ("argon2.PasswordHasher.check_needs_rehash", "light", False),
        ("argon2.low_level.hash_secret", "releases", True),
        ("argon2.low_level.hash_secret_raw", "releases", True),
        ("argon2.low_level.verify_secret", "releases", True),
        ("passlib.hash.bcrypt.hash", "releases", True),
        ("passlib.hash.bcrypt.verify", "releases", True),
        ("passlib.hash.bcrypt.using.hash", "releases", True),  # a customised handler: the prefix covers it
        ("passlib.hash.bcrypt.identify", "light", False),
        ("passlib.hash.bcrypt.using", "light", False),
        ("passlib.hash.argon2.hash", "releases", True),
        ("passlib.hash.pbkdf2_sha256.hash", "releases", True),
        ("passlib.hash.pbkdf2_sha256.verify", "releases", True),
        ("passlib.hash.scrypt.hash", "releases", True),
        ("passlib.hash.sha512_crypt.hash", "cpu", True),
        ("passlib.hash.sha256_crypt.verify", "cpu", True),
        ("passlib.hash.md5_crypt.hash", "cpu", False),
        ("passlib.hash.des_crypt.hash", "cpu", True),  # any other scheme: pure-Python backends
        ("passlib.context.CryptContext", "light", False),
        ("passlib.context.CryptContext.hash", "releases", True),
        ("passlib.context.CryptContext.verify", "releases", True),
        ("passlib.context.CryptContext.verify_and_update", "releases", True),
        ("passlib.context.CryptContext.needs_update", "light", False),
        ("cryptography.hazmat.primitives.kdf.pbkdf2.PBKDF2HMAC.derive", "releases", True),
        ("cryptography.hazmat.primitives.kdf.scrypt.Scrypt.derive", "releases", True),
    ],
    "compression": [
        ("zlib.compress", "releases", False),
        ("zlib.decompress", "releases", False),
        ("gzip.compress", "releases", False),
        ("gzip.decompress", "releases", False),
        ("gzip.open", "io", False),
        ("bz2.compress", "releases", True),
        ("bz2.decompress", "releases", True),
        ("lzma.compress", "releases", True),
        ("lzma.decompress", "releases", False),
        ("lzma.LZMACompressor.compress", "releases", False),
        ("zipfile.ZipFile", "io", False),
        ("zipfile.ZipFile.read", "io", False),
        ("zipfile.ZipFile.namelist", "light", False),
        ("tarfile.open", "io", False),
        ("tarfile.open.extractall", "io", False),
        ("zstandard.compress", "releases", False),
        ("zstandard.decompress", "releases", False),
        ("zstandard.ZstdCompressor", "light", False),
        ("zstandard.ZstdCompressor.compress", "releases", False),
        ("zstandard.ZstdDecompressor.decompress", "releases", False),
        ("zstandard.ZstdDecompressor.stream_reader", "releases", False),
        ("zstandard.ZstdCompressor.multi_compress_to_buffer", "releases", True),
        ("zstandard.train_dictionary", "releases", True),
        ("lz4.frame.compress", "releases", False),
        ("lz4.frame.decompress", "releases", False),
        ("lz4.block.compress", "releases", False),
        ("lz4.frame.open", "io", False),
        ("brotli.compress", "releases", True),
        ("brotli.decompress", "releases", False),
        ("brotlicffi.compress", "releases", True),
        ("snappy.compress", "releases", False),
        ("snappy.uncompress", "releases", False),
        ("cramjam.zstd.compress", "releases", False),
    ],
    "images": [
        ("PIL.Image.open", "io", False),
        ("PIL.Image.open.load", "releases", True),
        ("PIL.Image.open.resize", "releases", True),
        ("PIL.Image.open.thumbnail", "releases", True),
        ("PIL.Image.open.convert", "releases", True),
        ("PIL.Image.open.save", "releases", True),
        ("PIL.Image.open.filter", "releases", True),
        ("PIL.Image.open.getpixel", "light", False),
        ("PIL.Image.open.close", "light", False),
        ("PIL.Image.new.resize", "releases", False),
        ("PIL.Image.fromarray", "light", False),
        ("PIL.ImageOps.grayscale", "releases", False),
        ("PIL.ImageDraw.Draw", "light", False),
        ("PIL.ImageDraw.Draw.text", "cpu", False),
        ("PIL.ImageFont.truetype", "io", False),
        ("imageio.imread", "releases", True),
        ("imageio.v2.imread", "releases", True),
        ("imageio.v3.imread", "releases", True),
        ("imageio.v3.imwrite", "releases", True),
        ("imageio.v3.imiter", "light", False),
        ("imageio.get_reader", "io", False),
        ("cv2.resize", "releases", False),
        ("cv2.GaussianBlur", "releases", False),
        ("cv2.imread", "releases", True),
        ("cv2.imdecode", "releases", True),
        ("cv2.imencode", "releases", True),
        ("cv2.VideoCapture", "io", False),
        ("cv2.VideoCapture.read", "io", False),
        ("cv2.waitKey", "io", False),
        ("cv2.CascadeClassifier.detectMultiScale", "releases", True),
    ],
    "serialisation": [
        ("json.loads", "cpu", False),
        ("json.dumps", "cpu", False),
        ("orjson.loads", "cpu", False),
        ("ujson.loads", "cpu", False),
        ("rapidjson.loads", "cpu", False),
        ("simplejson.dumps", "cpu", False),
        ("msgpack.packb", "cpu", False),
        ("msgpack.unpackb", "cpu", False),
        ("msgpack.Unpacker", "light", False),
        ("cbor2.loads", "cpu", False),
        ("pickle.loads", "cpu", False),
        ("marshal.dumps", "cpu", False),
        ("yaml.safe_load", "cpu", False),
        ("yaml.load", "cpu", False),
        ("yaml.dump", "cpu", False),
        ("yaml.load_all", "cpu", False),
        ("ruamel.yaml.YAML", "light", False),
        ("ruamel.yaml.YAML.load", "cpu", False),
        ("tomllib.loads", "cpu", False),
        ("tomllib.load", "cpu", False),
        ("tomli.loads", "cpu", False),
        ("tomli_w.dumps", "cpu", False),
        ("toml.loads", "cpu", False),
        ("tomlkit.parse", "cpu", False),
        ("google.protobuf.json_format.MessageToDict", "cpu", False),
        ("google.protobuf.text_format.Parse", "cpu", False),
        ("xml.etree.ElementTree.fromstring", "cpu", False),
        ("xml.etree.ElementTree.parse", "cpu", False),
        ("defusedxml.ElementTree.fromstring", "cpu", False),
        ("defusedxml.lxml.fromstring", "releases", False),
        ("xmltodict.parse", "cpu", False),
        ("lxml.etree.fromstring", "releases", False),
        ("lxml.etree.iterparse", "cpu", False),
        ("pydantic.BaseModel.model_validate", "cpu", False),
        ("pydantic.TypeAdapter", "light", False),
        ("pydantic.TypeAdapter.validate_json", "cpu", False),
    ],
    "the interpreter and other pure-Python work": [
        ("gc.collect", "cpu", True),
        ("gc.disable", "light", False),
        ("gc.freeze", "light", False),
        ("difflib.unified_diff", "cpu", False),
        ("difflib.SequenceMatcher.ratio", "cpu", False),
        ("textwrap.fill", "cpu", False),
        ("csv.reader", "light", False),
        ("csv.writer.writerows", "cpu", False),
        ("base64.b64encode", "cpu", False),
        ("statistics.median", "cpu", False),
        ("fractions.Fraction", "cpu", False),
        ("decimal.Decimal", "cpu", False),
        ("unicodedata.normalize", "cpu", False),
        ("dataclasses.asdict", "cpu", False),
        ("dataclasses.dataclass", "light", False),
        ("pprint.pformat", "cpu", False),
        ("shlex.split", "cpu", False),
        ("shlex.quote", "light", False),
        ("email.message_from_bytes", "cpu", False),
        ("email.parser.BytesParser.parsebytes", "cpu", False),
        ("email.utils.formatdate", "light", False),
        ("bs4.BeautifulSoup", "cpu", True),
        ("bs4.BeautifulSoup.find_all", "cpu", False),
        ("html5lib.parse", "cpu", False),
        ("markdown.markdown", "cpu", True),
        ("markdown.Markdown.reset", "cpu", False),
        ("markdown_it.MarkdownIt", "cpu", False),
        ("markdown_it.MarkdownIt.parse", "cpu", True),
        ("chardet.detect", "cpu", True),
        ("nbformat.reads", "cpu", True),
        ("jsonschema.validate", "cpu", True),
        ("jsonschema.Draft7Validator", "cpu", False),
        ("docutils.core.publish_string", "cpu", True),
        ("jinja2.Environment", "light", False),
        ("jinja2.Environment.get_template", "light", False),
        ("jinja2.Environment.get_template.render", "cpu", False),
        ("jinja2.Template.render", "cpu", False),
    ],
}


@pytest.mark.parametrize(
    "name, effect, blocks_loop",
    [pytest.param(*case, id="%s: %s" % (group, case[0])) for group, cases in GROUPS.items() for case in cases],
)
def test_groups_resolve_to_their_effect(name: str, effect: str, blocks_loop: bool) -> None:
    entry = knowledge.load().call(name)
    assert entry is not None, name
    assert (entry.effect, entry.blocks_loop) == (effect, blocks_loop), "%s: %s, blocks_loop=%s (%s)" % (
        name, entry.effect, entry.blocks_loop, entry.reason)


@pytest.mark.parametrize(
    "method, nargs, effect",
    [
        ("SerializeToString", 0, "cpu"),
        ("SerializePartialToString", 0, "cpu"),
        ("ParseFromString", 1, "cpu"),
        ("MergeFromString", 1, "cpu"),
    ],
)
def test_protobuf_methods_on_generated_messages(method: str, nargs: int, effect: str) -> None:
    # generated *_pb2 classes are project modules, so the method name is all there is
    entry = knowledge.load().method(method, nargs)
    assert entry is not None and entry.effect == effect, method
    assert knowledge.load().method(method, nargs + 1) is None


def test_blocks_loop_only_on_calls_that_work() -> None:
    # the bundled files: blocks_loop sits only on cpu and releases entries, and each one says
    # why it is slow (a size_dependent or a reason naming the cost)
    flagged = [(name, entry) for name, kind, entry in all_entries() if kind == "call" and entry.get("blocks_loop")]
    assert len(flagged) >= 40
    for name, entry in flagged:
        assert entry["effect"] in ("cpu", "releases"), (name, entry["name"])
    kb = knowledge.load()
    assert not kb.call("zlib.compress").blocks_loop and "MB/s" in kb.call("zlib.compress").size_dependent
    assert not kb.call("json.loads").blocks_loop


def test_blocks_loop_defaults_to_false_and_user_entries_can_set_it() -> None:
    assert knowledge.CallEntry("a.b", "releases", "r").blocks_loop is False
    user = {"call": [
        {"name": "fastscore.score_rows", "effect": "releases", "reason": "C loop, GIL released", "blocks_loop": True},
        {"name": "bcrypt.hashpw", "effect": "releases", "reason": "we use rounds=4 in tests", "blocks_loop": False},
    ]}
    kb = knowledge.load([("pyproject.toml", user)])
    assert kb.call("fastscore.score_rows").blocks_loop is True
    assert kb.call("bcrypt.hashpw").blocks_loop is False
    assert knowledge.load().call("bcrypt.hashpw").blocks_loop is True
    assert kb.fingerprint != knowledge.load().fingerprint


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
        ({"call": [call(blocks_loop="yes")]}, "'blocks_loop' must be bool"),
        ({"call": [call(blocks_loop=1)]}, "'blocks_loop' must be bool"),
        ({"call": [call(effect="io", blocks_loop=True)]}, "'blocks_loop' is only for cpu and releases entries, not 'io'"),
        ({"call": [call(effect="light", blocks_loop=True)]}, "'blocks_loop' is only for cpu and releases entries"),
        ({"call": [call(payload_blocks_loop="yes")]}, "'payload_blocks_loop' must be bool"),
        ({"call": [call(effect="io", payload_blocks_loop=True)]},
         "'payload_blocks_loop' is only for cpu and releases entries, not 'io'"),
        ({"method": [{"name": "fetch", "effect": "io", "reason": "r", "blocks_loop": True}]}, "unknown key 'blocks_loop'"),
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
    (tmp_path / "bad.toml").write_text('[[call]]\nname = "a.c"\neffect = "releases"\nreason = "r"\nblocks_loop = "true"\n',
                                       encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^rules/bad.toml call 'a.c': 'blocks_loop' must be bool$"):
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


def test_the_rule_codes_known_without_importing_the_rules_are_the_registered_ones() -> None:
    from gillint.checks import RULE_CODES
    from gillint.checks.base import all_rules

    assert tuple(sorted(rule.code for rule in all_rules())) == RULE_CODES


def test_the_compiled_knowledge_base_is_the_parsed_one(tmp_path, monkeypatch) -> None:
    import gillint.knowledge as knowledge_mod

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first, digest = knowledge_mod._parsed_bundled()
    (compiled,) = (tmp_path / "gillint").glob("knowledge-*.json")

    def no_toml(text):  # pragma: no cover - called only if the compiled copy were not used
        raise AssertionError("parsed TOML although a compiled copy exists")

    monkeypatch.setattr(knowledge_mod.tomllib, "loads", no_toml)
    again, same = knowledge_mod._parsed_bundled()
    assert (again, same) == (first, digest)
    # a damaged compiled copy is ignored, parsed again and rewritten
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compiled.write_text("[[\"not\", ", encoding="utf-8")
    assert knowledge_mod._parsed_bundled() == (first, digest)
    assert json.loads(compiled.read_text(encoding="utf-8"))[0][0] == first[0][0]


def test_an_unwritable_cache_home_only_costs_the_parse(tmp_path, monkeypatch) -> None:
    import gillint.knowledge as knowledge_mod

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    parsed, _ = knowledge_mod._parsed_bundled()
    assert parsed and not (blocker / "gillint").exists()


def test_a_compiled_copy_edited_into_nonsense_falls_back_to_the_toml(tmp_path, monkeypatch) -> None:
    import gillint.knowledge as knowledge_mod

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected, _ = knowledge_mod._load_bundled()
    (compiled,) = (tmp_path / "gillint").glob("knowledge-*.json")
    names = [entry[0] for entry in json.loads(compiled.read_text(encoding="utf-8"))]
    compiled.write_text(json.dumps([[name, {"call": [{"name": 3}]}] for name in names]), encoding="utf-8")
    kb, _ = knowledge_mod._load_bundled()
    assert kb.calls.keys() == expected.calls.keys() and kb.starters.keys() == expected.starters.keys()
    assert not list((tmp_path / "gillint").glob(".tmp-*"))


def test_the_fixable_codes_known_without_loading_the_fixers_are_the_fixers() -> None:
    from gillint.checks import FIXABLE_CODES
    from gillint.fixes.plan import fixers

    assert set(fixers()) == FIXABLE_CODES


def test_a_relative_cache_home_is_ignored_as_the_xdg_specification_says(monkeypatch, tmp_path) -> None:
    import gillint.knowledge as knowledge_mod

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert knowledge_mod.compiled_dir() == tmp_path / ".cache" / "gillint"
