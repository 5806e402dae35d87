"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of examples, the pydata theme."""

import os
import re
import sys
import warnings

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, ".."))
sys.path.insert(0, _here)  # this file as the module `conf`, for the gallery's sort key
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


class ExampleNumberSortKey:
    """The gallery in the order of the examples' numbers: plot_2 before plot_10."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __call__(self, filename):
        number = re.match(r"plot_(\d+)", os.path.basename(filename))
        return (int(number.group(1)) if number else float("inf"), filename)


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "within_subsection_order": "conf.ExampleNumberSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}

# Examples ignore the library's trust-region warnings where they are the point.
warnings.filterwarnings("ignore", category=UserWarning, message=".*shrunk.*")
