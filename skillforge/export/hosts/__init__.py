"""One module per export host, each defining ``HOST`` (see :class:`skillforge.export.host.Host`).

Adding a host: one module here and one line in :mod:`skillforge.export.registry`.
"""
