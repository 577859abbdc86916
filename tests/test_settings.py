"""Settings: every PLAYGROUND_* variable parsed and range-checked once; a typo is one sentence naming it, at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground import settings as S

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_when_nothing_is_set(tmp_path):
    s = S.from_environ({"XDG_CACHE_HOME": str(tmp_path)})
    assert s.max_runs is None and s.live_seconds == 3.0 and s.data_dir is None
    assert s.cache_dir == tmp_path / "cnn-playground" and s.runs_dir == tmp_path / "cnn-playground" / "runs"
    assert s.max_network_mb == 2000 and s.eval_mb == 1024 and s.eval_seconds == 60
    assert (s.keep_runs, s.keep_days, s.forget_minutes, s.runs_per_browser) == (200, 14.0, 60.0, 1)
    assert (s.max_epochs, s.max_images, s.classroom, s.training_nice) == (30, 60_000, False, 10)


def test_good_values_are_parsed(tmp_path):
    s = S.from_environ({
        "PLAYGROUND_MAX_RUNS": " 3 ", "PLAYGROUND_LIVE_SECONDS": "1.5", "PLAYGROUND_DATA_DIR": str(tmp_path),
        "PLAYGROUND_CACHE_DIR": str(tmp_path / "c"), "PLAYGROUND_MAX_NETWORK_MB": "4000",
        "PLAYGROUND_RUNS_DIR": str(tmp_path / "r"), "PLAYGROUND_KEEP_RUNS": "10", "PLAYGROUND_KEEP_DAYS": "0.5",
        "PLAYGROUND_FORGET_MINUTES": "5", "PLAYGROUND_EVAL_MB": "512", "PLAYGROUND_EVAL_SECONDS": "20",
        "PLAYGROUND_RUNS_PER_BROWSER": "2", "PLAYGROUND_MAX_EPOCHS": "2", "PLAYGROUND_MAX_IMAGES": "5000",
        "PLAYGROUND_CLASSROOM": " yes ", "PLAYGROUND_TRAINING_NICE": "0",
    })  # fmt: skip
    assert s.training_nice == 0
    assert (s.max_epochs, s.max_images, s.classroom) == (2, 5000, True)
    assert (s.max_runs, s.live_seconds, s.max_network_mb, s.keep_runs, s.keep_days) == (3, 1.5, 4000, 10, 0.5)
    assert s.data_dir == tmp_path and s.cache_dir == tmp_path / "c" and s.runs_dir == tmp_path / "r"
    assert (s.forget_minutes, s.eval_mb, s.eval_seconds, s.runs_per_browser) == (5.0, 512, 20.0, 2)
    assert S.from_environ({"PLAYGROUND_MAX_RUNS": ""}).max_runs is None  # empty is unset
    assert S.from_environ({"PLAYGROUND_MAX_RUNS": "0"}).max_runs is None  # 0: one per core, as it always meant


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PLAYGROUND_MAX_RUNS", "-1"),  # queued every run forever
        ("PLAYGROUND_MAX_RUNS", "65"),
        ("PLAYGROUND_RUNS_PER_BROWSER", "0"),
        ("PLAYGROUND_MAX_RUNS", "abc"),
        ("PLAYGROUND_MAX_RUNS", "2.5"),
        ("PLAYGROUND_MAX_RUNS", "1e9"),
        ("PLAYGROUND_LIVE_SECONDS", "abc"),
        ("PLAYGROUND_LIVE_SECONDS", "nan"),
        ("PLAYGROUND_LIVE_SECONDS", "0"),
        ("PLAYGROUND_LIVE_SECONDS", "inf"),
        ("PLAYGROUND_MAX_NETWORK_MB", "100"),
        ("PLAYGROUND_EVAL_MB", "lots"),
        ("PLAYGROUND_EVAL_SECONDS", "-5"),
        ("PLAYGROUND_KEEP_RUNS", "0"),
        ("PLAYGROUND_KEEP_DAYS", "-1"),
        ("PLAYGROUND_FORGET_MINUTES", "never"),
        ("PLAYGROUND_DATA_DIR", "a\x00b"),
        ("PLAYGROUND_RAY_ADDRESS", "10.0.0.5"),  # no port
        ("PLAYGROUND_RAY_ADDRESS", "10.0.0.5:0"),
        ("PLAYGROUND_RAY_ADDRESS", "10.0.0.5:70000"),
        ("PLAYGROUND_RAY_ADDRESS", "ray://10.0.0.5:10001"),  # Ray Client: not how the studio connects
        ("PLAYGROUND_RAY_ADDRESS", "AUTO"),
        ("PLAYGROUND_MAX_EPOCHS", "0"),
        ("PLAYGROUND_MAX_EPOCHS", "31"),  # the studio's own range is 1-30
        ("PLAYGROUND_MAX_EPOCHS", "1.5"),
        ("PLAYGROUND_MAX_IMAGES", "50"),
        ("PLAYGROUND_MAX_IMAGES", "60001"),
        ("PLAYGROUND_MAX_IMAGES", "5k"),
        ("PLAYGROUND_CLASSROOM", "maybe"),
        ("PLAYGROUND_CLASSROOM", "2"),
        ("PLAYGROUND_TRAINING_NICE", "-5"),  # only root may raise a priority
        ("PLAYGROUND_TRAINING_NICE", "20"),
    ],
)
def test_a_bad_value_is_one_sentence_naming_the_variable(name, value):
    with pytest.raises(S.SettingsError) as info:
        S.from_environ({name: value})
    message = str(info.value)
    assert message.startswith(name) and repr(value) in message and message.endswith(".")
    assert "\n" not in message


def test_the_ray_address_is_empty_auto_or_host_port():
    assert S.from_environ({}).ray_address == ""  # the default: local processes, Ray never imported
    for value in ["auto", "127.0.0.1:6379", " head-node.example:6380 ", "10.0.0.5:1"]:
        assert S.from_environ({"PLAYGROUND_RAY_ADDRESS": value}).ray_address == value.strip()


def test_current_reads_the_environment_again_only_when_it_changes(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "2")
    first = S.current()
    assert first.max_runs == 2 and S.current() is first  # parsed once
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "3")
    assert S.current().max_runs == 3
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "-1")
    with pytest.raises(S.SettingsError, match="PLAYGROUND_MAX_RUNS"):
        S.current()


def test_no_module_reads_playground_variables_from_os_environ_itself():
    """One source: every PLAYGROUND_* variable is read by playground/settings.py (tests may set them)."""
    offenders = []
    for path in [*ROOT.glob("playground/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]:
        if path.name != "settings.py" and "environ" in path.read_text():
            offenders.append(path.name)
    assert offenders == []


@pytest.mark.parametrize("module", ["playground.train", "playground.train.data"])
def test_the_commands_print_the_sentence_and_exit_2(module, tmp_path):
    env = {**os.environ, "PLAYGROUND_MAX_RUNS": "abc"}
    args = [sys.executable, "-m", module] + (["--out", str(tmp_path)] if module == "playground.train" else [])
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "PLAYGROUND_MAX_RUNS must be a whole number" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("page", "name", "value"),
    [
        ("2_Training_studio.py", "PLAYGROUND_LIVE_SECONDS", "abc"),
        ("2_Training_studio.py", "PLAYGROUND_MAX_RUNS", "-1"),
        ("3_Inspect_model.py", "PLAYGROUND_MAX_RUNS", "2.5"),
        ("1_Convolution_explorer.py", "PLAYGROUND_MAX_NETWORK_MB", "abc"),
    ],
)
def test_pages_show_the_sentence_and_stop(page, name, value, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception and name in at.error[0].value  # the home page too
    at.switch_page(f"pages/{page}").run()
    assert not at.exception
    assert len(at.error) == 1 and name in at.error[0].value and repr(value) in at.error[0].value
    assert not at.title  # stopped before the page's own content
