"""Shared by every test: runs are kept in a temporary runs folder, never in the user's cache."""

import os

import pytest


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
