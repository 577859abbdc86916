"""AppTest: the Training studio shows every state a run can be in, Stop while queued, and a run that diverges."""

import time

import pytest

from playground.train.loop import TrainConfig
from playground.train.models import PRESETS
from playground.train.runs import ACTIVE, RunManager
from playground.train.status import RunSnapshot, Status, new_history
from tests.test_page_training import page

OWNER = "browser-1"
HISTORY = {"step": [1, 2, 3], "loss": [2.3, 2.0, 1.8], "eval_step": [3], "test_loss": [1.9], "test_acc": [0.4],
           "steps_per_epoch": 3.0}  # fmt: skip


def serve(monkeypatch, manager) -> None:
    """Make the pages use ``manager``: the pages import ``ui.server.run_manager`` on each run and ``ui.inspect``
    calls it through the module, so this one patch reaches every caller."""
    import ui.server

    monkeypatch.setattr(ui.server, "run_manager", lambda: manager)


class FakeRun:
    """Stands in for a Run in a given state: the page only reads its snapshot and status."""

    def __init__(self, snapshot: RunSnapshot):
        self.now, self.owner, self.spec, self.config = snapshot, OWNER, PRESETS["Tiny (fast demo)"], snapshot.config
        self.id = snapshot.id

    @property
    def status(self):
        return self.now.status

    def snapshot(self):
        return self.now

    def stop(self):
        pass

    pause = resume = step_once = stop

    def checkpoint(self):
        return None  # the weights are not what these tests look at


class FakeManager:
    def __init__(self, runs):
        self.runs = runs

    def runs_for(self, owner):
        return list(self.runs) if owner == OWNER else []

    def active_for(self, owner):
        return next((r for r in self.runs_for(owner) if r.status in ACTIVE), None)

    def evaluated(self, run):
        return None  # no evaluation written yet: the live view says it will come


def snap(status, *, progress=0.42, rate=1234.0, eta=17.0, error=None, accuracy=None, has_model=False, position=None,
         storage_error=None, history=HISTORY, wait=None, halted=None):  # fmt: skip
    return RunSnapshot("r1", status, position, progress, rate, eta, history, error, accuracy, TrainConfig(),
                       has_model, storage_error, wait, halted=halted)  # fmt: skip


# (snapshot, where the words are, the words, whether the Inspect link shows)
STATES = [
    (snap(Status.QUEUED, position=3, progress=0.0, eta=None, history=new_history()), "info",
     "Run 2 is waiting for a free slot: position 3 in the queue.", False),
    (snap(Status.QUEUED, position=2, progress=0.0, eta=None, history=new_history(), wait=150.0), "info",
     "Run 2 is waiting for a free slot: position 2 in the queue; it should start in about 2 min.", False),
    (snap(Status.STARTING, progress=0.0, eta=None, history=new_history()), "info",
     "Run 2 is starting its training process", False),
    (snap(Status.RUNNING), "progress", "Running: 42% · 1,234 images/s, about 17 s left", False),
    (snap(Status.PAUSED, halted=(3, 1.8)), "progress", "Paused at 42% (step 3, loss 1.8000). A paused run keeps its "
     "place among the runs this server trains at once: Resume it, or Stop it to free the place.", False),
    (snap(Status.PAUSED), "progress", "Paused at 42% (finishing the current step…)", False),
    (snap(Status.STOPPING, eta=106.0), "progress", "Stopping at 42%: finishing the current step", False),
    (snap(Status.EVALUATING), "info", "measuring accuracy on all 200 test images", False),
    (snap(Status.FINISHED, progress=1.0, accuracy=0.8765, has_model=True), "success",
     "Run 2 finished: test accuracy **87.65%** on 200 test images (1,234 images/s).", True),
    (snap(Status.STOPPED, accuracy=0.5, has_model=True), "success", "Run 2 stopped: test accuracy **50.00%**", True),
    (snap(Status.STOPPED, progress=0.0, eta=None, history=new_history()), "info",
     "Run 2 was cancelled before it started training.", False),
    (snap(Status.FAILED, error="The training process was killed (SIGKILL)."), "error",
     "Run 2 failed. The training process was killed (SIGKILL).", False),
    (snap(Status.DIVERGED, error="The loss became NaN at step 3: lower the learning rate (it is 1 now)."), "warning",
     "Run 2 stopped itself. The loss became NaN at step 3: lower the learning rate (it is 1 now). Its curve up to "
     "there is kept.", False),
    (snap(Status.INTERRUPTED, has_model=True), "warning", "Run 2 was interrupted at 42% when the server stopped; "
     "its curve and the weights of its last evaluation are kept.", True),
    (snap(Status.INTERRUPTED), "warning", "Run 2 was interrupted at 42% when the server stopped; its curve is kept.",
     False),
    (snap(Status.RUNNING, progress=float("nan"), rate=float("inf"), eta=float("nan")), "progress",
     "Running: 0% · — images/s", False),
    (snap(Status.FINISHED, accuracy=0.9, storage_error="Runs cannot be saved in /x (No space left on device): …"),
     "warning", "Runs cannot be saved in /x (No space left on device)", False),
]  # fmt: skip


