"""The twin's one microversion parser (`_support.microversion`, over microversion-parse)."""

from __future__ import annotations

import pytest

from vigil_twin.http import HTTPError, Request
from vigil_twin.services._support import microversion


def _request(**headers: str) -> Request:
    return Request.from_parts("GET", "/", "", headers, b"", "http://twin")


def _error(status: int, text: str) -> HTTPError:
    return HTTPError(status, {"message": text})


def _mv(**headers: str) -> tuple[int, int]:
    return microversion(_request(**headers), "compute", "x-openstack-nova-api-version", "2.1", "2.96", "2.1", _error)


def test_standard_header_wins_and_other_services_are_ignored():
    assert _mv() == (2, 1)
    assert _mv(**{"OpenStack-API-Version": "placement 1.5, compute 2.53"}) == (2, 53)
    assert _mv(**{"OpenStack-API-Version": "placement 1.5"}) == (2, 1)
    assert _mv(**{"X-OpenStack-Nova-API-Version": "2.60"}) == (2, 60)
    both = {"OpenStack-API-Version": "compute 2.53", "X-OpenStack-Nova-API-Version": "2.60"}
    assert _mv(**both) == (2, 53)
    assert _mv(**{"OpenStack-API-Version": "compute latest"}) == (2, 96)


@pytest.mark.parametrize(
    ("raw", "status"), [("pony.horse", 400), ("1.2.3", 400), ("2", 400), ("2.97", 406), ("1.0", 406)]
)
def test_malformed_is_400_out_of_range_406(raw, status):
    with pytest.raises(HTTPError) as caught:
        _mv(**{"OpenStack-API-Version": f"compute {raw}"})
    assert caught.value.status == status and raw in caught.value.body["message"]
