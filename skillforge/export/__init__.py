"""Export a stored skill version to the agent hosts people use, and import skills back.

* :mod:`.registry` — every host by its ``--to`` name (one module per host in :mod:`.hosts`);
* :mod:`.exporter` — ``skillforge export``; :mod:`.importer` — ``skillforge import``;
* :mod:`.apply` and :mod:`.manifest` — writing, idempotence, ``--dry-run``/``--force``;
* :mod:`.paths` and :mod:`.source` — path safety; :mod:`.bundle` — ``.skill`` zips;
* :mod:`.document` and :mod:`.block` — translation for hosts that are not skill-aware.
"""
