"""Code that ``book/build.py`` puts into hidden cells of the reading copy (never imported by the course).

``ALT_TEXT`` runs right after a notebook's ``%matplotlib inline`` cell: from then on every
Matplotlib figure the notebook shows carries alternative text made from its titles and axis
labels, as the PNG output's metadata ``{"alt": ...}``, which ``book/conf.py`` puts into the
page's ``<img alt="...">`` (WCAG 2.1, success criterion 1.1.1, non-text content).

``STATIC_VIEW`` runs right after a cell that shows an interactive view (``bn_helpers.widgets``):
the view, the cell's result ``_``, is shown as a still picture at its starting settings: its
Matplotlib figure (``view.fig``, the figure its static PNG pane shows without a front end), or
its HTML (``view.html``, the Step-by-Step Math view). A view with neither fails the build.
"""

ALT_TEXT = '''\
# The reading copy only (book/build.py): each figure's picture gets alternative text from its titles.
def _bn_book_alt_text():
    from IPython import get_ipython
    from matplotlib.figure import Figure

    def _clean(text):
        return " ".join(text.replace("$", "").split())

    def describe(fig):
        suptitle = _clean(fig.get_suptitle()) if hasattr(fig, "get_suptitle") else ""
        panels = []
        for ax in fig.axes:
            if not ax.get_visible() or not ax.has_data():
                continue
            title = _clean(" ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t))
            xlabel, ylabel = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
            axes = f"{ylabel} against {xlabel}" if xlabel and ylabel else (ylabel or xlabel)
            panels.append(", ".join(p for p in (title, axes) if p))
        panels = [p for p in panels if p]
        head = f"Figure: {suptitle}" if suptitle else "Figure"
        if not panels:
            return head
        body = "; ".join(panels) if len(panels) > 1 else panels[0]
        return f"{head}. " + (f"{len(panels)} panels: " if len(panels) > 1 else "") + body

    formatter = get_ipython().display_formatter.formatters["image/png"]
    png = formatter.lookup_by_type(Figure)
    formatter.for_type(Figure, lambda fig: (png(fig), {"alt": describe(fig)}))


_bn_book_alt_text()
del _bn_book_alt_text
'''

STATIC_VIEW = '''\
# The reading copy only (book/build.py): the interactive view above, as a still picture.
from IPython.display import HTML as _bn_HTML, display as _bn_display
_bn_view = _
_bn_display(_bn_view.fig if hasattr(_bn_view, "fig") else _bn_HTML(_bn_view.html.value))
del _bn_view, _bn_HTML, _bn_display
'''
