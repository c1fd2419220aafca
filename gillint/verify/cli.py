"""`gillint verify` command line (the measurement lives in the rest of this package)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    parser = subparsers.add_parser("verify", help="run flagged code and measure whether it is GIL-bound")
    parser.set_defaults(handler=_not_ready)


def _not_ready(args: argparse.Namespace) -> int:
    print("gillint: error: verify is not available in this build")
    return 2
