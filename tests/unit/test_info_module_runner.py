"""run_info_module: the one end of every *_info module (result, warnings, one-line failures)."""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import MetricsError
from ansible_collections.vigil.openstack.plugins.module_utils.collect.rest import CollectError
from ansible_collections.vigil.openstack.plugins.module_utils.connection import VigilConnectionError
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import (
    bad_input,
    check_page_size,
    run_info_module,
)


class Ended(Exception):
    pass


class RecordingModule:
    """Stands in for AnsibleModule: keeps what the module was built with and how it ended."""

    last = None

    def __init__(self, argument_spec, **kwargs):
        self.argument_spec = argument_spec
        self.kwargs = kwargs
        self.params = {"page_size": 0}
        self.warnings = []
        RecordingModule.last = self

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        self.ended = ("exit", result)
        raise Ended()

    def fail_json(self, **result):
        self.ended = ("fail", result)
        raise Ended()


def _end(run, **kwargs):
    with pytest.raises(Ended):
        run_info_module(RecordingModule, {"page_size": {"type": "int"}}, run, **kwargs)
    return RecordingModule.last


def test_result_and_warnings():
    module = _end(lambda params: ({"model": {"x": 1}}, ["skipped: nova"]), maas=True)
    assert module.ended == ("exit", {"changed": False, "model": {"x": 1}})
    assert module.warnings == ["skipped: nova"]
    assert (
        "page_size" in module.argument_spec and "cloud" in module.argument_spec and "maas_url" in module.argument_spec
    )
    assert module.kwargs["supports_check_mode"] is True


def _raise(exc):
    def run(params):
        raise exc

    return run


@pytest.mark.parametrize(
    "exc, expected",
    [
        (VigilConnectionError("cloud mycloud not found"), {"msg": "cloud mycloud not found", "kind": "connection"}),
        (CollectError("forbidden", "HTTP 403 from nova"), {"msg": "HTTP 403 from nova", "kind": "forbidden"}),
        (MetricsError("bad_query", "parse error"), {"msg": "parse error", "kind": "bad_query"}),
        (
            bad_input("bad scope: unknown project: nope"),
            {"msg": "bad scope: unknown project: nope", "kind": "bad_input"},
        ),
    ],
)
def test_every_known_failure_is_one_line_with_its_kind(exc, expected):
    assert _end(_raise(exc)).ended == ("fail", expected)


def test_an_unknown_exception_is_not_hidden():
    with pytest.raises(ZeroDivisionError):
        run_info_module(RecordingModule, {}, _raise(ZeroDivisionError()))


def test_page_size_below_one_is_refused_naming_it():
    with pytest.raises(CollectError, match="page_size must be at least 1, got 0") as err:
        check_page_size({"page_size": 0})
    assert err.value.kind == "bad_input"
    check_page_size({"page_size": 1})
