"""`ttxt top`: a live view of a running pipeline — topic rates, consumer lag, best bid/ask.

    ttxt top                                       # every ttxt.* topic, refreshed every second
    ttxt top --pipeline examples/pipeline_offline.yaml   # + each service's /health
    ttxt top --prefix demo --once                  # one frame, plain text (scripts, tests)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .common import CliError, add_bootstrap_arg, resolve_bootstrap, until_stopped


def register(sub: Any) -> None:
    p = sub.add_parser("top", help="live view of topics, consumer lag and books",
                       description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--prefix", help="topic prefix (default: the pipeline's, else ttxt)")
    p.add_argument("--pipeline", type=Path, metavar="PIPELINE.yaml",
                   help="also show the /health of its services (those with a metrics_port)")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                   help="refresh period (default 1)")
    p.add_argument("--once", action="store_true",
                   help="print one frame (rates over one interval) and exit")
    p.add_argument("--all-groups", action="store_true",
                   help="also list consumer groups with no member (stopped services)")
    p.add_argument("--no-color", action="store_true", help="no ANSI escapes")
    add_bootstrap_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..top import Top, run_top

    prefix, services, bootstrap = args.prefix, {}, args.bootstrap
    if args.pipeline is not None:
        from ..pipeline.config import PipelineError, load_pipeline

        try:
            pipeline = load_pipeline(args.pipeline)
        except PipelineError as exc:
            raise CliError(str(exc)) from None
        prefix = prefix or pipeline.topic_prefix
        bootstrap = bootstrap or pipeline.kafka.bootstrap_servers
        host = pipeline.metrics_host if pipeline.metrics_host not in ("0.0.0.0", "::") \
            else "127.0.0.1"
        services = {name: f"http://{host}:{port}"
                    for name, port in pipeline.metrics_ports().items() if port}
    top = Top(resolve_bootstrap(bootstrap), prefix or "ttxt", all_groups=args.all_groups,
              services=services)
    color = not args.no_color and not args.once and sys.stdout.isatty()
    try:
        asyncio.run(until_stopped(run_top(top, args.interval, args.once, color)))
    except KeyboardInterrupt:
        return 0
    return 0

