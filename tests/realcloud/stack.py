"""A real OpenStack on 127.0.0.1 for vigil's real-services test tier.

Keystone, Placement, Glance, Nova (3 fake-driver computes), Ironic (fake-hardware), Cinder
(fake driver, two backends of two pools each) and Neutron (ML2/openvswitch, with a stand-in
Open vSwitch agent per compute that speaks Neutron's agent RPC), from pinned packages installed
into their own virtualenv (``build/realcloud/venv``, apart from the collection's .venv), with MariaDB and
RabbitMQ from the distribution. Every process is started here in its own session and its pid
recorded under ``build/realcloud/state/run``; ``down`` stops exactly those process groups.

CLI (run with the collection's Python, which has openstacksdk)::

    python tests/realcloud/stack.py up        # install if needed, fresh state, start, wait, seed
    python tests/realcloud/stack.py status
    python tests/realcloud/stack.py down
    python tests/realcloud/stack.py clouds    # the path of its clouds.yaml

In Python: ``with running_stack() as stack: stack.clouds_yaml`` (stops on exit, on SIGTERM/SIGINT
and at interpreter exit).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ETC_TEMPLATES = HERE / "etc"
SVC = HERE / "svc"
CONSTRAINTS = HERE / "constraints.txt"
PACKAGES = [
    "keystone",
    "openstack-placement",
    "nova",
    "glance",
    "ironic",
    "cinder",
    "neutron",
    "gunicorn",
    "pymysql",
    "python-openstackclient",
]
APT_PACKAGES = {"mariadb-server": "/usr/sbin/mariadbd", "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server"}
COMPUTES = ("compute1", "compute2", "compute3")
# the physical network the stand-in agents map (ml2_conf.ini: flat and VLAN networks on it)
PHYSNET = "physnet1"
PASSWORD = "secret"
# names of the clouds in the generated clouds.yaml
CLOUD_ADMIN, CLOUD_MEMBER, CLOUD_SYSTEM = "vigil-real", "vigil-real-member", "vigil-real-system"
PORT_NAMES = (
    "mysql",
    "rabbit",
    "rabbit_dist",
    "epmd",
    "keystone",
    "placement",
    "nova",
    "glance",
    "ironic",
    "cinder",
    "neutron",
)
# services stop before the infrastructure they use
INFRA = ("rabbitmq", "mysqld", "epmd")


def log(msg: str) -> None:
    print(f"[realcloud {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class StackError(RuntimeError):
    pass


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _unused in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def wait_until(fn: Callable[[], object], what: str, timeout: float, interval: float = 0.5) -> object:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - services raise all sorts while they start
            last = exc
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last})" if last else ""))


class Stack:
    def __init__(self, base: str | os.PathLike | None = None):
        self.base = Path(base or os.environ.get("VIGIL_REALCLOUD_DIR") or ROOT / "build" / "realcloud").resolve()
        self.venv = self.base / "venv"
        self.state = self.base / "state"
        self.etc = self.state / "etc"
        self.run_dir = self.state / "run"
        self.logs = self.state / "logs"
        self.clouds_yaml = self.state / "clouds.yaml"
        self.ports: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self._t0 = time.monotonic()

    # -- install ---------------------------------------------------------------------------
    def _phase(self, name: str) -> None:
        self.timings[name] = round(time.monotonic() - self._t0, 1)
        log(f"{name} at {self.timings[name]}s")

    def install(self) -> None:
        missing = [pkg for pkg, path in APT_PACKAGES.items() if not Path(path).exists()]
        if missing:
            log(f"apt-get install {' '.join(missing)}")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
            if os.geteuid() != 0:
                cmd = ["sudo", "-n", *cmd]
            with open(self.base / "apt.log", "w") as out:
                rc = subprocess.call(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
                if rc:  # a stale package index on a fresh machine: update once and retry
                    update = [*cmd[: cmd.index("apt-get")], "apt-get", "update", "-q"]
                    subprocess.call(update, env=env, stdout=out, stderr=subprocess.STDOUT)
                    rc = subprocess.call(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
            if rc:
                raise StackError(f"apt-get install {' '.join(missing)} failed, see {self.base / 'apt.log'}")
            self._phase("apt installed")
        stamp = self.venv / ".vigil-constraints"
        want = hashlib.sha256(CONSTRAINTS.read_bytes() + " ".join(PACKAGES).encode()).hexdigest()
        if stamp.exists() and stamp.read_text() == want:
            return
        log(f"installing the services into {self.venv}")
        if self.venv.exists():
            shutil.rmtree(self.venv)
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        py = str(self.venv / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), "uv"], check=True)
        subprocess.run(
            [str(self.venv / "bin" / "uv"), "pip", "install", "-q", "--python", py, "-c", str(CONSTRAINTS), *PACKAGES],
            check=True,
        )
        stamp.write_text(want)
        self._phase("venv installed")

    # -- processes --------------------------------------------------------------------------
    def _env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VIRTUAL_ENV", "PYTHON"))}
        env.update(
            PATH=f"{self.venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
            PYTHONPATH=str(SVC),
            PYTHONWARNINGS="ignore",
            VIRTUAL_ENV=str(self.venv),
        )
        env.update(extra)
        return env

    def _bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def start(self, name: str, cmd: list[str], **env: str) -> int:
        """Start a long-running process in its own session (so its workers share its group)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.out", "ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.state,
                env=self._env(**env),
                start_new_session=True,
            )
        (self.run_dir / f"{name}.pid").write_text(str(proc.pid))
        return proc.pid

    def run(self, name: str, cmd: list[str], **env: str) -> None:
        with open(self.logs / f"{name}.log", "ab") as out:
            rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.state, env=self._env(**env))
        if rc:
            raise StackError(f"{name} failed (rc {rc}): {' '.join(cmd)}; see {self.logs / (name + '.log')}")

    def _pids(self) -> dict[str, int]:
        out = {}
        for f in sorted(self.run_dir.glob("*.pid")) if self.run_dir.exists() else []:
            with contextlib.suppress(ValueError):
                out[f.stem] = int(f.read_text().strip())
        return out

    @staticmethod
    def _alive(pid: int) -> bool:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            # a process we started leads its own group; a recycled pid would not
            return os.getpgid(pid) == pid
        except ProcessLookupError:
            return False

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        # reap the leader if this process started it, or it lingers as a zombie in its group
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pgid, os.WNOHANG)
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def _stop_groups(self, names: list[str], pids: dict[str, int], grace: float) -> None:
        groups = {n: pids[n] for n in names if n in pids and self._alive(pids[n])}
        for pgid in groups.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(self._group_alive(g) for g in groups.values()):
            time.sleep(0.2)
        for name, pgid in groups.items():
            if self._group_alive(pgid):
                log(f"{name} (group {pgid}) ignored SIGTERM, killing")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
        for name in names:
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)

    def down(self) -> None:
        pids = self._pids()
        if not pids:
            return
        t0 = time.monotonic()
        services = [n for n in pids if n not in INFRA]
        self._stop_groups(services, pids, grace=20)
        for name in INFRA:  # in order: rabbit and mysql shut down cleanly, epmd last
            self._stop_groups([name], pids, grace=30)
        log(f"stopped {len(pids)} process groups in {time.monotonic() - t0:.1f}s")

    def status(self) -> dict[str, bool]:
        return {name: self._alive(pid) for name, pid in self._pids().items()}

    # -- configuration ----------------------------------------------------------------------
    def _render(self) -> None:
        self.etc.mkdir(parents=True, exist_ok=True)
        subst = {f"@P_{k.upper()}@": str(v) for k, v in self.ports.items()}
        subst.update({"@STATE@": str(self.state), "@VENV@": str(self.venv)})
        authtoken = (ETC_TEMPLATES / "authtoken.inc").read_text()
        for k, v in subst.items():
            authtoken = authtoken.replace(k, v)
        subst["@AUTHTOKEN@"] = authtoken.strip()

        def render(template: str, target: str, **more: str) -> None:
            text = (ETC_TEMPLATES / template).read_text()
            for k, v in {**subst, **more}.items():
                text = text.replace(k, v)
            (self.etc / target).write_text(text)

        for name in (
            "keystone.conf",
            "my.cnf",
            "placement.conf",
            "nova.conf",
            "glance-api.conf",
            "ironic.conf",
            "cinder.conf",
            "neutron.conf",
            "ml2_conf.ini",
        ):
            render(name, name)
        for host in COMPUTES:
            render("nova-compute.conf", f"nova-{host}.conf", **{"@HOST@": host})
            (self.state / "nova" / f"state-{host}").mkdir(parents=True, exist_ok=True)
        # nova's WSGI app loads its paste pipeline from the first of OS_NOVA_CONFIG_FILES
        shutil.copy(self.venv / "etc" / "nova" / "api-paste.ini", self.etc / "nova-api-paste.ini")

    def _rabbit_env(self) -> dict[str, str]:
        rabbit = self.state / "rabbitmq"
        return {
            "HOME": str(rabbit),  # the Erlang cookie lives in $HOME
            "RABBITMQ_NODENAME": "rabbit@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.ports["rabbit"]),
            "RABBITMQ_DIST_PORT": str(self.ports["rabbit_dist"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.ports["epmd"]),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(rabbit / "mnesia"),
            "RABBITMQ_LOG_BASE": str(rabbit / "log"),
            "RABBITMQ_PID_FILE": str(rabbit / "rabbit.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(rabbit / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(rabbit / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(rabbit / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(rabbit / "rabbitmq-env.conf"),
        }

    # -- bring-up ---------------------------------------------------------------------------
    def up(self, seed: bool = True) -> None:
        self._t0 = time.monotonic()
        self.base.mkdir(parents=True, exist_ok=True)
        if any(self.status().values()):
            raise StackError(f"a stack is already running from {self.state} (run `down` first)")
        self.install()
        if self.state.exists():
            shutil.rmtree(self.state)
        for d in ("run", "logs", "keystone/fernet-keys", "keystone/credential-keys", "nova/lock", "glance/images",
                  "glance/staging", "glance/tasks", "cinder/state", "cinder/lock", "ironic/lock", "rabbitmq", "mysql"):  # fmt: skip
            (self.state / d).mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o777)  # mysqld (user mysql) writes its socket there
        for p in [self.state, *self.state.parents]:
            if p == Path("/"):
                break
            if p.stat().st_mode & 0o001 == 0:
                p.chmod(p.stat().st_mode | 0o011)  # mysqld runs as user mysql: its datadir must be reachable
        shutil.chown(self.state / "mysql", "mysql", "mysql")
        self.ports = dict(zip(PORT_NAMES, _free_ports(len(PORT_NAMES))))
        (self.state / "ports.json").write_text(json.dumps(self.ports))
        self._render()
        etc = self.etc

        # infrastructure
        self.run("mysql-install", ["mariadb-install-db", f"--defaults-file={etc / 'my.cnf'}", "--user=mysql",
                                   "--auth-root-authentication-method=socket", "--skip-test-db"])  # fmt: skip
        self.start("mysqld", ["/usr/sbin/mariadbd", f"--defaults-file={etc / 'my.cnf'}"])
        self.start("epmd", ["epmd", "-address", "127.0.0.1", "-port", str(self.ports["epmd"])])
        self.start("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], **self._rabbit_env())
        mysql = ["mariadb", f"--defaults-file={etc / 'my.cnf'}"]
        wait_until(lambda: subprocess.call([*mysql, "-e", "select 1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0,
                   "MariaDB", 60, 0.2)  # fmt: skip
        dbs = ("keystone", "placement", "nova_api", "nova_cell0", "nova", "cinder", "neutron")
        sql = "".join(f"CREATE DATABASE {db};" for db in dbs)
        sql += f"CREATE USER 'os'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO 'os'@'127.0.0.1';"
        self.run("mysql-create", [*mysql, "-e", sql])
        self._phase("mariadb up")

        # schemas: keystone first (it must serve before the catalog is written), others alongside
        conf = ["--config-file"]
        background = [
            subprocess.Popen(cmd, cwd=self.state, env=self._env(), stdout=open(self.logs / f"{n}.log", "wb"), stderr=subprocess.STDOUT)
            for n, cmd in (
                ("glance-dbsync", [self._bin("glance-manage"), *conf, str(etc / "glance-api.conf"), "db_sync"]),
                ("ironic-dbsync", [self._bin("ironic-dbsync"), *conf, str(etc / "ironic.conf"), "create_schema"]),
                ("cinder-dbsync", [self._bin("cinder-manage"), *conf, str(etc / "cinder.conf"), "db", "sync"]),
                ("neutron-dbsync", [self._bin("neutron-db-manage"), *self._neutron_conf(), "upgrade", "heads"]),
            )
        ]  # fmt: skip
        kc = [self._bin("keystone-manage"), *conf, str(etc / "keystone.conf")]
        self.run("keystone-manage", [*kc, "db_sync"])
        self.run("keystone-manage", [*kc, "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"])
        self.run("keystone-manage", [*kc, "credential_setup", "--keystone-user", "root", "--keystone-group", "root"])
        ks = f"http://127.0.0.1:{self.ports['keystone']}/v3"
        self.run("keystone-manage", [*kc, "bootstrap", "--bootstrap-password", PASSWORD, "--bootstrap-region-id", "RegionOne",
                                     "--bootstrap-admin-url", ks, "--bootstrap-public-url", ks, "--bootstrap-internal-url", ks])  # fmt: skip
        self._gunicorn(
            "keystone", "keystone", OS_KEYSTONE_CONFIG_DIR=str(etc), OS_KEYSTONE_CONFIG_FILES="keystone.conf"
        )
        nc = [self._bin("nova-manage"), *conf, str(etc / "nova.conf")]
        self.run("placement-dbsync", [self._bin("placement-manage"), *conf, str(etc / "placement.conf"), "db", "sync"])
        self.run("nova-dbsync", [*nc, "api_db", "sync"])
        db = f"mysql+pymysql://os:{PASSWORD}@127.0.0.1:{self.ports['mysql']}/nova_cell0"
        self.run("nova-dbsync", [*nc, "cell_v2", "map_cell0", "--database_connection", db])
        self.run("nova-dbsync", [*nc, "db", "sync"])
        self.run("nova-dbsync", [*nc, "cell_v2", "create_cell", "--name", "cell1"])
        for proc in background:
            if proc.wait():
                raise StackError(f"schema sync failed: {proc.args}; see {self.logs}")
        self._phase("schemas synced")
        wait_until(lambda: _http_ok(ks), "Keystone", 90)
        self.write_clouds_yaml()
        self._register_catalog()
        self._phase("keystone up, catalog registered")

        # services
        self._start_neutron()
        self._gunicorn(
            "placement", "placement", OS_PLACEMENT_CONFIG_DIR=str(etc), OS_PLACEMENT_CONFIG_FILE="placement.conf"
        )
        self._gunicorn("glance", "glance_api", OS_GLANCE_CONFIG_DIR=str(etc), OS_GLANCE_CONFIG_FILES="glance-api.conf")
        self._gunicorn(
            "nova-api", "nova_api", OS_NOVA_CONFIG_DIR=str(etc), OS_NOVA_CONFIG_FILES="nova-api-paste.ini;nova.conf"
        )
        nconf = [*conf, str(etc / "nova.conf")]
        self.start(
            "nova-conductor", [self._bin("nova-conductor"), *nconf, "--log-file", str(self.logs / "nova-conductor.log")]
        )
        self.start(
            "nova-scheduler", [self._bin("nova-scheduler"), *nconf, "--log-file", str(self.logs / "nova-scheduler.log")]
        )
        for host in COMPUTES:
            self.start(f"nova-{host}", [self._bin("nova-compute"), *nconf, *conf, str(etc / f"nova-{host}.conf")])
        self.start("ironic", [self._bin("ironic"), *conf, str(etc / "ironic.conf")])
        cconf = [*conf, str(etc / "cinder.conf")]
        self._gunicorn("cinder-api", "cinder_api", CINDER_CONF=str(etc / "cinder.conf"))
        self.start(
            "cinder-scheduler",
            [self._bin("cinder-scheduler"), *cconf, "--log-file", str(self.logs / "cinder-scheduler.log")],
        )
        self.start(
            "cinder-volume", [self._bin("cinder-volume"), *cconf, "--log-file", str(self.logs / "cinder-volume.log")]
        )
        wait_until(lambda: _port_open(self.ports["rabbit"]), "RabbitMQ", 120)
        for name in ("placement", "glance", "nova", "ironic", "cinder", "neutron"):
            wait_until(lambda n=name: _http_ok(f"http://127.0.0.1:{self.ports[n]}/"), f"{name} API", 180)
        self._phase("all APIs answer")
        self.wait_ready()
        self._phase("stack ready")
        if seed:
            if str(HERE) not in sys.path:
                sys.path.insert(0, str(HERE))
            from seed import seed_cloud  # noqa: PLC0415 - the seed needs openstacksdk, the CLI's down does not

            seed_cloud(self)
            self._phase("seeded")
        (self.state / "timings.json").write_text(json.dumps(self.timings))

    def _neutron_conf(self) -> list[str]:
        return ["--config-file", str(self.etc / "neutron.conf"), "--config-file", str(self.etc / "ml2_conf.ini")]

    def _start_neutron(self) -> None:
        """Neutron 29 has no neutron-server: the API (WSGI), the RPC server and the periodic workers."""
        (self.state / "neutron" / "lock").mkdir(parents=True, exist_ok=True)
        self._gunicorn(
            "neutron-api",
            "neutron_api",
            OS_NEUTRON_CONFIG_DIR=str(self.etc),
            OS_NEUTRON_CONFIG_FILES="neutron.conf;ml2_conf.ini",
        )
        for name, binary in (("neutron-rpc", "neutron-rpc-server"), ("neutron-periodic", "neutron-periodic-workers")):
            self.start(name, [self._bin(binary), *self._neutron_conf(), "--log-file", str(self.logs / f"{name}.log")])
        for host in COMPUTES:
            self.start_agent(host)

    @staticmethod
    def agent_name(host: str) -> str:
        return f"neutron-agent-{host}"

    def start_agent(self, host: str) -> None:
        """The stand-in Open vSwitch agent of `host` (svc/fake_ovs_agent.py)."""
        name = self.agent_name(host)
        cmd = [self._bin("python"), str(SVC / "fake_ovs_agent.py"), "--config-file", str(self.etc / "neutron.conf"),
               "--host", host, "--bridge-mappings", f"{PHYSNET}:br-ex", "--log-file", str(self.logs / f"{name}.log")]  # fmt: skip
        self.start(name, cmd)

    def stop_agent(self, host: str) -> None:
        """Stop `host`'s agent: Neutron shows it ``alive: false`` after agent_down_time (15 s)."""
        name = self.agent_name(host)
        self._stop_groups([name], self._pids(), grace=20)

    def _gunicorn(self, name: str, app: str, **env: str) -> None:
        port = self.ports[{"nova-api": "nova", "cinder-api": "cinder", "neutron-api": "neutron"}.get(name, name)]
        # gthread closes an idle keep-alive connection after 2 s by default: a client polling every 2 s
        # (openstacksdk's wait_for_*) then reuses a socket the server is closing and gets
        # RemoteDisconnected. 75 s is nginx's default and what a load balancer in front of the APIs keeps.
        cmd = [self._bin("gunicorn"), "--chdir", str(SVC), "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--threads", "4", "--timeout", "300", "--keep-alive", "75", "--name", name, "--no-control-socket",
               f"wsgi_apps:{app}()"]  # fmt: skip
        self.start(name, cmd, **env)

    # -- Keystone catalog and clouds.yaml -----------------------------------------------------
    def endpoints(self) -> dict[str, tuple[str, str]]:
        p = self.ports
        return {
            "placement": ("placement", f"http://127.0.0.1:{p['placement']}"),
            "nova": ("compute", f"http://127.0.0.1:{p['nova']}/v2.1"),
            "glance": ("image", f"http://127.0.0.1:{p['glance']}"),
            "ironic": ("baremetal", f"http://127.0.0.1:{p['ironic']}"),
            "cinderv3": ("block-storage", f"http://127.0.0.1:{p['cinder']}/v3/%(project_id)s"),
            "neutron": ("network", f"http://127.0.0.1:{p['neutron']}"),
        }

    def _register_catalog(self) -> None:
        conn = self.connect(CLOUD_ADMIN)
        idc = conn.identity
        service_project = idc.create_project(name="service", domain_id="default")
        roles = {r.name: r for r in idc.roles()}
        for role in ("service", "member", "reader"):
            if role not in roles:
                roles[role] = idc.create_role(name=role)
        for name in ("placement", "nova", "glance", "ironic", "cinder", "neutron"):
            user = idc.create_user(name=name, password=PASSWORD, domain_id="default")
            for role in ("admin", "service"):
                idc.assign_project_role_to_user(service_project, user, roles[role])
        for name, (stype, url) in self.endpoints().items():
            svc = idc.create_service(name=name, type=stype)
            for iface in ("public", "internal", "admin"):
                idc.create_endpoint(service_id=svc.id, interface=iface, url=url, region_id="RegionOne")
        # the member cloud: user demo, member of project demo
        demo = idc.create_project(name="demo", domain_id="default")
        user = idc.create_user(name="demo", password=PASSWORD, domain_id="default", default_project_id=demo.id)
        idc.assign_project_role_to_user(demo, user, roles["member"])
        conn.close()

    def write_clouds_yaml(self) -> Path:
        auth_url = f"http://127.0.0.1:{self.ports['keystone']}/v3"
        common = {"region_name": "RegionOne", "interface": "public", "identity_api_version": "3"}

        def auth(user: str, **scope: str) -> dict:
            return {
                "auth_url": auth_url,
                "username": user,
                "password": PASSWORD,
                "user_domain_name": "Default",
                **scope,
            }

        project = {"project_name": "admin", "project_domain_name": "Default"}
        clouds = {
            CLOUD_ADMIN: {"auth": auth("admin", **project), **common},
            CLOUD_MEMBER: {"auth": auth("demo", project_name="demo", project_domain_name="Default"), **common},
            # Ironic's system-only APIs (drivers, conductors) need a system-scoped token
            CLOUD_SYSTEM: {"auth": auth("admin", system_scope="all"), **common},
        }
        self.clouds_yaml.write_text(json.dumps({"clouds": clouds}, indent=2))  # JSON is YAML
        return self.clouds_yaml

    def connect(self, cloud: str = CLOUD_ADMIN):
        import openstack  # noqa: PLC0415 - only the collection's Python needs it

        config = openstack.config.OpenStackConfig(config_files=[str(self.clouds_yaml)])
        return openstack.connection.Connection(config=config.get_one(cloud=cloud))

    def load(self) -> Stack:
        """Attach to a running stack (ports from its state)."""
        self.ports = json.loads((self.state / "ports.json").read_text())
        return self

    # -- readiness --------------------------------------------------------------------------
    def wait_ready(self, timeout: float = 240) -> None:
        conn = self.connect(CLOUD_ADMIN)
        system = self.connect(CLOUD_SYSTEM)

        def nova_ready() -> bool:
            hyps = [h for h in conn.compute.hypervisors(details=True) if h.state == "up"]
            if len(hyps) < len(COMPUTES):
                return False
            owned = 0
            for rp in conn.placement.resource_providers():
                traits = conn.placement.get(f"/resource_providers/{rp.id}/traits", microversion="1.6").json()["traits"]
                owned += "OWNER_NOVA" in traits and "COMPUTE_STATUS_DISABLED" not in traits
            return owned >= len(COMPUTES)

        def cinder_ready() -> bool:
            up = [s for s in conn.block_storage.services() if s.binary == "cinder-volume" and s.state == "up"]
            return len(up) == 2 and len(list(conn.block_storage.backend_pools())) == 4

        def ironic_ready() -> bool:
            return any(d.name == "fake-hardware" for d in system.baremetal.drivers())

        def neutron_ready() -> bool:
            return {a.host for a in conn.network.agents(agent_type="Open vSwitch agent") if a.is_alive} >= set(COMPUTES)

        wait_until(nova_ready, "3 hypervisors up with their resource providers", timeout, 1)
        wait_until(neutron_ready, "an alive Open vSwitch agent on every compute", timeout, 1)
        wait_until(cinder_ready, "2 cinder-volume services up with 4 pools", timeout, 1)
        wait_until(ironic_ready, "the Ironic conductor (fake-hardware driver)", timeout, 1)
        conn.close()
        system.close()


# -- lifetime -----------------------------------------------------------------------------
_ACTIVE: list[Stack] = []


def _stop_active(*_args) -> None:
    while _ACTIVE:
        _ACTIVE.pop().down()


def _on_signal(signum, _frame) -> None:
    _stop_active()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_handlers() -> None:
    atexit.register(_stop_active)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)


@contextlib.contextmanager
def running_stack(base: str | os.PathLike | None = None, seed: bool = True) -> Iterator[Stack]:
    """Bring a fresh stack up and stop every process it started on exit, whatever happens."""
    stack = Stack(base)
    _ACTIVE.append(stack)
    install_handlers()
    try:
        stack.up(seed=seed)
        yield stack
    finally:
        if stack in _ACTIVE:
            _ACTIVE.remove(stack)
        stack.down()


def main(argv: list[str]) -> int:
    import argparse  # noqa: PLC0415

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("command", choices=["install", "up", "down", "status", "clouds"])
    ap.add_argument("--no-seed", action="store_true", help="do not create the test servers, volumes and nodes")
    ap.add_argument("--dir", help="base directory (default build/realcloud or $VIGIL_REALCLOUD_DIR)")
    args = ap.parse_args(argv)
    stack = Stack(args.dir)
    if args.command == "install":
        stack.base.mkdir(parents=True, exist_ok=True)
        stack.install()
    elif args.command == "up":
        # an interrupted `up` must not leave half a cloud behind
        _ACTIVE.append(stack)
        install_handlers()
        stack.up(seed=not args.no_seed)
        _ACTIVE.remove(stack)
        print(stack.clouds_yaml)
    elif args.command == "down":
        stack.down()
    elif args.command == "status":
        st = stack.status()
        for name, alive in st.items():
            print(f"{name:18} {'running' if alive else 'dead'}")
        return 0 if st and all(st.values()) else 1
    elif args.command == "clouds":
        print(stack.clouds_yaml)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
