"""Settings in links: every codec reads back what it writes, exactly; anything else is refused in words."""

import doctest
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.explorer import shapes
from playground.render import colours
from playground.train import layers, models
from ui import layer_table, network_text, params
from ui.params import Field, choice, decode, encode, flag, integer, items, matrix, number, one, optional, pair


@pytest.mark.parametrize("module", [params, network_text, shapes, colours])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(x=finite)
def test_numbers_round_trip_exactly(x):
    codec = number(-1e6, 1e6)
    assert codec.parse(codec.dump((x,))) == (x,)


@pytest.mark.parametrize(
    "typed, value", [("0.5", 0.5), ("12.5", 12.5), ("0.1", 0.1), ("2.44e-04", 2.44e-4), ("-3", -3.0)]
)
def test_typed_decimals_keep_their_point(typed, value):
    assert number(-100, 100).parse(typed) == (value,)
    assert params.number_text(value) in (typed, typed.lstrip("+"), "0.000244", "-3")


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e9", "abc", "", "0x10", "1,2"])
def test_numbers_refuse_what_is_not_a_number_in_range(bad):
    with pytest.raises(ValueError, match=r"number|from"):
        number(-1e6, 1e6).parse(bad)


@given(rows=st.integers(1, 11), cols=st.integers(1, 11), data=st.data())
def test_matrices_round_trip_exactly(rows, cols, data):
    values = tuple(tuple(data.draw(finite) for _ in range(cols)) for _ in range(rows))
    codec = matrix(-1e6, 1e6, 1, 11)
    assert codec.parse(codec.dump((values,))) == (values,)


@pytest.mark.parametrize("bad", ["1,2;3", "", ";", "1,2;3,x", "1;2;3;4;5;6;7;8;9;10;11;12", "nan"])
def test_matrices_refuse_ragged_or_odd_grids(bad):
    with pytest.raises(ValueError):
        matrix(-10, 10, 1, 11).parse(bad)
    with pytest.raises(ValueError, match="as many rows as columns"):
        matrix(-10, 10, 1, 11, square=True).parse("1,2;3,4;5,6")


def test_choices_read_slugs_names_and_unambiguous_starts():
    codec = choice(("Sobel x (vertical edges)", "Sobel y (horizontal edges)", "Sharpen"))
    assert codec.dump(("Sobel x (vertical edges)",)) == "sobel-x"
    for text in ("sobel-x", "Sobel x", "SOBEL X (VERTICAL EDGES)", "sobel x"):
        assert codec.parse(text) == ("Sobel x (vertical edges)",)
    with pytest.raises(ValueError, match="one of sobel-x, sobel-y, sharpen"):
        codec.parse("sobel")  # two kernels start so: refused, not guessed


def test_pairs_optional_and_lists():
    assert pair(integer(1, 16)).parse("2") == (2, 2) and pair(integer(1, 16)).dump((2, 3)) == "2,3"
    assert optional(integer(1, 8)).parse("auto") == (None,) and optional(integer(1, 8)).dump((None,)) == "auto"
    assert items(choice(("a", "b", "c")), 2).parse("c,a") == (["c", "a"],)
    with pytest.raises(ValueError, match="twice"):
        items(choice(("a", "b")), 2).parse("a,a")
    assert flag().parse("yes") == (True,) and flag().dump((False,)) == "0"


FIELDS = [
    Field("stride", ("s_h", "s_w"), (1, 1), pair(integer(1, 16))),
    one("kernel", "k", "Sharpen", choice(("Sharpen", "Box blur"))),
    one("bias", "b", 0.0, number(-1000, 1000)),
]


def test_encode_leaves_out_defaults_and_decode_restores_them():
    state = {"s_h": 2, "s_w": 1, "k": "Sharpen", "b": 0.125}
    query = encode(FIELDS, state)
    assert query == {"stride": "2,1", "bias": "0.125"}
    assert decode(FIELDS, query) == ({"s_h": 2, "s_w": 1, "b": 0.125}, [])


@pytest.mark.parametrize(
    "query, words",
    [
        ({"nonsense": "1"}, "unknown setting nonsense"),
        ({"stride": "99"}, "stride=99 must be from 1 to 16"),
        ({"stride": "two"}, "stride=two needs a whole number"),
        ({"kernel": "<script>alert(1)</script>"}, "kernel=<script>alert(1)</script> must be one of"),
        ({"bias": "1e400"}, "bias=1e400 must be from"),
        ({"kernel": "x" * 10_000}, "longer than"),
    ],
)
def test_hostile_or_stale_queries_are_refused_in_words(query, words):
    values, problems = decode(FIELDS, query)
    assert values == {} and len(problems) == 1 and words in problems[0]
    assert all(len(p) < 300 for p in problems)  # long values are shortened, not echoed whole


