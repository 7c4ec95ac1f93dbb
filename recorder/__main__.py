"""`python -m recorder ARGS` is `ttxt record ARGS` (without loading the other commands)."""

import argparse
import logging
import sys

from ttxt_kafka.cli import record_cmd
from ttxt_kafka.cli.common import CliError, fail


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m recorder")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    record_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["record", *argv] if "-v" not in argv[:1] else
                             ["-v", "record", *argv[1:]])
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.INFO if args.verbose else logging.ERROR)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130


sys.exit(main(sys.argv[1:]))
