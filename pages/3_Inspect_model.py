"""Inspect a trained network: accuracy, confusion, filters, feature maps, predictions on your own image."""

import streamlit as st

from playground.render.figures import map_figure
from playground.render.train_figures import grid_figure, probabilities_figure
from playground.train.data import CLASSES
from playground.train.evaluate import Evaluation
from playground.train.models import feature_maps, summarize
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
from ui.server import dataset
from ui.state import link_note, notice, publish, restore
from ui.text import plain

PAGE, P = INSPECT.name, INSPECT.prefix
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
    decision_view(model, x, network)
    maps = [(n, t) for n, t in feature_maps(model, x[None]) if t.ndim == 4]
    if not maps:
        st.info("This network has no convolution or pooling layer, so there are no feature maps to show.")
        publish(PAGE, FIELDS)
        st.stop()
    st.session_state[f"{P}_layer"] = min(st.session_state[f"{P}_layer"], len(maps) - 1)
    layer = st.selectbox("Layer", range(len(maps)), format_func=lambda i: maps[i][0], key=f"{P}_layer",
                         persist_state="session")  # fmt: skip
    n, t = maps[layer]
    chart(grid_figure(t[0], f"{n}: {t.shape[1]} maps of {t.shape[2]}×{t.shape[3]}"), key=f"{P}_maps")
link_note(PAGE, "It holds the model choice, the input and the layer; an uploaded checkpoint is not part of it.")
publish(PAGE, FIELDS)
