"""plan_report through ansible-playbook: the collection's templates reach the module through the
action plugin, a user's template_dir replaces one format, template mistakes fail the task and
write nothing, and check mode predicts what a real run writes."""

import json
import sys
from pathlib import Path

from ansible_run import run_playbook, tasks_play

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import modelgen  # noqa: E402

from ansible_collections.vigil.openstack.plugins.filter import optimize as optimize_filter  # noqa: E402
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame  # noqa: E402


def _model_and_plan():
    model = frame.dump_model(modelgen.random_model(seed=3, hosts=10, instances=60, fill=0.4), {})
    return model, optimize_filter.optimize(model, goal="server_consolidation")


def _report_task(dest, name="Write the report", **extra):
    args = {"model": "{{ model }}", "plan": "{{ plan }}", "dest": str(dest), "basename": "r"}
    args.update(extra)
    return {"name": name, "vigil.openstack.plan_report": args, "register": "out"}


def _run(tmp_path, *tasks, args=None):
    model, plan = _model_and_plan()
    varsfile = tmp_path / "vars.json"
    varsfile.write_text(json.dumps({"model": model, "plan": plan}))
    return plan, run_playbook(tmp_path, tasks_play(*tasks), args=["-e", f"@{varsfile}", *(args or [])])


def test_default_templates_name_the_freed_hosts_then_check_mode_predicts_a_rewrite(tmp_path):
    out = tmp_path / "out"
    plan, run = _run(tmp_path, _report_task(out))
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("Write the report")
    freed = result["stats"]["vigil_freed_hosts"]
    assert freed and len(freed) == plan["efficacy"]["emptied_compute_nodes_count"]
    md, page = (out / "r.md").read_text(), (out / "r.html").read_text()
    assert f"- hosts freed ({len(freed)}): {', '.join(freed)}" in md
    assert f'<span id="freed-hosts">{", ".join(freed)}</span>' in page
    assert result["changed"] is True and result["markdown"] == md
    (out / "r.md").write_text("edited by hand\n")
    _unused, again = _run(tmp_path, _report_task(out, "Again in check mode"), args=["--check"])
    assert again.task("Again in check mode")["changed"] is True  # the real run would rewrite r.md
    assert (out / "r.md").read_text() == "edited by hand\n"  # ... and check mode did not


def test_template_dir_beside_the_playbook_replaces_one_format(tmp_path):
    (tmp_path / "templates" / "site").mkdir(parents=True)
    (tmp_path / "templates" / "site" / "plan_report.html.j2").write_text(
        "<p>{{ plan_id }} frees {{ freed_hosts | join(',') }}; {{ '<b>' }}</p>\n"
    )
    out = tmp_path / "out"
    plan, run = _run(tmp_path, _report_task(out, template_dir="site"))
    assert run.rc == 0, run.stdout + run.stderr
    page = (out / "r.html").read_text()
    freed = run.task("Write the report")["stats"]["vigil_freed_hosts"]
    assert page == "<p>%s frees %s; &lt;b&gt;</p>\n" % (plan["id"], ",".join(freed))  # autoescape on
    assert (out / "r.md").read_text().startswith("# vigil plan report")  # the collection's Markdown


def test_mistakes_fail_naming_the_template_or_option_and_write_nothing(tmp_path):
    (tmp_path / "templates" / "broken").mkdir(parents=True)
    (tmp_path / "templates" / "broken" / "plan_report.md.j2").write_text("line one\n{% if %}\n")
    (tmp_path / "templates" / "empty").mkdir()
    out = tmp_path / "out"
    tasks = [
        dict(_report_task(out, "Broken template", template_dir="broken"), ignore_errors=True),
        dict(_report_task(out, "Empty directory", template_dir="empty"), ignore_errors=True),
        dict(_report_task(out, "Missing directory", template_dir="nowhere"), ignore_errors=True),
        dict(_report_task(out, "Bad threshold", near_full_pct=150), ignore_errors=True),
    ]
    _unused, run = _run(tmp_path, *tasks)
    broken = run.task("Broken template")
    assert run.status("Broken template") == "failed" and "broken/plan_report.md.j2, line 2" in broken["msg"], broken[
        "msg"
    ]
    empty = run.task("Empty directory")
    assert (
        run.status("Empty directory") == "failed"
        and "holds neither plan_report.html.j2 nor plan_report.md.j2" in empty["msg"]
    )
    missing = run.task("Missing directory")
    assert run.status("Missing directory") == "failed" and "nowhere" in missing["msg"]
    bad = run.task("Bad threshold")
    assert (
        run.status("Bad threshold") == "failed"
        and "near_full_pct must be above 0 and at most 100, got 150" in bad["msg"]
    )
    assert not out.exists()
