"""Inspect a trained network: accuracy, confusion, filters, feature maps, predictions on your own image."""

import streamlit as st
import torch

from playground.data import CLASSES
from playground.evaluate import Evaluation
from playground.figures import map_figure
from playground.models import feature_maps
from playground.predict import probabilities
from playground.train_figures import confusion_figure, grid_figure, probabilities_figure
from ui.common import setup_page
from ui.inspect import P, choose_model, download_button, model_input, test_evaluation
from ui.text import plain
from ui.training import dataset

setup_page("Inspect a model", "🔬")
st.title("🔬 Inspect a trained model")
chosen = choose_model()
if chosen is None:
    st.stop()
name, ckpt = chosen
model = ckpt.model()
st.caption(
    f"Inspecting {plain(name)}: {plain(ckpt.spec.get('name', 'network'))}, "
    f"{sum(p.numel() for p in model.parameters()):,} parameters."
)
download_button(name, ckpt)

data = dataset()
ev = test_evaluation(ckpt, name + str(id(ckpt)), data.test_images, data.test_labels) if data is not None else None
if isinstance(ev, str):  # refused, or over its memory or time budget
    st.error(ev)
if isinstance(ev, Evaluation):
    st.subheader(f"Test accuracy: {ev.accuracy:.2%}")
    st.markdown(" · ".join(f"{c}: **{a:.0%}**" for c, a in zip(CLASSES, ev.per_class.tolist(), strict=True)))
    a, b = st.columns([3, 2])
    a.plotly_chart(confusion_figure(ev.confusion), key=f"{P}_confusion")
    wrong = (ev.predictions != data.test_labels).nonzero().flatten()[:12].tolist()
    with b:
        st.markdown("**Misclassified test images** (true → predicted)")
        st.image(
            [data.test_images[i].numpy() for i in wrong],
            width=84,
            caption=[f"#{i}: {CLASSES[data.test_labels[i]]} → {CLASSES[ev.predictions[i]]}" for i in wrong],
        )

first = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
if first is None:
    st.info("This network has no convolution layer, so there are no learned filters to show.")
else:
    st.subheader("Learned filters of the first conv layer")
    st.plotly_chart(
        grid_figure(
            first.weight[:, 0],
            f"{first.out_channels} filters, {first.kernel_size[0]}×{first.kernel_size[1]}: red positive, blue negative",
        ),
        key=f"{P}_filters",
    )

st.subheader("Feature maps and prediction")
if data is not None:
    label, x = model_input(data.test_images)
    c1, c2 = st.columns([1, 2])
    c1.plotly_chart(map_figure(x[0] * 255, f"What the model sees: {label}", signed=False, height=300), key=f"{P}_seen")
    c2.plotly_chart(probabilities_figure(probabilities(model, x)), key=f"{P}_probs")
    maps = [(n, t) for n, t in feature_maps(model, x[None]) if t.ndim == 4]
    if not maps:
        st.info("This network has no convolution or pooling layer, so there are no feature maps to show.")
        st.stop()
    layer = st.selectbox("Layer", range(len(maps)), format_func=lambda i: maps[i][0], key=f"{P}_layer")
    n, t = maps[layer]
    st.plotly_chart(grid_figure(t[0], f"{n}: {t.shape[1]} maps of {t.shape[2]}×{t.shape[3]}"), key=f"{P}_maps")
