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

MAX_SCAN_BYTES = 2_000_000
"""Files larger than this (bytes) are scanned only up to this size."""

SCRIPT_SUFFIXES = {".sh", ".bash", ".zsh", ".fish", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".php", ".ps1", ".psm1", ".bat", ".cmd", ".lua", ".r"}

# --- hidden text -------------------------------------------------------------------------------

_TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH = re.compile("[\u200b\u2060-\u2064\u180e\ufeff]")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\u180e\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f\u00ad]")

# --- prompt injection (matched on the normalised, lower-cased line) ----------------------------

_OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|bypass|neglect|discard|abandon|set aside|pay no attention to|do not follow|don't follow|stop following|no longer follow)"
_PRIOR = r"(?:previous|prior|preceding|above|earlier|former|foregoing|original|initial|system|developer|safety)"
_DIRECTIVES = r"(?:instructions?|prompts?|rules|directives?|guidelines|guidance|directions|constraints|orders|programming|restrictions|policies|system prompt|context)"
_INJECTION = [
    (re.compile(rf"\b{_OVERRIDE_VERB}\s+(?:(?:all|any|every|each|of|the|your|my|these|those)\s+){{0,3}}{_PRIOR}\s+(?:\w+\s+)?{_DIRECTIVES}\b"), "tells the agent to drop its earlier instructions"),
    (re.compile(rf"\b{_OVERRIDE_VERB}\s+(?:all\s+|any\s+)?(?:of\s+)?your\s+(?:\w+\s+)?(?:instructions|rules|guidelines|system prompt|programming|restrictions|policies)\b"), "tells the agent to drop its instructions"),
    (re.compile(rf"\b{_OVERRIDE_VERB}\s+(?:all\s+)?(?:of\s+)?the\s+(?:instructions|rules|prompt|guidelines)\s+(?:above|before this|given (?:to you )?(?:above|before|earlier)|you (?:were|have been) given|so far)\b"), "tells the agent to drop its earlier instructions"),
    (re.compile(rf"\b{_OVERRIDE_VERB}\s+(?:all\s+)?(?:of\s+)?the\s+above\s*(?:[.,;:!]|$|and\b)"), "tells the agent to drop its earlier instructions"),
    (re.compile(rf"\b{_OVERRIDE_VERB}\s+(?:everything|all)\s+(?:you\s+(?:were|have been)\s+told|(?:written\s+)?above|before\s+this|said\s+before)\b"), "tells the agent to drop its earlier instructions"),
    (re.compile(r"\byou are (?:now|no longer)\b[^.]{0,60}\b(?:dan|jailbroken|unrestricted|unfiltered|uncensored|developer mode|free of|without (?:any )?(?:restrictions|limits|filters|rules|guidelines))"), "resets the agent's role"),
    (re.compile(r"\b(?:do anything now|developer mode (?:enabled|on|activated)|jailbreak mode|god mode enabled)\b"), "resets the agent's role"),
    (re.compile(r"\b(?:act|behave|respond|pretend)\s+(?:as if you (?:are|were)\s+|as\s+|to be\s+)(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b"), "resets the agent's role"),
    (re.compile(r"\b(?:reveal|print|output|show|repeat|leak|dump|display|disclose|recite)\b(?:\s+\w+){0,3}?\s+(?:system prompt|initial prompt|hidden instructions|original instructions|developer (?:message|prompt)|instructions above)\b"), "asks the agent to reveal its system prompt"),
    (re.compile(r"^\s*(?:#+\s*)?\(?(?:new|updated|real|actual|revised|true|override)\s+(?:system\s+)?(?:instructions|prompt|directive)s?\)?\s*:"), "announces replacement instructions"),
    (re.compile(r"\b(?:do not|don't|never)\s+(?:tell|inform|notify|alert|warn)\s+(?:the\s+)?(?:user|human|operator)\b(?!\s+(?:to|how)\b)"), "tells the agent to hide what it does from the user"),
    (re.compile(r"\b(?:do not|don't|never)\s+let\s+(?:the\s+)?(?:user|human|operator)\s+(?:know|see|find out|notice)\b"), "tells the agent to hide what it does from the user"),
    (re.compile(r"\bwithout\s+(?:telling|informing|notifying|alerting|letting)\s+(?:the\s+)?(?:user|human|operator)\b"), "tells the agent to hide what it does from the user"),
    (re.compile(r"\b(?:hide|conceal|keep)\s+(?:this|these|that|it|your\s+\w+|the\s+fact\s+that[^.]*|what\s+you\s+\w+)\s+(?:secret\s+|hidden\s+)?from\s+the\s+(?:user|human|operator)\b"), "tells the agent to hide what it does from the user"),
    (re.compile(r"\bignora\s+(?:todas\s+)?las\s+instrucciones\s+(?:anteriores|previas)|\bignorez\s+(?:toutes\s+)?les\s+instructions\s+(?:précédentes|precedentes)|\bignoriere\s+(?:alle\s+)?(?:vorherigen|bisherigen|obigen)\s+(?:anweisungen|instruktionen)|忽略(?:之前|以上|先前|所有)"), "tells the agent to drop its earlier instructions (translated)"),
]
_TEMPLATE_TOKENS = re.compile(r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>|\[/?INST\]|<</?SYS>>")
_MENTION_CUES = re.compile(r"\b(?:injection|inject|attack|attacker|malicious|untrusted|suspicious|adversarial|phishing|such as|e\.g\.|for example|like|treat|contains?|jailbreak attempts?)\b")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|'[^']{6,}'|`[^`]*`")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l"})

