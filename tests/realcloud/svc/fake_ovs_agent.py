"""A stand-in Open vSwitch L2 agent for a host with no OVS: it speaks Neutron's agent RPC for real.

It does what neutron-openvswitch-agent does towards neutron-server over RabbitMQ, with Neutron's
own RPC client classes, and nothing on the host:

* every [AGENT] report_interval seconds: ``report_state`` cast on topic ``q-reports-plugin``
  (namespace ``report_state``, version 1.4) with agent_type 'Open vSwitch agent', binary
  neutron-openvswitch-agent, this --host and configurations carrying bridge_mappings, so the
  server lists it in GET /v2.0/agents and the ML2 openvswitch mechanism driver binds ports on
  this host (vif_type ovs) for networks on the mapped physnets;
* with --plug-ports (the default): it listens on the ``q-agent-notifier-port-update`` fanout
  like the real agent and, for each port bound to this host, calls ``get_devices_details_list_
  and_failed_devices`` and ``update_device_list(devices_up=[port])`` on topic ``q-plugin`` - what
  the real agent does once it has wired a VIF - so the port goes ACTIVE and Neutron tells Nova
  network-vif-plugged.

Usage (in the Neutron venv):
  python fake_ovs_agent.py --config-file neutron.conf --host compute1 \
      [--bridge-mappings physnet1:br-ex] [--noplug-ports] [--log-file FILE]
Stopping it (SIGTERM) stops the heartbeats: the server shows it alive: false after agent_down_time.
"""

import signal
import sys
import threading
import time

import neutron  # noqa: F401  # pylint: disable=unused-import  # first: selects oslo.service's threading backend, as Neutron's own commands do
import oslo_messaging
from neutron.agent import rpc as agent_rpc
from neutron.api.rpc.callbacks import resources
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_config
from neutron_lib import constants as n_const
from neutron_lib import context as n_context
from neutron_lib.agent import topics
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger("fake_ovs_agent")

CLI_OPTS = [
    cfg.ListOpt("bridge-mappings", default=["physnet1:br-ex"], help="physnet:bridge pairs reported to the server"),
    cfg.BoolOpt("plug-ports", default=True, help="report ports bound to this host as up (port goes ACTIVE)"),
]


class PortUpdateEndpoint:
    """The agent-side RPC endpoints the server casts to (port_update et al.)."""

    target = oslo_messaging.Target(version="1.9")

    def __init__(self, agent):
        self.agent = agent

    def port_update(self, context, **kwargs):
        port = kwargs.get("port") or {}
        if port.get("binding:host_id") == self.agent.host:
            self.agent.pending.add(port["id"])
            self.agent.wake.set()

    def port_delete(self, context, **kwargs):
        self.agent.pending.discard(kwargs.get("port_id"))

    # other casts the server fans out to L2 agents: accept and ignore
    def network_update(self, context, **kwargs):
        pass

    def network_delete(self, context, **kwargs):
        pass

    def binding_deactivate(self, context, **kwargs):
        pass

    def binding_activate(self, context, **kwargs):
        # live migration: Nova activated this port's binding on this host (the real agent re-wires it)
        if kwargs.get("host") == self.agent.host and kwargs.get("port_id"):
            self.agent.pending.add(kwargs["port_id"])
            self.agent.wake.set()

    def port_binding_activated(self, context, **kwargs):
        pass


class FakeOVSAgent:
    def __init__(self, conf):
        self.conf = conf
        self.host = conf.host
        self.agent_id = f"fake-ovs-agent-{self.host}"
        self.context = n_context.get_admin_context_without_session()
        self.state_rpc = agent_rpc.PluginReportStateAPI(topics.REPORTS)
        self.plugin_rpc = agent_rpc.PluginApi(topics.PLUGIN)
        self.pending: set[str] = set()
        self.wake = threading.Event()
        self.stopping = False
        mappings = dict(m.split(":", 1) for m in conf.bridge_mappings if m)
        self.agent_state = {
            "binary": n_const.AGENT_PROCESS_OVS,
            "host": self.host,
            "topic": n_const.L2_AGENT_TOPIC,
            "configurations": {
                "bridge_mappings": mappings,
                "integration_bridge": "br-int",
                "tunnel_types": [],
                "tunneling_ip": None,
                "l2_population": False,
                "arp_responder_enabled": False,
                "enable_distributed_routing": False,
                "log_agent_heartbeats": False,
                "extensions": [],
                "datapath_type": "system",
                "ovs_capabilities": {"datapath_types": ["system"], "iface_types": ["internal", "system"]},
                "vhostuser_socket_dir": "/var/run/openvswitch",
                "ovs_hybrid_plug": False,
                "baremetal_smartnic": False,
                "resource_provider_bandwidths": {},
                "resource_provider_inventory_defaults": {},
                "resource_provider_hypervisors": {},
            },
            "resource_versions": resources.LOCAL_RESOURCE_VERSIONS,
            "agent_type": n_const.AGENT_TYPE_OVS,
            "start_flag": True,
        }
        self.connection = None
        if conf.plug_ports:
            consumers = [[topics.PORT, topics.UPDATE], [topics.PORT, topics.DELETE], [topics.NETWORK, topics.UPDATE],
                         [topics.NETWORK, topics.DELETE]]  # fmt: skip
            self.connection = agent_rpc.create_consumers([PortUpdateEndpoint(self)], topics.AGENT, consumers)

    def report_state(self):
        try:
            self.state_rpc.report_state(self.context, self.agent_state, use_call=self.agent_state.get("start_flag"))
            self.agent_state.pop("start_flag", None)
            LOG.debug("reported state for %s", self.host)
        except oslo_messaging.MessagingTimeout:
            # neutron-rpc-server not consuming yet (it starts alongside): the next beat retries
            LOG.warning("report_state timed out; retrying at the next report_interval")
        except Exception:  # noqa: BLE001
            LOG.exception("report_state failed")

    def plug(self):
        devices, self.pending = sorted(self.pending), set()
        if not devices:
            return
        try:
            self.plugin_rpc.get_devices_details_list_and_failed_devices(self.context, devices, self.agent_id, self.host)
            self.plugin_rpc.update_device_list(self.context, devices, [], self.agent_id, self.host)
            LOG.info("reported devices up: %s", devices)
        except Exception:  # noqa: BLE001
            LOG.exception("update_device_list failed for %s", devices)
            self.pending.update(devices)

    def run(self):
        interval = self.conf.AGENT.report_interval
        next_beat = 0.0
        while not self.stopping:
            now = time.monotonic()
            if now >= next_beat:
                self.report_state()
                next_beat = now + interval
            self.plug()
            self.wake.wait(timeout=max(0.1, min(1.0, next_beat - time.monotonic())))
            self.wake.clear()
        if self.connection:
            self.connection.close()


def main():
    common_config.register_common_config_options()
    agent_config.register_agent_state_opts_helper(cfg.CONF)
    cfg.CONF.register_cli_opts(CLI_OPTS)
    argv = sys.argv[1:]
    host = None
    if "--host" in argv:  # [DEFAULT] host is not a CLI option in Neutron: take it off argv
        i = argv.index("--host")
        host = argv[i + 1]
        del argv[i : i + 2]
    common_config.init(argv)
    if host:
        cfg.CONF.set_override("host", host)
    common_config.setup_logging()
    agent = FakeOVSAgent(cfg.CONF)

    def stop(*_args):
        agent.stopping = True
        agent.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    LOG.info("fake OVS agent for host %s up (bridge_mappings %s)", agent.host, cfg.CONF.bridge_mappings)
    agent.run()


if __name__ == "__main__":
    main()
