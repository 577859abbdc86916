"""Watch it learn: the studio redraws the newest run's filters and maps from the weights of its evaluations."""

import io
import time

import torch
from PIL import Image

from playground.render.colours import lut, scale_for
from playground.render.network_picture import filters_picture
from playground.train.checkpoints import load_checkpoint
from playground.train.data import FashionMNIST
from playground.train.runs import RunManager, Status
from tests.fakedata import fake_split
from tests.test_runs import LONG, TINY, wait_for


def test_filters_in_a_row_each_in_its_own_symmetric_range():
    weights = torch.zeros(3, 1, 2, 2)
    weights[0, 0] = torch.tensor([[-1.0, 1.0], [0.0, 0.0]])
    weights[2, 0, 0, 0] = 5.0
    shown = Image.open(io.BytesIO(filters_picture(weights).data)).convert("RGB")
    assert shown.size == (10 + 3 * 74, 84)
    table = lut(scale_for(True))
    blue, red, white = (tuple(int(v) for v in table[i]) for i in (0, 255, 127))
    assert shown.getpixel((10 + 16, 10 + 16)) == blue and shown.getpixel((10 + 48, 10 + 16)) == red
    assert shown.getpixel((10 + 2 * 74 + 16, 10 + 16)) == red  # 5 is the top of its own range
    assert shown.getpixel((10 + 2 * 74 + 48, 10 + 48)) == white


def test_the_manager_hands_out_each_evaluations_weights_once_written(tmp_path):
    (xa, ya), (xb, yb) = fake_split(640, 0), fake_split(200, 1)
    t = torch.from_numpy
    data = FashionMNIST(t(xa), t(ya).long(), t(xb), t(yb).long(), "fake")
    manager = RunManager(max_concurrent=1, runs_dir=tmp_path)
    run = manager.submit("w", TINY, LONG, data)
    try:
        assert wait_for(lambda: manager.evaluated(run) is not None)
        stamp, data_bytes = manager.evaluated(run)
        ckpt = load_checkpoint(data_bytes)
        assert ckpt.spec["layers"] == TINY["layers"] and ckpt.history["eval_step"]
        assert wait_for(lambda: manager.evaluated(run)[0] != stamp)  # the next evaluation replaced it
        later = load_checkpoint(manager.evaluated(run)[1])
        assert len(later.history["eval_step"]) > len(ckpt.history["eval_step"])
        assert not torch.equal(later.state_dict["0.weight"], ckpt.state_dict["0.weight"])  # it learned meanwhile
    finally:
        run.stop()
        assert wait_for(lambda: run.status == Status.STOPPED, 60)


def test_the_studio_shows_the_network_while_it_trains_and_once_trained(fake_data):
    from tests.apptest import open_page

    at = open_page("pages/2_Training_studio.py", {"net": "tiny", "epochs": "30"})
    at.button(key="ts_train").click().run()
    deadline, seen_live = time.monotonic() + 180, None
    while time.monotonic() < deadline and not at.success:  # fragments do not tick in AppTest: rerun by hand
        time.sleep(0.3)
        at.run()
        captions = [c.value for c in at.caption if c.value.startswith("The newest run, as of its evaluation")]
        seen_live = seen_live or (captions[0] if captions else None)
    assert at.success and not at.exception
    assert seen_live is not None, "the network was never drawn while the run trained"
    final = next(c.value for c in at.caption if c.value.startswith("The newest run"))
    assert final.startswith("The newest run, trained:")
    pictures = len(at.image)
    at.toggle(key="ts_watch").set_value(False).run()
    assert not [c for c in at.caption if c.value.startswith("The newest run")]
    assert len(at.image) == pictures - 2  # the filters and the network were drawn, and are gone
