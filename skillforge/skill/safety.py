"""Safety scan of a skill folder: a skill is a set of instructions an agent will follow, and the
logs it was distilled from may hold attacker text (a poisoned web page, a malicious README, a
tool result). Part of ``skillforge validate`` (issue 6); rules ``safety.*`` in
:data:`skillforge.skill.rules.RULES`.

What is flagged, with file and line, in every text file of the skill (``SKILL.md``,
``references/``, ``scripts/``, ``assets/``…):

* ``safety.secret`` — anything :func:`skillforge.secret_scan.find_secrets` finds (the same detector
  as ingest redaction);
* ``safety.prompt-injection`` — "ignore previous instructions" and its variants (disregard /
  forget / override … prior / above / system … instructions / rules / prompt), role resets
  ("you are now DAN", "developer mode"), prompt extraction ("reveal your system prompt"), fake
  chat-template tokens (``<|im_start|>``, ``[INST]``), hiding actions from the user, and a few
  translations. Matching runs on a normalised copy of the line (NFKC, invisible characters and
  Markdown emphasis removed, common digit-for-letter swaps undone). A mention inside quotes next
  to words like "injection" or "untrusted", or one that is negated ("never follow …"), is a
  warning rather than an error;
* ``safety.hidden-text`` — Unicode tag characters (invisible ASCII copies) and bidirectional
  controls (Trojan Source, CVE-2021-42574) are errors; zero-width spaces are warnings;
* ``safety.remote-code`` — fetching code and running it: ``curl|wget … | sh`` (or any shell, or
  an interpreter reading its program from stdin), ``bash <(curl …)``, ``sh -c "$(curl …)"``,
  ``eval "$(wget …)"``, PowerShell ``iex (iwr …)`` / ``DownloadString``, download then run the
  same file, ``base64 -d | sh``, ``exec(requests.get(…))``, reverse shells (``/dev/tcp``,
  ``nc -e``);
* ``safety.exfiltration`` — sending local data away: ``curl -F x=@file`` / ``-d @file`` /
  ``--upload-file``, ``wget --post-file``, ``… | nc host``, ``requests.post(…, files=…)``,
  secrets or sensitive files (``~/.ssh``, ``.env``, ``~/.aws/credentials``, ``printenv``) and a
  network sink in the same command, file, or code block, and prose such as "send the contents
  of ~/.ssh/id_rsa to https://…". Sends to localhost are not flagged;
* ``safety.destructive`` — ``rm -rf`` of ``/``, ``~``, ``$HOME``, a system folder, ``*`` or an
  unguarded variable (``"$DIR"/`` without ``${DIR:?}``), ``--no-preserve-root``, force pushes
  (``--force``/``-f``/``+ref``; ``--force-with-lease`` is the guard), ``mkfs``, ``dd of=/dev/…``,
  fork bombs, recursive ``chmod``/``chown`` of ``/``, ``terraform destroy -auto-approve``,
  ``kubectl delete --all``, ``--dangerously-skip-permissions``; ``git reset --hard``,
  ``git clean -fdx``, ``DROP DATABASE/TABLE`` are warnings.

Prose that tells the agent *not* to do something ("never run `rm -rf /`", "do not pipe curl into
sh") is advice, not an instruction, and is not flagged for commands (a skill's pitfalls section is
full of it). In files under ``scripts/`` (and any file with a shebang or a script extension) only
comment lines count as prose; every code line is checked as code, and sensitive reads and network
sends are matched across the whole file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from skillforge.secret_scan import find_secrets
from skillforge.skill.rules import Severity, Violation, violation
from skillforge.skill.safety_patterns import (
    BIDI,
    COMMENT,
    DESTRUCTIVE,
    DOWNLOAD_TARGET,
    EXFILTRATION,
    FENCE_LINE,
    GUARDED_VARIABLE,
    IDENTITY_ARGUMENT,
    INJECTION,
    INTERPRETER,
    INVISIBLE,
    LEET,
    LOCAL_HOST,
    MAX_SCAN_BYTES,
    MENTION_CUES,
    NEGATION,
    NOT_NEGATION,
    QUOTED,
    REMOTE_CODE,
    SCRIPT_SUFFIXES,
    SEND_TOOL,
    SENSITIVE,
    SENTENCE_BREAK,
    SHELL,
    TAG_CHARS,
    TEMPLATE_TOKENS,
    TRAILING_COMMENT,
    UPLOAD,
    ZERO_WIDTH,
)


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    code: bool


def scan_skill(folder: Path) -> list[Violation]:
    """Run the safety scan on every text file of a skill folder.

    Args:
        folder: the skill folder.

    Returns:
        :class:`~skillforge.skill.rules.Violation` s with rules ``safety.*``, file (relative
        to ``folder``) and line. Binary files (a NUL byte or not UTF-8) are skipped, and so are
        symbolic links (the validator does not follow them out of the skill).
    """
    folder = Path(folder)
    found: list[Violation] = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or ".git" in path.relative_to(folder).parts:
            continue
        data = path.read_bytes()[:MAX_SCAN_BYTES]
        if b"\x00" in data[:8192]:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        relative = path.relative_to(folder).as_posix()
        found.extend(scan_text(text, relative, script=is_script(relative, text)))
    return found


def is_script(relative: str, text: str) -> bool:
    """True for a file an agent would run: under ``scripts/``, a script extension, or a shebang."""
    return relative.startswith("scripts/") or Path(relative).suffix.lower() in SCRIPT_SUFFIXES or text.startswith("#!")


def scan_text(text: str, file: str, *, script: bool = False) -> list[Violation]:
    """Scan one file's text.

    Args:
        text: the file content.
        file: its path relative to the skill folder (reported in each violation).
        script: treat it as code: only comment lines are prose, and a sensitive read and a
            network send anywhere in the file belong together.

    Returns:
        Violations with rules ``safety.*``, at most one per rule per line (an error wins over a
        warning), in line order.
    """
    found: dict[tuple[int, str], Violation] = {}

    def report(line: int, rule: str, message: str, severity: Severity | None = None) -> None:
        key = (line, rule)
        current = found.get(key)
        if current is None or (current.severity == "warning" and (severity or "error") == "error"):
            found[key] = violation(rule, file, line, message, severity)

    what = "script" if script else "text"
    for finding in find_secrets(text):
        report(finding.line, "safety.secret", f"a secret ({finding.kind}) is in the {what}; remove it and rotate it")
    lines = _classify(text.splitlines(), script)
    for line in lines:
        _scan_hidden(line.text, line.number, report)
        _scan_injection(line, report)
    for logical in _logical_lines(lines):
        _scan_commands(logical, report, what)
    for chunk in _chunks(lines, script):
        _scan_cooccurrence(chunk, report, what)
    return sorted(found.values(), key=lambda v: (v.line or 0, v.rule))


def _classify(lines: list[str], script: bool) -> list[_Line]:
    """Number the lines and mark code: every non-comment line of a script, every line inside a
    fenced block of Markdown (the fence lines themselves are neither)."""
    classified = []
    in_fence = False
    for number, text in enumerate(lines, start=1):
        if not script and FENCE_LINE.match(text):
            in_fence = not in_fence
            classified.append(_Line(number, "", False))
            continue
        code = (script or in_fence) and not COMMENT.match(text)
        classified.append(_Line(number, text, code))
    return classified


def _scan_hidden(line: str, number: int, report) -> None:
    if TAG_CHARS.search(line):
        hidden = "".join(chr(ord(c) - 0xE0000) for c in TAG_CHARS.findall(line) if 0x20 <= ord(c) - 0xE0000 < 0x7F)
        report(number, "safety.hidden-text", f"invisible Unicode tag characters spell out text: {hidden[:60]!r}")
    elif BIDI.search(line):
        report(number, "safety.hidden-text", "bidirectional control characters can make the text read differently from what runs")
    elif ZERO_WIDTH.search(line.lstrip("\ufeff") if number == 1 else line):
        report(number, "safety.hidden-text", "zero-width characters hide or split words", "warning")


def normalise(line: str) -> str:
    """The line as the injection patterns see it: NFKC, invisible characters and Markdown
    emphasis removed, whitespace collapsed, lower case.

    Args:
        line: one line of text.

    Returns:
        The normalised line (digit-for-letter swaps are undone separately, on a copy).
    """
    text = unicodedata.normalize("NFKC", INVISIBLE.sub("", line))
    text = re.sub(r"[*_~]+", "", text)
    return " ".join(text.split()).lower()


def _scan_injection(line: _Line, report) -> None:
    if TEMPLATE_TOKENS.search(line.text):
        report(line.number, "safety.prompt-injection", "chat-template control tokens pose as a system or user turn")
    plain = normalise(line.text)
    variants = (plain, plain.translate(LEET)) if re.search(r"[0-9@$|]", plain) else (plain,)
    for pattern, what in INJECTION:
        for text in variants:
            match = pattern.search(text)
            if not match:
                continue
            quoted = any(q.start() <= match.start() and match.end() <= q.end() for q in QUOTED.finditer(text))
            negated = not line.code and not what.startswith("tells the agent to hide") and _is_negated(_sentence_prefix(text, match.start()))
            if negated or (quoted and MENTION_CUES.search(text)):
                report(line.number, "safety.prompt-injection", f"mentions prompt-injection phrasing ({what}); keep it quoted as an example, never as an instruction", "warning")
            else:
                report(line.number, "safety.prompt-injection", f"prompt-injection phrasing: {what}")
            return


def _logical_lines(lines: list[_Line]) -> list[_Line]:
    """Join shell continuation lines (``\\`` at the end) so a command split over lines is one."""
    joined: list[_Line] = []
    buffer: list[_Line] = []
    for line in lines:
        if line.text.rstrip().endswith("\\"):
            buffer.append(_Line(line.number, line.text.rstrip()[:-1], line.code))
            continue
        parts = [*buffer, line]
        joined.append(_Line(parts[0].number, " ".join(p.text.strip() for p in parts), parts[0].code))
        buffer = []
    if buffer:
        joined.append(_Line(buffer[0].number, " ".join(p.text.strip() for p in buffer), buffer[0].code))
    return joined


def _scan_commands(line: _Line, report, what: str) -> None:
    text = unicodedata.normalize("NFKC", INVISIBLE.sub("", line.text))

    def excused(position: int) -> bool:
        """Prose that says not to (or to ask first) is advice, not an instruction."""
        return not line.code and _is_negated(_sentence_prefix(text, position))

    for pattern, message in REMOTE_CODE:
        match = pattern.search(text)
        if match and not excused(match.start()):
            report(line.number, "safety.remote-code", f"the {what} {message}: {_excerpt(match.group(0))}")
            break
    else:
        _scan_download_then_run(text, line.number, report, excused, what)
    for pattern, message, severity in EXFILTRATION:
        match = pattern.search(text)
        if not match or excused(match.start()):
            continue
        if LOCAL_HOST.search(text[match.start() :]) and not SENSITIVE.search(text):
            continue
        report(line.number, "safety.exfiltration", f"the {what} {message}: {_excerpt(match.group(0))}", severity)
        if severity == "error":
            break
    for pattern, message, severity in DESTRUCTIVE:
        match = pattern.search(text)
        if not match or excused(match.start()) or GUARDED_VARIABLE.search(match.group(0)):
            continue
        report(line.number, "safety.destructive", f"the {what} {message}: {_excerpt(match.group(0))}", severity)
        if severity == "error":
            break


def _scan_download_then_run(text: str, number: int, report, excused, what: str) -> None:
    """``curl -o x.sh URL && sh x.sh`` (or ``chmod +x x && ./x``) on one line."""
    for match in DOWNLOAD_TARGET.finditer(text):
        name = re.escape(Path(match.group(1)).name)
        rest = text[match.end() :]
        runs = rf"(?:&&|;|\|\|)\s*(?:chmod\s+\S+\s+\S+\s*(?:&&|;)\s*)?(?:sudo\s+)?(?:{SHELL}\s+|source\s+|\.\s+|{INTERPRETER}\s+|\./|/)\S*{name}\b"
        if name and re.search(runs, rest, re.I) and not excused(match.start()):
            report(number, "safety.remote-code", f"the {what} downloads a file and runs it: {_excerpt(text[match.start():])}")
            return


def _chunks(lines: list[_Line], script: bool) -> list[list[_Line]]:
    """Units in which a sensitive read and a network send belong together: the whole file for a
    script; each fenced code block, and each line outside them, for Markdown."""
    if script:
        return [lines]
    chunks: list[list[_Line]] = []
    block: list[_Line] = []
    for line in lines:
        if line.code:
            block.append(line)
            continue
        if block:
            chunks.append(block)
            block = []
        chunks.append([line])
    if block:
        chunks.append(block)
    return chunks


def _sensitive_part(text: str) -> re.Match | None:
    """Where the line names a secret source (key files, credentials, the whole environment)."""
    text = IDENTITY_ARGUMENT.sub(" ", TRAILING_COMMENT.sub("", text))
    return SENSITIVE.search(text)


def _scan_cooccurrence(chunk: list[_Line], report, what: str) -> None:
    """A secret source and a network send: on one line, or anywhere in one code block or script
    when the send is an upload (POST/PUT, -d/-F/-T, scp to a host, requests.post…)."""
    sources = [(line, hit) for line in chunk if (hit := _sensitive_part(line.text)) and (line.code or len(chunk) == 1)]
    if not sources:
        return
    for line in chunk:
        if len(chunk) > 1 and not line.code:
            continue
        same_line = any(source is line for source, _ in sources)
        sink = SEND_TOOL.search(line.text) if same_line else UPLOAD.search(line.text)
        if not sink or (LOCAL_HOST.search(line.text) and not same_line):
            continue
        hit = next(h for s, h in sources if s is line) if same_line else None
        if not line.code and _is_negated(_sentence_prefix(line.text, min(sink.start(), hit.start() if hit else sink.start()))):
            continue
        source = sources[0][0]
        where = "" if same_line else f" (named on line {source.number})"
        report(line.number, "safety.exfiltration", f"the {what} sends sensitive data{where} over the network: {_excerpt(line.text.strip())}")
        return


def _sentence_prefix(text: str, position: int) -> str:
    """The text of the current sentence (or clause) before ``position``."""
    before = text[:position]
    breaks = list(SENTENCE_BREAK.finditer(before))
    return before[breaks[-1].end() :] if breaks else before


def _is_negated(prefix: str) -> bool:
    """True when the clause before a match says not to do it ("never run", "do not pipe"), or to
    ask first ("ask before", "get the user's go-ahead before running")."""
    cleaned = NOT_NEGATION.sub(" ", prefix.replace("`", " "))
    return bool(NEGATION.search(cleaned))


def _excerpt(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
