"""`ttxt topics`: the platform's topics with their record counts."""

from __future__ import annotations

import argparse
import asyncio

from ..admin import list_topics, record_counts
from .common import add_bootstrap_arg, resolve_bootstrap


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("topics", help="list topics with their record counts")
    add_bootstrap_arg(p)
    p.add_argument("--pattern", help="only topics matching this regex")
    p.add_argument("--internal", action="store_true", help="include internal (__*) topics")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(args.bootstrap)

    async def main() -> dict[str, int]:
        names = await list_topics(bootstrap, args.pattern, args.internal)
        return await record_counts(bootstrap, names) if names else {}

    counts = asyncio.run(main())
    if not counts:
        if args.pattern:
            print(f"no topic matches '{args.pattern}' on {bootstrap} (`ttxt topics` lists "
                  "them all)")
        else:
            print(f"no topics on {bootstrap}")
        return 0
    width = max(len(t) for t in counts)
    for name in sorted(counts):
        print(f"{name:<{width}}  {counts[name]:>12,}")
    return 0
