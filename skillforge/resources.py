"""Locate the data folders (``templates/``, ``schemas/``, ``sample_traces/``) and load schemas.

In a source checkout or editable install they sit at the top level of the repository; in a
wheel they are shipped inside the package (``[tool.hatch.build.targets.wheel.force-include]``
in ``pyproject.toml``). Both layouts are looked up, the packaged one first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import orjson

from skillforge.errors import SkillforgeError

DataFolder = Literal["templates", "schemas", "sample_traces"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(kind: DataFolder) -> Path:
    """Return the folder holding ``kind`` (``templates``, ``schemas`` or ``sample_traces``).

    Raises:
        SkillforgeError: when neither the packaged nor the repository folder exists (a broken install).
    """
    for candidate in (_PACKAGE_DIR / kind, _PACKAGE_DIR.parent / kind):
        if candidate.is_dir():
            return candidate
    raise SkillforgeError(f"skillforge is installed without its {kind}/ folder; reinstall the package")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/<name>.schema.json`` (e.g. ``load_schema("lesson")``) as a dict. Cached."""
    return orjson.loads((data_dir("schemas") / f"{name}.schema.json").read_bytes())


@cache
def schema_validator(name: str):
    """Return a ``jsonschema`` Draft 2020-12 validator for ``schemas/<name>.schema.json``. Cached."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))
