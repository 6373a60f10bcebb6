"""PyInstaller support: ansar loads parts of itself lazily, so a build must be told to include them."""

import os

__all__ = ["get_hook_dirs"]


def get_hook_dirs() -> list[str]:
    """Where PyInstaller finds ansar's hooks (registered as a ``pyinstaller40`` entry point)."""
    return [os.path.dirname(__file__)]
