"""Every command path of ``python -m studio`` (``["voices", "add"]`` and so on), read from its parser.

Listed from the command table (``studio.cli.COMMANDS``) through the parser it builds, so a new command
or sub-command is covered by the tests that use this without being named anywhere.
"""

from __future__ import annotations

import argparse


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_paths() -> list[list[str]]:
    """Each command and each of its sub-commands, as argument lists: ``[["clone"], ..., ["voices", "list"], ...]``."""
    from studio.cli import build_parser

    paths = []
    for name, parser in _subcommands(build_parser()).items():
        paths.append([name])
        paths += [[name, child] for child in _subcommands(parser)]
    return paths
