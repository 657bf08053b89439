"""Model settings: --option > SKILLFORGE_* environment > skillforge.toml, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.config import DEFAULT_CONCURRENCY, resolve_config
from skillforge.distill.options import resolve_analyst
from skillforge.errors import SkillforgeError


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skillforge.toml"
    path.write_text(text)
    return path


def test_option_beats_env_beats_file(tmp_path: Path) -> None:
    config_file = _toml(tmp_path, '[llm]\nmodel = "file-model"\napi_base = "http://file"\nconcurrency = 3\ncontext_tokens = 4000\n')
    env = {"SKILLFORGE_MODEL": "env-model", "SKILLFORGE_CONCURRENCY": "5"}
    config = resolve_config(model="cli-model", environ=env, config_file=config_file)
    assert (config.model, config.concurrency, config.api_base, config.context_tokens) == ("cli-model", 5, "http://file", 4000)
    assert config.sources == {"model": "option", "concurrency": "env", "api_base": str(config_file), "context_tokens": str(config_file)}
    assert resolve_config(environ=env, config_file=config_file).model == "env-model"
    assert resolve_config(environ={}, config_file=config_file).model == "file-model"
    assert resolve_config(api_base="http://cli", environ={"SKILLFORGE_API_BASE": "http://env"}, config_file=config_file).api_base == "http://cli"


def test_nothing_configured_means_offline_with_one_hint(tmp_path: Path) -> None:
    config = resolve_config(environ={}, config_file=tmp_path / "absent.toml")
    assert config.model is None and config.concurrency == DEFAULT_CONCURRENCY
    analyst, hint = resolve_analyst("auto", config)
    assert analyst == "heuristic" and "--model" in hint and "\n" not in hint
    assert resolve_analyst("heuristic", config) == ("heuristic", None)
    with pytest.raises(SkillforgeError, match="needs a model"):
        resolve_analyst("llm", config)
    with pytest.raises(SkillforgeError, match="unknown analyst"):
        resolve_analyst("magic", config)
    assert resolve_analyst("auto", resolve_config(model="gpt-4o-mini", environ={}, config_file=tmp_path / "absent.toml")) == ("llm", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[llm\nmodel = 1", "not valid TOML"),
        ('[llm]\nmodle = "x"\n', "unknown key.*modle"),
        ("[llm]\nconcurrency = \"eight\"\n", "concurrency must be a int"),
        ("[llm]\nconcurrency = 0\n", "concurrency must be at least 1"),
        ('llm = "gpt"\n', r"\[llm\] must be a table"),
    ],
)
def test_bad_config_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SkillforgeError, match=message):
        resolve_config(environ={}, config_file=_toml(tmp_path, text))


def test_bad_env_number(tmp_path: Path) -> None:
    with pytest.raises(SkillforgeError, match="SKILLFORGE_CONCURRENCY must be an integer"):
        resolve_config(environ={"SKILLFORGE_CONCURRENCY": "many"}, config_file=tmp_path / "none.toml")
