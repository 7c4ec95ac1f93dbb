"""The offline demo (`make demo`, `ttxt demo`): see `run`."""

from .run import DemoResult, demo_pipeline, run_demo

__all__ = ["DemoResult", "demo_pipeline", "run_demo"]
