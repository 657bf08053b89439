"""The patterns of the safety scan (:mod:`skillforge.skill.safety`): regular expressions for hidden
text, prompt injection, remote code, exfiltration and destructive commands, and the cues that mark a
mention or a negation. Data only; the scan and its rules of evidence live in ``safety.py``.
"""

from __future__ import annotations

import re

from skillforge.skill.rules import Severity

MAX_SCAN_BYTES = 2_000_000
"""Files larger than this (bytes) are scanned only up to this size."""

SCRIPT_SUFFIXES = {
    ".sh",
    ".bash",
    ".zsh",
    ".fish",
    ".py",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".rb",
    ".pl",
    ".php",
    ".ps1",
    ".psm1",
    ".bat",
    ".cmd",
    ".lua",
    ".r",
}

# --- hidden text -------------------------------------------------------------------------------

TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZERO_WIDTH = re.compile("[\u200b\u2060-\u2064\u180e\ufeff]")
INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\u180e\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f\u00ad]")

# --- prompt injection (matched on the normalised, lower-cased line) ----------------------------

OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|bypass|neglect|discard|abandon|set aside|pay no attention to|do not follow|don't follow|stop following|no longer follow)"
PRIOR = r"(?:previous|prior|preceding|above|earlier|former|foregoing|original|initial|system|developer|safety)"
DIRECTIVES = r"(?:instructions?|prompts?|rules|directives?|guidelines|guidance|directions|constraints|orders|programming|restrictions|policies|system prompt|context)"
INJECTION = [
    (
        re.compile(
            rf"\b{OVERRIDE_VERB}\s+(?:(?:all|any|every|each|of|the|your|my|these|those)\s+){{0,3}}{PRIOR}\s+(?:\w+\s+)?{DIRECTIVES}\b"
        ),
        "tells the agent to drop its earlier instructions",
    ),
    (
        re.compile(
            rf"\b{OVERRIDE_VERB}\s+(?:all\s+|any\s+)?(?:of\s+)?your\s+(?:\w+\s+)?(?:instructions|rules|guidelines|system prompt|programming|restrictions|policies)\b"
        ),
        "tells the agent to drop its instructions",
    ),
    (
        re.compile(
            rf"\b{OVERRIDE_VERB}\s+(?:all\s+)?(?:of\s+)?the\s+(?:instructions|rules|prompt|guidelines)\s+(?:above|before this|given (?:to you )?(?:above|before|earlier)|you (?:were|have been) given|so far)\b"
        ),
        "tells the agent to drop its earlier instructions",
    ),
    (
        re.compile(rf"\b{OVERRIDE_VERB}\s+(?:all\s+)?(?:of\s+)?the\s+above\s*(?:[.,;:!]|$|and\b)"),
        "tells the agent to drop its earlier instructions",
    ),
    (
        re.compile(
            rf"\b{OVERRIDE_VERB}\s+(?:everything|all)\s+(?:you\s+(?:were|have been)\s+told|(?:written\s+)?above|before\s+this|said\s+before)\b"
        ),
        "tells the agent to drop its earlier instructions",
    ),
    (
        re.compile(
            r"\byou are (?:now|no longer)\b[^.]{0,60}\b(?:dan|jailbroken|unrestricted|unfiltered|uncensored|developer mode|free of|without (?:any )?(?:restrictions|limits|filters|rules|guidelines))"
        ),
        "resets the agent's role",
    ),
    (
        re.compile(r"\b(?:do anything now|developer mode (?:enabled|on|activated)|jailbreak mode|god mode enabled)\b"),
        "resets the agent's role",
    ),
    (
        re.compile(
            r"\b(?:act|behave|respond|pretend)\s+(?:as if you (?:are|were)\s+|as\s+|to be\s+)(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b"
        ),
        "resets the agent's role",
    ),
    (
        re.compile(
            r"\b(?:reveal|print|output|show|repeat|leak|dump|display|disclose|recite)\b(?:\s+\w+){0,3}?\s+(?:system prompt|initial prompt|hidden instructions|original instructions|developer (?:message|prompt)|instructions above)\b"
        ),
        "asks the agent to reveal its system prompt",
    ),
    (
        re.compile(
            r"^\s*(?:#+\s*)?\(?(?:new|updated|real|actual|revised|true|override)\s+(?:system\s+)?(?:instructions|prompt|directive)s?\)?\s*:"
        ),
        "announces replacement instructions",
    ),
    (
        re.compile(
            r"\b(?:do not|don't|never)\s+(?:tell|inform|notify|alert|warn)\s+(?:the\s+)?(?:user|human|operator)\b(?!\s+(?:to|how)\b)"
        ),
        "tells the agent to hide what it does from the user",
    ),
    (
        re.compile(
            r"\b(?:do not|don't|never)\s+let\s+(?:the\s+)?(?:user|human|operator)\s+(?:know|see|find out|notice)\b"
        ),
        "tells the agent to hide what it does from the user",
    ),
    (
        re.compile(
            r"\bwithout\s+(?:telling|informing|notifying|alerting|letting)\s+(?:the\s+)?(?:user|human|operator)\b"
        ),
        "tells the agent to hide what it does from the user",
    ),
    (
        re.compile(
            r"\b(?:hide|conceal|keep)\s+(?:this|these|that|it|your\s+\w+|the\s+fact\s+that[^.]*|what\s+you\s+\w+)\s+(?:secret\s+|hidden\s+)?from\s+the\s+(?:user|human|operator)\b"
        ),
        "tells the agent to hide what it does from the user",
    ),
    (
        re.compile(
            r"\bignora\s+(?:todas\s+)?las\s+instrucciones\s+(?:anteriores|previas)|\bignorez\s+(?:toutes\s+)?les\s+instructions\s+(?:précédentes|precedentes)|\bignoriere\s+(?:alle\s+)?(?:vorherigen|bisherigen|obigen)\s+(?:anweisungen|instruktionen)|忽略(?:之前|以上|先前|所有)"
        ),
        "tells the agent to drop its earlier instructions (translated)",
    ),
]
TEMPLATE_TOKENS = re.compile(
    r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>|\[/?INST\]|<</?SYS>>"
)
MENTION_CUES = re.compile(
    r"\b(?:injection|inject|attack|attacker|malicious|untrusted|suspicious|adversarial|phishing|such as|e\.g\.|for example|like|treat|contains?|jailbreak attempts?)\b"
)
QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|'[^']{6,}'|`[^`]*`")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l"})

