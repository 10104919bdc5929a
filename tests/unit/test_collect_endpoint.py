"""Catalog adapters read the cloud's retry settings on every openstacksdk the collection supports."""

import pytest
from keystoneauth1 import session as ks_session
from openstack.config import cloud_region

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint

SETTINGS = {
    "connect_retries": "4",
    "compute_status_code_retries": "2",  # per service: wins over the plain key for compute
    "status_code_retries": "5",
    "retriable_status_codes": "500,503",
    "connect_retry_delay": "0.5",
    "compute_status_code_retry_delay": 1,
}
OPTIONAL_GETTERS = ("get_connect_retry_delay", "get_status_code_retry_delay", "get_retriable_status_codes")


class OldCloudRegion(cloud_region.CloudRegion):
    """A CloudRegion as openstacksdk 4.0 to 4.21 has it: none of the getters added since."""


for _name in OPTIONAL_GETTERS:
    setattr(OldCloudRegion, _name, None)  # the class attribute is gone, as in 4.0


def _region(cls):
    return cls(name="test", region_name="RegionOne", config=dict(SETTINGS), session=ks_session.Session())


@pytest.mark.parametrize("cls", [cloud_region.CloudRegion, OldCloudRegion], ids=["installed", "old"])
def test_retry_settings_follow_the_cloud(cls):
    region = _region(cls)
    assert endpoint.retry_settings(region, "compute") == {
        "connect_retries": 4,
        "status_code_retries": 2,
        "retriable_status_codes": [500, 503],
        "connect_retry_delay": 0.5,
        "status_code_retry_delay": 1.0,
    }
    volume = {
        name: endpoint.retry_setting(region, name, "volume", convert) for name, convert in endpoint._RETRY_SETTINGS
    }
    assert volume["status_code_retries"] == 5 and volume["status_code_retry_delay"] is None
