"""The course in a real browser: `make lab` in headless Chromium, every view moved by hand.

For each solution notebook with interactive views (01, 02, 03), the test opens
it in the JupyterLab that `make lab` starts (on a temporary copy, a free port),
runs all cells, then moves every control of every view as a user would
(keyboard on sliders, a choice in a menu, a click on a box, text typed and
Enter) and measures, inside the page, the time from the input event to the
figure being updated (for a live ipympl figure: the first changed pixel of its
canvas; for a static figure or an HTML view: its output replaced). It asserts
that every move changes what the view shows; that a live figure fits the
notebook column and, at first and after every move, shows what a full redraw
of the same state shows (rendered anew in the notebook's own kernel, reached
through its connection file; tests/_frames.py says how close); that the
median per view is within ``LATENCY_MS`` (only when set: `make bench`); that
the student view shows no instructor panel, and that no error dialog opens.
It prints a table of the latencies with the load average.

The browser is the system's Chromium (Debian's ``chromium``; `.ci/run`
installs it with apt-get), driven by Python Playwright; never a browser
download. Where Playwright or Chromium is missing, the test skips and says so.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import json
import urllib.request
from pathlib import Path

import pytest

from _frames import MAX_WRONG, drawn_whole, wrong_pixels
from conftest import ROOT

# one worker runs the whole module: its module-scoped fixture is computed once (make test: --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_browser")]

CHROMIUM = os.environ.get("BN_CHROMIUM", "/usr/bin/chromium")
#: Median input-to-figure time per view, in ms (issue 11: "views that keep up with the hand": 100).
#: A speed target, so it is measured by `make bench` (which sets it), not asserted in `make test`,
#: where the machine's load decides the number: unset, the test prints the latencies only.
LATENCY_MS = float(os.environ["BN_LATENCY_MS"]) if os.environ.get("BN_LATENCY_MS") else None
STARTUP = 300      # s: JupyterLab starts in ~5 s on a quiet laptop, minutes on a loaded 2-core machine
RUN_ALL = 600      # s: a notebook's Run All, generous for a loaded machine
MOVES = 3          # moves per control (each measured)
NOTEBOOKS = {      # assignment -> the views it should show (by their controls)
    "01_why_normalize": 1,
    "02_forward": 2,
    "03_backward": 1,
}
INSTRUCTOR_PANELS = ("Formgrader", "Create Assignment", "Course List", "Manage Assignments")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Installed before any page script: records input events; measures from the input event to the first
# changed pixel of a live figure's canvas (its pixels compared with those at the moment the measurement
# was armed, just before the input: after every drawImage onto it, and at every animation frame).
INIT_SCRIPT = r"""
window.__bn = {input: 0, listeners: []};
for (const type of ["keydown", "pointerdown", "change"]) {
  document.addEventListener(type, e => { window.__bn.input = e.timeStamp; }, true);
}
// When the last figure frame (a PNG from the kernel) reached the page: splits a live move's time in two.
const createObjectURL = URL.createObjectURL;
URL.createObjectURL = function (blob) {
  if (blob && blob.type === "image/png") window.__bn.frameAt = performance.now();
  return createObjectURL.call(URL, blob);
};
window.__bn.pixels = c => new Uint32Array(c.getContext("2d").getImageData(0, 0, c.width, c.height).data.buffer);
window.__bn.same = (a, b) => { if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true; };
const drawImage = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (...args) {
  const out = drawImage.apply(this, args), el = this.canvas;
  if (window.__bn.listeners.length) { const t = performance.now(); for (const f of window.__bn.listeners.slice()) f(el, t); }
  return out;
};
// Resolves with ms from the last input event to the first change of `fig` (at most `timeout` ms):
// a canvas' pixels, or an element's DOM.
window.__bn.arm = (fig, timeout) => new Promise(resolve => {
  let done = false;
  const finish = t => { if (done) return; done = true; cleanup(); resolve(t === null ? null : t - window.__bn.input); };
  let cleanup;
  if (fig.tagName === "CANVAS") {
    const before = window.__bn.pixels(fig);
    const changed = () => !window.__bn.same(window.__bn.pixels(fig), before);
    const f = (el, t) => { if (el === fig && changed()) finish(t); };
    let frame;
    const poll = t => { if (done) return; if (changed()) finish(performance.now()); else frame = requestAnimationFrame(poll); };
    window.__bn.listeners.push(f);
    frame = requestAnimationFrame(poll);
    cleanup = () => { window.__bn.listeners = window.__bn.listeners.filter(g => g !== f); cancelAnimationFrame(frame); };
  } else {
    const mo = new MutationObserver(() => finish(performance.now()));
    mo.observe(fig, {subtree: true, childList: true, characterData: true});
    cleanup = () => mo.disconnect();
  }
  setTimeout(() => finish(null), timeout);
});
// Resolves once `fig` (a canvas) has not changed for `quiet` ms.
window.__bn.settled = (fig, quiet) => new Promise(resolve => {
  let last = window.__bn.pixels(fig), since = performance.now();
  const poll = () => { const now = window.__bn.pixels(fig);
    if (!window.__bn.same(now, last)) { last = now; since = performance.now(); }
    if (performance.now() - since >= quiet) resolve(); else setTimeout(poll, 25); };
  poll();
});
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium_or_skip():
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        pytest.skip("Python Playwright is not installed (pip install -e '.[test]'): no browser test")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set BN_CHROMIUM): "
                    "no browser test")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on a temporary release made of the solution notebooks; yields (base_url, token, runtime folder).

    The runtime folder holds the kernels' connection files (``kernel-<id>.json``): the test talks to a
    notebook's kernel directly to render the full redraw a live figure is compared with."""
    _chromium_or_skip()
    tmp = tmp_path_factory.mktemp("browser")
    release = tmp / "release"
    for name in NOTEBOOKS:
        shutil.copytree(ROOT / "solutions" / name, release / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    # Render every cell (JupyterLab 4 renders only the cells in view by default): the test reads them all.
    tracker = tmp / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port = _free_port()
    flags = f"--ServerApp.allow_root=True --no-browser --port={port} --ServerApp.port_retries=0"
    log_path = tmp / "lab.log"
    log = open(log_path, "w+")
    # Its own runtime, workspace and settings folders: no restored tabs, nothing written to the home folder.
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings")}
    env.pop("NBGRADER_EXECUTION", None)
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_FLAGS={flags}", f"RELEASE={release}", f"WORK={tmp / 'work'}"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    try:
        deadline, text = time.time() + STARTUP, ""
        while time.time() < deadline:
            log.seek(0)
            text = log.read()
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", text)
            if m:
                break
            assert proc.poll() is None, f"make lab exited:\n{text[-3000:]}"
            time.sleep(0.5)
        else:
            raise AssertionError(f"make lab printed no address in {STARTUP} s:\n{text[-3000:]}")
        yield f"http://127.0.0.1:{port}", m[1], tmp / "runtime"
        for kernel in _api(f"http://127.0.0.1:{port}", m[1], "GET", "/api/kernels"):  # kernels run in their own groups
            _api(f"http://127.0.0.1:{port}", m[1], "DELETE", f"/api/kernels/{kernel['id']}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright
    profile = tempfile.mkdtemp(prefix="bn-chromium-")
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000})
        except Exception as exc:  # noqa: BLE001: any launch failure means "no browser here"
            shutil.rmtree(profile, ignore_errors=True)
            pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {exc}")
        context.add_init_script(INIT_SCRIPT)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- helpers

