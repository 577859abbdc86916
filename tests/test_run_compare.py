"""Comparing runs (which settings differ, the legend's words, names) and renaming or deleting runs through the store."""


import pytest

from playground.train.compare import NAME_MAX, clean_name, differing, network_text, run_label, settings_of
from playground.train.loop import TrainConfig
from playground.train.models import PRESETS
from playground.train.run_store import RunStore
from playground.train.runs import RunError, RunManager, Status
from tests.test_run_replicas import dead_pid, lease
from tests.test_runs import data, wait_for  # noqa: F401 (data: the module-scoped fixture)

TINY, CLASSIC = PRESETS["Tiny (fast demo)"], PRESETS["Classic (default)"]
SHORT = TrainConfig(epochs=1, batch_size=64, threads=1, train_size=100)
LONG = TrainConfig(epochs=100, batch_size=32, threads=1)


def test_only_the_settings_that_differ_are_named_in_order():
    runs = [settings_of(TINY, TrainConfig()), settings_of(TINY, TrainConfig(lr=0.01)),
            settings_of(CLASSIC, TrainConfig(batch_size=64))]  # fmt: skip
    assert differing(runs) == ["network", "batch", "lr"]
    assert differing(runs[:1]) == [] and differing([]) == []
    assert differing([runs[0], dict(runs[0])]) == []
    every = [settings_of(TINY, TrainConfig()), settings_of(CLASSIC, TrainConfig(
        optimizer="sgd", lr=0.1, batch_size=32, epochs=2, weight_decay=0.0, l1=1e-5, dropout=0.3, augment="flip",
        train_size=1000, seed=7, schedule="constant", precision="float32"))]  # fmt: skip
    assert differing(every) == ["network", "epochs", "images", "batch", "lr", "optimizer", "schedule", "weight decay",
                                "L1", "dropout", "augment", "seed", "precision"]  # fmt: skip
    assert every[1]["images"] == "1,000" and every[0]["images"] == "all" and every[0]["dropout"] == "per layer"
    assert every[1]["lr"] == "0.1" and every[1]["L1"] == "1e-05"


def test_an_edited_network_is_told_apart_by_its_layers_and_parameters():
    assert network_text(TINY) == "Tiny (fast demo)"
    wider = {"name": "Tiny (edited)", "layers": [dict(TINY["layers"][0], out_channels=12), *TINY["layers"][1:]]}
    assert network_text(wider).startswith(f"Tiny (edited): {len(TINY['layers'])} layers, ")
    assert network_text(wider) != network_text({**wider, "layers": TINY["layers"][:-1] + TINY["layers"][-1:]})
    broken = {"name": "x", "layers": [{"type": "conv", "out_channels": 4, "kernel": 99}]}
    assert network_text(broken) == "x: 1 layers"  # cannot be built: no parameter count


def test_the_label_names_the_difference():
    s = settings_of(TINY, TrainConfig(lr=0.01, batch_size=64, seed=3))
    assert run_label(2, None, s, ["lr"]) == "Run 2 · lr 0.01"
    assert run_label(2, "fast one", s, ["lr", "batch"]) == "fast one · lr 0.01, batch 64"
    assert run_label(2, None, s, ["lr", "batch", "seed"]) == "Run 2 · lr 0.01, batch 64, …"
    assert run_label(1, None, s, []) == "Run 1"


GOOD = [("  my   run ", "my run"), ("", None), ("   ", None), ("lr=0.1 (Adam)", "lr=0.1 (Adam)"),
        ("über-Netz #2", "über-Netz #2"), ("a" * NAME_MAX, "a" * NAME_MAX)]  # fmt: skip
BAD = [("a" * (NAME_MAX + 1), "at most 40 characters"), ("<b>x</b>", "'<' '>'"), ("new\x00line", "'\\x00'"),
       ("a*b", "'*'"), ("[link](x)", "'[' ']'")]  # fmt: skip


