# about: correct code whose outputs and written answer carry scripts for the instructor's browser (<script>, <img onerror>, javascript: links, SVG with a script, an iframe, JavaScript and widget outputs, a raw HTML-like markdown answer) and the kernel's input history (hidden tests) and the checks' source encoded as base64 of zlib, hex, gzip, a bytes literal, reversed and ROT13 text
# expected: 20
# base: solution
# %% [undo_params]
import base64, bz2, codecs, gzip, inspect, lzma, zlib
from IPython.display import HTML, SVG, Javascript, Markdown, display
from bn_helpers import checks
def undo_params(x, eps=1e-5):
    return np.sqrt(batch_variance(x) + eps), batch_mean(x)
_flag = "document.title='PWNED-{0}';window.__pwned=(window.__pwned||[]).concat(['{0}'])"
display(HTML("<script>" + _flag.format("script") + "</script>"
             "<img src=x onerror=\"" + _flag.format("img-onerror") + "\">"
             "<a id=pwn href=\"javascript:" + _flag.format("javascript-link") + "\">click</a>"
             "<svg onload=\"" + _flag.format("svg-onload") + "\"><script>" + _flag.format("svg-script") + "</script></svg>"
             "<iframe srcdoc=\"<script>parent." + _flag.format("iframe") + "</script>\"></iframe>"
             "<object data=\"javascript:" + _flag.format("object") + "\"></object>"
             "<embed src=\"javascript:" + _flag.format("embed") + "\">"
             "<details open ontoggle=\"" + _flag.format("ontoggle") + "\">x</details>"
             "<style>body{background:url(javascript:alert(1))}</style>"))
display(Javascript(_flag.format("application-javascript")))
display({"text/javascript": _flag.format("text-javascript"), "text/plain": "js"}, raw=True)
display(SVG("<svg xmlns='http://www.w3.org/2000/svg' onload=\"" + _flag.format("svg-output") + "\">"
            "<script>" + _flag.format("svg-output-script") + "</script></svg>"))
display(Markdown("<img src=y onerror=\"" + _flag.format("markdown-output") + "\"> [go](javascript:" + _flag.format("md-link") + ")"))
display({"application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
         "text/html": "<img src=z onerror=\"" + _flag.format("widget-html") + "\">"}, raw=True)
display({"image/png": "iVBORw0KGgo=\" onerror=\"" + _flag.format("png-attr"), "text/plain": "png"},
        metadata={"image/png": {"width": "1 onerror=" + _flag.format("png-width")}}, raw=True)
_history = "\n".join(get_ipython().user_ns.get("_ih", []))
_checker = inspect.getsource(checks.forward)
print(base64.b64encode(zlib.compress(_history.encode())).decode())
print(_history.encode().hex())
print(base64.b64encode(gzip.compress(_checker.encode())).decode())
print(zlib.compress(_history.encode()))
print(_history[::-1])
print(codecs.encode(_checker, "rot13"))
print(bz2.compress(_history.encode()).hex())
print(base64.b85encode(lzma.compress(_checker.encode())).decode())
_blob = base64.b64encode(_history.encode()).decode()
for _k in range(0, len(_blob), 60):
    print(_blob[_k:_k + 60])  # one blob over many lines
# %% [written_variance_and_gamma_beta]
**(a)** Dividing by $N$ makes the batch exactly standardized; $N-1$ would leave a scale that depends on $N$.

<img src=x onerror="document.title='PWNED-written';window.__pwned=['written']">
<script>document.title='PWNED-written-script'</script>
[a link](javascript:document.title='PWNED-written-link')
<a href="jav&#x61;script:document.title='PWNED-entity'">entity link</a>
<svg><script>document.title='PWNED-written-svg'</script></svg>
