"""skillforge: distill AI-agent logs into reusable, versioned Agent Skills."""

__version__ = "0.1.0"
