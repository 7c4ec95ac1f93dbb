"""Declarative pipelines: `ttxt run PIPELINE.yaml` starts what the file declares.

    from ttxt_kafka.pipeline import load_pipeline, run_pipeline
    pipeline = load_pipeline("examples/pipeline_offline.yaml")
    await run_pipeline(pipeline, bootstrap, stop_event)      # until stop_event is set

`config` (the file's schema, reusing the connector config's models), `services` (simulator,
connectors, recorder, strategy behind one start/stop lifecycle, each with its own /metrics and
/health), `runner` (in this process, ordered start and stop), `processes` (one child process
per service).

Why here, in the core package: the CLI that composes the services lives here too, and the
service packages (connectors, recorder, strategies, simulator) are imported only when a
pipeline is built, so nothing in the core depends on them at import time except this package.
"""

from .config import Pipeline, PipelineError, load_pipeline, parse_pipeline
from .runner import PipelineRun, ServiceError, run_pipeline

__all__ = ["Pipeline", "PipelineError", "PipelineRun", "ServiceError", "load_pipeline",
           "parse_pipeline", "run_pipeline"]
