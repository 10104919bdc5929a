"""Glance, Neutron and Cinder edge cases end to end: compute_model_info reads the twin, the
host_maintenance strategy evacuates the host, and the twin (which refuses what Nova's scheduler
would) takes every move of the plan. Each expected destination flips when only the data does."""

from __future__ import annotations

import openstack
import pytest
from ansible_run import run_playbook, tasks_play

from vigil_twin.testing import edge_topology, running_twin, write_clouds_yaml


def topology(vf2_physnets, boot_image_metadata):
    """The twin's edge-case cluster (src is evacuated), plus: nfv-1 is SHUTOFF, orphan-1 was booted
    from an image since deleted, and busy-1 takes room on vf1."""
    topo = edge_topology(vf2_physnets, boot_image_metadata)
    topo["servers"][0]["status"] = "SHUTOFF"
    topo["servers"] += [
        {"name": "orphan-1", "flavor": "m1.small", "host": "src", "image": "deleted-image"},
        {"name": "busy-1", "flavor": "m1.medium", "host": "vf1"},
    ]
    topo["deleted_images"] = ["deleted-image"]
    return topo


def _connect(clouds, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    conn = openstack.connect(cloud="vigil-twin")
    conn.compute.default_microversion = "2.56"  # migrate to a named host
    return conn


def plan_on(tmp_path, monkeypatch, topo, move_without_image):
    """(planned {server: destination}, warnings, the twin's verdict on each move) for one topology."""
    tmp_path.mkdir()
    with running_twin(topo) as twin:
        clouds = write_clouds_yaml(twin, tmp_path / "clouds.yaml")
        run = run_playbook(
            tmp_path,
            tasks_play(
                {
                    "name": "collect",
                    "vigil.openstack.compute_model_info": {
                        "cloud": "vigil-twin",
                        "move_servers_without_image": move_without_image,
                    },
                    "register": "m",
                },
                {
                    "name": "plan",
                    "ansible.builtin.set_fact": {
                        "plan": "{{ m.model | vigil.openstack.optimize('cluster_maintaining', 'host_maintenance',"
                        " {'maintenance_node': 'src', 'allow_cold_active': true}) }}"
                    },
                },
            ),
            clouds_yaml=clouds,
        )
        assert run.rc == 0, run.stdout + run.stderr
        plan = run.task("plan")["ansible_facts"]["plan"]
        names = {s["id"]: s["name"] for s in twin.cloud.stores["compute"].servers.values()}
        moves = {
            names[a["resource"]]: a["input"]["destination_node"] for a in plan["actions"] if a["type"] == "migrate"
        }
        conn = _connect(clouds, monkeypatch)
        verdict = {}
        for name, dest in moves.items():
            sid = twin.cloud.stores["compute"].server_by_name[name]
            try:  # the twin answers as Nova's scheduler: 400 "No valid host" for a host that lacks a need
                conn.compute.migrate_server(sid, host=dest)
                verdict[name] = "accepted"
            except openstack.exceptions.BadRequestException as exc:
                verdict[name] = str(exc)
        meta = run.task("collect")["model"]["meta"]
        orphan = twin.cloud.stores["compute"].server_by_name["orphan-1"]
        assert meta["images_missing"] == [orphan]
        return moves, [w["message"] for w in plan["warnings"]], run.stdout + run.stderr, verdict


def test_edge_destinations_flip_with_the_data(tmp_path, monkeypatch):
    moves, plan_warnings, collect_output, verdict = plan_on(
        tmp_path / "a",
        monkeypatch,
        topology(["physnet2"], {"trait:HW_CPU_X86_AVX2": "required"}),
        move_without_image=False,
    )
    # nfv-1: vf2's VFs are on physnet2, plain has none -> vf1; bfv-1: its boot volume's image
    # requires AVX2 -> vf2; orphan-1: its image is gone -> stays
    assert moves == {"nfv-1": "vf1", "bfv-1": "vf2"}
    assert verdict == {"nfv-1": "accepted", "bfv-1": "accepted"}
    assert plan_warnings == ["stays on src: cannot be live-migrated"], plan_warnings  # orphan-1
    assert "are gone from Glance" in collect_output and "they stay where they are" in collect_output

    moves, _plan_warnings, collect_output, verdict = plan_on(
        tmp_path / "b",
        monkeypatch,
        topology(["physnet1", "physnet2"], {"hw_disk_bus": "virtio"}),
        move_without_image=True,
    )
    # vf2 now has VFs on physnet1 and is emptier than vf1; bfv-1 needs no trait -> the roomiest
    assert moves["nfv-1"] == "vf2" and moves["bfv-1"] == "plain" and "orphan-1" in moves
    assert set(verdict.values()) == {"accepted"}
    assert "they may move" in collect_output


@pytest.mark.parametrize("dest", ["plain", "vf1"])
def test_the_twin_refuses_what_the_plan_avoids(tmp_path, monkeypatch, dest):
    """The destinations vigil refuses are refused by the twin too (its own reading of Nova)."""
    topo = topology(["physnet2"], {"trait:HW_CPU_X86_AVX2": "required"})
    with running_twin(topo) as twin:
        conn = _connect(write_clouds_yaml(twin, tmp_path / "c.yaml"), monkeypatch)
        server = "nfv-1" if dest == "plain" else "bfv-1"
        sid = twin.cloud.stores["compute"].server_by_name[server]
        with pytest.raises(openstack.exceptions.BadRequestException, match="No valid host was found. Host " + dest):
            conn.compute.migrate_server(sid, host=dest)
