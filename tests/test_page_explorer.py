"""AppTest: the convolution explorer runs on defaults and on a sweep of settings, and reacts to controls."""

import itertools
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/1_Convolution_explorer.py"


@pytest.fixture
def at():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def latex(app) -> str:
    return "\n".join(el.value for el in app.latex)


def captions(app) -> str:
    return "\n".join(el.value for el in app.caption)


def test_defaults_show_every_stage_and_the_formula(at):
    assert not at.error
    assert len(at.image) == 10  # pictures: kernel, 5 stages, receptive field, legend, zoom, patch/weights/products
    assert {c.key for c in at.get("plotly_chart")} == {"cx_actplot", "cx_outmap"}  # charts: only what reacts
    assert r"W_{out}" in latex(at) and "= 126" in latex(at)  # 128 with a 3×3 kernel, no padding
    assert "shape 1×126×126" in captions(at) and "shape 1×63×63" in captions(at)
    code = at.code[0].value
    assert "×" in code and "=" in code


def test_changing_controls_changes_formula_and_outputs(at):
    before = latex(at)
    at.number_input(key="cx_stride_w").set_value(2).run()
    assert not at.exception
    after = latex(at)
    assert after != before and "{2}" in after and "= 63" in after
    assert "shape 1×126×63" in captions(at)
    at.radio(key="cx_padshort").set_value("same").run()
    assert "shape 1×128×64" in captions(at)


def test_impossible_configuration_is_explained_not_raised(at):
    at.number_input(key="cx_dil_h").set_value(8).run()
    at.select_slider(key="cx_res").set_value(16).run()
    assert not at.exception
    assert at.error and "no window fits" in at.error[0].value
    at.selectbox(key="cx_padmode").set_value("reflect").run()
    at.radio(key="cx_padshort").set_value("same").run()  # pads 8 on a 16-pixel side: reflect can do it
    assert not at.exception and not at.error
    at.radio(key="cx_padshort").set_value("full").run()  # pads 16: reflect cannot
    assert not at.exception and "Reflect padding" in at.error[0].value


def test_step_through_moves_and_explains_the_chosen_cell(at):
    at.slider(key="cx_row").set_value(1).run()
    at.slider(key="cx_col").set_value(4).run()
    assert not at.exception
    assert any("cell (1, 4)" in chart.proto.spec for chart in at.get("plotly_chart"))
    at.button(key="cx_next").click().run()
    assert (at.session_state["cx_row"], at.session_state["cx_col"]) == (1, 5)
    at.slider(key="cx_col").set_value(125).run()
    at.button(key="cx_next").click().run()  # past the end of a row: the next row's first cell
    assert (at.session_state["cx_row"], at.session_state["cx_col"]) == (2, 0)


def test_number_grid_gives_exact_arithmetic(at):
    at.radio(key="cx_source").set_value("Number grid").run()
    assert not at.exception
    assert "6×6 number grid" in "\n".join(m.value for m in at.markdown)
    assert "shape 1×4×4" in captions(at)


def test_rgb_with_several_filters(at):
    at.radio(key="cx_color").set_value("RGB").run()
    assert "shape 3×126×126" in captions(at)
    at.multiselect(key="cx_extra").set_value(["Sobel x (vertical edges)", "Emboss"]).run()
    assert not at.exception
    assert "shape 3×128×128" in captions(at) and "shape 3×126×126" in captions(at)
    at.radio(key="cx_channel").set_value(2).run()
    assert not at.exception


SWEEP = list(itertools.product(
    ["Identity", "Gaussian blur", "Laplacian (8-neighbour)", "Random"],
    ["valid", "same", "full", "custom"],
    ["zeros", "reflect", "replicate", "circular"],
))  # fmt: skip


@pytest.mark.parametrize("activation", ["None", "Leaky ReLU", "ELU", "GELU", "Tanh", "Sigmoid"])
@pytest.mark.parametrize("pooling", ["None", "Max", "Average", "LP (L2)"])
def test_activation_and_pooling_sweep(at, activation, pooling):
    at.selectbox(key="cx_act").set_value(activation).run()
    at.selectbox(key="cx_pool").set_value(pooling).run()
    assert not at.exception
    if pooling != "None":
        at.number_input(key="cx_pp").set_value(1).run()
        at.toggle(key="cx_ceil").set_value(True).run()
        assert not at.exception
        if pooling == "LP (L2)":
            assert at.error and "LP pooling" in at.error[0].value


