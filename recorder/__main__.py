"""`python -m recorder ARGS` is `ttxt record ARGS`."""

import sys

from ttxt_kafka.cli import main

sys.exit(main(["record", *sys.argv[1:]]))
