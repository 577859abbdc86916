"""The Training studio's cost line: what this network and these settings will cost, refused over the server's budget."""

from __future__ import annotations

import streamlit as st

from playground.settings import current
from playground.train.budget import over_budget, training_estimate
from playground.train.loop import TrainConfig
from playground.train.models import Summary


def budget_check(summary: Summary, config: TrainConfig | None) -> str | None:
    """Show the estimated peak memory and time of this run; return why it is refused (shown too), or None."""
    if not summary.ok or config is None:
        return None
    images = config.train_size or 60_000
    est = training_estimate(summary, config.batch_size, images)
    budget = current().max_network_mb
    refusal = over_budget(est, budget, config.batch_size)
    minutes = est.seconds_per_epoch * config.epochs / 60
    st.caption(
        f"Estimated for this network and these settings: the training process peaks at ~{est.peak_mb:,.0f} MB "
        f"(this server allows {budget:,} MB), ~{est.seconds_per_epoch:,.0f} s per epoch of {images:,} images, "
        f"~{minutes:,.1f} min in all when the run has the cores to itself."
    )
    if refusal:
        st.error(refusal)
    return refusal
