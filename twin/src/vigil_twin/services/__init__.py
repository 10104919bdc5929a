"""Service registry. Each module in this package defines ``SERVICE``, a `Service`.

A service owns one URL prefix on the twin's single port, the routes below it, its
part of the state (``cloud.stores[name]``, built by ``load`` from the topology), and
how that state is snapshotted and restored for rehearsals.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vigil_twin.http import Router


@dataclass
class Service:
    name: str  # key in cloud.stores and in request counts: identity, compute, placement...
    prefix: str  # URL prefix on the twin: /identity, /compute, /MAAS ...
    router: Router
    load: Callable[[Any, dict], Any]  # (cloud, topology) -> store
    service_type: str | None = None  # Keystone catalog type; None: not in the catalog
    catalog_path: str = ""  # appended to base_url + prefix for the catalog endpoint
    requires_token: bool = True  # the server validates X-Auth-Token through Keystone first
    snapshot: Callable[[Any], dict] | None = None  # store -> JSON-able dict
    restore: Callable[[Any, Any, dict], Any] | None = None  # (cloud, store, data) -> store
    # GET paths (regexes on the path below the prefix) answered without a token, e.g.
    # version discovery documents, as the real services do.
    public_paths: tuple[str, ...] = ()
    _public_re: Any = field(default=None, init=False, repr=False)

    def is_public(self, request: Any) -> bool:
        if not self.public_paths or request.method not in ("GET", "HEAD"):
            return False
        if self._public_re is None:
            self._public_re = re.compile("^(?:" + "|".join(self.public_paths) + ")/?$")
        return bool(self._public_re.match(request.path))


# Import order is load order: identity first (others look up projects), placement before
# compute (compute writes allocations), baremetal after compute (links hostnames).
MODULES = ["identity", "placement", "compute", "image", "network", "volume", "baremetal", "maas", "metrics"]


def load_services() -> list[Service]:
    services = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"vigil_twin.services.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"vigil_twin.services.{name}":
                continue  # area not built yet
            raise
        services.append(module.SERVICE)
    return services
