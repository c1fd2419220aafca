"""List the distributions an interpreter sees and the compiled extension modules each ships.

Runs as a script under the interpreter being inspected (any Python from 3.9 on), so it uses
the standard library only.  It reads metadata and file lists; it imports nothing the
distributions contain.  Prints one JSON document on standard output.
"""

import importlib.machinery
import json
import os
import platform
import re
import sys
import sysconfig

# foo.cpython-313t-x86_64-linux-gnu.so, foo.abi3.so, foo.cp313t-win_amd64.pyd, foo.so, foo.pyd
EXTENSION = re.compile(r"\.(?:(?P<tag>cpython-\d+t?(?:d?)-[^./]+|cp\d+t?-[^./]+|abi3t?)\.)?(?:so|pyd)$")
CPYTHON_TAG = re.compile(r"^(?:cpython-|cp)(?P<version>\d+)(?P<t>t?)")


def abi_of(filename):
    """``cp313t`` (free-threaded), ``cp313`` (GIL build), ``abi3`` (stable ABI), or "" (untagged)."""
    match = EXTENSION.search(filename)
    tag = match.group("tag") if match else None
    if not tag:
        return ""
    if tag.startswith("abi3"):
        return tag
    version = CPYTHON_TAG.match(tag)
    return "cp%s%s" % (version.group("version"), version.group("t")) if version else tag


def module_name(relative):
    """``pkg/sub/_ext.cpython-313-x86_64-linux-gnu.so`` -> ``pkg.sub._ext`` (None outside a package path)."""
    parts = relative.replace("\\", "/").split("/")
    stem = parts[-1].split(".", 1)[0]
    dotted = parts[:-1] + [stem]
    if not all(part.isidentifier() for part in dotted):
        return None
    return ".".join(dotted)


def files_of(dist):
    """The distribution's files relative to its install location, from RECORD or installed-files.txt."""
    try:
        files = dist.files
    except Exception:  # noqa: BLE001 - a damaged RECORD is reported, not fatal
        files = None
    if files is not None:
        return [str(f) for f in files], "RECORD"
    top_level = dist.read_text("top_level.txt")
    if not top_level:
        return None, ""
    found = []
    base = str(dist.locate_file(""))
    for name in top_level.split():
        root = os.path.join(base, name)
        for folder, _, names in os.walk(root):
            for filename in names:
                found.append(os.path.relpath(os.path.join(folder, filename), base))
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if os.path.exists(root + suffix):
                found.append(name + suffix)
    return found, "top_level.txt"


def wheel_tags(dist):
    text = dist.read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("tag:")]


def describe(dist, suffixes):
    metadata = dist.metadata
    name = metadata["Name"] if metadata is not None else None
    entry = {"name": name or "?", "version": dist.version or "?", "location": str(dist.locate_file("")),
             "wheel_tags": wheel_tags(dist), "installer": (dist.read_text("INSTALLER") or "").strip(),
             "extensions": []}
    files, source = files_of(dist)
    entry["files_from"] = source
    if files is None:
        entry["files_known"] = False
        return entry
    entry["files_known"] = True
    for relative in sorted(set(files)):
        filename = relative.replace("\\", "/").rsplit("/", 1)[-1]
        if not EXTENSION.search(filename):
            continue
        entry["extensions"].append({
            "file": relative,
            "module": module_name(relative),
            "abi": abi_of(filename),
            # The import system finds module ``stem`` only as ``stem + suffix``, exactly.
            "loadable": any(filename == filename.split(".", 1)[0] + suffix for suffix in suffixes),
        })
    return entry


def main():
    import importlib.metadata as metadata

    suffixes = list(importlib.machinery.EXTENSION_SUFFIXES)
    seen = set()
    distributions = []
    problems = []
    for dist in metadata.distributions():
        try:
            entry = describe(dist, suffixes)
        except Exception as exc:  # noqa: BLE001 - one broken distribution does not stop the listing
            problems.append("%s: %s: %s" % (getattr(dist, "_path", "?"), type(exc).__name__, exc))
            continue
        key = re.sub(r"[-_.]+", "-", entry["name"]).lower()
        if key in seen:  # the first on sys.path is the one imported
            continue
        seen.add(key)
        distributions.append(entry)
    gil = getattr(sys, "_is_gil_enabled", None)
    print(json.dumps({
        "interpreter": {
            "executable": sys.executable,
            "version": platform.python_version(),
            "implementation": sys.implementation.name,
            "version_info": list(sys.version_info[:2]),
            "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            "gil_enabled": True if gil is None else bool(gil()),
            "extension_suffixes": suffixes,
        },
        "sys_path": [p for p in sys.path if p and os.path.isdir(p)],
        "distributions": distributions,
        "problems": problems,
    }))


if __name__ == "__main__":
    main()
