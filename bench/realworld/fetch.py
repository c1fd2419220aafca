"""Download and unpack the pinned packages of the real-world benchmark's case files.

    python bench/realworld/fetch.py                 # every case file
    python bench/realworld/fetch.py --package NAME  # only some (repeatable)

Each package is downloaded with ``python -m pip download --no-deps`` (sdist: ``--no-binary
:all:``, wheel: ``--only-binary :all:``) into the scratch folder (default
``bench/realworld/.work/``, git-ignored) and unpacked into ``<name>-<version>-<dist>/``.  What is
already unpacked is skipped.  A package that fails gets one error line; the others go on.

Each package's declared dependencies are installed beside it (``<name>-<version>-deps/``, with
``pip install --target``), because gillint follows calls into installed pure-Python packages, as it
does in a user's environment.  The versions are pinned in ``deps/<name>.txt``: the first install
resolves them and writes that file (commit it); later installs take exactly those versions.  A
package whose dependencies cannot be installed is still checked, without them (one warning line).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realworld  # noqa: E402
from realworld import Package  # noqa: E402

MARKER = ".unpacked"  # written last: a folder without it is a broken unpack, redone
DEPS_LOCKS = realworld.HERE / "deps"


class FetchError(RuntimeError):
    pass


def _safe_members_tar(archive: tarfile.TarFile, dest: Path) -> List[tarfile.TarInfo]:
    members = []
    for member in archive.getmembers():
        target = os.path.normpath(os.path.join(str(dest), member.name))
        if not target.startswith(str(dest) + os.sep) and target != str(dest):
            raise FetchError("unsafe path in archive: %s" % member.name)
        if member.issym() or member.islnk() or member.isdev():
            continue  # sources need no links or devices
        members.append(member)
    return members


def unpack(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = os.path.normpath(os.path.join(str(dest), info.filename))
                if not target.startswith(str(dest) + os.sep):
                    raise FetchError("unsafe path in archive: %s" % info.filename)
            zf.extractall(dest)
    elif name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")):
        with tarfile.open(archive) as tf:
            members = _safe_members_tar(tf, dest)
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - old Pythons
                tf.extractall(dest, members=members)
    else:
        raise FetchError("unknown archive type: %s" % name)


def pip_error(output: str) -> str:
    """The line of pip's output that says what failed: its first error line, else its last line."""
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    return next((l for l in lines if l.lower().startswith("error")), lines[-1] if lines else "no output")


def download(package: Package, into: Path, python: str = sys.executable, timeout: float = 600) -> Path:
    """Download the package's archive into ``into`` and return its path."""
    into.mkdir(parents=True, exist_ok=True)
    binary = ["--no-binary", ":all:"] if package.dist == "sdist" else ["--only-binary", ":all:"]
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
           *binary, "-d", str(into), package.requirement]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FetchError("pip download timed out after %ds" % timeout) from None
    if proc.returncode != 0:
        raise FetchError("pip download failed: %s" % pip_error(proc.stderr or proc.stdout))
    archives = [p for p in into.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise FetchError("expected one archive, got %s" % ", ".join(sorted(p.name for p in archives)) or "none")
    return archives[0]


def ensure(package: Package, work: Path = realworld.WORK_DIR, python: str = sys.executable,
           timeout: float = 600) -> Path:
    """The package's unpacked top folder, downloading and unpacking it first when needed."""
    dest = package.unpack_dir(work)
    if (dest / MARKER).exists():
        return realworld.top_folder(dest)
    if dest.exists():
        shutil.rmtree(dest)
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dl-", dir=str(work)) as tmp:
        archive = download(package, Path(tmp), python=python, timeout=timeout)
        try:
            unpack(archive, dest)
        except (OSError, tarfile.TarError, zipfile.BadZipFile, FetchError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise FetchError("cannot unpack %s: %s" % (archive.name, exc)) from None
        (dest / MARKER).write_text(archive.name + "\n")
    return realworld.top_folder(dest)


def deps_dir(package: Package, work: Path) -> Path:
    return Path(work) / ("%s-%s-deps" % (package.key, package.version))


def installed(folder: Path) -> List[str]:
    """``name==version`` of every distribution installed in ``folder`` (from its .dist-info folders)."""
    found = []
    for info in sorted(folder.glob("*.dist-info")):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        if name and version:
            found.append("%s==%s" % (realworld.normalise_name(name), version))
    return sorted(found)


def ensure_deps(package: Package, work: Path = realworld.WORK_DIR, python: str = sys.executable,
                locks: Path = DEPS_LOCKS, timeout: float = 900) -> Path:
    """The folder holding the package's installed dependencies, installing them first when needed."""
    dest = deps_dir(package, work)
    if (dest / MARKER).exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    lock = locks / ("%s.txt" % package.key)
    base = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-compile",
            "--target", str(dest)]
    cmd = base + (["--no-deps", "-r", str(lock)] if lock.is_file() else [package.requirement])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        shutil.rmtree(dest, ignore_errors=True)
        raise FetchError("pip install of the dependencies timed out after %ds" % timeout) from None
    if proc.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise FetchError("pip install of the dependencies failed: %s" % pip_error(proc.stderr or proc.stdout))
    if not lock.is_file():
        own = realworld.normalise_name(package.name)
        pins = [pin for pin in installed(dest) if pin.split("==")[0] != own]
        locks.mkdir(parents=True, exist_ok=True)
        lock.write_text("# %s: its dependencies as resolved for the benchmark (Python %d.%d)\n%s" % (
            package.requirement, sys.version_info[0], sys.version_info[1],
            "".join(pin + "\n" for pin in pins)))
    (dest / MARKER).write_text("installed\n")
    return dest


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", action="append", metavar="NAME", help="only this package (repeatable)")
    parser.add_argument("--cases", type=Path, default=realworld.CASES_DIR, help="folder of case files")
    parser.add_argument("--work", type=Path, default=realworld.WORK_DIR, help="scratch folder (default: %(default)s)")
    parser.add_argument("--python", default=sys.executable, help="interpreter whose pip downloads")
    parser.add_argument("--no-deps", action="store_true", help="do not install the packages' dependencies")
    args = parser.parse_args(argv)

    packages, errors = realworld.load_cases(args.cases, args.package)
    for error in errors:
        print("error: %s" % error, file=sys.stderr)
    failed = len(errors)
    for package in packages:
        already = (package.unpack_dir(args.work) / MARKER).exists()
        try:
            top = ensure(package, args.work, python=args.python)
        except FetchError as exc:
            failed += 1
            print("error: %s: %s" % (package.requirement, exc), file=sys.stderr)
            continue
        root = top / package.root if package.root else top
        state = "already unpacked" if already else "unpacked"
        warn = "" if root.is_dir() else "  (warning: root %r is not a folder)" % package.root
        print("%-40s %s: %s%s" % (package.requirement, state, root, warn))
        if not args.no_deps:
            try:
                ensure_deps(package, args.work, python=args.python)
            except FetchError as exc:
                print("warning: %s: %s (checked without them)" % (package.requirement, exc), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
