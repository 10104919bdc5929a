"""gunicorn entry points for the services of the real-cloud tier (run in the services' venv).

oslo.config parses sys.argv at import, which under gunicorn holds gunicorn's own options
("unrecognized arguments: --bind"), so argv is reset before each app is imported.
"""

import os
import sys


def keystone():
    sys.argv = sys.argv[:1]
    from keystone.wsgi.api import application

    return application


def placement():
    sys.argv = sys.argv[:1]
    from placement.wsgi.api import application

    return application


def nova_api():
    sys.argv = sys.argv[:1]
    from nova.wsgi.osapi_compute import application

    return application


def glance_api():
    sys.argv = sys.argv[:1]
    from glance.wsgi.api import application

    return application


def cinder_api():
    # cinder's WSGI initialisation parses sys.argv itself: hand it the config file there
    sys.argv = sys.argv[:1] + ["--config-file", os.environ["CINDER_CONF"]]
    from cinder.wsgi.api import application

    return application


def neutron_api():
    # config files from OS_NEUTRON_CONFIG_DIR / OS_NEUTRON_CONFIG_FILES
    sys.argv = sys.argv[:1]
    from neutron.wsgi.api import application

    return application