# --- commands (matched on the original, whitespace-collapsed line) -----------------------------

_FETCHER = r"(?:curl|wget|fetch|http|https|iwr|irm|invoke-webrequest|invoke-restmethod|aria2c|lwp-download)"
_SHELL = r"(?:ba|z|k|c|tc|da|fi|a)?sh"
_INTERPRETER = r"(?:python[0-9.]*|perl|ruby|node|php|deno|bun|pwsh|powershell)"
_REMOTE_CODE = [
    (re.compile(rf"\b{_FETCHER}\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:\S+=\S+\s+)*)?{_SHELL}\b", re.I), "pipes downloaded text into a shell"),
    (re.compile(rf"\b{_FETCHER}\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?{_INTERPRETER}(?:\s+-)?\s*(?:$|[;&|)`'\"])", re.I), "pipes downloaded code into an interpreter"),
    (re.compile(rf"\b(?:{_SHELL}|source|\.)\s+<\(\s*{_FETCHER}\b", re.I), "runs downloaded code through process substitution"),
    (re.compile(rf"\b(?:{_SHELL}|{_INTERPRETER})\s+-c\s+[\"']?\$\(\s*{_FETCHER}\b", re.I), "runs downloaded code with -c"),
    (re.compile(rf"\beval\s+[\"']?(?:\$\(|`)\s*{_FETCHER}\b", re.I), "evals downloaded text"),
    (re.compile(r"\b(?:iex|invoke-expression)\b[^\n]*\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring|net\.webclient)\b", re.I), "runs downloaded PowerShell"),
    (re.compile(r"\b(?:iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|\n]*\|\s*(?:iex|invoke-expression)\b", re.I), "runs downloaded PowerShell"),
    (re.compile(r"\bbase64\s+(?:-d|--decode|-D)\b[^|\n]*\|\s*(?:sudo\s+)?(?:(?:ba|z|da)?sh|python[0-9.]*|perl)\b", re.I), "decodes and runs hidden code"),
    (re.compile(r"\b(?:exec|eval)\s*\(\s*(?:base64\.b64decode|__import__\(\s*['\"]base64|codecs\.decode|atob)\b", re.I), "decodes and runs hidden code"),
    (re.compile(r"\b(?:exec|eval|Function)\s*\([^\n]*\b(?:requests\.get|urlopen|urllib\.request|httpx\.get|fetch\s*\(|axios\.get|http\.get)", re.I), "runs code fetched from the network"),
    (re.compile(r"/dev/(?:tcp|udp)/[\w.-]+/\d+", re.I), "opens a raw network socket (reverse shell)"),
    (re.compile(r"\b(?:nc|ncat|netcat)\b[^\n]*\s-(?:e|c)\s+\S*(?:sh|cmd|powershell)\b", re.I), "starts a reverse shell"),
]
_DOWNLOAD_TARGET = re.compile(r"\b(?:curl\b[^\n;&|]*?\s(?:-o|--output)\s+|wget\b[^\n;&|]*?\s(?:-O|--output-document)\s+)[\"']?([\w./~$-]+)", re.I)

