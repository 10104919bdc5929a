"""Shared pytest fixtures: the cloud twin (twin, twin_factory, clouds_yaml), see vigil_twin.pytest_fixtures."""

from vigil_twin.pytest_fixtures import clouds_yaml, twin, twin_factory  # noqa: F401  # pylint: disable=unused-import
