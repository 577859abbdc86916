"""The preset networks of the Training studio, as plain-data specs (see ``playground.train.models``)."""


def _conv(c: int, k: int, p: int) -> dict:
    return {"type": "conv", "out_channels": c, "kernel": k, "stride": 1, "padding": p, "dilation": 1}


def _layers(*items) -> list[dict]:
    return [dict(i) if isinstance(i, dict) else {"type": i} for i in items]


POOL2 = {"type": "maxpool", "kernel": 2, "stride": 2}
DEFAULT_SPEC: dict = {
    "name": "Classic",
    "layers": _layers(
        _conv(16, 5, 2),
        "batchnorm",
        "relu",
        POOL2,
        _conv(32, 5, 2),
        "batchnorm",
        "relu",
        POOL2,
        "flatten",
        {"type": "linear", "out_features": 10, "in_features": None},  # None: follows the shape before it (1,568)
    ),
}
PRESETS: dict[str, dict] = {
    "Classic (default)": DEFAULT_SPEC,
    "Tiny (fast demo)": {
        "name": "Tiny",
        "layers": _layers(
            _conv(8, 3, 1),
            "relu",
            {"type": "maxpool", "kernel": 4, "stride": 4},
            "flatten",
            {"type": "linear", "out_features": 10, "in_features": None},
        ),
    },
    "Deeper (aims above 92%)": {
        "name": "Deeper",
        "layers": _layers(
            _conv(32, 3, 1),
            "batchnorm",
            "relu",
            _conv(32, 3, 1),
            "batchnorm",
            "relu",
            POOL2,
            _conv(64, 3, 1),
            "batchnorm",
            "relu",
            _conv(64, 3, 1),
            "batchnorm",
            "relu",
            POOL2,
            {"type": "dropout", "p": 0.25},
            "flatten",
            {"type": "linear", "out_features": 128, "in_features": None},
            "relu",
            {"type": "dropout", "p": 0.25},
            {"type": "linear", "out_features": 10, "in_features": None},
        ),
    },
    "Keras book": {
        "name": "Keras book",
        "layers": _layers(
            _conv(32, 3, 0),
            "relu",
            POOL2,
            _conv(64, 3, 0),
            "relu",
            POOL2,
            _conv(64, 3, 0),
            "relu",
            "flatten",
            {"type": "linear", "out_features": 64, "in_features": None},
            "relu",
            {"type": "linear", "out_features": 10, "in_features": None},
        ),
    },
}

# The "classroom" training preset: a class pressing Train at once gets its runs back in seconds, not minutes
# (a subset of the training images and one epoch; the network is left as it is). Keys are TrainConfig's fields.
CLASSROOM = {"epochs": 1, "train_size": 5000, "batch_size": 128}
