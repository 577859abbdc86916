"""Streamlit helpers shared by the pages: widgets in, engine objects out."""
