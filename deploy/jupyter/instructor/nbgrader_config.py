"""nbgrader settings of an instructor's server on the course's JupyterHub.

The course folder is a clone of the course repository in the instructor's home,
``~/<course id>`` (or BN_COURSE_DIR): its own nbgrader_config.py (solutions/ as the
source, notebooks/ as the release, .grading/ for everything grading produces) is
loaded here, so that formgrader and the command line (`nbgrader ...` in a terminal)
grade the same course.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets)

course_id = os.environ.get("BN_COURSE_ID", "batchnorm")
root = os.environ.get("BN_COURSE_DIR") or os.path.join(os.path.expanduser("~"), course_id)
course_config = os.path.join(root, "nbgrader_config.py")
if os.path.exists(course_config):
    load_subconfig(course_config)  # noqa: F821 (provided by traitlets)
c.CourseDirectory.root = root
c.CourseDirectory.course_id = course_id