def texts(at, kind: str) -> list[str]:
    if kind == "progress":
        return [p.proto.text for p in at.get("progress")]
    return [e.value for e in getattr(at, kind)]


@pytest.mark.parametrize(("now", "kind", "words", "inspect"), STATES, ids=[f"{s[0].status}-{i}" for i, s in
                                                                           enumerate(STATES)])  # fmt: skip
def test_every_run_state_renders_with_the_right_words(fake_data, monkeypatch, now, kind, words, inspect):
    first = FakeRun(snap(Status.FINISHED, accuracy=0.5))  # this owner's run 1: the status line is about run 2
    serve(monkeypatch, FakeManager([first, FakeRun(now)]))
    at = page("2_Training_studio.py")
    at.session_state["browser_id"] = OWNER
    at.run()
    assert not at.exception, at.exception
    assert any(words in t for t in texts(at, kind)), texts(at, kind)
    links = [p.proto.label for p in at.get("page_link")]
    assert ("Inspect the trained model" in links) == inspect
    if now.status == Status.STOPPING:
        assert "left" not in texts(at, "progress")[0]  # no time estimate while stopping


@pytest.fixture
def manager(tmp_path, monkeypatch):
    m = RunManager(max_concurrent=1, runs_dir=tmp_path / "runs")
    serve(monkeypatch, m)
    yield m
    for run in m._runs:
        run.stop()


def wait_until(at, predicate, timeout=60.0) -> bool:
    """Rerun the page until ``predicate(at)`` (fragments do not tick in AppTest)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate(at):
            return True
        time.sleep(0.5)
        at.run()
    return False


def test_cancel_while_queued_removes_the_run_from_the_queue(fake_data, manager):
    """A queued run's button reads Cancel (not Stop), and takes the run out of the queue."""
    from ui.server import dataset

    other = manager.submit("someone else", PRESETS["Tiny (fast demo)"], TrainConfig(epochs=100, batch_size=32),
                           dataset())  # fmt: skip
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value("Tiny (fast demo)").run()
    at.button(key="ts_train").click().run()
    assert any("position 1 in the queue" in i.value for i in at.info), [i.value for i in at.info]
    cancel = at.button(key="ts_cancel")
    assert cancel.label == "✕ Cancel" and "ts_stop" not in [b.key for b in at.button]
    cancel.click().run()
    assert wait_until(at, lambda at: any("cancelled before it started" in i.value for i in at.info), 10)
    assert "ts_cancel" not in [b.key for b in at.button]
    assert not at.exception, at.exception
    assert manager._queue == [] and other.status in (Status.STARTING, Status.RUNNING)  # the other run goes on
    assert not at.button(key="ts_train").disabled  # the owner may train again


def test_a_diverging_run_stops_itself_and_keeps_its_curve(fake_data, manager):
    """The Keras-book network with plain SGD at the page's highest learning rate becomes NaN on the fake data."""
    at = page("2_Training_studio.py")
    at.selectbox(key="ts_preset").set_value("Keras book").run()
    at.selectbox(key="ts_opt").set_value("sgd").run()
    at.number_input(key="ts_lr").set_value(1.0).run()
    at.select_slider(key="ts_bs").set_value(32).run()
    at.button(key="ts_train").click().run()
    assert wait_until(at, lambda at: at.warning)
    assert not at.exception, at.exception
    message = at.warning[0].value
    assert "The loss became NaN at step 15: lower the learning rate (it is 1 now)." in message
    run = manager.runs_for(at.session_state["browser_id"])[-1]
    assert run.status == Status.DIVERGED
    loss = run.snapshot().history["loss"]
    assert len(loss) == 14 and all(v == v for v in loss)  # the curve up to the last finite step
    assert at.get("plotly_chart")  # and it is drawn
