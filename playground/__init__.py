"""Activation Playground engine: importable and testable without Streamlit."""


def configure_torch() -> None:
    """One thread per process for torch: these models are tiny, and on a small host extra
    threads only fight the web server and each other for cores (10-30x slower on 2 cores)."""
    import torch

    torch.set_num_threads(1)
