"""The training engine: data, networks, the training loop, evaluation, checkpoints, and runs for a shared server.

``python -m playground.train`` trains from the shell (``playground.train.cli``)."""
