"""AppTest: the explorer's transposed-convolution kind: switching to it, its controls, its refusals, its link."""

import torch
import torch.nn.functional as F

from playground.explorer.kernels import preset_kernel
from tests.apptest import open_page
from ui import explorer_controls
from ui.params import encode

PAGE = "pages/1_Convolution_explorer.py"
GRID = {"src": "grid"}  # the 6×6 number grid: exact numbers, a small output


def latex(at) -> str:
    return "\n".join(el.value for el in at.latex)


def captions(at) -> str:
    return "\n".join(el.value for el in at.caption)


def markdown(at) -> str:
    return "\n".join(el.value for el in at.markdown)


def test_switching_the_kind_shows_the_transposed_layer_computed_by_pytorch():
    at = open_page(PAGE, GRID)
    assert "shape 1×4×4" in captions(at)  # a 3×3 convolution of the 6×6 grid
    at.radio(key="cx_kind").set_value("Transposed convolution").run()
    assert not at.exception and not at.error
    assert "shape 1×8×8" in captions(at)  # (6 − 1)·1 + 1·(3 − 1) + 1 = 8
    assert r"+ OP + 1" in latex(at) and r"(6 - 1)\cdot 1 - 2\cdot 0 + 1\cdot(3-1) + 0 + 1 = 8" in latex(at)
    assert "no pooling" in markdown(at) and "No pooling after a transposed convolution" in captions(at)
    assert not any(w.key == "cx_pool" for w in at.selectbox)  # pooling's controls are gone, its words remain
    # The cell written out is the cell PyTorch computed.
    grid = torch.tensor(at.session_state["cx_grid"]).float()
    kernel = torch.tensor(preset_kernel("Sharpen", 3)).float()
    want = F.conv_transpose2d(grid[None, None], kernel[None, None])[0, 0]
    at.slider(key="cx_row").set_value(3).run()
    at.slider(key="cx_col").set_value(2).run()
    code = at.code[0].value
    assert code.count("×") == 9  # an inner cell: all nine weights meet an input cell
    assert code.endswith(f"= {round(want[3, 2].item())}".replace("-", "−"))
    assert "| input cell | value | kernel position | weight | product |" in markdown(at)
    at.radio(key="cx_kind").set_value("Convolution").run()
    assert "shape 1×4×4" in captions(at) and not at.error


def test_typing_stride_padding_and_output_padding_changes_size_and_formula():
    at = open_page(PAGE, {**GRID, "kind": "transposed"})
    at.number_input(key="cx_stride_h").set_value(2).run()
    at.number_input(key="cx_tpad_h").set_value(1).run()
    at.number_input(key="cx_opad_h").set_value(1).run()
    assert not at.exception and not at.error
    assert "shape 1×12×8" in captions(at)  # rows: (6 − 1)·2 − 2 + 2 + 1 + 1 = 12; columns unchanged
    assert r"H_{out} = (6 - 1)\cdot 2 - 2\cdot 1 + 1\cdot(3-1) + 1 + 1 = 12" in latex(at)
    assert at.session_state["_url_explorer"]["opad"] == "1,0"


def test_an_impossible_setting_shows_its_sentence_and_nothing_else_breaks():
    at = open_page(PAGE, {**GRID, "kind": "transposed"})
    at.number_input(key="cx_opad_w").set_value(1).run()  # stride 1, dilation 1: OP must be 0
    assert not at.exception
    assert len(at.error) == 1 and "output padding 1 must be smaller than the stride (1)" in at.error[0].value
    assert r"OP = 1 \ge \max(S, D) = \max(1, 1) = 1" in latex(at)
    assert not at.code and "shape 1×6×6 (C×H×W)" in captions(at)  # only the input is shown
    at.number_input(key="cx_stride_w").set_value(2).run()  # now OP < S: computed again
    assert not at.error and "shape 1×8×14" in captions(at)
    at.number_input(key="cx_tpad_h").set_value(5).run()  # (6 − 1) + 2 + 1 − 10 < 1: cropped away
    assert "a padding of 5 crops 10 pixels off an output of only 8 pixels" in at.error[0].value
    assert r"H_{out} = (6 - 1)\cdot 1 - 2\cdot 5" in latex(at)


def test_the_kind_and_output_padding_survive_the_link_and_a_page_switch():
    settings = {"cx_kind": "Transposed convolution", "cx_stride_h": 2, "cx_stride_w": 3, "cx_tpad_h": 1,
                "cx_tpad_w": 0, "cx_opad_h": 1, "cx_opad_w": 2, "cx_source": "Number grid"}  # fmt: skip
    query = encode(explorer_controls.FIELDS, settings)
    assert query["kind"] == "transposed" and query["opad"] == "1,2"
    at = open_page(PAGE, query)
    assert {k: at.session_state[k] for k in settings} == settings
    assert at.session_state["_url_explorer"] == query
    assert "shape 1×12×20" in captions(at)  # rows (5·2 − 2 + 2 + 1 + 1), columns (5·3 + 2 + 2 + 1 = 20)
    at.switch_page("pages/2_Training_studio.py").run()
    at.switch_page(PAGE).run()
    assert {k: at.session_state[k] for k in settings} == settings and "shape 1×12×20" in captions(at)


def test_presentation_mode_reveals_the_transposed_stages_then_the_size_then_a_cell():
    at = open_page(PAGE, {**GRID, "kind": "transposed", "present": "1"})
    assert "1 / 5 · Input" in markdown(at) and not at.latex
    for _ in range(3):
        at.button(key="cx_fwd").click().run()
    assert "4 / 5 · output size" in markdown(at) and "= 8" in latex(at) and not at.code
    at.button(key="cx_fwd").click().run()
    assert "5 / 5 · cell (0, 0) as arithmetic" in markdown(at) and at.code[0].value.endswith("= 0")
