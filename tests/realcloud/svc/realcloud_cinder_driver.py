"""Test-only Cinder volume driver: the fake driver shipped in Cinder's wheel (no LVM, no iSCSI,
every command a no-op) with
- two finite pools per backend, named ``<volume_backend_name>-a`` / ``-b`` (upstream reports one
  pool called "fake" with 'infinite' capacity), so migrations within and between backends and
  capacity accounting can be tested, and
- driver-assisted migration/retype that succeed, so os-migrate_volume works without attaching
  and copying data (Cinder's generic path needs a real connector).
"""

from cinder.tests import fake_driver

POOL_GB = 1000


class RealcloudFakeDriver(fake_driver.FakeLoggingVolumeDriver):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backend_name = self.configuration.safe_get("volume_backend_name") or "fake"

    def _update_volume_stats(self):
        super()._update_volume_stats()
        template = self._stats["pools"][0]
        self._stats["pools"] = [
            dict(
                template,
                pool_name=f"{self.backend_name}-{suffix}",
                total_capacity_gb=POOL_GB,
                free_capacity_gb=POOL_GB,
                reserved_percentage=0,
                multiattach=True,
                thin_provisioning_support=True,
                max_over_subscription_ratio=20.0,
            )
            for suffix in ("a", "b")
        ]

    def migrate_volume(self, ctxt, volume, host):
        return True, None

    def retype(self, context, volume, new_type, diff, host):
        return True, None
