"""The only seam to a model (DESIGN §1, §5): the only package that imports litellm.

:mod:`.client` (schema-checked JSON calls with bounded concurrency, retries, a budget),
:mod:`.backends` (how each kind of server takes a JSON schema), :mod:`.replies` (reply → JSON),
:mod:`.retry`, :mod:`.cache` (responses and the prompts that produced them), :mod:`.tokens`
(tokens and USD, counted locally), :mod:`.steps` (the saved-call pattern of the build stages) and
:mod:`.lib` (litellm, imported on first use).
"""
