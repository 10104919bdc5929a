"""Cinder v3 (catalog type ``block-storage``): volumes, types, pools, services, migrate and retype.

Endpoint ``/volume/v3/{project_id}`` as Cinder publishes it (the project segment is optional,
as in Cinder >= 3.67), version discovery at ``/volume/``. Migrations and retypes move through
``migration_status`` starting -> migrating -> success | error over time, the host changes and
pool capacities follow (the destination is reserved while the copy runs, as Cinder's generic
migration does with its temporary volume). Named fault ``volume_migration_fail`` (target:
volume id or name) makes the next migration of that volume end in ``error`` on the source.

One module per resource family; ``api`` holds what their routes share and ``store`` the state.
"""

from __future__ import annotations

from vigil_twin.services import Service
from vigil_twin.services.volume import (  # noqa: F401  (importing registers the routes)
    attachments,
    cinder_services,
    limits,
    pools,
    types,
    volumes,
)
from vigil_twin.services.volume.api import router
from vigil_twin.services.volume.state import load, restore, snapshot
from vigil_twin.services.volume.store import VolumeStore

__all__ = ["SERVICE", "VolumeStore"]

SERVICE = Service(
    name="volume",
    prefix="/volume",
    router=router,
    load=load,
    service_type="block-storage",
    catalog_path="/v3",
    requires_token=True,
    public_paths=("/", "/v3"),
    snapshot=snapshot,
    restore=restore,
)
