"""Which model to use and how: command-line options, then environment variables, then ``skillforge.toml``.

Precedence for every setting: the command-line option (``--model``, ``--api-base``,
``--concurrency``, ``--context-tokens``) > the environment (``SKILLFORGE_MODEL``,
``SKILLFORGE_API_BASE``, ``SKILLFORGE_CONCURRENCY``, ``SKILLFORGE_CONTEXT_TOKENS``) > the ``[llm]``
table of ``skillforge.toml`` in the working directory (read with :mod:`tomllib`)::

    [llm]
    model = "gpt-4o-mini"          # any litellm model name
    api_base = "http://localhost:8000/v1"   # self-hosted OpenAI-compatible servers
    concurrency = 8
    context_tokens = 16000

API keys are never read from here: litellm takes them from the provider's usual environment
variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``…).

Other tables are read by the stage they configure, through :func:`read_table`: ``[eval]`` holds
the promotion gate's thresholds (:mod:`skillforge.eval.gate`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skillforge.errors import SkillforgeError

CONFIG_FILE = "skillforge.toml"
DEFAULT_CONCURRENCY = 8

OFFLINE_HINT = (
    "no model configured, so the offline heuristic analyst was used; to analyse with an LLM pass "
    "--model <litellm model name> (e.g. --model gpt-4o-mini with OPENAI_API_KEY set), "
    "or set SKILLFORGE_MODEL, or model under [llm] in skillforge.toml"
)
"""The one line printed when no model is configured (``--analyst auto`` falls back to heuristic)."""

_KEYS = {"model": str, "api_base": str, "concurrency": int, "context_tokens": int}
_ENV = {key: f"SKILLFORGE_{key.upper()}" for key in _KEYS}


@dataclass
class ModelConfig:
    """The resolved model settings.

    Attributes:
        model: a litellm model name, or None (no model: the offline analyst).
        api_base: base URL of a self-hosted server, or None.
        concurrency: most LLM calls in flight at once (>= 1).
        context_tokens: the model's input context in tokens, or None to take it from litellm's
            model map (8192 when the model is not in it).
        sources: where each set value came from (``option``, ``env`` or the config file path).
    """

    model: str | None = None
    api_base: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    context_tokens: int | None = None
    sources: dict[str, str] | None = None


def resolve_config(
    *,
    model: str | None = None,
    api_base: str | None = None,
    concurrency: int | None = None,
    context_tokens: int | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> ModelConfig:
    """Resolve the model settings from options, environment and ``skillforge.toml``.

    Args:
        model, api_base, concurrency, context_tokens: command-line values (None: not given).
        environ: the environment (default ``os.environ``).
        config_file: the TOML file (default ``./skillforge.toml``; a missing file is fine).

    Returns:
        A :class:`ModelConfig`.

    Raises:
        SkillforgeError: the TOML file does not parse, has an unknown key under ``[llm]``, or a
            value of the wrong type; or a number is not a positive integer.
    """
    environ = os.environ if environ is None else environ
    path = Path(CONFIG_FILE) if config_file is None else config_file
    from_file = _read_file(path)
    given = {"model": model, "api_base": api_base, "concurrency": concurrency, "context_tokens": context_tokens}
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for key, kind in _KEYS.items():
        if given[key] not in (None, ""):
            values[key], sources[key] = given[key], "option"
        elif environ.get(_ENV[key]):
            values[key], sources[key] = _convert(key, kind, environ[_ENV[key]], _ENV[key]), "env"
        elif key in from_file:
            values[key], sources[key] = from_file[key], str(path)
    for key in ("concurrency", "context_tokens"):
        if key in values and int(values[key]) < 1:  # type: ignore[arg-type]
            raise SkillforgeError(f"{key} must be at least 1, got {values[key]} (from {sources[key]})")
    return ModelConfig(
        model=values.get("model"),  # type: ignore[arg-type]
        api_base=values.get("api_base"),  # type: ignore[arg-type]
        concurrency=int(values.get("concurrency", DEFAULT_CONCURRENCY)),  # type: ignore[arg-type]
        context_tokens=values.get("context_tokens"),  # type: ignore[arg-type]
        sources=sources,
    )


RUNS_ENV = "SKILLFORGE_RUNS"
DEFAULT_RUNS = Path(".skillforge") / "runs"


def resolve_runs(
    option: Path | None = None, *, environ: Mapping[str, str] | None = None, config_file: Path | None = None
) -> Path:
    """Where run folders go: ``--runs DIR``, else ``$SKILLFORGE_RUNS``, else ``runs`` under
    ``[paths]`` in ``skillforge.toml``, else ``./.skillforge/runs``.

    Raises:
        SkillforgeError: ``skillforge.toml`` does not parse, or ``[paths] runs`` is not a string.
    """
    environ = os.environ if environ is None else environ
    if option is not None:
        return Path(option)
    if environ.get(RUNS_ENV):
        return Path(environ[RUNS_ENV])
    path = Path(CONFIG_FILE) if config_file is None else config_file
    table = _read_table(path, "paths", {"runs": str})
    return Path(str(table["runs"])) if "runs" in table else DEFAULT_RUNS


def _read_file(path: Path) -> dict[str, object]:
    return _read_table(path, "llm", _KEYS)


def _read_table(path: Path, name: str, keys: Mapping[str, type]) -> dict[str, object]:
    """The ``[name]`` table of the TOML file at ``path`` (``{}`` when absent), checked against ``keys``."""
    table = _load_table(path, name)
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise SkillforgeError(f"{path}: unknown key(s) under [{name}]: {', '.join(unknown)} (known: {', '.join(keys)})")
    for key, value in table.items():
        kind = keys[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SkillforgeError(f"{path}: [{name}] {key} must be a {kind.__name__}, got {value!r}")
    return dict(table)


def _convert(key: str, kind: type, raw: str, where: str) -> object:
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SkillforgeError(f"{where} must be an integer, got {raw!r}") from None
    return raw


def read_table(name: str, config_file: Path | None = None) -> dict[str, object]:
    """The ``[name]`` table of ``skillforge.toml`` (default ``./skillforge.toml``), or ``{}`` when the
    file or the table is absent. The caller checks the keys (e.g. :mod:`skillforge.eval.gate` for ``[eval]``).

    Raises:
        SkillforgeError: the file does not parse, or ``name`` is not a table.
    """
    return _load_table(Path(CONFIG_FILE) if config_file is None else config_file, name)


def _load_table(path: Path, name: str) -> dict[str, object]:
    """The ``[name]`` table of the TOML file at ``path``, unchecked (``{}`` when either is absent)."""
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SkillforgeError(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillforgeError(f"{path}: cannot read ({exc})") from exc
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise SkillforgeError(f"{path}: [{name}] must be a table")
    return dict(table)
