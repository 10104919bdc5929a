"""vigil-twin: a local twin of an OpenStack cloud and MAAS, serving the real HTTP APIs."""

__version__ = "0.1.0"