def _api(base: str, token: str, method: str, url: str, body=None):
    req = urllib.request.Request(f"{base}{url}", method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def _start_kernel(base: str, token: str, path: str) -> str:
    """Start the notebook's session and kernel through the REST API and wait until the kernel answers.

    JupyterLab then attaches to it; on a loaded machine this avoids its "Select Kernel" question and a
    kernel restarted while it still starts. Returns the kernel's id.
    """
    def call(method, url, body=None):
        return _api(base, token, method, url, body)
    session = call("POST", "/api/sessions", {"path": path, "name": Path(path).name, "type": "notebook",
                                             "kernel": {"name": "python3"}})
    # The server learns "idle" only once a client talks to the kernel; give it a moment to start.
    deadline = time.time() + 20
    while time.time() < deadline and \
            call("GET", f"/api/kernels/{session['kernel']['id']}")["execution_state"] == "starting":
        time.sleep(0.5)
    return session["kernel"]["id"]


def _assert_no_dialog(page, where: str) -> None:
    dialogs = page.locator(".jp-Dialog")
    if dialogs.count():
        raise AssertionError(f"error dialog {where}: {dialogs.first.inner_text()[:500]}")


def _accept_kernel_question(page) -> bool:
    """JupyterLab on a loaded machine may ask which kernel to use (it opened the notebook before it knew the
    kernels); the notebook's own (Python 3) is preselected: accept it, as a user would. True if it asked."""
    dialog = page.locator(".jp-Dialog")
    if not (dialog.count() and "Select Kernel" in dialog.first.inner_text()):
        return False
    assert "Python 3" in dialog.locator("select").first.evaluate("s => s.options[s.selectedIndex].text")
    dialog.get_by_role("button", name="Select").click()
    page.wait_for_timeout(1000)
    return True


def _run_all(page, name: str) -> None:
    """Run all cells from the Run menu; wait until every code cell has run; fail on an error output."""
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=STARTUP * 1000)
    idle = """() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
        return s && s.getAttribute('data-status') === 'idle'; }"""
    page.wait_for_function(f"() => ({idle})() || document.querySelector('.jp-Dialog') !== null",
                           timeout=STARTUP * 1000)
    page.wait_for_timeout(2000)
    if _accept_kernel_question(page):
        page.wait_for_function(idle, timeout=STARTUP * 1000)
    _assert_no_dialog(page, f"opening {name}")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).first.click()
    # Done when no cell waits or runs ([*]) and the kernel is idle, twice in a row half a second apart.
    done = f"""() => {{ const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent);
        const ok = document.querySelector('.jp-Dialog') !== null || (({idle})() && p.length > 0 && !p.some(t => t.includes('*')));
        const was = window.__bnDone; window.__bnDone = ok; return ok && was; }}"""
    page.wait_for_function(done, timeout=RUN_ALL * 1000, polling=500)
    if _accept_kernel_question(page):  # asked late: accept, and run all again
        page.wait_for_function(idle, timeout=STARTUP * 1000)
        page.evaluate("() => { window.__bnDone = false; }")
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).first.click()
        page.wait_for_function(done, timeout=RUN_ALL * 1000, polling=500)
    _assert_no_dialog(page, f"while running {name}")
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    errors = [t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "Traceback" in t]
    assert not errors, f"{name}: a cell failed:\n{errors[0][:2000]}"
    not_run = [i for i, t in enumerate(prompts, start=1) if not re.search(r"\[\d+\]", t)]
    assert not not_run, f"{name}: Run All stopped; code cells {not_run} did not run"


