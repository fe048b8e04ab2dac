"""What every CLI area shares: verb registration, --json output, the rich console."""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from typing import Any, Callable

Handler = Callable[[argparse.Namespace], int]


def add_verbs(area_parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    verbs = area_parser.add_subparsers(dest="verb", metavar="VERB", parser_class=type(area_parser))
    verbs.required = True
    return verbs


def add_verb(verbs: argparse._SubParsersAction, name: str, handler: Handler, summary: str,
             json_output: bool = False) -> argparse.ArgumentParser:
    parser = verbs.add_parser(name, help=summary, description=summary)
    parser.set_defaults(handler=handler)
    if json_output:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of tables")
    return parser


@lru_cache(maxsize=None)
def console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