_LOCAL_HOST = re.compile(r"(?:https?://|@)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?(?:[/\s\"':]|$)", re.I)
_DATA_FILE = r"[\w./-]*\.(?:json|xml|ya?ml|csv|txt|graphql|gql|ndjson|jsonl)"
_EXFILTRATION: list[tuple[re.Pattern, str, Severity]] = [
    (re.compile(r"\bcurl\b[^\n|;]*\s(?:-F|--form)\s*=?\s*[\"']?[\w.\[\]-]+=[<@](?!-[\s\"'])", re.I), "uploads a local file with curl", "error"),
    (re.compile(r"\bcurl\b[^\n|;]*\s(?:-T|--upload-file)\s+(?!-[\s\"'])\S", re.I), "uploads a local file with curl", "error"),
    (re.compile(rf"\bcurl\b[^\n|;]*\s(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?)\s*=?\s*[\"']?@(?!-[\s\"']|{_DATA_FILE}\b)", re.I), "sends a local file as a request body with curl", "error"),
    (re.compile(rf"\bcurl\b[^\n|;]*\s(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?)\s*=?\s*[\"']?@{_DATA_FILE}\b", re.I), "sends a local data file as a request body; check what it holds", "warning"),
    (re.compile(r"\bwget\b[^\n|;]*--(?:post|body)-file\b", re.I), "uploads a local file with wget", "error"),
    (re.compile(r"\b(?:cat|tar|zip|gzip|base64|xxd|printenv|env|history)\b[^|\n]*\|\s*(?:curl|wget)\b[^\n]*(?:@-|-T\s+-|--upload-file\s+-|--post-file=?/dev/stdin)", re.I), "pipes local data into an upload", "error"),
    (re.compile(r"\|\s*(?:nc|ncat|netcat|socat|telnet)\b\s+(?!-l\b|-z\b)[\w.-]+", re.I), "pipes local data to a network socket", "error"),
    (re.compile(r"\b(?:nc|ncat|netcat|socat)\b\s+[\w.-]+\s+\d+\s*<\s*\S", re.I), "sends a local file to a network socket", "error"),
    (re.compile(r"\b(?:requests|httpx|session|client)\.(?:post|put|patch)\s*\([^\n]*\b(?:files\s*=|data\s*=\s*open\s*\()", re.I), "uploads a local file from code", "error"),
    (re.compile(r"\b(?:nslookup|dig|host)\s+[^\n]*\$\((?:whoami|cat|env|hostname|id|printenv)\b", re.I), "leaks data through DNS lookups", "error"),
    (re.compile(r"https?://[^\s)\"']*[?&][\w-]+=(?:\$\{?|\{\{\s*|\{|%24)\w*(?:history|conversation|chat|contents?|files?|env|environ|cookies?|data|secrets?|credentials?|messages?)", re.I), "puts local data into a URL", "error"),
    (
        re.compile(
            r"\b(?:send|upload|post|transmit|forward|exfiltrate|copy|email|mail|leak|paste|sync|beam)\b[^.\n]{0,80}?"
            r"\b(?:contents?\s+of\s+\S+|secrets?|credentials?|api[\s_-]?keys?|private\s+keys?|ssh\s+keys?|tokens?|passwords?|cookies?|env(?:ironment)?\s+variables|\.env\b|~/\.\w+|id_rsa|(?:shell|bash|browser)\s+history|(?:the\s+)?(?:entire|whole)\s+(?:repo(?:sitory)?|codebase|home\s+(?:dir(?:ectory)?|folder))|all\s+(?:the\s+)?(?:files|source\s+code))"
            r"[^.\n]{0,80}?\b(?:to|at|into)\s+(?:https?://|ftp://|[\w.+-]+@[\w-]+\.[\w.]+|(?:my|our|this|a|the)\s+(?:server|webhook|endpoint|pastebin|gist|discord|telegram|slack\s+webhook)|[\w-]+\.(?:com|net|org|io|xyz|ru|cn|top|site|sh|me|app|dev)\b|webhook|pastebin|ngrok|requestbin|transfer\.sh)",
            re.I,
        ),
        "tells the agent to send secrets or files to a remote address",
        "error",
    ),
    (re.compile(r"\bexfiltrat\w*\b", re.I), "mentions exfiltrating data", "error"),
]
_SENSITIVE = re.compile(
    r"~/\.ssh/?(?=[\s\"'|;&)]|$)|~/\.ssh/(?!\S*\.pub\b|known_hosts\b|config\b)\S+|\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)|\.aws/credentials|\.netrc\b|\.git-credentials"
    r"|\.docker/config\.json|\.kube/config|(?:^|[\s\"'=@/])\.env(?:\.\w+)?\b(?!\.example)|/etc/(?:passwd|shadow)\b|\bprintenv\s*(?:$|[|;&)>`])|(?:^|[|;&(]\s*)env\s*(?:\||\)|$)"
    r"|(?:dict|json\.dumps|str|repr)\(\s*os\.environ\s*\)|os\.environ\.(?:copy|items)\(\)|JSON\.stringify\(\s*process\.env\s*\)|\.bash_history|\.zsh_history|Login Data|Cookies\.binarycookies|keychain",
    re.I,
)
_IDENTITY_ARGUMENT = re.compile(r"\s(?:-i|--identity|IdentityFile|--netrc-file|--key|--cert)\s*=?\s*\S+", re.I)
_TRAILING_COMMENT = re.compile(r"\s+#\s.*$")
_SEND_TOOL = re.compile(r"\b(?:curl|wget|nc|ncat|netcat|socat|scp|rsync|sftp|ftp|requests\.(?:post|put|get)|httpx\.(?:post|put|get)|urlopen|fetch\s*\(|axios\.\w+|Invoke-(?:WebRequest|RestMethod)|sendmail|smtplib|mail\s+-s)\b", re.I)
_UPLOAD = re.compile(
    r"\bcurl\b[^\n]*\s(?:-d|--data\S*|-F|--form|-T|--upload-file|-X\s*(?:POST|PUT))\b|\bwget\b[^\n]*--post|\b(?:nc|ncat|netcat|socat)\s+[\w.-]+\s+\d+"
    r"|\b(?:scp|rsync|sftp)\b[^\n]*\s[\w.-]+@?[\w.-]+:|\b(?:requests|httpx|session|client)\.(?:post|put|patch)\s*\(|\burlopen\s*\([^\n]*data\s*="
    r"|\bfetch\s*\([^\n]*method\s*:\s*['\"](?:POST|PUT)|\baxios\.(?:post|put)\b|Invoke-(?:WebRequest|RestMethod)[^\n]*-Method\s+(?:Post|Put)|\bsmtplib\b|\bsendmail\b",
    re.I,
)

