"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of examples, the pydata theme."""

import os
import sys
import warnings

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
from sklearn_onlinegauss import __version__  # noqa: E402

project = "sklearn-onlinegauss"
author = "the sklearn-onlinegauss developers"
copyright = "2026, " + author
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # serves MathJax with the pages: readable offline too
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
templates_path = ["_templates"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = [
    "_build",
    "generated/*.examples",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
]

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-onlinegauss {version}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}

# Examples ignore the library's trust-region warnings where they are the point.
warnings.filterwarnings("ignore", category=UserWarning, message=".*shrunk.*")
