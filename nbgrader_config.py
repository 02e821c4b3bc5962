"""nbgrader configuration of the course (nbgrader 0.9.x).

Folders: ``solutions/`` is nbgrader's *source*, ``notebooks/`` its *release*.
Everything grading produces (submitted, autograded, feedback, the gradebook)
lives under one git-ignored folder, ``.grading/``.

The gradebook is an SQLite file, ``.grading/gradebook.db``, unless the
environment variable ``NBGRADER_DB_URL`` names another database, e.g.
``postgresql://user:password@localhost/bn_course`` (SQLAlchemy URL; needs the
``psycopg2`` driver installed).
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

here = os.path.dirname(os.path.abspath(__file__))
grading = os.path.join(here, ".grading")

c.CourseDirectory.root = here
c.CourseDirectory.course_id = "batchnorm"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join(".grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join(".grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join(".grading", "feedback")
c.CourseDirectory.solution_directory = os.path.join(".grading", "solution")
c.CourseDirectory.source_with_tests_directory = os.path.join(".grading", "source_with_tests")
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL") or "sqlite:///" + os.path.join(grading, "gradebook.db")

# One cell may run this long before nbgrader interrupts it and goes on with the
# next (nbgrader's Execute preprocessor). The checks in bn_helpers.checks stop a
# single call of student code after 5 s, so only plain cells ever reach this.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True

# A submission that deleted a test cell gets it back, and is graded on it.
c.OverwriteCells.add_missing_cells = True

# nbgrader gives 0 to a test cell that wrote anything to stderr. Warnings
# (a RuntimeWarning from NumPy, a DeprecationWarning from a library) must not
# cost a correct answer its points: drop stderr output that is a warning.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning"

# Release: strip outputs; never ship the instructor's solutions or hidden tests.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