# --- commands (matched on the original, whitespace-collapsed line) -----------------------------

FETCHER = r"(?:curl|wget|fetch|http|https|iwr|irm|invoke-webrequest|invoke-restmethod|aria2c|lwp-download)"
SHELL = r"(?:ba|z|k|c|tc|da|fi|a)?sh"
INTERPRETER = r"(?:python[0-9.]*|perl|ruby|node|php|deno|bun|pwsh|powershell)"
REMOTE_CODE = [
    (
        re.compile(rf"\b{FETCHER}\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:\S+=\S+\s+)*)?{SHELL}\b", re.I),
        "pipes downloaded text into a shell",
    ),
    (
        re.compile(
            rf"\b{FETCHER}\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?{INTERPRETER}(?:\s+-)?\s*(?:$|[;&|)`'\"])", re.I
        ),
        "pipes downloaded code into an interpreter",
    ),
    (
        re.compile(rf"\b(?:{SHELL}|source|\.)\s+<\(\s*{FETCHER}\b", re.I),
        "runs downloaded code through process substitution",
    ),
    (re.compile(rf"\b(?:{SHELL}|{INTERPRETER})\s+-c\s+[\"']?\$\(\s*{FETCHER}\b", re.I), "runs downloaded code with -c"),
    (re.compile(rf"\beval\s+[\"']?(?:\$\(|`)\s*{FETCHER}\b", re.I), "evals downloaded text"),
    (
        re.compile(
            r"\b(?:iex|invoke-expression)\b[^\n]*\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring|net\.webclient)\b",
            re.I,
        ),
        "runs downloaded PowerShell",
    ),
    (
        re.compile(r"\b(?:iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|\n]*\|\s*(?:iex|invoke-expression)\b", re.I),
        "runs downloaded PowerShell",
    ),
    (
        re.compile(
            r"\bbase64\s+(?:-d|--decode|-D)\b[^|\n]*\|\s*(?:sudo\s+)?(?:(?:ba|z|da)?sh|python[0-9.]*|perl)\b", re.I
        ),
        "decodes and runs hidden code",
    ),
    (
        re.compile(
            r"\b(?:exec|eval)\s*\(\s*(?:base64\.b64decode|__import__\(\s*['\"]base64|codecs\.decode|atob)\b", re.I
        ),
        "decodes and runs hidden code",
    ),
    (
        re.compile(
            r"\b(?:exec|eval|Function)\s*\([^\n]*\b(?:requests\.get|urlopen|urllib\.request|httpx\.get|fetch\s*\(|axios\.get|http\.get)",
            re.I,
        ),
        "runs code fetched from the network",
    ),
    (re.compile(r"/dev/(?:tcp|udp)/[\w.-]+/\d+", re.I), "opens a raw network socket (reverse shell)"),
    (
        re.compile(r"\b(?:nc|ncat|netcat)\b[^\n]*\s-(?:e|c)\s+\S*(?:sh|cmd|powershell)\b", re.I),
        "starts a reverse shell",
    ),
]
DOWNLOAD_TARGET = re.compile(
    r"\b(?:curl\b[^\n;&|]*?\s(?:-o|--output)\s+|wget\b[^\n;&|]*?\s(?:-O|--output-document)\s+)[\"']?([\w./~$-]+)", re.I
)

