"""Sphinx configuration of the reading copy (``make book``): the solution notebooks, executed.

Built by ``book/build.py``, which stages the notebooks and runs sphinx-build with this
folder as the configuration directory. Everything the build needs is installed by
``pip install -e '.[book]'`` (Sphinx, MyST-NB, the Sphinx Book Theme, which bundles its own
CSS, JavaScript and fonts): the build reads nothing from the network. Read online, the
pages load MathJax from its CDN to typeset the formulas (Sphinx's default).
"""
project = "Batch Normalization, from scratch to practice"
author = "the course authors"
copyright = "the course authors, MIT licence"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]

# Execute every notebook on every build: the reading copy shows what the current
# solutions and bn_helpers print and draw. A failing cell is reported with its traceback
# as a warning, and book/build.py turns warnings into a failed build (-W --keep-going:
# every notebook is tried, every failure listed).
nb_execution_mode = "force"
nb_execution_timeout = 300           # seconds per cell: a hung cell fails the build; generous for a loaded 2-core machine
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
html_copy_source = True   # each page offers its notebook (without outputs) for download

# An interactive view, run without a front end, leaves only its Python repr
# ("VBox(children=(FloatSlider(...") as text: say what it is instead.
import re as _re

from docutils import nodes as _nodes

_WIDGET_REPR = _re.compile(r"^(VBox|HBox|Box|GridBox|Tab|Accordion|Output|Canvas|interactive)\(")  # Canvas: ipympl
_VIEW_NOTE = ("Interactive view: its controls need a running kernel. Open this notebook "
              "with make lab to move them.")


def _replace_widget_reprs(app, doctree):
    for block in list(doctree.findall(_nodes.literal_block)):
        if "text_plain" in block.get("classes", []) and _WIDGET_REPR.match(block.astext()):
            note = _nodes.paragraph(classes=["widget-note"])
            note += _nodes.emphasis(text=_VIEW_NOTE)
            block.replace_self(note)


def setup(app):
    app.connect("doctree-read", _replace_widget_reprs)
    return {"parallel_read_safe": True}