def _views(page):
    """Each view: the outermost ipywidgets box holding a control, in a cell's output."""
    page.wait_for_timeout(1000)  # let the live figures swap in (ipympl's front end answers)
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    controls = ".widget-slider, .widget-dropdown, .widget-checkbox, .widget-text"
    boxes = panel.locator(".jp-OutputArea-output .widget-vbox").filter(has=page.locator(controls))
    seen, views = set(), []
    for i in range(boxes.count()):
        box = boxes.nth(i)
        key = box.evaluate("""b => { let p = b.parentElement; while (p) { if (p.classList.contains('widget-vbox')) return null; p = p.parentElement; }
                                     b.dataset.bnView = b.dataset.bnView || String(Math.random()); return b.dataset.bnView; }""")
        if key and key not in seen:
            seen.add(key)
            views.append(page.locator(f'[data-bn-view="{key}"]'))
    return views


def _figure(view):
    """What a move should update: the live canvas, else the static PNG's output, else the HTML."""
    canvas = view.locator(".jupyter-matplotlib canvas, .jupyter-matplotlib-canvas-div canvas")
    if canvas.count():
        return canvas.first, "live"
    output = view.locator(".widget-output")
    if output.count():
        return output.first, "static"
    return view.locator(".widget-html").last, "html"


def _controls(view):
    """(label, kind, locator) for every control of a view."""
    found = []
    for kind, selector in (("slider", ".widget-slider"), ("dropdown", ".widget-dropdown"),
                           ("checkbox", ".widget-checkbox"), ("text", ".widget-text:has(input[type=text])"),
                           ("number", ".widget-text:has(input[type=number])")):
        items = view.locator(selector)
        for i in range(items.count()):
            item = items.nth(i)
            label = item.locator(".widget-label").first.inner_text().strip() if kind != "checkbox" \
                else item.inner_text().strip()
            found.append((label, kind, item))
    return found


def _move(page, kind: str, control, k: int) -> None:
    """Move a control once, as a hand would; ``k`` counts the moves of this control."""
    if kind == "slider":
        handle = control.locator(".noUi-handle")
        handle.focus()
        page.keyboard.press("ArrowRight" if k < MOVES - 1 else "ArrowLeft")
    elif kind == "dropdown":
        select = control.locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        select.select_option(label=options[(options.index(current) + 1) % len(options)])
    elif kind == "checkbox":
        control.locator("input[type=checkbox]").click()
    elif kind == "text":
        box = control.locator("input")
        values = ["1, 2, 3, 4", "2.3, -0.5, 1.8, 3.2, -1.2, 4", "2.3, -0.5, 1.8, 3.2, -1.2"]
        box.fill(values[k % len(values)])
        box.press("Enter")
    elif kind == "number":
        box = control.locator("input[type=number]")
        box.fill(str(round(float(box.input_value()) + 0.5, 3)))
        box.press("Enter")