_RM_FLAGS = r"(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)"
_DANGEROUS_TARGET = (
    r"(?:/|/\*|~|~/|~/\*|\$HOME/?\*?|\$\{HOME\}/?\*?|\"\$HOME\"/?\*?|\"\$\{HOME\}\"/?\*?|\*|\.|\./\*|\.\.|/(?:home|etc|usr|var|bin|sbin|boot|lib|lib64|opt|root|sys|dev|proc|srv|mnt|Users|System|Library)/?\*?"
    r"|\"?\$\{?[A-Za-z_]\w*\}?\"?/\*?)"
)
_DESTRUCTIVE: list[tuple[re.Pattern, str, Severity]] = [
    (re.compile(rf"\brm\s+(?:-\S+\s+)*{_RM_FLAGS}(?:\s+-\S+)*\s+(?:--\s+)?(?:\S+\s+)*?{_DANGEROUS_TARGET}(?=\s|$|[;&|)`'\"])"), "deletes a root, home, system or unguarded-variable path recursively", "error"),
    (re.compile(r"--no-preserve-root\b"), "disables rm's protection of /", "error"),
    (re.compile(r"\bgit\s+push\b[^\n;&|`]*?\s(?:--force(?![-\w])|-[a-zA-Z]*f[a-zA-Z]*\b|\+[\w/.-]*(?::[\w/.-]+)?)"), "force-pushes (use --force-with-lease)", "error"),
    (re.compile(r"\bgit\s+push\b[^\n;&|`]*\s--mirror\b"), "overwrites every remote ref (push --mirror)", "error"),
    (re.compile(r"\bmkfs(?:\.\w+)?\s+(?:-\S+\s+)*/dev/", re.I), "formats a disk", "error"),
    (re.compile(r"\bdd\b[^\n]*\bof=/dev/(?:sd|hd|nvme|xvd|vd|disk|mmcblk|rdisk)\w*", re.I), "overwrites a disk", "error"),
    (re.compile(r">\s*/dev/(?:sd|hd|nvme|xvd|vd|disk|mmcblk)\w*"), "overwrites a disk", "error"),
    (re.compile(r"\b(?:wipefs\s+-a|shred\b[^\n]*/dev/)", re.I), "wipes a disk", "error"),
    (re.compile(r":\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:"), "is a fork bomb", "error"),
    (re.compile(r"\b(?:chmod|chown|chgrp)\s+(?:-\S*R\S*|--recursive)\s+(?:\S+\s+)?/(?=\s|$|\*)"), "changes permissions of the whole filesystem", "error"),
    (re.compile(r"\bterraform\s+destroy\b[^\n]*-auto-approve\b", re.I), "destroys infrastructure without confirmation", "error"),
    (re.compile(r"\bkubectl\s+delete\b[^\n]*(?:--all\b|\b(?:ns|namespace)\s+\S)", re.I), "deletes Kubernetes resources wholesale", "error"),
    (re.compile(r"--dangerously-skip-permissions\b|--dangerously-bypass-approvals-and-sandbox\b|\s--yolo\b"), "turns off the agent's permission checks", "error"),
    (re.compile(r"\bshutil\.rmtree\s*\(\s*(?:['\"](?:/|~|/home|/etc|/usr)['\"]|os\.path\.expanduser\(\s*['\"]~/?['\"]\s*\)|Path\.home\(\)|os\.environ\[\s*['\"]HOME['\"]\s*\])\s*[,)]"), "deletes a root or home folder from code", "error"),
    (re.compile(r"[\[(,]\s*['\"]rm['\"]\s*,\s*(?:['\"]-\w*['\"]\s*,\s*)*['\"]-\w*[rR]\w*['\"]\s*,\s*(?:['\"]-\w*['\"]\s*,\s*)*['\"](?:/|~|/\*|\$HOME)['\"]"), "deletes a root or home folder from code", "error"),
    (re.compile(r"['\"]push['\"]\s*,\s*(?:['\"][^'\"]*['\"]\s*,\s*)*['\"](?:-f|--force)['\"]"), "force-pushes from code", "error"),
    (re.compile(r"\baws\s+s3\s+(?:rm|rb)\b[^\n]*--(?:recursive|force)\b", re.I), "deletes a bucket's contents", "warning"),
    (re.compile(r"\bgit\s+reset\s+--hard\b"), "discards uncommitted work (git reset --hard)", "warning"),
    (re.compile(r"\bgit\s+clean\s+-[a-zA-Z]*f[a-zA-Z]*\b"), "deletes untracked files (git clean -f)", "warning"),
    (re.compile(r"\bgit\s+branch\s+-D\b"), "force-deletes a branch", "warning"),
    (re.compile(r"\bDROP\s+(?:DATABASE|SCHEMA|TABLE)\b", re.I), "drops a database object", "warning"),
    (re.compile(r"\bTRUNCATE\s+TABLE\s+\w+", re.I), "empties a table", "warning"),
]
_GUARDED_VARIABLE = re.compile(r"\$\{\w+:\?")

