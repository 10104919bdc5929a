"""Errors the twin raises outside HTTP handling."""


class TopologyError(ValueError):
    """A topology file is invalid. The message names the offending field, e.g. ``servers[3].flavor``."""
