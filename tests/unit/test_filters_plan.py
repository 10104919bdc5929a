# -*- coding: utf-8 -*-
"""Filter plugins optimize / efficacy / plan_waves / plan_summary: direct calls and one playbook."""

import json
import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError
from modelgen import random_model

from ansible_collections.vigil.openstack.plugins.filter.efficacy import efficacy
from ansible_collections.vigil.openstack.plugins.filter.optimize import optimize
from ansible_collections.vigil.openstack.plugins.filter.plan_summary import plan_summary
from ansible_collections.vigil.openstack.plugins.filter.plan_waves import plan_waves
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def split_model(seed=1):
    m = random_model(seed, hosts=6, instances=30, odd_states=False)
    out = {k: frame.to_split(v) for k, v in m.items()}
    out["meta"] = {"digest": "sha256:test", "cloud": "t", "skipped": []}
    return out


def test_filters_direct():
    plan = optimize(split_model(), "server_consolidation")
    eff = efficacy(plan)
    assert eff["instance_migrations_count"] == eff["live_migrations_count"] > 0
    waves = plan_waves(plan, {"per_host": 1})
    assert sum(len(w) for w in waves) == len(plan["actions"]) and isinstance(waves[0][0], dict)
    assert plan_waves(plan, ids_only=True)[0][0] == "a1"
    s = plan_summary(plan)
    assert s["actions_by_type"]["migrate"] == eff["instance_migrations_count"]


def test_filter_errors():
    with pytest.raises(AnsibleFilterError, match="valid goals"):
        optimize(split_model(), "fastest")
    with pytest.raises(AnsibleFilterError, match="invalid plan"):
        efficacy({"actions": []})
    plan = optimize(split_model(), "server_consolidation")
    with pytest.raises(AnsibleFilterError, match="limits.per_host must be a positive integer"):
        plan_waves(plan, {"per_host": 0})
    with pytest.raises(AnsibleFilterError, match="unknown action type 'teleport'"):
        plan_waves(plan, {"per_type": {"teleport": 1}})


@pytest.mark.slow
def test_filters_in_playbook(tmp_path):
    model = tmp_path / "model.json"
    model.write_text(json.dumps(split_model()))
    pb = tmp_path / "pb.yml"
    pb.write_text(
        """
- hosts: localhost
  gather_facts: false
  vars:
    model: "{{ lookup('file', '%s') | from_json }}"
  tasks:
    - ansible.builtin.set_fact:
        plan: "{{ model | vigil.openstack.optimize('server_consolidation', params={'max_migrations': 50}) }}"
    - ansible.builtin.assert:
        that:
          - plan.strategy == 'node_resource_consolidation'
          - (plan | vigil.openstack.efficacy).instance_migrations_count == (plan.actions | selectattr('type', 'eq', 'migrate') | list | length)
          - (plan | vigil.openstack.plan_waves | flatten | length) == (plan.actions | length)
          - (plan | vigil.openstack.plan_summary).actions == (plan.actions | length)
    - ansible.builtin.set_fact:
        bad: "{{ model | vigil.openstack.optimize('server_consolidation', params={'host_choice': 'x'}) }}"
      ignore_errors: true
      register: bad
    - ansible.builtin.assert:
        that:
          - bad is failed
          - "'params.host_choice' in bad.msg"
"""
        % model
    )
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    r = subprocess.run(
        check=False,
        args=[os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(pb)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


@pytest.mark.slow
def test_filter_docs_parse():
    names = ["vigil.openstack.%s" % n for n in ("optimize", "efficacy", "plan_waves", "plan_summary")]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"))
    r = subprocess.run(
        check=False,
        args=[os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-t", "filter", "--json"] + names,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    for n in names:
        d = docs[n]
        assert d["doc"]["name"] == n.split(".")[-1] and d["examples"] and d["return"]["_value"]