@pytest.mark.parametrize("text, name", GOOD)
def test_good_names_are_trimmed(text, name):
    assert clean_name(text) == name


@pytest.mark.parametrize("text, words", BAD)
def test_bad_names_are_refused_with_a_sentence(text, words):
    with pytest.raises(ValueError, match="name") as e:
        clean_name(text)
    assert words in str(e.value)


def test_rename_and_delete_last_through_a_reload(data, tmp_path):  # noqa: F811
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    first = manager.submit("me", TINY, SHORT, data)
    assert wait_for(lambda: first.status == Status.FINISHED)
    second = manager.submit("me", TINY, SHORT, data)
    assert wait_for(lambda: second.status == Status.FINISHED)
    manager.rename("me", first, "  baseline ")
    assert first.snapshot().name == "baseline" and RunStore(tmp_path).load_record(first.id)["name"] == "baseline"
    with pytest.raises(RunError, match="at most 40"):
        manager.rename("me", first, "x" * 41)
    assert first.snapshot().name == "baseline"  # a bad name changes nothing
    with pytest.raises(RunError, match="not in your list"):
        manager.rename("you", first, "mine now")
    with pytest.raises(RunError, match="not in your list"):
        manager.delete("you", second)
    manager.delete("me", second)
    assert manager.runs_for("me") == [first] and not (tmp_path / second.id).exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".deleted")] == []
    reloaded = RunManager(max_concurrent=1, runs_dir=tmp_path)
    (back,) = reloaded.runs_for("me")
    assert back.id == first.id and back.snapshot().name == "baseline"
    assert back.snapshot().seconds == pytest.approx(first.result.seconds)  # the table's training time, kept
    reloaded.rename("me", back, "")
    assert RunManager(max_concurrent=1, runs_dir=tmp_path).runs_for("me")[0].snapshot().name is None


def test_an_active_run_is_not_deleted_and_says_why(data, tmp_path):  # noqa: F811
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = manager.submit("me", TINY, LONG, data)
    assert wait_for(lambda: run.status == Status.RUNNING)
    with pytest.raises(RunError, match="stop it first"):
        manager.delete("me", run)
    assert run.pause()
    with pytest.raises(RunError, match="stop it first"):
        manager.delete("me", run)
    manager.rename("me", run, "going")  # a name, though, it can take while it trains
    run.stop()
    assert wait_for(lambda: run.status == Status.STOPPED)
    assert RunStore(tmp_path).load_record(run.id)["name"] == "going"  # the run's later writes keep it
    assert (tmp_path / run.id).exists()
    manager.delete("me", run)
    assert not (tmp_path / run.id).exists() and manager.runs_for("me") == []


def test_a_run_another_live_server_trains_is_left_alone(tmp_path):
    store = RunStore(tmp_path)
    lease(tmp_path, "other", "elsewhere", dead_pid(), age=0)  # a live server on another machine
    record = {"id": "theirs", "owner": "me", "created": 1.0, "status": "running", "spec": TINY,
              "config": {}, "history": {}, "server": "other"}  # fmt: skip
    store.save_record(record)
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    assert manager.runs_for("me") == []  # never shown, so never renamed or deleted from here
    store.save_record({**record, "status": "finished"})  # ...until it has ended: then it is everyone's
    from playground.train.run import Run

    run = Run.from_record(manager, store.load_record("theirs"))
    with manager._lock:
        manager._runs.append(run)
    store.save_record(record)  # the other server is still training it after all: the record on disk says so
    with pytest.raises(RunError, match="Another server"):
        manager.delete("me", run)
    assert (tmp_path / "theirs" / "run.json").exists()


def test_a_deletion_cut_short_is_finished_by_the_next_start(tmp_path):
    store = RunStore(tmp_path)
    left = tmp_path / ".deleted-abc-1234"
    (left / "x").mkdir(parents=True)
    import os

    os.utime(left, (0, 0))
    store.records()
    assert not left.exists() and store.ids() == []
