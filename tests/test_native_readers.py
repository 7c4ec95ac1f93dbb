"""The C readers (`hatch_build.EXTENSIONS`): compiled, and memory-safe on their tests' inputs.

They read what nobody vouches for: exchange frames (Kraken's trades), Kafka values (the
recorder's body check and routing), archive files (the replay's block walk). Their own tests
compare them with their Python twins on captures, truncations and random edits; here those
tests run once more against builds with AddressSanitizer and UndefinedBehaviorSanitizer, which
turn a read past a buffer, a use after free or an undefined shift into a failure instead of a
wrong answer that happens to compare equal.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _extensions() -> dict[str, list[str]]:
    """`hatch_build.EXTENSIONS`, read from its source (hatchling is there at build time only)."""
    for node in ast.parse((REPO / "hatch_build.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "EXTENSIONS" for t in node.targets):
            extensions: dict[str, list[str]] = ast.literal_eval(node.value)
            return extensions
    raise AssertionError("hatch_build.py has no EXTENSIONS")


EXTENSIONS = _extensions()

# The tests that drive the C readers (the leak checks measure the process's memory, which
# ASan's quarantine holds on purpose, and a broker's JVM has no business under ASan: those run
# in the normal suite only).
DRIVERS = ["tests/test_kraken_trade_reader.py", "tests/test_archive_values.py",
           "tests/test_body_check_native.py", "tests/test_recorder_format.py",
           "tests/test_raw_fetch.py"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]

# Loads the sanitized builds in place of the installed ones, whatever package path imports
# them (`ttxt_kafka.connectors.kraken._trades` and `connectors.kraken._trades` are one file),
# and notes each one it loaded.
SITECUSTOMIZE = textwrap.dedent('''
    import importlib.util, json, os, sys
    _BUILT = json.loads(os.environ["TTXT_SANITIZED"])
    _SEEN = os.environ["TTXT_SANITIZED_SEEN"]

    class _Sanitized:
        @staticmethod
        def find_spec(name, path=None, target=None):
            tail = ".".join(name.split(".")[-2:])
            if tail in _BUILT:
                with open(_SEEN, "a") as f:
                    f.write(tail + "\\n")
                return importlib.util.spec_from_file_location(name, _BUILT[tail])
            return None

    sys.meta_path.insert(0, _Sanitized)
''')


def test_every_c_reader_is_compiled() -> None:
    """A build without a compiler falls back to the Python readers with a warning only; the
    suite must not pass that way."""
    for name in EXTENSIONS:
        module = importlib.import_module(name)
        assert module.__file__ is not None
        assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), name


def _runtime(lib: str) -> str:
    found = subprocess.run(["gcc", f"-print-file-name={lib}"], capture_output=True, text=True,
                           check=True).stdout.strip()
    return found if os.path.isabs(found) and os.path.exists(found) else ""


def test_the_c_readers_tests_pass_under_address_and_undefined_behaviour_sanitizers(
        tmp_path: Path) -> None:
    if shutil.which("gcc") is None or not _runtime("libasan.so") or not _runtime("libubsan.so"):
        message = "gcc with libasan and libubsan is needed to build the sanitized readers"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    dist = Distribution({"ext_modules": [
        Extension(name, [str(REPO / s) for s in sources],
                  extra_compile_args=["-O1", "-g", "-fno-omit-frame-pointer", *SANITIZERS],
                  extra_link_args=SANITIZERS)
        for name, sources in EXTENSIONS.items()]})
    cmd = build_ext(dist)
    cmd.build_lib = str(tmp_path / "lib")
    cmd.build_temp = str(tmp_path / "tmp")
    cmd.ensure_finalized()
    cmd.run()
    built = {".".join(name.split(".")[-2:]): str(tmp_path / "lib" / cmd.get_ext_filename(name))
             for name in EXTENSIONS}
    assert all(Path(p).exists() for p in built.values())

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    seen = tmp_path / "seen.txt"
    env = {**os.environ,
           "LD_PRELOAD": f"{_runtime('libasan.so')} {_runtime('libubsan.so')}",
           # every object its own malloc: ASan's red zones then border each bytes object
           # (pymalloc's arenas would hide a read past one inside the next)
           "PYTHONMALLOC": "malloc",
           # CPython frees little at exit on purpose: leaks are the leak tests' job
           "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:verify_asan_link_order=0",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
           "PYTHONPATH": os.pathsep.join([str(site), str(REPO),
                                          os.environ.get("PYTHONPATH", "")]),
           "TTXT_SANITIZED": json.dumps(built), "TTXT_SANITIZED_SEEN": str(seen)}
    run = subprocess.run(
        # (--capture=sys: a sanitizer's report goes to file descriptor 2 as the process
        # ends, which pytest's default capture would swallow)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--capture=sys", "-x",
         "-k", "not leak and not broker", *DRIVERS],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    output = run.stderr[:6000] + run.stdout[-3000:]
    assert run.returncode == 0, output
    assert " passed" in run.stdout and "failed" not in run.stdout, output
    assert set(seen.read_text().split()) == set(built), "the sanitized builds were not loaded"
