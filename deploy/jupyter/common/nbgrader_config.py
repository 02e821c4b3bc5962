"""nbgrader settings of every user's server on the course's JupyterHub (students and instructors).

The hub puts this folder on JUPYTER_CONFIG_PATH (deploy/jupyterhub_config.py).
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets)

# The exchange: one folder on this machine that every user can write to (mode 1777, like /tmp):
# release_assignment puts files into <root>/<course>/outbound, students' submissions land in
# <root>/<course>/inbound, feedback in <root>/<course>/feedback.
c.Exchange.root = os.environ.get("BN_EXCHANGE", "/srv/nbgrader/exchange")
# Several courses share the exchange and a student's home: keep them apart by course id.
c.Exchange.path_includes_course = True
# Who takes which course: the hub's groups nbgrader-<course> (students) and formgrade-<course>
# (instructors), read through the hub's REST API with the server's own token.
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
