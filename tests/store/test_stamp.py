"""Writing the version number into metadata.version."""

from __future__ import annotations

import yaml

from skillforge.store.stamp import stamp_version


def _frontmatter(text: str) -> dict:
    return yaml.safe_load(text.split("---")[1])


def test_in_place_edit_keeps_every_other_byte() -> None:
    text = "---\nname: demo\n# a comment\nmetadata:\n  generator: x\n  version: '4'\n---\n# Body\n"
    stamped = stamp_version(text, 7)
    assert stamped.changed and stamped.body_shift == 0
    assert stamped.text == text.replace("version: '4'", "version: '7'")
    assert stamp_version(stamped.text, 7).changed is False


def test_crlf_and_unquoted_versions() -> None:
    text = "---\r\nname: demo\r\nmetadata:\r\n    version: 4\r\n---\r\nbody\r\n"
    stamped = stamp_version(text, 5)
    assert stamped.text == "---\r\nname: demo\r\nmetadata:\r\n    version: '5'\r\n---\r\nbody\r\n"


def test_missing_version_or_metadata_rewrites_the_frontmatter_and_reports_the_shift() -> None:
    no_metadata = "---\nname: demo\ndescription: d\n---\n# Body\nline\n"
    stamped = stamp_version(no_metadata, 2)
    assert _frontmatter(stamped.text) == {"name": "demo", "description": "d", "metadata": {"version": "2"}}
    assert stamped.frontmatter_end == 4 and stamped.body_shift == 2
    assert stamped.text.splitlines()[4 + 2 :] == ["# Body", "line"]
    flow = "---\nname: demo\nmetadata: {author: me}\n---\nbody\n"
    stamped = stamp_version(flow, 3)
    assert _frontmatter(stamped.text)["metadata"] == {"author": "me", "version": "3"}
    assert stamped.text.endswith("---\nbody\n")


def test_a_version_key_outside_metadata_is_not_touched() -> None:
    text = "---\nname: demo\nmetadata:\n  nested:\n    version: '1'\n---\nbody\n"
    stamped = stamp_version(text, 2)
    data = _frontmatter(stamped.text)
    assert data["metadata"] == {"nested": {"version": "1"}, "version": "2"}


def test_text_without_frontmatter_is_left_alone() -> None:
    for text in ("plain\n", "---\n- a list\n---\n", "---\n: bad: yaml\n---\n"):
        assert stamp_version(text, 2).changed is False
        assert stamp_version(text, 2).text == text
