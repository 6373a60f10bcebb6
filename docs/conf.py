"""Sphinx configuration for the ansar docs (``make docs`` builds them with warnings as errors)."""

from importlib import metadata

project = "ansar"
author = "the ansar authors"
copyright = "2026, the ansar authors"
try:
    release = metadata.version("ansar")
except metadata.PackageNotFoundError:
    release = "0.1.0"
version = release

extensions: list[str] = []
exclude_patterns = ["_build"]
highlight_language = "python3"
html_theme = "alabaster"
html_title = f"ansar {release}"
