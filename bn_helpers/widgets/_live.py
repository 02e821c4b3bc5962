"""Where a view's figure is shown: live (ipympl) when the front end can, a PNG otherwise.

A view draws into one Matplotlib figure and updates its artists in place.
:class:`FigurePane` shows that figure:

* **live**, in JupyterLab or Notebook 7 with ipympl's front end: the figure's
  canvas is an ipympl ``Canvas`` widget; the view updates its artists in
  place and a redraw renders at once (blitting the moving artists where the
  axes stay) and sends the frame to the browser, not a new PNG through an
  Output widget; every frame is sent whole (see
  :func:`_whole_frames`), so that what the browser shows never depends on
  an earlier frame having arrived;
* **static** everywhere else (nbclient and nbconvert runs, the tests, the
  book, a front end without ipympl): a PNG in an ``ipywidgets.Output``, as
  before.

Which one is decided by the front end itself, with no setting: ipympl's
front end sends the message ``{"type": "initialized"}`` as soon as it holds
the canvas, and only then does the pane swap the PNG for the live canvas.
Without that message (no browser, or no ipympl in it) the PNG stays. The
notebook's own backend (``%matplotlib inline``) is left as it is.

:class:`Measured` keeps a view's measurements per setting and, live,
measures the settings one move away while the kernel is idle;
:func:`sticky_limits` keeps an axis' limits while the data fit them (so that
most moves are a blit, not a full redraw).
"""
from __future__ import annotations

import asyncio
import functools
import threading
from typing import Callable, Hashable, Iterable

import ipywidgets as widgets
import numpy as np
from IPython import get_ipython
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["FigurePane", "Measured", "sticky_limits", "setting", "log_slider_steps"]


def _ipympl():
    """ipympl's ``Canvas`` and ``FigureManager``, imported without changing pyplot's backend.

    Importing ``ipympl`` calls ``matplotlib.use("module://ipympl.backend_nbagg")``
    (ipympl/__init__.py), which would turn every later ``plt.figure()`` of the
    notebook into a live canvas; the notebook's own backend (``%matplotlib
    inline``) is put back.
    """
    import matplotlib

    before = matplotlib.get_backend()
    from ipympl.backend_nbagg import Canvas, FigureManager

    if matplotlib.get_backend() != before:
        matplotlib.use(before)
    return Canvas, FigureManager


#: zlib level of a live frame's PNG. Pillow's default (6) takes 9 ms for the 900 x 390 figure of the
#: Multi-Layer Flow view, level 1 takes 4 ms for a file 1.3x larger (a local socket carries it in well under
#: a millisecond): the frame reaches the browser sooner (benchmarks: tests/test_browser.py, BN_LATENCY_MS).
FRAME_PNG_LEVEL = 1


