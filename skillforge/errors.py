"""Exceptions the CLI turns into a one-line message and a non-zero exit code."""


class SkillforgeError(Exception):
    """A user-facing error: the message is printed as is, without a traceback."""
