"""Finding FashionMNIST: the search order, Debian's package, clear guidance when nothing is there, the check command."""

import gzip
import os
from pathlib import Path

import pytest
import torch

from playground.train import data as D
from tests.fakedata import write_fake_fashion_mnist


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No env var, an empty working directory, no Debian package, a private cache."""
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(D, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _debian(tmp_path: Path) -> Path:
    src = write_fake_fashion_mnist(tmp_path / "src") / "FashionMNIST" / "raw"
    deb = tmp_path / "debian"
    deb.mkdir()
    for f in D.FILES:
        (deb / f"{f}.gz").write_bytes(gzip.compress((src / f).read_bytes()))
    return deb


def test_search_order_env_then_dot_data_then_debian(nowhere, monkeypatch):
    assert D.find_data_root() is None
    deb = _debian(nowhere)
    monkeypatch.setattr(D, "DEBIAN_DIR", deb)
    found = D.find_data_root()
    assert found.source.startswith("Debian package") and found.root == nowhere / "cache"
    write_fake_fashion_mnist(nowhere / "data")
    assert D.find_data_root().source == "./data"
    write_fake_fashion_mnist(nowhere / "env")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(nowhere / "env"))
    assert D.find_data_root().source.startswith("PLAYGROUND_DATA_DIR=")


def test_debian_layout_is_built_once(nowhere, monkeypatch):
    monkeypatch.setattr(D, "DEBIAN_DIR", _debian(nowhere))
    D.find_data_root()
    raw = nowhere / "cache" / "FashionMNIST" / "raw" / D.FILES[0]
    first = raw.stat().st_mtime_ns
    data = D.load_fashion_mnist()
    assert raw.stat().st_mtime_ns == first  # not unpacked again
    assert data.train_images.shape == (600, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.test_labels.dtype == torch.int64 and len(data.test_labels) == 200


def test_nothing_found_says_exactly_what_to_do(nowhere):
    with pytest.raises(D.DataNotFound) as info:
        D.load_fashion_mnist()
    message = str(info.value)
    assert "PLAYGROUND_DATA_DIR" in message and "apt-get install dataset-fashion-mnist" in message
    assert "--download" in message


def test_check_command_on_fake_data_reports_checksum_mismatch(nowhere, capsys):
    write_fake_fashion_mnist(nowhere / "data")
    assert D.main([]) == 1
    out = capsys.readouterr().out
    assert "./data" in out and "CHECKSUM MISMATCH" in out and "T-shirt/top=" in out


def test_check_command_without_data(nowhere, capsys):
    assert D.main([]) == 1
    assert "apt-get install" in capsys.readouterr().out


def test_check_command_on_the_real_data(capsys):
    if D.find_data_root() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs dataset-fashion-mnist: it must be found")
        pytest.skip("FashionMNIST not installed here")
    assert D.main([]) == 0
    out = capsys.readouterr().out
    assert "60,000 images" in out and out.count("checksum OK") == 4


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "which does not exist"),
        (lambda p: p.write_text("x"), "which is not a folder"),
        (lambda p: (p / "FashionMNIST" / "raw").mkdir(parents=True), "lacks train-images-idx3-ubyte"),
    ],
)
def test_an_unusable_data_dir_is_named_with_the_copy_used_instead(nowhere, monkeypatch, capsys, make, reason):
    write_fake_fashion_mnist(nowhere / "data")
    bad = nowhere / "wrong"
    make(bad)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(bad))
    found = D.find_data_root()
    assert found.source == "./data"
    assert found.note.startswith(f"PLAYGROUND_DATA_DIR is {bad}, ") and reason in found.note
    assert found.note.endswith(", so it was not used: using ./data instead.")
    assert D.load_fashion_mnist().note == found.note  # carried with the data, for the studio page
    D.main([])
    assert f"Note: {found.note}" in capsys.readouterr().out


def test_a_good_data_dir_has_no_note_and_a_missing_one_is_named_when_nothing_is_found(nowhere, monkeypatch):
    write_fake_fashion_mnist(nowhere / "env")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(nowhere / "env"))
    assert D.find_data_root().note == ""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(nowhere / "gone"))
    with pytest.raises(D.DataNotFound, match=r"PLAYGROUND_DATA_DIR is .*gone, which does not exist"):
        D.load_fashion_mnist()
