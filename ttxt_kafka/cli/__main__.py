"""`python -m ttxt_kafka.cli ...`, the same as the `ttxt` console script."""

import sys

from ttxt_kafka.cli import main

sys.exit(main())
