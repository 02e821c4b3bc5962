"""nbgrader settings of a student's server on the course's JupyterHub.

nbgrader names a submission after the Unix user running the server. That is the
student when each student has an account of their own (LocalProcessSpawner, the
default of deploy/jupyterhub_config.py), but not in containers, where everyone is
`jovyan` (Zero to JupyterHub), nor with SimpleLocalProcessSpawner (tests/test_hub.py).
The hub tells every server whose it is (JUPYTERHUB_USER): use that name, always.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets)

if os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