def test_a_good_value_survives_beside_a_bad_one():
    values, problems = decode(FIELDS, {"stride": "3", "bias": "abc"})
    assert values == {"s_h": 3, "s_w": 3} and len(problems) == 1


# ---- networks as text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(models.PRESETS))
def test_every_preset_network_round_trips_through_text(name):
    layers = models.PRESETS[name]["layers"]
    text = network_text.layers_text(layers)
    again = network_text.parse_layers(text)
    assert models.summarize({"layers": again}).rows == models.summarize({"layers": layers}).rows
    assert network_text.layers_text(again) == text


def test_the_classic_network_reads_as_a_line():
    assert network_text.layers_text(models.DEFAULT_SPEC["layers"]) == (
        "conv16k5p2_bn_relu_max2_conv32k5p2_bn_relu_max2_flat_lin10"
    )


@pytest.mark.parametrize("bad", ["", "conv", "conv16", "lin", "relu_drop", "bogus", "_".join(["relu"] * 41)])
def test_unreadable_networks_are_refused(bad):
    with pytest.raises(ValueError):
        network_text.parse_layers(bad)


# ---- the layer table: any mix of edits gives layers, never an exception -----------------------------

KINDS = list(layers.LAYER_TYPES)
cell_value = st.one_of(st.none(), st.floats(-5, 64), st.just(math.nan), st.integers(0, 64))


@st.composite
def table_edits(draw, n_rows):
    edited = draw(st.dictionaries(
        st.integers(0, max(0, n_rows - 1)),
        st.dictionaries(st.sampled_from(layer_table.COLUMNS), st.one_of(cell_value, st.sampled_from(KINDS))),
        max_size=4,
    ))  # fmt: skip
    added = draw(st.lists(st.fixed_dictionaries({"type": st.one_of(st.none(), st.sampled_from(KINDS)),
                                                 "order": cell_value, "out": cell_value}), max_size=3))  # fmt: skip
    deleted = draw(st.lists(st.integers(0, n_rows + len(added) - 1), max_size=3, unique=True))
    return {"edited_rows": edited, "added_rows": added, "deleted_rows": deleted}


@settings(max_examples=400, deadline=None)
@given(data=st.data(), name=st.sampled_from(list(models.PRESETS)))
def test_any_edits_give_layers_and_a_summary(data, name):
    rows = layer_table.rows_of(models.PRESETS[name]["layers"])
    edits = data.draw(table_edits(len(rows)))
    applied = layer_table.apply_edits(rows, edits)
    layers, skipped = layer_table.layers_of(applied)
    summary = models.summarize({"layers": layers})  # an impossible network is explained, never raised
    assert summary.ok or summary.error
    assert len(applied) == len(rows) + len(edits["added_rows"]) - len(edits["deleted_rows"])
    assert len(layers) + skipped == len(applied) and skipped == sum(r["type"] not in KINDS for r in applied)


def test_deleting_rows_while_reordering_others_keeps_the_rest_in_their_new_order():
    # The case from the issue: Classic, padding edited in row 0, row 4 moved first, rows 0, 4 and 9 deleted.
    rows = layer_table.rows_of(models.DEFAULT_SPEC["layers"])
    edits = {"edited_rows": {0: {"padding": 1}, 4: {"order": 0.5}}, "added_rows": [], "deleted_rows": [0, 4, 9]}
    layers, _ = layer_table.layers_of(layer_table.apply_edits(rows, edits))
    assert [layer["type"] for layer in layers] == ["batchnorm", "relu", "maxpool", "batchnorm", "relu", "maxpool",
                                                   "flatten"]  # fmt: skip
    edits["deleted_rows"] = [0, 9]
    layers, _ = layer_table.layers_of(layer_table.apply_edits(rows, edits))
    assert layers[0] == {**models.DEFAULT_SPEC["layers"][4]}  # row 4 (the second conv) moved to the front


def test_typed_fractions_reach_the_layer_and_whole_numbers_become_ints():
    rows = layer_table.rows_of(models.PRESETS["Deeper (aims above 92%)"]["layers"])
    drop = next(i for i, r in enumerate(rows) if r["type"] == "dropout")
    edits = {"edited_rows": {drop: {"p / slope": 0.4}, 0: {"out": 24.0, "kernel": 2.5}}}
    layers, _ = layer_table.layers_of(layer_table.apply_edits(rows, edits))
    assert layers[drop]["p"] == 0.4 and layers[0]["out_channels"] == 24 and isinstance(layers[0]["out_channels"], int)
    assert layers[0]["kernel"] == 2.5  # not truncated to 2: summarize says a kernel must be a whole number
    assert "whole number" in models.summarize({"layers": layers}).error
    assert math.isclose(layers[drop]["p"], 0.4)