def test_kernel_padding_sweep(at):
    at.select_slider(key="cx_res").set_value(28).run()
    for preset, shortcut, mode in SWEEP:
        at.selectbox(key="cx_preset").set_value(preset).run()
        at.radio(key="cx_padshort").set_value(shortcut).run()
        at.selectbox(key="cx_padmode").set_value(mode).run()
        assert not at.exception, (preset, shortcut, mode, at.exception)
    for size in (1, 2, 4, 11):
        at.slider(key="cx_ksize").set_value(size).run()
        at.toggle(key="cx_flip").set_value(size % 2 == 0).run()
        at.number_input(key="cx_bias").set_value(-5.0).run()
        assert not at.exception, size


def test_home_page_links_every_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    links = {link.proto.page for link in at.get("page_link")}  # url paths of the pages
    assert {"Convolution_explorer", "Training_studio", "Inspect_model"} <= links


def open_with(query: dict) -> AppTest:
    return open_page(PAGE, query)


def test_pooling_stride_follows_the_pooling_size_unless_typed(at):
    at.number_input(key="cx_pk").set_value(3).run()  # 126 → ⌊(126 − 3)/3⌋ + 1 = 42, as nn.MaxPool2d(3)
    assert "shape 1×42×42" in captions(at)
    at.number_input(key="cx_ps").set_value(1).run()  # typed: ⌊(126 − 3)/1⌋ + 1 = 124
    assert "shape 1×124×124" in captions(at)


def test_an_edited_kernel_is_called_so_and_another_preset_keeps_it_one_click_away():
    at = open_with({"kernel": "sobel-x", "weights": "-1,0,1;-2,8,2;-1,0,1"})
    assert any("Your own weights, typed over Sobel x" in c.value for c in at.sidebar.caption)
    assert any("your kernel (typed over Sobel x (vertical edges))" in m.value.replace("\\", "") for m in at.markdown)
    assert not any("responds to vertical edges" in c.value for c in at.sidebar.caption)
    at.selectbox(key="cx_preset").set_value("Box blur").run()
    assert at.session_state["cx_weights"] is None
    at.button(key="cx_kundo").click().run()  # "Bring back the kernel you typed"
    assert at.session_state["cx_weights"] == ((-1.0, 0.0, 1.0), (-2.0, 8.0, 2.0), (-1.0, 0.0, 1.0))


def test_the_number_grid_says_its_own_range():
    at = open_with({"src": "grid", "grid": "0,1,2,3,4;5,6,7,8,9;0,0,0,0,0;1,1,1,1,1;2,2,2,2,12.5"})
    text = "\n".join(m.value for m in at.markdown)
    assert "values 0 … 12.5" in text and "255" not in text


def test_an_impossible_setting_is_worked_out_with_its_numbers():
    # A 5×5 grid, a 3×3 kernel at stride 16: a 1×1 convolution, which a 2×2 pooling window cannot fit.
    at = open_with({"src": "grid", "grid": ";".join(["1,2,3,4,5"] * 5), "stride": "16"})
    assert at.error and "pooling" in at.error[0].value.lower() and "1 pixels" not in at.error[0].value
    worked = latex(at)
    assert "{1 + 2 \\cdot 0" in worked.replace(" ", " ") or "1 + 2" in worked  # the pooling rule with the numbers
    assert any("Pooling" in m.value and "your numbers" in m.value for m in at.markdown)


def test_play_walks_a_bounded_path_and_the_reverse_view_marks_what_a_pixel_reaches(at):
    at.toggle(key="cx_play").set_value(True).run()
    path = at.session_state["cx_path"]
    assert 1 < len(path) <= 60 and (0, 0) in path  # the 7×7 window around the selected cell
    at.toggle(key="cx_play").set_value(False).run()
    at.toggle(key="cx_rev").set_value(True).run()
    at.slider(key="cx_rev_row").set_value(10).run()
    at.slider(key="cx_rev_col").set_value(20).run()
    assert not at.exception
    # A 3×3 kernel at stride 1 without padding: an inner pixel is in 9 windows; 2×2 pooling gathers them in 4.
    assert any("Input pixel (10, 20) reaches **9 convolution cells** and 4 pooled cells" in m.value
               for m in at.markdown)  # fmt: skip
