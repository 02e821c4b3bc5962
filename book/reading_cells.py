"""Code that ``book/build.py`` puts into hidden cells of the reading copy (never imported by the course).

``ALT_TEXT`` runs right after a notebook's ``%matplotlib inline`` cell: from then on every
Matplotlib figure the notebook shows carries alternative text made from its titles and axis
labels, as the PNG output's metadata ``{"alt": ...}``, which ``book/conf.py`` puts into the
page's ``<img alt="...">`` (WCAG 2.1, success criterion 1.1.1, non-text content).

``STATIC_VIEW`` runs right after a cell that shows an interactive view (``bn_helpers.widgets``):
the view, the cell's result (``Out``), is shown as a still picture at its starting settings: its
Matplotlib figure (``view.fig``, the figure its static PNG pane shows without a front end), or
its HTML (``view.html``, the Step-by-Step Math view; headings made bold lines, which would
otherwise break the page's heading order). A view with neither fails the build.
"""

ALT_TEXT = '''\
# The reading copy only (book/build.py): each figure's picture gets alternative text from its titles.
def _bn_book_alt_text():
    from IPython import get_ipython
    from matplotlib.figure import Figure

    import re

    def _clean(text):   # mathtext as words: $\\hat{x}_i$ -> hat x_i
        text = re.sub(r"\\\\([A-Za-z]+)", r"\\1 ", text.replace("$", ""))
        return " ".join(text.replace("{", "").replace("}", "").split())

    def describe(fig):
        """'Figure: <suptitle>. <n> panels: <title>, <y> against <x>; ...' (panels with a title or both axis labels; repeated ones once; six at most)."""
        suptitle = _clean(fig.get_suptitle())
        panels, count = [], 0
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            title = _clean(" ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t))
            xlabel, ylabel = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
            axes = f"{ylabel} against {xlabel}" if xlabel and ylabel else ""
            panel = ", ".join(p for p in (title, axes) if p)
            count += bool(panel)
            if panel and panel not in panels:
                panels.append(panel)
        head = f"Figure: {suptitle}" if suptitle else "Figure"
        if not panels:
            return head
        more = f"; and {len(panels) - 6} more" if len(panels) > 6 else ""
        return (f"{head}. " + (f"{count} panels: " if count > 1 else "") + "; ".join(panels[:6]) + more)

    formatter = get_ipython().display_formatter.formatters["image/png"]
    png = formatter.lookup_by_type(Figure)
    formatter.for_type(Figure, lambda fig: (png(fig), {"alt": describe(fig)}))


_bn_book_alt_text()
del _bn_book_alt_text
'''

STATIC_VIEW = '''\
# The reading copy only (book/build.py): the interactive view above, as a still picture.
import re as _bn_re
from IPython.display import HTML as _bn_HTML, display as _bn_display
_bn_view = Out[max(Out)]   # the cell above's result (not `_`: a gettext-style `_` in builtins freezes it)
assert hasattr(_bn_view, "widget"), f"the cell above did not show an interactive view: {type(_bn_view)}"
if hasattr(_bn_view, "fig"):
    _bn_display(_bn_view.fig)
else:   # an HTML view: its headings as bold lines, so that they stay out of the page's outline
    _bn_display(_bn_HTML(_bn_re.sub(r"<(/?)h[1-6]\\b[^>]*>", lambda m: "</strong></p>" if m[1] else "<p><strong>",
                                    _bn_view.html.value)))
del _bn_view, _bn_re, _bn_HTML, _bn_display
'''
