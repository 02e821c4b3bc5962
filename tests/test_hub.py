"""A classroom on JupyterHub (deploy/): a real hub on 127.0.0.1 runs the whole nbgrader round.

The hub runs deploy/jupyterhub_config.py (the course list as hub groups, the student
view for students, formgrader for the instructor, nbgrader's exchange) with two swaps
that let it run as any user, root or not, without creating system accounts:
DummyAuthenticator instead of PAM, and SimpleLocalProcessSpawner (every user's server
runs as the hub's own Unix user, each in its own home under tmp_path) instead of
LocalProcessSpawner (one Unix user each). Everything else is the course's configuration.

The round, every step an HTTP request through the hub's proxy with the user's own token:
the instructor generates and releases the assignment (formgrader's API), two students
fetch it, one answers, both submit (nbgrader's assignment-list server extension), the
instructor collects, autogrades and releases feedback, the students fetch their feedback.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

CHP = shutil.which("configurable-http-proxy")
if CHP is None:
    pytest.skip("configurable-http-proxy (npm) is not installed: `npm install -g configurable-http-proxy` "
                "(.ci/run does it)", allow_module_level=True)
pytest.importorskip("jupyterhub", reason="JupyterHub is not installed: pip install -e '.[hub]'")

COURSE = "batchnorm"
ASSIGNMENT = "06_in_practice"
INSTRUCTOR, STUDENTS = "ana", ("alice", "bruno")
STARTUP = 600  # seconds; a hub and three JupyterLabs on a loaded 2-core machine
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, url: str, token: str, log: Path):
        self.url, self.service_token, self.log, self.tokens = url, token, log, {}

    def request(self, method: str, path: str, body=None, user: str | None = None, timeout: float = 120):
        """(status, parsed JSON or text) of a request to the hub at ``path``, as ``user`` (or the test service)."""
        token = self.tokens[user] if user else self.service_token
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def ok(self, method: str, path: str, body=None, user: str | None = None, timeout: float = 120):
        status, value = self.request(method, path, body, user, timeout)
        assert 200 <= status < 300, f"{method} {path} as {user}: {status} {str(value)[:2000]}\n{self.tail()}"
        return value

    def tail(self, n: int = 4000) -> str:
        return "hub log:\n" + self.log.read_text(errors="replace")[-n:]


def _wait(predicate, what: str, hub: Hub, timeout: float = STARTUP, every: float = 1.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s\n{hub.tail()}")


@pytest.fixture
def hub(tmp_path):
    homes, exchange = tmp_path / "homes", tmp_path / "exchange"
    course = homes / INSTRUCTOR / COURSE  # the instructor's clone of the course
    course.mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    roster = {"admins": [], "courses": {COURSE: {"instructors": [INSTRUCTOR], "students": list(STUDENTS)}}}
    (tmp_path / "roster.json").write_text(json.dumps(roster))
    port, hub_port, proxy_port = _free_port(), _free_port(), _free_port()
    token = uuid.uuid4().hex
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(f"""
load_subconfig({str(ROOT / "deploy" / "jupyterhub_config.py")!r})
c = get_config()
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes)!r} + "/{{username}}"
c.Spawner.args = {["--allow-root"] if os.geteuid() == 0 else []!r}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.ConfigurableHTTPProxy.command = [{CHP!r}]
c.JupyterHub.db_url = "sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(tmp_path / 'cookie_secret')!r}
c.JupyterHub.services = [{{"name": "course-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles.append({{"name": "course-test", "services": ["course-test"],
    "scopes": ["admin:users", "admin:servers", "read:servers", "tokens", "list:users", "read:users"]}})
