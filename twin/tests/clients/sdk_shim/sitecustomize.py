"""For the openstack.cloud playbook only: openstack.cloud 2.5.0 (bundled with ansible 12) reads
``openstack.version.__version__`` without importing ``openstack.version``, which openstacksdk 4.15+
no longer imports for it (docs/twin-fidelity.md). Importing it first is the whole fix."""

import openstack.version  # noqa: F401
