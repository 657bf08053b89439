"""AGENTS.md / CLAUDE.md: the skill lives in a managed block; everything outside it stays byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.export.block import find_block, render_block, splice
from skillforge.export.exporter import export_version
from tests.export.conftest import add_version

USER_TEXT = b"# My project\n\nRun `make test` before committing.\n\n- Use tabs.\n"


def test_existing_content_is_kept_byte_for_byte_across_versions(store: Path, project: Path) -> None:
    agents = project / "AGENTS.md"
    agents.write_bytes(USER_TEXT)
    first = export_version("airline", "agents-md", store_root=store)
    assert [a.kind for a in first.actions] == ["update"]
    after_first = agents.read_bytes()
    assert after_first.startswith(USER_TEXT + b"\n<!-- skillforge:begin airline v1 ")
    # the user keeps writing after the block
    tail = b"\n## Later notes\n\nDeploy on Fridays only.\n"
    agents.write_bytes(after_first + tail)
    version = add_version(
        store,
        "airline",
        lambda f: (f / "SKILL.md").write_text(
            (f / "SKILL.md").read_text().replace("## Pitfalls", "## Pitfalls\n\nNew in v2.", 1)
        ),
    )
    second = export_version("airline", "agents-md", store_root=store)
    assert [a.kind for a in second.actions] == ["update"]
    text = agents.read_text()
    span = find_block(text, "airline")
    assert span is not None and not span.edited and "New in v2." in span.inner
    assert text[: span.start] == USER_TEXT.decode() + "\n" and text[span.end :] == tail.decode()
    assert f"<!-- skillforge:begin airline v{version} " in text
    assert export_version("airline", "agents-md", store_root=store).actions[0].kind == "unchanged"


def test_a_hand_edited_block_is_a_conflict(store: Path, project: Path) -> None:
    export_version("airline", "claude-md", store_root=store)
    claude = project / "CLAUDE.md"
    edited = claude.read_text().replace("## Airline", "## Airline (my edit)")
    claude.write_text(edited)
    with pytest.raises(SkillforgeError, match="the airline block was edited by hand"):
        export_version("airline", "claude-md", store_root=store)
    assert claude.read_text() == edited
    export_version("airline", "claude-md", store_root=store, force=True)
    assert "(my edit)" not in claude.read_text()


def test_the_block_is_found_without_the_manifest(store: Path, project: Path) -> None:
    """A fresh clone: AGENTS.md committed with its block, .skillforge/ not; re-export still works."""
    export_version("airline", "agents-md", store_root=store)
    (project / ".skillforge/exports.json").unlink()
    assert export_version("airline", "agents-md", store_root=store).actions[0].kind == "unchanged"


def test_blocks_of_two_skills_live_side_by_side(store: Path, project: Path) -> None:
    export_version("airline", "agents-md", store_root=store)
    export_version("spotter", "agents-md", store_root=store)
    text = (project / "AGENTS.md").read_text()
    airline, spotter = find_block(text, "airline"), find_block(text, "spotter")
    assert airline is not None and spotter is not None and airline.end <= spotter.start
    version = add_version(
        store, "airline", lambda f: (f / "SKILL.md").write_text((f / "SKILL.md").read_text() + "\nOne more line.\n")
    )
    export_version(f"airline@v{version}", "agents-md", store_root=store)
    after = (project / "AGENTS.md").read_text()
    assert after[after.index("<!-- skillforge:begin spotter") :] == text[spotter.start :]


def test_unpaired_markers_stop_the_export(store: Path, project: Path) -> None:
    broken = USER_TEXT + b"<!-- skillforge:begin airline v1 sha256:000000000000 -->\nhalf a block\n"
    (project / "AGENTS.md").write_bytes(broken)
    with pytest.raises(SkillforgeError, match=r"AGENTS.md:6: the skillforge markers for 'airline' do not pair up"):
        export_version("airline", "agents-md", store_root=store)
    assert (project / "AGENTS.md").read_bytes() == broken


def test_crlf_files_get_a_crlf_block_and_stay_idempotent(store: Path, project: Path) -> None:
    crlf = USER_TEXT.replace(b"\n", b"\r\n")
    (project / "AGENTS.md").write_bytes(crlf)
    export_version("spotter", "agents-md", store_root=store)
    text = (project / "AGENTS.md").read_bytes()
    assert text.startswith(crlf) and b"\n" not in text.replace(b"\r\n", b"")
    assert export_version("spotter", "agents-md", store_root=store).actions[0].kind == "unchanged"


def test_the_whole_file_stays_within_the_host_limit(store: Path, project: Path) -> None:
    big = ("Our conventions. " * 1500 + "\n").encode()  # about 25 KB of the user's own text
    (project / "AGENTS.md").write_bytes(big)
    result = export_version("airline", "agents-md", store_root=store)
    text = (project / "AGENTS.md").read_bytes()
    assert len(text) <= 32_768 and text.startswith(big)
    assert any("cut to fit agents-md's 32,768 bytes" in w for w in result.warnings)
    span = find_block(text.decode(), "airline")
    assert span is not None and "### Pitfalls" in span.inner and span.inner.rstrip().endswith("the full skill.]_")


def test_no_room_left_is_a_clear_error(store: Path, project: Path) -> None:
    (project / "AGENTS.md").write_bytes(b"x" * 32_760 + b"\n")
    with pytest.raises(SkillforgeError, match="not even the skill's title fits in 32,768 bytes"):
        export_version("airline", "agents-md", store_root=store)


def test_splice_appends_after_a_blank_line() -> None:
    block = render_block("demo", "v1", "hello")
    assert splice(None, "demo", block) == block
    assert splice("a", "demo", block) == "a\n\n" + block
    assert splice("a\n", "demo", block) == "a\n\n" + block
    assert splice("a\n\n", "demo", block) == "a\n\n" + block
    replaced = splice("a\n\n" + block + "b\n", "demo", render_block("demo", "v2", "bye"))
    assert replaced.startswith("a\n\n<!-- skillforge:begin demo v2 ") and replaced.endswith(
        "bye\n<!-- skillforge:end demo -->\nb\n"
    )