_NEGATION = re.compile(
    r"\b(?:never|not|don't|dont|do not|doesn't|didn't|avoid|avoiding|refuse|refused|rejected|declined|denied|won't|shouldn't|mustn't|cannot|can't|instead of|rather than|no longer|stop)\b"
    r"|\b(?:ask|asking|confirm|confirming|check|checking)\b[^.]{0,40}\b(?:before|first)\b|\b(?:go-ahead|approval|permission|confirmation|consent)\b|\babout to\b|\bunless\b|\bonly (?:if|when|after)\b",
    re.I,
)
_NOT_NEGATION = re.compile(r"\b(?:don't|do not|never|not)\s+(?:forget|hesitate|skip|wait|stop|bother|only|just)\b|\bwithout\s+(?:asking|confirmation|approval|permission)\b|\bno\s+(?:need|confirmation|approval|permission)\b", re.I)
_SENTENCE_BREAK = re.compile(r"[.!?;:](?:\s|$)|\s[-–—]\s")
_COMMENT = re.compile(r"^\s*(?:#(?!!)|//|--\s|rem\s|::|/?\*)", re.I)
_FENCE_LINE = re.compile(r"^\s*(```|~~~)")


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
        if not script and _FENCE_LINE.match(text):
            in_fence = not in_fence
            classified.append(_Line(number, "", False))
            continue
        code = (script or in_fence) and not _COMMENT.match(text)
        classified.append(_Line(number, text, code))
    return classified


