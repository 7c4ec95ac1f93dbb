"""Adapters that drive each peer library with plain input (see ``benchmarks/data.py``).

Each adapter imports its peer lazily, inside its functions, so that importing the adapter
never fails: a missing peer shows up as an ImportError at ``prepare()`` time and the bench
reports the row as unavailable instead of crashing.
"""
