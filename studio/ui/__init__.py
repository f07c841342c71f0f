"""The Gradio UI: a thin adapter over :mod:`studio.engine`."""
