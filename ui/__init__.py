"""The Streamlit layer shared by the pages: settings sidebar, session trainer, chart panels.

The engine (`playground/`) never imports this package; pages import only from here and the
settings table, so a page is composition: widgets in, commands to the trainer, panels out.
"""
