"""AppTest: the convolution explorer runs on defaults and on a sweep of settings, and reacts to controls."""

import itertools
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