""")
    env = {**os.environ, "BN_ROSTER": str(tmp_path / "roster.json"), "BN_EXCHANGE": str(exchange),
           "BN_HUB_URL": f"http://127.0.0.1:{port}",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("JUPYTER_CONFIG_PATH", None)
    log = tmp_path / "hub.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    h = Hub(f"http://127.0.0.1:{port}", token, log)
    try:
        def up():
            assert proc.poll() is None, h.tail()
            try:
                return h.request("GET", "/hub/api/")[0] == 200
            except OSError:
                return False
        _wait(up, "the hub answering on its API", h)
        h.course, h.exchange, h.homes = course, exchange, homes
        yield h
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass


def _start_servers(hub: Hub, names):
    for name in names:
        status, value = hub.request("POST", f"/hub/api/users/{name}/server")
        assert status in (201, 202), (name, status, value, hub.tail())

    def ready():
        return all(hub.ok("GET", f"/hub/api/users/{n}")["servers"].get("", {}).get("ready") for n in names)
    _wait(ready, f"servers of {', '.join(names)} ready", hub, every=2)
    for name in names:  # each user acts with a token of their own, as a browser session would
        hub.tokens[name] = hub.ok("POST", f"/hub/api/users/{name}/tokens", {"note": "test", "expires_in": 3600})["token"]


def _answer(nb: dict, course: Path) -> dict:
    """The release notebook with the instructor's solution written into every solution cell."""
    source = nbformat.read(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: MARKER.sub("", c.source)
                 for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in solutions:  # code and written answers alike
            cell["source"] = solutions[gid]
    return nb


def _written_points(course: Path) -> dict[str, float]:
    """The written answers of the source notebook (graded by hand) and their points."""
    source = nbformat.read(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    cells = [c.metadata.get("nbgrader", {}) for c in source.cells if c.cell_type == "markdown"]
    return {m["grade_id"]: float(m["points"]) for m in cells if m.get("grade") and m.get("solution")}


def _action(hub: Hub, user: str, action: str):
    value = hub.ok("POST", f"/user/{user}/assignments/{action}", {"course_id": COURSE, "assignment_id": ASSIGNMENT},
                   user=user, timeout=600)
    assert value["success"], f"{action} as {user}: {value}\n{hub.tail()}"
    return {a["assignment_id"] + ":" + a["status"]: a for a in value["value"]}


def _formgrader(hub: Hub, path: str, timeout: float = 600):
    value = hub.ok("POST", f"/user/{INSTRUCTOR}/formgrader/api/{path}", user=INSTRUCTOR, timeout=timeout)
    assert value["success"], f"formgrader {path}: {value.get('error') or value}\n{hub.tail()}"
    return value


def test_the_whole_nbgrader_round_through_jupyterhub(hub):
    _start_servers(hub, [INSTRUCTOR, *STUDENTS])

    # the student view for students, formgrader for the instructor
    for student in STUDENTS:
        assert hub.request("GET", f"/user/{student}/formgrader", user=student)[0] == 404
        page = hub.ok("GET", f"/user/{student}/lab", user=student)
        disabled = re.search(r'"disabledExtensions": \[([^\]]*)\]', page)[1]
        assert "@jupyter/nbgrader:formgrader" in disabled and "@jupyter/nbgrader:assignment-list" not in disabled
    assert hub.request("GET", f"/user/{INSTRUCTOR}/formgrader", user=INSTRUCTOR)[0] == 200
    courses = hub.ok("GET", f"/user/{INSTRUCTOR}/formgraders", user=INSTRUCTOR)  # nbgrader's course list
    assert courses["success"] and [c["course_id"] for c in courses["value"]] == [COURSE], courses

    # the instructor generates the student version and releases it to the exchange
    _formgrader(hub, f"assignment/{ASSIGNMENT}/assign")
    _formgrader(hub, f"assignment/{ASSIGNMENT}/release")
    assert (hub.exchange / COURSE / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()

    # students see it, fetch it; alice answers (in JupyterLab: the contents API), bruno hands it in untouched
    listed = hub.ok("GET", f"/user/alice/assignments?course_id={COURSE}", user="alice")
    assert listed["success"] and f"{ASSIGNMENT}:released" in {a["assignment_id"] + ":" + a["status"]
                                                              for a in listed["value"]}, listed
    nb_path = f"{COURSE}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    for student in STUDENTS:
        assert f"{ASSIGNMENT}:fetched" in _action(hub, student, "fetch")
        assert (hub.homes / student / nb_path).exists()
    model = hub.ok("GET", f"/user/alice/api/contents/{nb_path}", user="alice")
    hub.ok("PUT", f"/user/alice/api/contents/{nb_path}", user="alice",
           body={"type": "notebook", "format": "json", "content": _answer(model["content"], hub.course)})
    for student in STUDENTS:
        _action(hub, student, "submit")
    inbound = sorted(p.name.split("+")[0] for p in (hub.exchange / COURSE / "inbound").iterdir())
    assert inbound == sorted(STUDENTS)

    # the instructor collects, autogrades each submission, generates and releases feedback
    _formgrader(hub, f"assignment/{ASSIGNMENT}/collect")
    for student in STUDENTS:
        assert (hub.course / ".grading" / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
        _formgrader(hub, f"submission/{ASSIGNMENT}/{student}/autograde", timeout=1800)
    scores = {s["student"]: s for s in hub.ok("GET", f"/user/{INSTRUCTOR}/formgrader/api/submissions/{ASSIGNMENT}",
                                                user=INSTRUCTOR)}
    max_score = scores["alice"]["max_score"]
    written = _written_points(hub.course)
    assert written, "the assignment needs a written answer graded by hand"
    # autograding scores the code; alice's written answers wait for the instructor
    assert max_score > 0 and scores["alice"]["score"] == max_score - sum(written.values()), scores["alice"]
    assert scores["alice"]["needs_manual_grade"], scores["alice"]
    assert scores["bruno"]["score"] == 0, scores["bruno"]

    # the instructor grades alice's written answers in formgrader (its API, as its page does); the total updates
    notebooks = hub.ok("GET", f"/user/{INSTRUCTOR}/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}",
                       user=INSTRUCTOR)
    (mine,) = [n for n in notebooks if n["student"] == "alice"]
    grades = hub.ok("GET", f"/user/{INSTRUCTOR}/formgrader/api/grades?submission_id={mine['id']}", user=INSTRUCTOR)
    manual = [g for g in grades if g["name"] in written]
    assert {g["name"] for g in manual} == set(written) and all(g["needs_manual_grade"] for g in manual), manual
    for g in manual:
        hub.ok("PUT", f"/user/{INSTRUCTOR}/formgrader/api/grade/{g['id']}", body={"manual_score": written[g["name"]]},
               user=INSTRUCTOR)
    scores = {s["student"]: s for s in hub.ok("GET", f"/user/{INSTRUCTOR}/formgrader/api/submissions/{ASSIGNMENT}",
                                                user=INSTRUCTOR)}
    assert scores["alice"]["score"] == max_score and not scores["alice"]["needs_manual_grade"], scores["alice"]
    _formgrader(hub, f"assignment/{ASSIGNMENT}/generate_feedback")
    _formgrader(hub, f"assignment/{ASSIGNMENT}/release_feedback")

    # each student fetches their own feedback, through the hub
    for student, expected in (("alice", max_score), ("bruno", 0)):
        _action(hub, student, "fetch_feedback")
        folder = hub.ok("GET", f"/user/{student}/api/contents/{COURSE}/{ASSIGNMENT}/feedback", user=student)
        (stamp,) = folder["content"]
        path = urllib.parse.quote(f"{stamp['path']}/{ASSIGNMENT}.html")  # the folder is a timestamp with spaces
        html = hub.ok("GET", f"/user/{student}/api/contents/{path}?format=text&type=file",
                      user=student)["content"]
        m = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", html)
        assert m and float(m[1]) == expected and float(m[2]) == max_score, (student, m and m[0])
