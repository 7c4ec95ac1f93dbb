"""Test access to the package's sample events."""

from ttxt_kafka.samples import T0, all_samples, header

__all__ = ["T0", "all_samples", "header"]
