"""Sphinx configuration of the reading copy (``make book``): the solution notebooks, executed.

Built by ``book/build.py``, which stages the notebooks and runs sphinx-build with this
folder as the configuration directory. Everything the build needs is installed by
``pip install -e '.[book]'`` (Sphinx, MyST-NB, the Sphinx Book Theme, which bundles its own
CSS, JavaScript and fonts): the build reads nothing from the network.
"""
project = "Batch Normalization, from scratch to practice"
author = "the course authors"
copyright = "the course authors, MIT licence"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]

# Execute every notebook on every build: the reading copy shows what the current
# solutions and bn_helpers print and draw. A failing cell fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 300           # seconds per cell: a hung cell fails the build; generous for a loaded 2-core machine
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# Interactive views need a kernel; the reading copy shows their static output and
# loads no widget JavaScript from a CDN.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/vnd.jupyter.widget-state+json", None),
]
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_title = "Batch Normalization, from scratch to practice"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
}
html_last_updated_fmt = ""
html_copy_source = True   # the executed notebooks, downloadable from each page
