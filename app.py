"""Start Qwen Voice Studio in the browser: ``python app.py [--port 7860] [--host 127.0.0.1] [--no-browser]``.

The page is served before torch or qwen-tts is imported; models load on the
first Generate (or from the Models tab), with progress shown.

The same file is the desktop build's entry point and a Hugging Face Space's
``app_file``: ``--space`` (or the ``SPACE_ID`` variable a Space sets) turns on
per-visitor storage and limits. ``python app.py COMMAND ...`` runs the command
line (``python -m studio COMMAND ...``, every command of its table
``studio.cli.COMMANDS``) instead of the UI, which is how the frozen build is
used from a terminal.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys


def _prog() -> str:
    """How the user started this program, for usage lines."""
    return os.path.basename(sys.argv[0]) if getattr(sys, "frozen", False) else "python app.py"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the UI launcher."""
    from studio import config
    from studio.cli import COMMANDS

    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Qwen Voice Studio (browser UI)",
        epilog=f"command line: {' | '.join(COMMANDS)} (e.g. `doctor`, or `clone --help`)",
    )
    parser.add_argument(
        "--host",
        default=config.host(),
        help="interface to listen on (default 127.0.0.1: this computer only; 0.0.0.0 on a Space)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=config.port(),
        help="port (default 7860; the next free one if taken)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.add_argument(
        "--share", action="store_true", help="also open a public Gradio link (anyone with it can use the studio)"
    )
    parser.add_argument(
        "--space", action="store_true", help="Hugging Face Space mode: private per-visitor storage, limits"
    )
    parser.add_argument(
        "--new-instance", action="store_true", help="start even if the studio is already running (another port)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the command line or build the UI and serve it until interrupted; return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv:  # the bare `python app.py` imports nothing of the command line
        from studio import cli

        if cli.is_command_line(argv):
            return cli.main(argv, prog=_prog())
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from studio import desktop, space

    if space.is_space(args.space):
        return space.serve(host=args.host, port=args.port)
    return desktop.serve(
        host=args.host or "127.0.0.1",
        port=args.port,
        open_browser=not args.no_browser,
        share=args.share,
        new_instance=args.new_instance,
    )


if __name__ == "__main__":
    multiprocessing.freeze_support()  # must run first in the frozen desktop build
    sys.exit(main())
