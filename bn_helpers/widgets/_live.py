"""Where a view's figure is shown: live (ipympl) when the front end can, a PNG otherwise.

A view draws into one Matplotlib figure and updates its artists in place.
:class:`FigurePane` shows that figure:

* **live**, in JupyterLab or Notebook 7 with ipympl's front end: the figure's
  canvas is an ipympl ``Canvas`` widget; the view updates its artists in
  place and a redraw renders at once and sends only the changed pixels to
  the browser (blitting the moving artists where the axes stay), not a new
  PNG through an Output widget;
* **static** everywhere else (nbclient and nbconvert runs, the tests, the
  book, a front end without ipympl): a PNG in an ``ipywidgets.Output``, as
  before.

Which one is decided by the front end itself, with no setting: ipympl's
front end sends the message ``{"type": "initialized"}`` as soon as it holds
the canvas, and only then does the pane swap the PNG for the live canvas.
Without that message (no browser, or no ipympl in it) the PNG stays. The
notebook's own backend (``%matplotlib inline``) is left as it is.
"""
from __future__ import annotations

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["FigurePane"]


class FigurePane:
    """Shows ``fig`` in :attr:`widget`: a PNG until ipympl's front end answers, then the live canvas.

    Attributes
    ----------
    fig : matplotlib.figure.Figure
    widget : ipywidgets.Box
        Put this in the view's layout; its one child is :attr:`out` (static)
        or :attr:`canvas` (live).
    out : ipywidgets.Output
        The static PNG.
    canvas : ipympl Canvas or None
        None where ipympl is not installed.
    live : bool
        True once the front end has shown the canvas; :meth:`show` then
        only asks for a redraw.
    redraws : int
        How many times :meth:`show` was called (a PNG, or a live redraw).
    """

    def __init__(self, fig: Figure):
        self.fig = fig
        self.out = widgets.Output()
        self.widget = widgets.Box([self.out])
        self.canvas = None
        self.live = False
        self.redraws = 0
        self._drawn = False       # after the first live draw the layout is kept
        self._background = None   # the pixels under the moving artists (blitting)
        try:
            from ipympl.backend_nbagg import Canvas, FigureManager
        except ImportError:  # no ipympl: the static PNG only
            return
        canvas = Canvas(fig)  # becomes fig.canvas (Agg-based: the PNG path still works)
        canvas.header_visible = canvas.footer_visible = False
        canvas.toolbar_visible = False
        canvas.resizable = False
        canvas.capture_scroll = False
        self.manager = FigureManager(canvas, num=id(self))
        canvas.on_msg(self._on_message)
        self.canvas = canvas

    def _on_message(self, _widget, content, _buffers) -> None:
        if content.get("type") == "initialized" and not self.live:
            self.live = True
            self.widget.children = (self.canvas,)
            self.out.clear_output()
            self.show()

    def show(self, dynamic=(), full: bool = True) -> None:
        """Show the figure's current state: a live redraw, or a new PNG (only inside IPython).

        Live, the figure is rendered at once (``canvas.draw()``: no round trip
        through the browser, as ``draw_idle`` would make) and only the
        changed pixels travel. The layout found by the first draw is kept
        (no constrained-layout pass per move). With ``dynamic`` artists and
        ``full=False`` (nothing else changed: limits, ticks), only those
        artists are drawn again over the saved background (blitting).
        """
        self.redraws += 1
        if not self.live:
            if get_ipython() is not None:  # in plain Python there is no front end to show it in
                with self.out:
                    self.out.clear_output(wait=True)
                    display(self.fig)
            return
        canvas = self.fig.canvas
        if not self._drawn:  # lay the figure out once, everything visible, then keep that layout
            FigureCanvasAgg.draw(canvas)
            self.fig.set_layout_engine("none")
            self._drawn = True
        if dynamic and (full or self._background is None):
            for artist in dynamic:  # animated artists are left out of a draw (not hidden: titles keep their place)
                artist.set_animated(True)
            FigureCanvasAgg.draw(canvas)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            for artist in dynamic:
                artist.set_animated(False)
        elif not dynamic:
            canvas.draw()
            return
        else:
            canvas.restore_region(self._background)
        for artist in dynamic:
            self.fig.draw_artist(artist)
        canvas.blit(self.fig.bbox)
