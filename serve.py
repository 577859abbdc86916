"""The app with its live view's routes: ``streamlit run serve.py``.

The pages are app.py's, as ``streamlit run app.py`` serves them; this adds the small routes the Training
studio's live panels fetch while a run trains (``ui.live_route``). Under ``streamlit run app.py`` the studio
redraws its live view by Streamlit's reruns instead, which costs the browser (and so, on a laptop, the run) more.
"""

import streamlit as st

from ui.live_route import routes

app = st.App("app.py", routes=routes())