LOCAL_HOST = re.compile(r"(?:https?://|@)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?(?:[/\s\"':]|$)", re.I)
DATA_FILE = r"[\w./-]*\.(?:json|xml|ya?ml|csv|txt|graphql|gql|ndjson|jsonl)"
EXFILTRATION: list[tuple[re.Pattern, str, Severity]] = [
    (
        re.compile(r"\bcurl\b[^\n|;]*\s(?:-F|--form)\s*=?\s*[\"']?[\w.\[\]-]+=[<@](?!-[\s\"'])", re.I),
        "uploads a local file with curl",
        "error",
    ),
    (
        re.compile(r"\bcurl\b[^\n|;]*\s(?:-T|--upload-file)\s+(?!-[\s\"'])\S", re.I),
        "uploads a local file with curl",
        "error",
    ),
    (
        re.compile(
            rf"\bcurl\b[^\n|;]*\s(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?)\s*=?\s*[\"']?@(?!-[\s\"']|{DATA_FILE}\b)",
            re.I,
        ),
        "sends a local file as a request body with curl",
        "error",
    ),
    (
        re.compile(
            rf"\bcurl\b[^\n|;]*\s(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?)\s*=?\s*[\"']?@{DATA_FILE}\b", re.I
        ),
        "sends a local data file as a request body; check what it holds",
        "warning",
    ),
    (re.compile(r"\bwget\b[^\n|;]*--(?:post|body)-file\b", re.I), "uploads a local file with wget", "error"),
    (
        re.compile(
            r"\b(?:cat|tar|zip|gzip|base64|xxd|printenv|env|history)\b[^|\n]*\|\s*(?:curl|wget)\b[^\n]*(?:@-|-T\s+-|--upload-file\s+-|--post-file=?/dev/stdin)",
            re.I,
        ),
        "pipes local data into an upload",
        "error",
    ),
    (
        re.compile(r"\|\s*(?:nc|ncat|netcat|socat|telnet)\b\s+(?!-l\b|-z\b)[\w.-]+", re.I),
        "pipes local data to a network socket",
        "error",
    ),
    (
        re.compile(r"\b(?:nc|ncat|netcat|socat)\b\s+[\w.-]+\s+\d+\s*<\s*\S", re.I),
        "sends a local file to a network socket",
        "error",
    ),
    (
        re.compile(
            r"\b(?:requests|httpx|session|client)\.(?:post|put|patch)\s*\([^\n]*\b(?:files\s*=|data\s*=\s*open\s*\()",
            re.I,
        ),
        "uploads a local file from code",
        "error",
    ),
    (
        re.compile(r"\b(?:nslookup|dig|host)\s+[^\n]*\$\((?:whoami|cat|env|hostname|id|printenv)\b", re.I),
        "leaks data through DNS lookups",
        "error",
    ),
    (
        re.compile(
            r"https?://[^\s)\"']*[?&][\w-]+=(?:\$\{?|\{\{\s*|\{|%24)\w*(?:history|conversation|chat|contents?|files?|env|environ|cookies?|data|secrets?|credentials?|messages?)",
            re.I,
        ),
        "puts local data into a URL",
        "error",
    ),
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
SENSITIVE = re.compile(
    r"~/\.ssh/?(?=[\s\"'|;&)]|$)|~/\.ssh/(?!\S*\.pub\b|known_hosts\b|config\b)\S+|\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)|\.aws/credentials|\.netrc\b|\.git-credentials"
    r"|\.docker/config\.json|\.kube/config|(?:^|[\s\"'=@/])\.env(?:\.\w+)?\b(?!\.example)|/etc/(?:passwd|shadow)\b|\bprintenv\s*(?:$|[|;&)>`])|(?:^|[|;&(]\s*)env\s*(?:\||\)|$)"
    r"|(?:dict|json\.dumps|str|repr)\(\s*os\.environ\s*\)|os\.environ\.(?:copy|items)\(\)|JSON\.stringify\(\s*process\.env\s*\)|\.bash_history|\.zsh_history|Login Data|Cookies\.binarycookies|keychain",
    re.I,
)
IDENTITY_ARGUMENT = re.compile(r"\s(?:-i|--identity|IdentityFile|--netrc-file|--key|--cert)\s*=?\s*\S+", re.I)
TRAILING_COMMENT = re.compile(r"\s+#\s.*$")
SEND_TOOL = re.compile(
    r"\b(?:curl|wget|nc|ncat|netcat|socat|scp|rsync|sftp|ftp|requests\.(?:post|put|get)|httpx\.(?:post|put|get)|urlopen|fetch\s*\(|axios\.\w+|Invoke-(?:WebRequest|RestMethod)|sendmail|smtplib|mail\s+-s)\b",
    re.I,
)
UPLOAD = re.compile(
    r"\bcurl\b[^\n]*\s(?:-d|--data\S*|-F|--form|-T|--upload-file|-X\s*(?:POST|PUT))\b|\bwget\b[^\n]*--post|\b(?:nc|ncat|netcat|socat)\s+[\w.-]+\s+\d+"
    r"|\b(?:scp|rsync|sftp)\b[^\n]*\s[\w.-]+@?[\w.-]+:|\b(?:requests|httpx|session|client)\.(?:post|put|patch)\s*\(|\burlopen\s*\([^\n]*data\s*="
    r"|\bfetch\s*\([^\n]*method\s*:\s*['\"](?:POST|PUT)|\baxios\.(?:post|put)\b|Invoke-(?:WebRequest|RestMethod)[^\n]*-Method\s+(?:Post|Put)|\bsmtplib\b|\bsendmail\b",
    re.I,
)

RM_FLAGS = r"(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)"
DANGEROUS_TARGET = (
    r"(?:/|/\*|~|~/|~/\*|\$HOME/?\*?|\$\{HOME\}/?\*?|\"\$HOME\"/?\*?|\"\$\{HOME\}\"/?\*?|\*|\.|\./\*|\.\.|/(?:home|etc|usr|var|bin|sbin|boot|lib|lib64|opt|root|sys|dev|proc|srv|mnt|Users|System|Library)/?\*?"
    r"|\"?\$\{?[A-Za-z_]\w*\}?\"?/\*?)"
)
DESTRUCTIVE: list[tuple[re.Pattern, str, Severity]] = [
    (
        re.compile(
            rf"\brm\s+(?:-\S+\s+)*{RM_FLAGS}(?:\s+-\S+)*\s+(?:--\s+)?(?:\S+\s+)*?{DANGEROUS_TARGET}(?=\s|$|[;&|)`'\"])"
        ),
        "deletes a root, home, system or unguarded-variable path recursively",
        "error",
    ),
    (re.compile(r"--no-preserve-root\b"), "disables rm's protection of /", "error"),
    (
        re.compile(r"\bgit\s+push\b[^\n;&|`]*?\s(?:--force(?![-\w])|-[a-zA-Z]*f[a-zA-Z]*\b|\+[\w/.-]*(?::[\w/.-]+)?)"),
        "force-pushes (use --force-with-lease)",
        "error",
    ),
    (re.compile(r"\bgit\s+push\b[^\n;&|`]*\s--mirror\b"), "overwrites every remote ref (push --mirror)", "error"),
    (re.compile(r"\bmkfs(?:\.\w+)?\s+(?:-\S+\s+)*/dev/", re.I), "formats a disk", "error"),
    (
        re.compile(r"\bdd\b[^\n]*\bof=/dev/(?:sd|hd|nvme|xvd|vd|disk|mmcblk|rdisk)\w*", re.I),
        "overwrites a disk",
        "error",
    ),
    (re.compile(r">\s*/dev/(?:sd|hd|nvme|xvd|vd|disk|mmcblk)\w*"), "overwrites a disk", "error"),
    (re.compile(r"\b(?:wipefs\s+-a|shred\b[^\n]*/dev/)", re.I), "wipes a disk", "error"),
    (re.compile(r":\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:"), "is a fork bomb", "error"),
    (
        re.compile(r"\b(?:chmod|chown|chgrp)\s+(?:-\S*R\S*|--recursive)\s+(?:\S+\s+)?/(?=\s|$|\*)"),
        "changes permissions of the whole filesystem",
        "error",
    ),
    (
        re.compile(r"\bterraform\s+destroy\b[^\n]*-auto-approve\b", re.I),
        "destroys infrastructure without confirmation",
        "error",
    ),
    (
        re.compile(r"\bkubectl\s+delete\b[^\n]*(?:--all\b|\b(?:ns|namespace)\s+\S)", re.I),
        "deletes Kubernetes resources wholesale",
        "error",
    ),
    (
        re.compile(r"--dangerously-skip-permissions\b|--dangerously-bypass-approvals-and-sandbox\b|\s--yolo\b"),
        "turns off the agent's permission checks",
        "error",
    ),
    (
        re.compile(
            r"\bshutil\.rmtree\s*\(\s*(?:['\"](?:/|~|/home|/etc|/usr)['\"]|os\.path\.expanduser\(\s*['\"]~/?['\"]\s*\)|Path\.home\(\)|os\.environ\[\s*['\"]HOME['\"]\s*\])\s*[,)]"
        ),
        "deletes a root or home folder from code",
        "error",
    ),
    (
        re.compile(
            r"[\[(,]\s*['\"]rm['\"]\s*,\s*(?:['\"]-\w*['\"]\s*,\s*)*['\"]-\w*[rR]\w*['\"]\s*,\s*(?:['\"]-\w*['\"]\s*,\s*)*['\"](?:/|~|/\*|\$HOME)['\"]"
        ),
        "deletes a root or home folder from code",
        "error",
    ),
    (
        re.compile(r"['\"]push['\"]\s*,\s*(?:['\"][^'\"]*['\"]\s*,\s*)*['\"](?:-f|--force)['\"]"),
        "force-pushes from code",
        "error",
    ),
    (
        re.compile(r"\baws\s+s3\s+(?:rm|rb)\b[^\n]*--(?:recursive|force)\b", re.I),
        "deletes a bucket's contents",
        "warning",
    ),
    (re.compile(r"\bgit\s+reset\s+--hard\b"), "discards uncommitted work (git reset --hard)", "warning"),
    (re.compile(r"\bgit\s+clean\s+-[a-zA-Z]*f[a-zA-Z]*\b"), "deletes untracked files (git clean -f)", "warning"),
    (re.compile(r"\bgit\s+branch\s+-D\b"), "force-deletes a branch", "warning"),
    (re.compile(r"\bDROP\s+(?:DATABASE|SCHEMA|TABLE)\b", re.I), "drops a database object", "warning"),
    (re.compile(r"\bTRUNCATE\s+TABLE\s+\w+", re.I), "empties a table", "warning"),
]
GUARDED_VARIABLE = re.compile(r"\$\{\w+:\?")

NEGATION = re.compile(
    r"\b(?:never|not|don't|dont|do not|doesn't|didn't|avoid|avoiding|refuse|refused|rejected|declined|denied|won't|shouldn't|mustn't|cannot|can't|instead of|rather than|no longer|stop)\b"
    r"|\b(?:ask|asking|confirm|confirming|check|checking)\b[^.]{0,40}\b(?:before|first)\b|\b(?:go-ahead|approval|permission|confirmation|consent)\b|\babout to\b|\bunless\b|\bonly (?:if|when|after)\b",
    re.I,
)
NOT_NEGATION = re.compile(
    r"\b(?:don't|do not|never|not)\s+(?:forget|hesitate|skip|wait|stop|bother|only|just)\b|\bwithout\s+(?:asking|confirmation|approval|permission)\b|\bno\s+(?:need|confirmation|approval|permission)\b",
    re.I,
)
SENTENCE_BREAK = re.compile(r"[.!?;:](?:\s|$)|\s[-–—]\s")
COMMENT = re.compile(r"^\s*(?:#(?!!)|//|--\s|rem\s|::|/?\*)", re.I)
FENCE_LINE = re.compile(r"^\s*(```|~~~)")
