"""Benchmarks: ttxt-kafka side by side with its peers (the seed ttxt2 and cryptofeed).

Run everything with ``make bench`` (it builds ``.bench-venv`` first), one module with
``.bench-venv/bin/python -m benchmarks.bench_orderbook``.
"""
