"""AppTest: the studio's run table (what differed, rename, delete) and Pause / Resume / One step."""

import json

from playground.train.runs import RunManager, Status
from tests.test_page_training import page
from tests.test_run_status import manager, wait_until  # noqa: F401 (manager: the fixture)
from tests.test_runs import wait_for


def legend(at) -> set[str]:
    return {trace.get("name") for trace in json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]}


def train(at, lr: float) -> None:
    at.number_input(key="ts_lr").set_value(lr).run()
    at.button(key="ts_train").click().run()
    assert wait_until(at, lambda at: not at.button(key="ts_train").disabled and at.success)


def test_the_table_shows_what_differed_and_runs_are_renamed_and_deleted(fake_data, manager, tmp_path):  # noqa: F811
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.number_input(key="ts_epochs").set_value(1).run()
    train(at, 0.003)
    frame = at.dataframe[-1].value
    assert list(frame.columns) == ["run", "test accuracy", "training time", "images/s", "status"]  # nothing differs
    train(at, 0.01)
    frame = at.dataframe[-1].value
    assert list(frame.columns) == ["run", "lr", "test accuracy", "training time", "images/s", "status"]
    assert list(frame["lr"]) == ["0.003", "0.01"] and list(frame["status"]) == ["finished", "finished"]
    assert frame["test accuracy"].str.endswith("%").all() and frame["training time"].str.endswith(" s").all()
    assert {"Run 1 · lr 0.003", "Run 2 · lr 0.01"} <= legend(at)  # the legend names the difference
    owner = at.session_state["browser_id"]
    first, second = manager.runs_for(owner)
    # Rename run 1; a bad name is refused with a sentence and changes nothing.
    at.selectbox(key="ts_pick").set_value(first.id).run()
    at.text_input(key="ts_name").input("<script>").run()
    at.button(key="ts_rename").click().run()
    assert any("not '<' '>'" in w.value for w in at.warning), [w.value for w in at.warning]
    assert first.name is None and not at.exception
    at.text_input(key="ts_name").input("x" * 41).run()
    at.button(key="ts_rename").click().run()
    assert any("at most 40 characters" in w.value for w in at.warning)
    at.text_input(key="ts_name").input("slow and steady").run()
    at.button(key="ts_rename").click().run()
    assert any("Renamed to “slow and steady”" in s.value for s in at.success)
    assert at.dataframe[-1].value["run"][0] == "slow and steady"
    assert "slow and steady · lr 0.003" in legend(at)
    # Delete run 2: gone from the table and from the runs folder.
    at.selectbox(key="ts_pick").set_value(second.id).run()
    at.button(key="ts_delete").click().run()
    assert any("deleted" in s.value for s in at.success) and not at.exception
    assert list(at.dataframe[-1].value["run"]) == ["slow and steady"]
    assert not (tmp_path / "runs" / second.id).exists() and (tmp_path / "runs" / first.id).exists()
    # A reload (a new server on the same folder) keeps the name.
    again = RunManager(max_concurrent=1, runs_dir=tmp_path / "runs")
    assert [r.name for r in again.runs_for(owner)] == ["slow and steady"]


def test_pause_one_step_resume_and_delete_refused_while_paused(fake_data, manager):  # noqa: F811
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.number_input(key="ts_epochs").set_value(30).run()
    at.button(key="ts_train").click().run()
    (run,) = manager.runs_for(at.session_state["browser_id"])
    assert wait_until(at, lambda at: "ts_pause" in [b.key for b in at.button] and run.status == Status.RUNNING)
    assert "ts_resume" not in [b.key for b in at.button] and "ts_step" not in [b.key for b in at.button]
    at.button(key="ts_pause").click().run()
    assert run.status == Status.PAUSED
    assert wait_until(at, lambda at: not at.button(key="ts_step").disabled, 60)
    assert any("Paused at" in p.proto.text for p in at.get("progress"))
    assert "ts_pause" not in [b.key for b in at.button] and at.button(key="ts_train").disabled
    before = len(run.snapshot().history["step"])
    at.button(key="ts_step").click().run()
    step, loss = run.snapshot().stepped
    assert step == before + 1 and len(run.snapshot().history["step"]) == before + 1
    assert any(f"step {step:,}**, that batch's loss **{loss:.4f}**" in m.value for m in at.markdown)
    at.button(key="ts_delete").click().run()  # the paused run is the one picked: refused, with the reason
    assert any("stop it first" in w.value for w in at.warning) and run in manager.runs_for(run.owner)
    at.button(key="ts_resume").click().run()
    assert run.status == Status.RUNNING and "ts_pause" in [b.key for b in at.button]
    assert wait_for(lambda: len(run.snapshot().history["step"]) > before + 1, 30)  # no page reruns: it may end
    at.button(key="ts_stop").click().run()
    assert wait_until(at, lambda at: run.status == Status.STOPPED)
    assert not at.exception


def test_a_run_in_progress_points_to_the_live_status_line(tmp_path):
    """The table is drawn once per page run, the status line every few seconds: an active run's row would go stale."""
    import torch

    from playground.train.data import FashionMNIST
    from tests.fakedata import fake_split
    from tests.test_runs import LONG, TINY, wait_for
    from ui.run_table import comparison_frame

    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    runs = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = runs.submit("o", TINY, LONG, FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake"))
    try:
        assert wait_for(lambda: run.status == Status.RUNNING)
        assert list(comparison_frame([run])["status"]) == ["in progress: see above"]
    finally:
        run.stop()
        assert wait_for(lambda: run.status == Status.STOPPED, 60)
    assert list(comparison_frame([run])["status"]) == ["stopped"]
