"""litellm, imported on first use: the one place skillforge imports it (DESIGN §1).

Importing litellm costs seconds and ~165 MB, which ``skillforge --help`` and the offline path must
not pay. ``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set before the import so that litellm reads its
bundled model/cost map instead of fetching it over the network.
"""

from __future__ import annotations

import os

_litellm_module = None


def litellm():
    """Import litellm on first use, offline (local cost map), quietly; return the module."""
    global _litellm_module
    if _litellm_module is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm as module

        module.suppress_debug_info = True
        module.drop_params = True
        _litellm_module = module
    return _litellm_module
