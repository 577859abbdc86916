"""CNN Playground home page: what each page teaches."""

import streamlit as st

from ui.common import present_bar, redirect_in_any_case, setup_page, warm_up

redirect_in_any_case()
if setup_page("Home", "🧠"):
    present_bar([6])
st.title("🧠 CNN Playground")
st.markdown(
    "**See what a convolutional neural network does**, one number at a time. "
    "Everything here is computed by PyTorch, live, on images you choose."
)
a, b = st.columns(2, gap="large")
with a:
    st.subheader("🔍 Convolution explorer")
    st.markdown(
        "Draw, upload, photograph or pick an image; choose a kernel, stride, padding, dilation, activation and "
        "pooling; and watch every stage: input → padded input → convolution → activation → pooling. "
        "The output-size formula is written out with your numbers, and you can step the kernel across the image "
        "and read each dot product as arithmetic."
    )
    st.page_link("pages/1_Convolution_explorer.py", label="Open the explorer", icon="🔍")
with b:
    st.subheader("🏋️ Training studio")
    st.markdown(
        "Train a small CNN on FashionMNIST (70,000 photos of clothes) and watch it learn: live loss and accuracy, "
        "then its confusion matrix, its learned filters, its feature maps and its predictions on your drawing."
    )
    st.page_link("pages/2_Training_studio.py", label="Open the studio", icon="🏋️")
    st.page_link("pages/3_Inspect_model.py", label="Inspect a trained model", icon="🔬")
st.divider()
st.markdown(
    "**For lecturers:** everything runs offline once the app is installed. Run `python -m playground.train.data` "
    "before "
    "class to check that the FashionMNIST data is found. Use the sidebar to move between pages."
)
warm_up()  # the engine, imported while the home page is read
