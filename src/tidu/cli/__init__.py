"""The ``tidu`` command line: train, evaluate, predict, summary, gradcheck, diagnose, info.

``main(argv)`` runs one command and returns its exit code: 0 on success, 1 on a failure (a
one-line message on stderr; ``--debug`` shows the traceback), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys

from ._common import CLIError, HelpFormatter, UsageError

__all__ = ["CLIError", "UsageError", "build_parser", "main"]

EPILOG = """\
first steps:
  tidu train                                  # Text B's network on the embedded digits
  tidu evaluate runs/text-b-digits/model.tidu
  tidu predict runs/text-b-digits/model.tidu samples.npy
  tidu gradcheck
  tidu diagnose runs/text-b-digits/model.tidu --out diag/
  tidu info                                   # versions, BLAS kernels, threads

`tidu COMMAND --help` describes each command."""


def build_parser() -> argparse.ArgumentParser:
    """The parser with one subcommand per module of this package."""
    from . import diagnose, evaluate, gradcheck, info, predict, summary, train

    parser = argparse.ArgumentParser(
        prog="tidu", description="tidu (梯度): train, inspect and check models from the shell.",
        epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"tidu {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when a command fails")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in (train, evaluate, predict, summary, gradcheck, diagnose, info):
        p = module.add_parser(sub)
        p.set_defaults(usage=p.format_usage)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback when the command fails")
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tidu")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Run ``tidu`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version (0) or a usage error (2)
        return e.code if isinstance(e.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    prog = f"tidu {args.command}"
    try:
        return int(args.run(args) or 0)
    except UsageError as e:
        if args.debug:
            raise
        print(args.usage(), end="", file=sys.stderr)
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tidu predict ... | head`
        return 0
    except Exception as e:
        if args.debug:
            raise
        print(f"{prog}: error: {_message(e)}", file=sys.stderr)
        return 1


def _message(e: Exception) -> str:
    """One line a shell user can act on."""
    if isinstance(e, CLIError):
        text = str(e)
    elif isinstance(e, FileNotFoundError) and e.filename:
        text = f"{e.filename}: no such file or folder"
    elif isinstance(e, PermissionError) and e.filename:
        text = f"{e.filename}: permission denied"
    elif isinstance(e, (ImportError, ValueError, TypeError, OSError, RuntimeError)):
        text = str(e) or type(e).__name__
    else:
        text = f"{type(e).__name__}: {e} (run again with --debug for the traceback)"
    return " ".join(text.split())