class FullRedraw:
    """The notebook's kernel, reached directly (jupyter_client on its connection file): renders the live view's
    figure as it stands, with a fresh Agg canvas (``savefig(backend="agg")``, every artist drawn), to compare
    with what the browser shows."""

    CODE = """
import gc as _bn_gc
from bn_helpers.widgets._live import FigurePane as _BnPane
_bn_panes = [o for o in _bn_gc.get_objects() if isinstance(o, _BnPane) and o.live]
assert len(_bn_panes) == 1, f"{{len(_bn_panes)}} live figures in the kernel, expected 1"
with _bn_panes[0].lock:   # not while a widget message, in another thread, draws the figure
    _bn_panes[0].fig.savefig({path!r}, format="png", dpi=_bn_panes[0].fig.dpi, backend="agg")
del _bn_gc, _BnPane, _bn_panes
"""

    def __init__(self, connection_file: Path, folder: Path):
        from jupyter_client import BlockingKernelClient
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self.folder, self.count = folder, 0

    def render(self):
        """The full redraw, an (H, W, 3) uint8 array."""
        import numpy as np
        from PIL import Image
        self.count += 1
        path = self.folder / f"full_redraw_{self.count}.png"
        reply = self.client.execute_interactive(self.CODE.format(path=str(path)), silent=True, timeout=120,
                                                output_hook=lambda msg: None)
        content = reply["content"]
        assert content["status"] == "ok", f"the full redraw failed in the kernel: {content.get('evalue')}"
        return np.asarray(Image.open(path).convert("RGB"))

    def close(self):
        self.client.stop_channels()


