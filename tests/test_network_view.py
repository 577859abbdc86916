"""The Inspect page's whole-network view: every layer's maps side by side, and one unit's receptive field."""

import io

import pytest
import torch
from PIL import Image

from playground.explorer.receptive import Field, receptive_fields
from playground.render.colours import lut, scale_for
from playground.render.network_picture import COLUMN, HEAD, SIDE, network_picture
from playground.train.presets import DEFAULT_SPEC
from tests.apptest import open_page

INSPECT = "pages/3_Inspect_model.py"


def decode(picture) -> Image.Image:
    return Image.open(io.BytesIO(picture.data)).convert("RGB")


def test_one_column_per_layer_with_its_maps_in_their_colours():
    image = torch.zeros(28, 28)
    image[:14] = 1.0  # top half white, bottom half black
    maps = torch.tensor([[[-2.0, 2.0], [0.0, 2.0]]]).repeat(6, 1, 1)  # 6 maps of 2×2: 4 shown, "+2 more"
    shown = decode(network_picture(image, [("a: Conv2d", maps), ("b: ReLU", maps[:2].clamp(min=0))]))
    assert shown.width == 12 + 3 * COLUMN
    x0, y0, half = 12, HEAD, SIDE // 4
    grays = lut(scale_for(False))
    assert shown.getpixel((x0 + SIDE // 2, y0 + 10)) == tuple(int(v) for v in grays[255])  # the input's top: white
    assert shown.getpixel((x0 + SIDE // 2, y0 + SIDE - 25)) == tuple(int(v) for v in grays[0])
    blue, red = tuple(int(v) for v in lut(scale_for(True))[0]), tuple(int(v) for v in lut(scale_for(True))[255])
    x1 = 12 + COLUMN
    assert shown.getpixel((x1 + half, y0 + half)) == blue and shown.getpixel((x1 + 3 * half, y0 + half)) == red
    for r in range(4):  # four maps shown one under the other, the fifth not
        assert shown.getpixel((x1 + 3 * half, y0 + r * (SIDE + 12) + half)) == red
    fewer = decode(network_picture(image, [("a", maps[:4])]))
    assert shown.height > fewer.height  # the room for "+2 more"


def test_maps_that_are_not_c_h_w_are_refused():
    with pytest.raises(ValueError, match="C, H, W"):
        network_picture(torch.zeros(28, 28), [("flat", torch.zeros(10))])


def test_a_field_within_the_image_leaves_the_padding_out():
    field = Field(size=16, jump=4, start=-6)  # the classic network after its second pooling
    assert field.span(0) == (-6, 9) and field.within(0, 28) == (0, 9)
    assert field.span(3) == (6, 21) and field.within(3, 28) == (6, 21)
    assert field.span(6) == (18, 33) and field.within(6, 28) == (18, 27)


def test_the_page_shows_every_layer_and_the_clicked_units_field():
    at = open_page(INSPECT, {"model": "pretrained", "layer": "7", "map": "5", "row": "3", "col": "2"})
    assert any(s.value == "The whole network for this image" for s in at.subheader)
    caption = next(c.value for c in at.caption if c.value.startswith("Unit ("))
    # The classic network's 8th layer (pooling after the second convolution): field 16, jump 4, start −6.
    assert caption.startswith("Unit (3, 2) of 7: MaxPool2d sees input rows 6–21 and columns 2–17: a 16×16 field.")
    assert "padding" not in caption
    assert at.number_input(key="mi_unit_map").value == 5
    at.session_state["mi_unit_row"], at.session_state["mi_unit_col"] = 0, 6  # as a click on unit (0, 6) sets them
    at.run()
    caption = next(c.value for c in at.caption if c.value.startswith("Unit ("))
    assert caption.startswith("Unit (0, 6) of 7: MaxPool2d sees input rows 0–9 and columns 18–27: a 16×16 field")
    assert "part of it lies in the padding" in caption
    at.selectbox(key="mi_layer").set_value(0).run()  # a 28×28 layer: the unit stays where it was
    caption = next(c.value for c in at.caption if c.value.startswith("Unit ("))
    assert caption.startswith("Unit (0, 6) of 0: Conv2d sees input rows 0–2 and columns 4–8: a 5×5 field")
    assert not at.exception


def test_the_fields_the_page_uses_are_the_networks():
    fields = receptive_fields(DEFAULT_SPEC)
    assert (fields[7].size, fields[7].jump, fields[7].start) == (16, 4, -6)
