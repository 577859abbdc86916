"""A run's metrics as CSV, for a spreadsheet or a notebook: its curve, its final accuracy and its settings.

One table, one ``kind`` per row so every row has the same columns (``csv.DictReader`` reads it back):

- ``train``: ``step``, ``epoch``, ``loss`` (one row per recorded training step);
- ``eval``: ``step``, ``epoch``, ``test_loss``, ``test_accuracy`` (on the evaluation subset during training);
- ``final``: ``test_accuracy`` on the whole test set;
- ``setting``: ``name`` and ``value`` of each training setting.

Numbers are written with ``repr``, so they read back exactly.
"""

from __future__ import annotations

import csv
import io

COLUMNS = ("kind", "step", "epoch", "loss", "test_loss", "test_accuracy", "name", "value")


def metrics_rows(history: dict, settings: dict, final_accuracy: float | None = None) -> list[dict[str, object]]:
    """The rows of ``metrics_csv``, as dicts over ``COLUMNS`` (missing values left out)."""
    per_epoch = history.get("steps_per_epoch") or 1.0
    rows: list[dict[str, object]] = []
    for step, loss in zip(history.get("step", []), history.get("loss", []), strict=False):
        rows.append({"kind": "train", "step": step, "epoch": step / per_epoch, "loss": loss})
    evals = zip(history.get("eval_step", []), history.get("test_loss", []), history.get("test_acc", []), strict=False)
    for step, loss, acc in evals:
        rows.append({"kind": "eval", "step": step, "epoch": step / per_epoch, "test_loss": loss, "test_accuracy": acc})
    final = history.get("final_accuracy") if final_accuracy is None else final_accuracy
    if final is not None:
        rows.append({"kind": "final", "test_accuracy": final})
    rows += [{"kind": "setting", "name": name, "value": value} for name, value in settings.items()]
    return rows


def metrics_csv(history: dict, settings: dict, final_accuracy: float | None = None) -> str:
    """The run's metrics as CSV text (see the module's docstring for its rows).

    Args:
        history: the run's history (``step``, ``loss``, ``eval_step``, ``test_loss``, ``test_acc``,
            ``steps_per_epoch``; ``final_accuracy`` when it has one).
        settings: the training settings, e.g. ``dataclasses.asdict(config)``.
        final_accuracy: the accuracy on the whole test set, when known apart from the history.
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in metrics_rows(history, settings, final_accuracy):
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
    return buf.getvalue()
