"""Activation Playground engine: importable and testable without Streamlit."""
