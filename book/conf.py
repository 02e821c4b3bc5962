"""Sphinx configuration of the reading copy (``make book``): the solution notebooks, executed.

Built by ``book/build.py``, which stages the notebooks and runs sphinx-build with this
folder as the configuration directory. Everything the build needs is installed by
``pip install -e '.[book]'`` (Sphinx, MyST-NB, the Sphinx Book Theme, which bundles its own
CSS, JavaScript and fonts, and sphinx-mathjax-offline, which ships MathJax 3 and copies it into
the site): the build reads nothing from the network and neither do the pages, opened from disk.

``BN_BOOK_EDITION`` (set by book/build.py): ``instructor`` puts a "do not publish" banner on
every page of the instructor edition (rubrics and model answers).
"""
import os
project = "Batch Normalization, from scratch to practice"
author = "the course authors"
copyright = "the course authors, MIT licence"

# sphinx-mathjax-offline copies its MathJax into _static/mathjax at the end of the build;
# the SVG output draws every glyph itself (no web fonts to fetch, which Chromium refuses
# from file:// pages), and keeps MathJax's assistive MathML for screen readers.
# (sphinx-mathjax-offline's setup sets mathjax_path to its CHTML build: setup() below sets the SVG one.)
extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx-mathjax-offline"]
MATHJAX_PATH = "mathjax/tex-svg.js"
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
EDITION = os.environ.get("BN_BOOK_EDITION", "student")
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
}
if EDITION == "instructor":
    html_title += " (instructor edition)"
    html_theme_options["announcement"] = ("Instructor edition: rubrics, model answers and hidden tests. "
                                          "Do not publish it; publish the student edition (make book).")
html_last_updated_fmt = ""
html_copy_source = True   # each page offers its notebook (without outputs) for download

# An interactive view, run without a front end, leaves only its Python repr
# ("VBox(children=(FloatSlider(...") as text: say what it is instead.
import re as _re

from docutils import nodes as _nodes
from sphinx import addnodes as _addnodes

_WIDGET_REPR = _re.compile(r"^(VBox|HBox|Box|GridBox|Tab|Accordion|Output|Canvas|interactive)\(")  # Canvas: ipympl
_VIEW_NOTE = ("Interactive view, shown below as a still picture at its starting settings. Its "
              "controls need a running kernel: to move them, open this notebook on your machine "
              "with make lab (see the ")


def _replace_widget_reprs(app, doctree):
    for block in list(doctree.findall(_nodes.literal_block)):
        if "text_plain" in block.get("classes", []) and _WIDGET_REPR.match(block.astext()):
            note = _nodes.paragraph(classes=["widget-note"])
            readme = _addnodes.pending_xref("", _nodes.inline(text="README"), refdomain="std", reftype="doc",
                                            reftarget="/README", refexplicit=True, refwarn=True)
            note += _nodes.emphasis("", _VIEW_NOTE, readme, _nodes.Text(")."))
            block.replace_self(note)


# Alternative text: a hidden cell of each notebook (book/reading_cells.py, ALT_TEXT) gives every
# figure's PNG output the metadata {"alt": "Figure: <titles>"}; MyST-NB takes an image's alt
# only from cell metadata, so its image renderer is wrapped to take the output's own.
from myst_nb.core.render import NbElementRenderer as _Renderer

_render_image = _Renderer.render_image


def _render_image_with_alt(self, data):
    nodes = _render_image(self, data)
    alt = data.output_metadata.get(data.mime_type, {}).get("alt")
    if alt:
        for node in nodes:
            node["alt"] = alt
    return nodes


_Renderer.render_image = _render_image_with_alt


def setup(app):
    app.config.mathjax_path = MATHJAX_PATH
    app.connect("doctree-read", _replace_widget_reprs)
    return {"parallel_read_safe": True}
