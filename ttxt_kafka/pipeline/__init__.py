"""Declarative pipelines: `ttxt run PIPELINE.yaml` starts what the file declares.

    from ttxt_kafka.pipeline import load_pipeline, run_pipeline
    pipeline = load_pipeline("examples/pipeline_offline.yaml")
    await run_pipeline(pipeline, bootstrap, stop_event)      # until stop_event is set

`config` (the file's schema, reusing the connector config's models), `services` (simulator,
connectors, recorder, strategy behind one start/stop lifecycle, each with its own /metrics and
/health), `runner` (in this process, ordered start and stop), `processes` (one child process
per service).

Why here, in the core package: it is the declarative form of the CLI, which composes the same
services from here too. It sits above the service packages (its config reuses their models, its
services import their code when built); nothing else in the core imports it, so the core's own
modules stay free of them.
"""

from .config import Pipeline, PipelineError, load_pipeline, parse_pipeline
from .runner import PipelineRun, ServiceError, run_pipeline

__all__ = ["Pipeline", "PipelineError", "PipelineRun", "ServiceError", "load_pipeline",
           "parse_pipeline", "run_pipeline"]
