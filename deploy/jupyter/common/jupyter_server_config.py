"""Jupyter Server settings of every user's server on the course's JupyterHub (students and instructors).

A JupyterLab terminal opens the user's shell. Started by a spawner (no tty), jupyter_server_terminals
makes it a login shell (``bash -l``), and a login shell runs /etc/profile, which on Debian and Ubuntu
sets PATH anew: the course's environment, first on the PATH the hub gives every server
(deploy/jupyterhub_config.py), is gone, and the instructor's ``python -m bn_helpers.grading ...`` or
``nbgrader release_assignment ...`` in a terminal answers ``bash: python: command not found``.
An interactive shell that is not a login shell keeps the server's PATH (and still reads ~/.bashrc).
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets)

c.ServerApp.terminado_settings = {"shell_command": [os.environ.get("SHELL") or "/bin/sh"]}
