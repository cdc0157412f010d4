"""Benchmarks of the headless engine; each module runs as `python bench/NAME.py`."""
