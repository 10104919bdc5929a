"""Nova (compute API v2.1, microversions 2.1-2.96): servers, flavors, hypervisors, services,
aggregates, availability zones, server groups, migrations and instance actions, with live
and cold migrations that take time and move Placement allocations as Nova does.

Moves: the instance's allocation on the source is handed to the migration record (a
Placement consumer of its own) and the instance allocates on the destination; when the
move ends the migration's allocation is dropped (or, on failure, handed back). Placement
enforces capacity on every write, so a destination that cannot take the server answers
400 "No valid host" and the allocation-ratio violation count stays 0.

Deviation from Nova, on purpose: scheduling refusals (no valid host, disabled or down
destination, same host) are answered synchronously with 400 at every microversion, where
Nova >= 2.34 accepts a live migration (202) and fails it asynchronously. It makes tests and
plans fail fast with the reason; the migration record is not created.

Named faults (see twin/README.md): ``migration_fail`` (target: server id or name),
``migration_hang`` (target: server id or name), ``host_down`` (target: hostname),
``confirm_fail`` (target: server id or name).

One module per resource family; ``api`` holds what their routes share and ``store`` the state.
Importing a module registers its routes (order matters where a literal path shadows a
parameter, e.g. /servers/detail before /servers/{server_id}: each module keeps its own).
"""

from __future__ import annotations

from vigil_twin.services import Service
from vigil_twin.services.compute import (  # noqa: F401  (importing registers the routes)
    aggregates,
    compute_services,
    diagnostics,
    flavors,
    hypervisors,
    instance_actions,
    keypairs,
    migrations,
    quotas,
    server_actions,
    server_groups,
    servers,
    usage,
)
from vigil_twin.services.compute.api import compute_router
from vigil_twin.services.compute.state import load, restore, snapshot
from vigil_twin.services.compute.store import ComputeStore

__all__ = ["SERVICE", "ComputeStore"]

SERVICE = Service(
    name="compute",
    prefix="/compute",
    router=compute_router,
    load=load,
    service_type="compute",
    catalog_path="/v2.1",
    snapshot=snapshot,
    restore=restore,
    public_paths=("/", "/v2.1", r"/v2\.1/[0-9a-f]{32}"),
)
