"""Inspect a trained network: accuracy, confusion, filters, feature maps, predictions on your own image."""

import streamlit as st

from playground.render.figures import map_figure
from playground.render.train_figures import grid_figure, probabilities_figure
from playground.train.data import CLASSES
from playground.train.evaluate import Evaluation
from playground.train.models import summarize
from playground.train.predict import probabilities
from ui.charts import chart
from ui.common import present_bar, setup_page
from ui.exports import model_downloads
from ui.inspect import (
    DEFAULTS,
    FIELDS,
    choose_model,
    decision_view,
    download_button,
    model_figures,
    model_input,
    test_evaluation,
)
from ui.keys import INSPECT
from ui.network_view import FIELDS as UNIT_FIELDS
from ui.network_view import layer_maps, receptive_view, whole_network
from ui.server import dataset
from ui.state import link_note, notice, publish, restore
from ui.text import plain

PAGE, P = INSPECT.name, INSPECT.prefix
FIELDS = FIELDS + UNIT_FIELDS
restore(PAGE, FIELDS, DEFAULTS)
if setup_page("Inspect a model", "🔬"):
    present_bar([6])
st.title("🔬 Inspect a trained model")
notice(PAGE)
chosen = choose_model()
if chosen is None:
    publish(PAGE, FIELDS)
    st.stop()
name, ckpt, key = chosen
model, network = ckpt.model(), summarize(ckpt.spec)
st.caption(
    f"Inspecting {plain(name)}: {plain(ckpt.spec.get('name', 'network'))}, "
    f"{network.total_params:,} parameters."
)
download_button(name, ckpt)

data = dataset()
ev = None
if data is not None:
    ev = test_evaluation(ckpt, f"{key}|{data.source}|{len(data.test_labels)}", data.test_images, data.test_labels)
if isinstance(ev, str):  # refused, or over its memory or time budget
    st.error(ev)
evaluated = ev if isinstance(ev, Evaluation) else None
confusion, filters = model_figures(f"{key}|{data.source if data else ''}|{evaluated is not None}", ckpt, evaluated)
if evaluated is not None:
    st.subheader(f"Test accuracy: {ev.accuracy:.2%}")
    st.markdown(" · ".join(f"{c}: **{a:.0%}**" for c, a in zip(CLASSES, ev.per_class.tolist(), strict=True)))
    a, b = st.columns([3, 2])
    chart(confusion, where=a, key=f"{P}_confusion")
    with a:
        model_downloads(ev.confusion, ckpt.history, ckpt.config)
    wrong = (ev.predictions != data.test_labels).nonzero().flatten()[:12].tolist()
    with b:
        st.markdown("**Misclassified test images** (true → predicted)")
        st.image(
            [data.test_images[i].numpy() for i in wrong],
            width=84,
            caption=[f"#{i}: {CLASSES[data.test_labels[i]]} → {CLASSES[ev.predictions[i]]}" for i in wrong],
        )

if filters is None:
    st.info("This network has no convolution layer, so there are no learned filters to show.")
else:
    st.subheader("Learned filters of the first conv layer")
    chart(filters, key=f"{P}_filters")

st.subheader("Feature maps and prediction")
if data is not None:
    label, x = model_input(data.test_images)
    c1, c2 = st.columns([1, 2])
    chart(map_figure(x[0] * 255, f"What the model sees: {label}", signed=False, height=300), where=c1,
          key=f"{P}_seen")  # fmt: skip
    chart(probabilities_figure(probabilities(model, x)), where=c2, key=f"{P}_probs")
    maps = layer_maps(model, ckpt.spec, x)
    if maps:
        whole_network(x, maps)
    decision_view(model, x, network)
    if not maps:
        st.info("This network has no convolution or pooling layer, so there are no feature maps to show.")
        publish(PAGE, FIELDS)
        st.stop()
    st.subheader("One layer's maps")
    st.session_state[f"{P}_layer"] = min(st.session_state[f"{P}_layer"], len(maps) - 1)
    layer = st.selectbox("Layer", range(len(maps)), format_func=lambda i: maps[i][0], key=f"{P}_layer",
                         persist_state="session")  # fmt: skip
    n, t, field = maps[layer]
    chart(grid_figure(t, f"{n}: {t.shape[0]} maps of {t.shape[1]}×{t.shape[2]}"), key=f"{P}_maps")
    receptive_view(x, n, t, field)
link_note(PAGE, "It holds the model choice, the input, the layer and the unit; an uploaded checkpoint is not part of "
          "it.")
publish(PAGE, FIELDS)
