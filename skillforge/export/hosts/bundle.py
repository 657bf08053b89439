"""``.skill`` bundle: a zip with one top-level ``<name>/`` folder, written to ``--dest`` (default:
the current folder) — the format of Anthropic's packager, uploadable to Claude and read back by
``skillforge import``. See :mod:`skillforge.export.bundle`.
"""

from skillforge.export.layouts import BundleHost

HOST = BundleHost()
