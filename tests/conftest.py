"""Shared by every test: runs are kept in a temporary runs folder, never in the user's cache."""

import os

import pytest

from tests.fakedata import write_fake_fashion_mnist


@pytest.fixture(scope="session", autouse=True)
def _runs_dir(tmp_path_factory):
    """Every RunManager.from_settings() of the session, servers started by tests included, writes here."""
    before = os.environ.get("PLAYGROUND_RUNS_DIR")
    os.environ["PLAYGROUND_RUNS_DIR"] = str(tmp_path_factory.mktemp("runs"))
    yield
    if before is None:
        os.environ.pop("PLAYGROUND_RUNS_DIR", None)
    else:
        os.environ["PLAYGROUND_RUNS_DIR"] = before


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A small generated FashionMNIST read through the real loader (600 training and 200 test images)."""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(write_fake_fashion_mnist(tmp_path, n_train=600, n_test=200)))
    import streamlit as st

    st.cache_resource.clear()  # the dataset is cached per server: start from this test's data
    yield
    st.cache_resource.clear()
