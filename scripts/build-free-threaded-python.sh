#!/usr/bin/env bash
# Build a free-threaded CPython (3.13t, `--disable-gil`) from Debian's python3.13 source
# package into a cache folder outside the repository, once; later runs reuse it.
#
#   scripts/build-free-threaded-python.sh           build if needed, print the interpreter's path
#   scripts/build-free-threaded-python.sh --check   print the path if already built, else exit 1
#
# Where: $GILLINT_FREE_THREADED_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/gillint/free-threaded.
# The interpreter is <cache>/python-3.13t/bin/python3.13t. Needs a C compiler, the usual
# CPython build dependencies (zlib, libffi, openssl, ... headers) and a `deb-src` apt entry
# for a suite that carries python3.13 (Debian trixie or later). About 8 minutes on 2 cores.
# Progress goes to stderr, the path alone to stdout.
set -euo pipefail

cache=${GILLINT_FREE_THREADED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gillint/free-threaded}
prefix="$cache/python-3.13t"
interpreter="$prefix/bin/python3.13t"
complete_marker="$prefix/.build-complete"

say() { echo "build-free-threaded-python: $*" >&2; }

is_ready() {  # built to the end, runs, and really is a free-threaded build
    [ -f "$complete_marker" ] && [ -x "$interpreter" ] &&
        "$interpreter" -c 'import sys, sysconfig; sys.exit(0 if sysconfig.get_config_var("Py_GIL_DISABLED") == 1 else 1)' 2>/dev/null
}

if is_ready; then
    echo "$interpreter"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    say "no free-threaded interpreter in $prefix yet"
    exit 1
fi

command -v cc >/dev/null 2>&1 || { say "no C compiler (cc) on PATH; install gcc"; exit 1; }
mkdir -p "$cache/src"
cd "$cache/src"
tarball=$(ls python3.13_*.orig.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$tarball" ]; then
    apt_options=()
    if [ -z "$(apt-cache showsrc python3.13 2>/dev/null)" ]; then
        # The machine's apt has no source entry that carries python3.13: use a private one, in the
        # cache folder, for Debian trixie's sources (the system's apt configuration is not touched).
        say "apt knows no source package python3.13: reading Debian trixie's sources with a private apt list"
        mkdir -p "$cache/apt/lists/partial" "$cache/apt/parts"
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
            >"$cache/apt/sources.list"
        apt_options=(-o "Dir::Etc::SourceList=$cache/apt/sources.list" -o "Dir::Etc::SourceParts=$cache/apt/parts"
                     -o "Dir::State::Lists=$cache/apt/lists")
        apt-get "${apt_options[@]}" update >&2 || { say "apt-get update of the private list failed"; exit 1; }
    fi
    say "downloading the python3.13 source package into $cache/src"
    apt-get "${apt_options[@]}" source --download-only python3.13 >&2
    tarball=$(ls python3.13_*.orig.tar.xz | sort -V | tail -n 1)
fi

build="$cache/build"
rm -rf "$build" "$prefix"
mkdir -p "$build"
say "unpacking $tarball"
tar -xJf "$tarball" -C "$build"
source_dir=$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'Python-3.13*' | head -n 1)
[ -n "$source_dir" ] || { say "no Python-3.13* folder in $tarball"; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
cd "$source_dir"
say "configuring (--disable-gil) into $prefix"
./configure --disable-gil --prefix="$prefix" --without-ensurepip >"$cache/configure.log" 2>&1 ||
    { say "configure failed, see $cache/configure.log"; exit 1; }
say "compiling with $jobs jobs (log: $cache/make.log)"
make -j"$jobs" >"$cache/make.log" 2>&1 || { say "make failed, see $cache/make.log"; exit 1; }
make install >"$cache/install.log" 2>&1 || { say "make install failed, see $cache/install.log"; exit 1; }
rm -rf "$build"
touch "$complete_marker"
is_ready || { say "built, but $interpreter is not a working free-threaded interpreter"; exit 1; }
say "built in $(( $(date +%s) - start )) s"
echo "$interpreter"