def _canvas_pixels(fig):
    """What the live figure's canvas shows, an (H, W, 3) uint8 array."""
    import base64
    from io import BytesIO

    import numpy as np
    from PIL import Image
    url = fig.evaluate("c => c.toDataURL('image/png')")
    return np.asarray(Image.open(BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def _assert_drawn_whole(fig, full_redraw: FullRedraw, where: str) -> None:
    """The canvas, once settled, shows the full redraw of the same state (tests/_frames.py: at most ``MAX_WRONG`` of
    its pixels differ)."""
    import numpy as np
    from PIL import Image
    reference = full_redraw.render()   # after the kernel handled the move: it answers once it is done
    fig.evaluate("c => window.__bn.settled(c, 300)")
    shown = _canvas_pixels(fig)
    assert shown.shape == reference.shape, f"{where}: the canvas is {shown.shape[1]}x{shown.shape[0]} pixels, " \
                                           f"the figure {reference.shape[1]}x{reference.shape[0]}"
    if not drawn_whole(shown, reference):
        wrong = wrong_pixels(shown, reference)
        shot = Path(tempfile.gettempdir()) / f"test_browser_not_whole_{full_redraw.count}.png"
        marked = np.where(wrong[..., None], np.array([255, 0, 0], np.uint8), np.uint8(255))
        Image.fromarray(np.vstack([shown, reference, marked]).astype(np.uint8)).save(shot)
        raise AssertionError(f"{where}: the browser shows {int(wrong.sum())} pixels unlike a full redraw of the same "
                             f"state (allowed {MAX_WRONG * wrong.size:.0f}); shown / full redraw / differences: {shot}")


def _assert_fits_the_column(fig, where: str) -> None:
    """The figure is not wider than the notebook's output area, and not cut by it."""
    c, o = fig.evaluate("""c => { const o = c.closest('.jp-OutputArea-output');
        const a = c.getBoundingClientRect(), b = o.getBoundingClientRect();
        return [[a.left, a.right, a.width], [b.left, b.right, b.width]]; }""")
    assert c[2] <= o[2] and c[0] >= o[0] - 0.5 and c[1] <= o[1] + 0.5, \
        f"{where}: the figure ({c[2]:.0f} px wide, x {c[0]:.0f}..{c[1]:.0f}) does not fit the notebook column " \
        f"(output area {o[2]:.0f} px, x {o[0]:.0f}..{o[1]:.0f})"


def _measure_view(page, view, full_redraw: FullRedraw) -> tuple[str, list[tuple[str, float]]]:
    """Move every control of ``view`` MOVES times; return (mode, [(control, ms), ...]).

    A live figure is checked to fit the column, and compared with a full redraw at first and after every move.
    """
    fig, mode = _figure(view)
    fig.scroll_into_view_if_needed()
    if mode == "live":
        _assert_fits_the_column(fig, "live figure")
        _assert_drawn_whole(fig, full_redraw, "at first")
    samples = []
    for label, kind, control in _controls(view):
        for k in range(MOVES):
            before = _canvas_pixels(fig) if mode == "live" else fig.screenshot() if mode == "static" \
                else fig.inner_text()
            handle = fig.element_handle()
            page.evaluate("([f, t]) => { window.__bn.pending = window.__bn.arm(f, t); }", [handle, 20000])
            _move(page, kind, control, k)
            ms = page.evaluate("() => window.__bn.pending")
            assert ms is not None, f"{label}: the figure did not update within 20 s after the move"
            frame_ms = page.evaluate("() => window.__bn.frameAt - window.__bn.input") if mode == "live" else None
            where = f"{label} ({kind}, move {k + 1})"
            if mode == "live":
                _assert_drawn_whole(fig, full_redraw, f"after {where}")
                after = _canvas_pixels(fig)
                assert (after != before).any(), f"{where}: the view did not change"
            else:
                page.wait_for_timeout(150)  # let the output settle before comparing
                after = fig.screenshot() if mode == "static" else fig.inner_text()
                assert after != before, f"{where}: the view did not change"
            _assert_no_dialog(page, f"after moving {label}")
            samples.append((label, ms))
            if os.environ.get("BN_BROWSER_VERBOSE"):
                arrived = f" (the kernel's frame reached the page after {frame_ms:.1f} ms)" if frame_ms else ""
                print(f"  {label} ({kind}, {mode}) move {k + 1}: {ms:.1f} ms{arrived}", flush=True)
    return mode, samples


# --------------------------------------------------------------------------- the test

@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_views_follow_the_hand_in_a_real_browser(lab, browser, name, capsys):
    base, token, runtime = lab
    page = browser.new_page()
    full_redraw = None
    try:
        kernel = _start_kernel(base, token, f"{name}/{name}.ipynb")
        full_redraw = FullRedraw(runtime / f"kernel-{kernel}.json", Path(tempfile.mkdtemp(prefix="bn-redraw-")))
        # ?reset: a fresh workspace, only this notebook open
        page.goto(f"{base}/lab/tree/{name}/{name}.ipynb?reset&token={token}", wait_until="domcontentloaded")
        _run_all(page, name)
        # The student view: no instructor panel, no nbgrader menu.
        page.wait_for_timeout(500)
        assert page.get_by_role("menuitem", name="Nbgrader").count() == 0, "the Nbgrader menu is shown"
        body = page.locator("#main").inner_text()
        shown = [p for p in INSTRUCTOR_PANELS if p in body]
        assert not shown, f"instructor panels in the student view: {shown}"

        views = _views(page)
        assert len(views) == NOTEBOOKS[name], f"{name}: expected {NOTEBOOKS[name]} views, found {len(views)}"
        rows = []
        for i, view in enumerate(views, start=1):
            mode, samples = _measure_view(page, view, full_redraw)
            assert samples, f"{name} view {i}: no control found"
            ms = [s for _, s in samples]
            rows.append((f"{name} view {i}", mode, len({c for c, _ in samples}), statistics.median(ms), max(ms)))
        with capsys.disabled():
            load = os.getloadavg()[0]
            print(f"\n{name}: input event -> figure updated, in Chromium (load average {load:.1f})")
            print(f"{'view':28} {'figure':7} {'controls':>8} {'median ms':>10} {'max ms':>8}")
            for view, mode, n, med, mx in rows:
                print(f"{view:28} {mode:7} {n:8d} {med:10.1f} {mx:8.1f}")
        for view, mode, n, med, mx in rows:
            assert mode != "static", f"{view}: the figure stayed a static PNG (is ipympl installed and built?)"
            assert LATENCY_MS is None or med <= LATENCY_MS, f"{view}: median {med:.0f} ms from input to updated figure > {LATENCY_MS:.0f} ms"
    except BaseException:
        shot = Path(tempfile.gettempdir()) / f"test_browser_{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the page: {shot}")
        raise
    finally:
        if full_redraw is not None:
            full_redraw.close()
            shutil.rmtree(full_redraw.folder, ignore_errors=True)
        page.close()
