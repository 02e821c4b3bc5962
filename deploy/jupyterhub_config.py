"""JupyterHub configuration for the Batch Normalization course, on one machine.

Run as root on the machine that hosts the class (see deploy/README.md)::

    jupyterhub -f deploy/jupyterhub_config.py

Everyone logs in with their system account (JupyterHub's default PAMAuthenticator)
and gets their own JupyterLab, run as their own Unix user by the default
LocalProcessSpawner. Students see the course's student view (the Assignments
panel to fetch and submit, the Validate button; no formgrader); instructors see
formgrader on the course folder in their home. Assignments, submissions and
feedback travel through nbgrader's exchange, one shared folder.

Settings read from the environment:

BN_ROSTER    the course list: a JSON file (default deploy/roster.json; see roster.example.json)
             {"admins": [...], "courses": {"<course id>": {"instructors": [...], "students": [...]}}}
BN_EXCHANGE  nbgrader's exchange folder (default /srv/nbgrader/exchange)
BN_HUB_URL   where the hub listens (default http://127.0.0.1:8000; put HTTPS in front of it)

tests/test_hub.py loads this file and swaps only the authenticator and the spawner
(DummyAuthenticator, SimpleLocalProcessSpawner), so that it runs as any user.
"""
import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

HERE = Path(__file__).resolve().parent
ROSTER = Path(os.environ.get("BN_ROSTER", HERE / "roster.json"))
EXCHANGE = os.environ.get("BN_EXCHANGE", "/srv/nbgrader/exchange")

roster = json.loads(ROSTER.read_text())
courses = roster["courses"]
# An instructor grades one course on this hub: the first one listing them.
instructor_of = {}
for course_id, members in courses.items():
    for name in members["instructors"]:
        instructor_of.setdefault(name, course_id)
students = {name for members in courses.values() for name in members["students"]}

c.JupyterHub.bind_url = os.environ.get("BN_HUB_URL", "http://127.0.0.1:8000")
c.Authenticator.allowed_users = set(instructor_of) | students
c.Authenticator.admin_users = set(roster.get("admins", []))

# The course list as hub groups, the convention nbgrader's JupyterHubAuthPlugin reads:
# nbgrader-<course> are its students, formgrade-<course> its instructors.
c.JupyterHub.load_groups = {
    **{f"nbgrader-{cid}": {"users": sorted(m["students"])} for cid, m in courses.items()},
    **{f"formgrade-{cid}": {"users": sorted(m["instructors"])} for cid, m in courses.items()},
}
# Instructors may read their students, add a student to their course's group (nbgrader
# does so when it autogrades someone new) and list the hub's services (nbgrader's course
# list looks there for shared formgrader services named after a course).
c.JupyterHub.load_roles = [
    {
        "name": f"instructor-{cid}",
        "description": f"instructors of {cid}",
        "groups": [f"formgrade-{cid}"],
        "scopes": ["list:users", "read:users", "list:groups", "list:services", "read:services",
                   f"read:groups!group=nbgrader-{cid}", f"groups!group=nbgrader-{cid}"],
    }
    for cid in courses
]


def server_token_scopes(spawner):
    """What a user's server may ask the hub: a student's, only who it is and its groups."""
    if spawner.user.name in instructor_of:
        return ["inherit"]
    return ["users:activity!user", "read:users:name!user", "read:users:groups!user"]


# The course's environment (this Python's, e.g. the course .venv) serves every user.
VENV_BIN = Path(sys.executable).parent
# A user's PATH: the course's environment first, so that `python`, `nbgrader` and `jupyter` in a
# JupyterLab terminal are the course's; then the system's, not the hub's own (root's: pyenv, cargo).
USER_PATH = os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"])


def pre_spawn_hook(spawner):
    """The course view of each user: student or instructor Jupyter config, the exchange, the course's PATH."""
    name = spawner.user.name
    role = "instructor" if name in instructor_of else "student"
    spawner.environment.update({
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(HERE / "jupyter" / role), str(HERE / "jupyter" / "common")]),
        "BN_EXCHANGE": EXCHANGE,
        "PATH": USER_PATH,
    })
    if role == "instructor":
        spawner.environment["BN_COURSE_ID"] = instructor_of[name]


c.Spawner.server_token_scopes = server_token_scopes
c.Spawner.pre_spawn_hook = pre_spawn_hook
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300   # a loaded classroom machine starts JupyterLab slowly
c.Spawner.http_timeout = 300

# The exchange must exist and be writable by every user (sticky bit, like /tmp).
try:
    os.makedirs(EXCHANGE, exist_ok=True)
    os.chmod(EXCHANGE, 0o1777)
except PermissionError:
    pass  # made by an administrator beforehand, or a test that runs unprivileged
