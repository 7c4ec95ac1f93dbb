"""Find a strategy class from `module:Class` (or `path/to/file.py:Class`) and build it."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from .strategy import Strategy


class LoadError(ValueError):
    pass


def load_class(spec: str) -> type[Strategy]:
    module_name, sep, class_name = spec.rpartition(":")
    if not sep or not module_name or not class_name:
        raise LoadError(f"{spec!r}: give MODULE:Class, e.g. "
                        "ttxt_kafka.strategies.examples.market_maker:MarketMaker")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)
            if mod_spec is None or mod_spec.loader is None or not path.is_file():
                raise LoadError(f"no Python file {module_name}")
            module = importlib.util.module_from_spec(mod_spec)
            sys.modules[path.stem] = module
            mod_spec.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))  # user modules beside where ttxt runs
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LoadError(f"cannot import {module_name}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise LoadError(f"{module_name} has no Strategy subclass {class_name}")
    return cls


def parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise LoadError(f"--param {item!r}: use NAME=VALUE")
        params[key.strip()] = value
    return params


def build(spec: str, params: dict[str, Any]) -> Strategy:
    return load_class(spec)(**params)