def _scan_hidden(line: str, number: int, report) -> None:
    if _TAG_CHARS.search(line):
        hidden = "".join(chr(ord(c) - 0xE0000) for c in _TAG_CHARS.findall(line) if 0x20 <= ord(c) - 0xE0000 < 0x7F)
        report(number, "safety.hidden-text", f"invisible Unicode tag characters spell out text: {hidden[:60]!r}")
    elif _BIDI.search(line):
        report(number, "safety.hidden-text", "bidirectional control characters can make the text read differently from what runs")
    elif _ZERO_WIDTH.search(line.lstrip("\ufeff") if number == 1 else line):
        report(number, "safety.hidden-text", "zero-width characters hide or split words", "warning")


def normalise(line: str) -> str:
    """The line as the injection patterns see it: NFKC, invisible characters and Markdown
    emphasis removed, whitespace collapsed, lower case.

    Args:
        line: one line of text.

    Returns:
        The normalised line (digit-for-letter swaps are undone separately, on a copy).
    """
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", line))
    text = re.sub(r"[*_~]+", "", text)
    return " ".join(text.split()).lower()


def _scan_injection(line: _Line, report) -> None:
    if _TEMPLATE_TOKENS.search(line.text):
        report(line.number, "safety.prompt-injection", "chat-template control tokens pose as a system or user turn")
    plain = normalise(line.text)
    variants = (plain, plain.translate(_LEET)) if re.search(r"[0-9@$|]", plain) else (plain,)
    for pattern, what in _INJECTION:
        for text in variants:
            match = pattern.search(text)
            if not match:
                continue
            quoted = any(q.start() <= match.start() and match.end() <= q.end() for q in _QUOTED.finditer(text))
            negated = not line.code and not what.startswith("tells the agent to hide") and _is_negated(_sentence_prefix(text, match.start()))
            if negated or (quoted and _MENTION_CUES.search(text)):
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
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", line.text))

    def excused(position: int) -> bool:
        """Prose that says not to (or to ask first) is advice, not an instruction."""
        return not line.code and _is_negated(_sentence_prefix(text, position))

    for pattern, message in _REMOTE_CODE:
        match = pattern.search(text)
        if match and not excused(match.start()):
            report(line.number, "safety.remote-code", f"the {what} {message}: {_excerpt(match.group(0))}")
            break
    else:
        _scan_download_then_run(text, line.number, report, excused, what)
    for pattern, message, severity in _EXFILTRATION:
        match = pattern.search(text)
        if not match or excused(match.start()):
            continue
        if _LOCAL_HOST.search(text[match.start() :]) and not _SENSITIVE.search(text):
            continue
        report(line.number, "safety.exfiltration", f"the {what} {message}: {_excerpt(match.group(0))}", severity)
        if severity == "error":
            break
    for pattern, message, severity in _DESTRUCTIVE:
        match = pattern.search(text)
        if not match or excused(match.start()) or _GUARDED_VARIABLE.search(match.group(0)):
            continue
        report(line.number, "safety.destructive", f"the {what} {message}: {_excerpt(match.group(0))}", severity)
        if severity == "error":
            break


def _scan_download_then_run(text: str, number: int, report, excused, what: str) -> None:
    """``curl -o x.sh URL && sh x.sh`` (or ``chmod +x x && ./x``) on one line."""
    for match in _DOWNLOAD_TARGET.finditer(text):
        name = re.escape(Path(match.group(1)).name)
        rest = text[match.end() :]
        runs = rf"(?:&&|;|\|\|)\s*(?:chmod\s+\S+\s+\S+\s*(?:&&|;)\s*)?(?:sudo\s+)?(?:{_SHELL}\s+|source\s+|\.\s+|{_INTERPRETER}\s+|\./|/)\S*{name}\b"
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
    text = _IDENTITY_ARGUMENT.sub(" ", _TRAILING_COMMENT.sub("", text))
    return _SENSITIVE.search(text)


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
        sink = _SEND_TOOL.search(line.text) if same_line else _UPLOAD.search(line.text)
        if not sink or (_LOCAL_HOST.search(line.text) and not same_line):
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
    breaks = list(_SENTENCE_BREAK.finditer(before))
    return before[breaks[-1].end() :] if breaks else before


def _is_negated(prefix: str) -> bool:
    """True when the clause before a match says not to do it ("never run", "do not pipe"), or to
    ask first ("ask before", "get the user's go-ahead before running")."""
    cleaned = _NOT_NEGATION.sub(" ", prefix.replace("`", " "))
    return bool(_NEGATION.search(cleaned))


def _excerpt(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