def _whole_frames(canvas):
    """``canvas.get_diff_image`` (Matplotlib's WebAgg) made to send every frame whole, never a diff.

    ipympl's front end shows a frame by setting its image's ``src``: a frame
    that arrives while the previous one is still loading replaces it, so the
    previous one is never drawn. A diff frame (the changed pixels only) would
    then land on a picture that lacks the lost frame's pixels, and what they
    held (labels, axes, lines) would stay missing until the next full frame.
    A whole frame does not depend on the ones before it: when one is
    dropped, the next shows everything. (The incomplete Scatter view of
    issue 17 came from elsewhere, two threads drawing one figure at once:
    see :attr:`FigurePane.lock`.)

    It is Matplotlib's ``FigureCanvasWebAggCore.get_diff_image`` on the path
    it takes for a whole frame (``_force_full``, the flag by which WebAgg
    itself asks for one after a resize or a refresh), with the same
    bookkeeping (``_png_is_old``, ``_last_buff``, the image mode sent to the
    front end), and the PNG written by Pillow at zlib level
    :data:`FRAME_PNG_LEVEL` instead of Pillow's default.
    """
    from io import BytesIO

    from PIL import Image

    def get_diff_image():
        if not canvas._png_is_old:
            return None
        pixels = np.asarray(canvas.get_renderer().buffer_rgba())
        canvas.set_image_mode("full")
        canvas._last_buff = pixels.view(np.uint32).squeeze(2).copy()
        canvas._force_full = False
        canvas._png_is_old = False
        with BytesIO() as png:
            Image.fromarray(pixels).save(png, format="png", compress_level=FRAME_PNG_LEVEL)
            return png.getvalue()

    return get_diff_image


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
    on_live : callable or None
        Called once the live canvas shows (a view starts measuring ahead).
    lock : threading.RLock
        Held while the figure is drawn or sent, by :meth:`show` and by
        ipympl's own draws (``canvas.draw``, ``canvas.get_diff_image``). A
        view holds it while it changes its artists and shows them. The front
        end's messages to the canvas and to the controls may be handled in
        other threads than the notebook's cells (ipykernel 7 runs widget
        messages in a subshell's thread): two draws of one figure at once
        would each send a half-drawn frame (issue 17, the Scatter view in
        Chromium).
    """

    def __init__(self, fig: Figure):
        self.fig = fig
        self.out = widgets.Output()
        self.widget = widgets.Box([self.out])
        self.canvas = None
        self.live = False
        self.redraws = 0
        self.on_live = None       # called (no arguments) once the live canvas shows
        self._drawn = False       # after the first live draw the layout is kept
        self._background = None   # the pixels under the moving artists (blitting)
        self._backgrounds: dict = {}  # static_key -> background, the latest BACKGROUNDS (see show)
        self._static_key = None       # the static_key of the last show
        self._dynamic = ()        # the moving artists of the last show
        self.lock = threading.RLock()
        try:
            Canvas, FigureManager = _ipympl()
        except ImportError:  # no ipympl: the static PNG only
            return
        canvas = Canvas(fig)  # becomes fig.canvas (Agg-based: the PNG path still works)
        canvas.header_visible = canvas.footer_visible = False
        canvas.toolbar_visible = False
        canvas.resizable = False
        canvas.capture_scroll = False
        self.manager = FigureManager(canvas, num=id(self))
        canvas.on_msg(self._on_message)
        canvas.get_diff_image = self._locked(_whole_frames(canvas))
        canvas.draw = self._locked(canvas.draw)   # ipympl's draws (the front end's "draw" requests) too
        self.canvas = canvas

    def _locked(self, method: Callable) -> Callable:
        """``method``, called with :attr:`lock` held."""
        @functools.wraps(method)
        def locked(*args, **kwargs):
            with self.lock:
                return method(*args, **kwargs)
        return locked

    def _on_message(self, _widget, content, _buffers) -> None:
        with self.lock:
            self._went_live(content)

    def _went_live(self, content) -> None:
        if content.get("type") == "initialized" and not self.live:
            self.live = True
            self.widget.children = (self.canvas,)
            self.out.clear_output()
            self.show(self._dynamic, full=True, static_key=self._static_key)   # the next moves' background, at once
            if self.on_live is not None:
                self.on_live()

    #: Backgrounds kept per static state (:meth:`show`'s ``static_key``): 1.4 MB each for a 900 x 390 figure.
    BACKGROUNDS = 16

    def show(self, dynamic=(), full: bool = True, static_key=None) -> None:
        """Show the figure's current state: a live redraw, or a new PNG (only inside IPython).

        Live, the figure is rendered at once (``canvas.draw()``: no round trip
        through the browser, as ``draw_idle`` would make) and the whole
        frame travels. The layout found by the first draw is kept (no
        constrained-layout pass per move). With ``dynamic`` artists and
        ``full=False`` (nothing else changed: limits, ticks, legends'
        places), only those artists are drawn again over the saved
        background (blitting), in the order a full draw would draw them
        (by ``zorder``, then as given): the frame is the full draw's, pixel
        for pixel, as long as no other artist overlaps them from above
        (tests/test_widgets.py and tests/test_browser.py compare the two).

        ``static_key`` (hashable, optional) names the state of everything
        that is not ``dynamic`` (limits, scales, labels): a full redraw keeps
        its background under that key (with the figure's size and dpi), and
        a later ``full`` show with a key seen before restores that background
        instead of drawing it again, so moving a control back to a setting
        is a blit. The view must put in the key everything it changes
        outside ``dynamic``.
        """
        with self.lock:
            self.redraws += 1
            self._static_key = static_key
            self._dynamic = tuple(sorted(dynamic, key=lambda a: a.get_zorder()))   # sorted() is stable
            dynamic = self._dynamic
            if not self.live:
                if get_ipython() is not None:  # in plain Python there is no front end to show it in
                    with self.out:
                        self.out.clear_output(wait=True)
                        display(self.fig)
                return
            canvas = self.fig.canvas
            if not self._drawn:  # lay the figure out once, everything visible, then keep that layout
                engine = self.fig.get_layout_engine()
                if engine is not None:   # the layout a draw would make, without rendering twice
                    engine.execute(self.fig)
                self.fig.set_layout_engine("none")
                self._drawn = True
            key = None if static_key is None else (static_key, self.fig.dpi, canvas.get_width_height())
            if dynamic and (full or self._background is None) and key in self._backgrounds:
                self._background = self._backgrounds.pop(key)
                self._backgrounds[key] = self._background        # the most recently used last
                canvas.restore_region(self._background)
            elif dynamic and (full or self._background is None):
                for artist in dynamic:  # animated artists are left out of a draw (not hidden: titles keep their place)
                    artist.set_animated(True)
                FigureCanvasAgg.draw(canvas)
                self._background = canvas.copy_from_bbox(self.fig.bbox)
                for artist in dynamic:
                    artist.set_animated(False)
                if key is not None:
                    self._backgrounds[key] = self._background
                    while len(self._backgrounds) > self.BACKGROUNDS:
                        self._backgrounds.pop(next(iter(self._backgrounds)))
            elif not dynamic:
                canvas.draw()
                return
            else:
                canvas.restore_region(self._background)
            for artist in dynamic:
                self.fig.draw_artist(artist)
            canvas.blit(self.fig.bbox)


class Measured:
    """A view's measurements, once per setting; live, the settings one move away are measured ahead.

    ``measured[key]`` measures ``measure(*key)`` the first time and returns
    the stored result afterwards (moving back to a setting is instant).
    :meth:`ahead` measures the given keys one at a time in the kernel's own
    event loop (the loop running where the view was made: the notebook's main
    thread), while it is idle: between two messages of the front end, never
    while a cell runs (the measurements set the BLAS thread count, a
    process-wide setting). A measurement holds :attr:`lock`, its own (not
    the figure's): a move handled in another thread (ipykernel 7's widget
    subshell) whose setting is being measured waits for that result rather
    than measuring it at the same time, and a move whose setting is
    measured already draws at once, while the next setting is measured
    (holding the figure's lock there made a move wait up to a whole
    measurement: 25 to 50 ms of the Multi-Layer Flow view's latency). So
    the next move of a control usually finds its result ready; :meth:`stop`,
    or a new :meth:`ahead`, drops the keys not yet measured. Without a
    running event loop (plain Python, the tests, nbclient's runs)
    :meth:`ahead` does nothing.

    Parameters
    ----------
    measure : callable
        ``measure(*key)``: the view's measurement (a plain function).
    pause : float, default 0.02
        Seconds the loop is left free between two measurements ahead.
    lock : threading.RLock, optional
        Held while measuring; by default one of its own.
    """

    def __init__(self, measure: Callable, pause: float = 0.02, lock=None):
        self._measure = measure
        self._by: dict = {}
        self._wanted: list = []
        self._scheduled = False
        self.pause = pause
        self.lock = threading.RLock() if lock is None else lock
        try:
            self._loop = asyncio.get_running_loop()   # a cell's: the main thread's loop
        except RuntimeError:
            self._loop = None

    def __contains__(self, key: Hashable) -> bool:
        return key in self._by

    def __len__(self) -> int:
        return len(self._by)

    def __getitem__(self, key: tuple):
        with self.lock:
            if key not in self._by:
                self._by[key] = self._measure(*key)
            return self._by[key]

    def stop(self) -> None:
        """Drop the keys not yet measured ahead."""
        self._wanted = []

    def ahead(self, keys: Iterable[tuple]) -> None:
        """Measure ``keys`` (those not yet measured, in this order) while the event loop is idle."""
        self._wanted = [k for k in keys if k not in self._by]
        if self._wanted and not self._scheduled:
            loop = self._loop
            if loop is None:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:   # no event loop: no hand on the controls to keep up with
                    return
            if loop.is_closed():
                return
            self._scheduled = True
            # from any thread (a move handled in a subshell): the steps run in the view's own loop
            loop.call_soon_threadsafe(loop.call_later, self.pause, self._step, loop)

    def _step(self, loop) -> None:
        self._scheduled = False
        key = next((k for k in self._wanted if k not in self._by), None)
        if key is None:
            return
        try:
            self[key]
        except Exception:  # noqa: BLE001: measured again when the control gets there, which shows the error
            self._wanted = []
            return
        self._scheduled = True
        loop.call_later(self.pause, self._step, loop)


def sticky_limits(old, new, log: bool = False, data=None, fill: float = 1 / 3) -> tuple:
    """Axis limits that change only when needed: ``old`` while it holds the data and they fill a part of it.

    A move of a control then redraws only the moving artists (blitting), not
    the axes; when the data leave the limits, or shrink to less than
    ``fill`` of them, the limits become ``new``.

    Parameters
    ----------
    old, new : pair of float
        The current limits, and the limits the data ask for.
    log : bool, default False
        Compare spans in decades (all values positive).
    data : pair of float, optional
        The lowest and highest value shown; default ``new``.
    fill : float, default 1/3
        The part of the old span the data must fill for the limits to stay.

    Returns
    -------
    tuple of float
    """
    f = np.log10 if log else np.asarray
    (a, b) = f(np.asarray(old, dtype=float))
    (c, d) = f(np.asarray(new if data is None else data, dtype=float))
    if a <= c and d <= b and (d - c) >= fill * (b - a):
        return tuple(float(v) for v in old)
    return tuple(float(v) for v in new)


def setting(value: float) -> float:
    """A slider's value as a measurement's key: 12 significant digits (the browser's ``base ** x`` may differ
    from Python's in the last bit)."""
    return float(f"{float(value):.12g}")


def log_slider_steps(slider) -> list:
    """The values one step up and one step down of a ``FloatLogSlider`` (those within its range), as keys."""
    exponent = np.log(slider.value) / np.log(slider.base)
    out = []
    for step in (1, -1):
        e = exponent + step * slider.step
        if slider.min - 1e-9 <= e <= slider.max + 1e-9:
            out.append(setting(slider.base ** e))
    return out
