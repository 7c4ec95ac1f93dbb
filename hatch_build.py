"""Compiles the package's C extensions when it is built or installed (`pip install [-e] .`).

Each extension sits beside the pure-Python reader it speeds up (see `EXTENSIONS`) and is
compiled in place with setuptools' `build_ext` (the compiler and flags this Python was built
with), so an editable install imports it from the source tree and a wheel carries it. Without a
C compiler the build goes on with a warning: the Python readers then run, correct but slower, and
`tests/test_native_readers.py` fails, so CI never passes on that quietly.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# dotted name (as built in the source tree) -> its C sources
EXTENSIONS = {
    "connectors.kraken._trades": ["connectors/kraken/_trades.c"],
    "ttxt_kafka.archive._values": ["ttxt_kafka/archive/_values.c"],
    "ttxt_kafka.archive._skip": ["ttxt_kafka/archive/_skip.c"],
    "recorder._ingest": ["recorder/_ingest.c"],
    "recorder._batches": ["recorder/_batches.c"],
}


class NativeExtensions(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        built = _build_in_place(Path(self.root))
        if not built:
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # the wheel's package is ttxt_kafka (connectors is linked in)
            for path in built:
                rel = path.relative_to(self.root).as_posix()
                if not rel.startswith("ttxt_kafka/"):
                    rel = f"ttxt_kafka/{rel}"
                build_data["force_include"][str(path)] = rel


def _build_in_place(root: Path) -> list[Path]:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    dist = Distribution({"ext_modules": [
        Extension(name, sources, extra_compile_args=["-O2"]) for name, sources in
        EXTENSIONS.items()]})
    dist.script_name = "hatch_build.py"
    cmd = build_ext(dist)
    cmd.inplace = True
    cmd.build_temp = str(root / "build" / "native")
    try:
        with contextlib.chdir(root):  # build_ext's in-place paths are relative to here
            cmd.ensure_finalized()
            cmd.run()
    except Exception as exc:  # no compiler, no headers: the Python readers will run
        print(f"ttxt-kafka: C extensions not built ({exc}); the pure-Python readers will run",
              file=sys.stderr)
        return []
    return [root / cmd.get_ext_filename(name) for name in EXTENSIONS]
