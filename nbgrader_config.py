"""nbgrader configuration of the course (nbgrader 0.9.x).

Folders: ``solutions/`` is nbgrader's *source*, ``notebooks/`` its *release*.
Everything grading produces (submitted, autograded, feedback, the gradebook)
lives under one git-ignored folder, ``.grading/``.

The gradebook is an SQLite file, ``.grading/gradebook.db``, unless the
environment variable ``NBGRADER_DB_URL`` names another database, e.g.
``postgresql://user:password@localhost/bn_course`` (an SQLAlchemy URL:
``postgresql://`` needs psycopg 3, ``pip install "psycopg[binary]"``;
``postgresql+psycopg2://`` needs ``psycopg2-binary``).
"""
import os
from importlib.util import find_spec

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

# nbgrader zip_collect <assignment>: submissions downloaded from an LMS or mail, as .ipynb files or
# .zip archives of them, go into .grading/downloaded/<assignment>/archive/ (git-ignored, like all
# student work); nbgrader extracts them to .grading/downloaded/<assignment>/extracted/ and copies
# each file into .grading/submitted/<student>/<assignment>/. A file is collected when its name is
# <student id>_<notebook>, e.g. alice_02_forward.ipynb (a student id may contain underscores; the
# notebook's name starts with the assignment's two digits); an optional submission time (UTC, ISO 8601
# basic format) can follow the student id: alice_20250315T093000_02_forward.ipynb, written to
# timestamp.txt; without it the submission counts as on time. (Not nbgrader's documented example
# 2016-01-30-15-00-00: its date parser reads that as 15:00:00 with the minutes dropped.) Another LMS naming: set named_regexp to
# match it (groups student_id and file_id, optionally timestamp; nbgrader's documentation,
# "ZipCollect plugins"). The pattern is matched against the file's whole path.
c.ZipCollectApp.downloaded_directory = os.path.join(".grading", "downloaded")
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/]+?)(?:_(?P<timestamp>\d{8}T\d{6}))?_(?P<file_id>\d\d_[a-z0-9_]+\.ipynb)$"
)

# The gradebook. `.grading/` is created here, so that nbgrader works in a fresh
# clone. SQLAlchemy 2 reads `postgresql://` as psycopg 3; when only psycopg2 is
# installed (what older instructions said), the URL is read as psycopg2's.
os.makedirs(grading, exist_ok=True)
db_url = os.environ.get("NBGRADER_DB_URL") or "sqlite:///" + os.path.join(grading, "gradebook.db")
if db_url.startswith("postgresql://") and find_spec("psycopg") is None and find_spec("psycopg2") is not None:
    db_url = "postgresql+psycopg2://" + db_url[len("postgresql://"):]
c.CourseDirectory.db_url = db_url

# One cell may run this long before nbgrader interrupts it and goes on with the
# next (nbgrader's Execute preprocessor). The checks in bn_helpers.checks stop a
# single call of student code after 5 s, so only plain cells ever reach this.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True

# A submission that deleted a test cell gets it back, and is graded on it.
c.OverwriteCells.add_missing_cells = True

# A submission that pasted a test cell twice is graded on the last copy (the
# others run as plain cells) instead of crashing nbgrader's OverwriteCells.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "bn_helpers.grading.preprocessors.DeduplicateCells",  # instead of nbgrader's DeduplicateIds
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# nbgrader gives 0 to a test cell that wrote anything to stderr. A test cell's
# verdict is its error, not its stream: a warning from NumPy, a student's
# logging.warning or debug print(..., file=sys.stderr) never costs points.
# The pattern "^" matches every stderr output, so all of it is dropped.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"^"

# Due dates and late penalties (bn_helpers/grading/late.py). A submission's time
# is the timestamp.txt beside it (nbgrader collect and zip_collect write it; add
# one by hand, e.g. "2025-03-15 09:30:00 Europe/Berlin", for files you place
# yourself; none means on time). A time without a zone is UTC. The penalty is a
# share of the submission's score per started day late, after the grace period;
# python -m bn_helpers.grading writes these into the gradebook at every step.
c.AssignLatePenalties.plugin_class = "bn_helpers.grading.late.LatePenalty"
c.LatePenalty.due_dates = {}  # e.g. {"02_forward": "2025-03-14 23:59:00 Europe/Berlin"}
c.LatePenalty.per_day = 0.0  # e.g. 0.1: 10 % of the score per started day late
c.LatePenalty.grace_minutes = 0.0  # this late or less counts as on time
c.LatePenalty.zero_after_days = 0.0  # more than this many days late scores 0 (0: never)

# Release: strip outputs; never ship the instructor's solutions or hidden tests.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Written answers (markdown cells graded by hand): the rubric sits in the locked question cell above the
# answer, between "### BEGIN MARK SCHEME" and "### END MARK SCHEME". The release strips it; autograding
# restores the locked cell from the gradebook, so formgrader shows the rubric right above the student's
# answer. nbgrader only expects mark schemes in "task" cells: allow them in locked question cells.
c.ClearMarkScheme.enforce_metadata = False

# --- Sandbox and judge (docs/grading-security.md) ---------------------------
# Student code never runs as the instructor: nbgrader's kernel runs in a
# bubblewrap sandbox (no course files, no secrets, no network, no child
# processes, CPU/memory/file limits), and every autograded test cell is then
# judged again from outside it (bn_helpers.judge): the instructor's test source
# runs in the grader with the student's functions as proxies into a second
# sandbox. The gradebook and the feedback carry the judge's verdict; each
# autograded folder gets a judge.json. Without bubblewrap, grading warns
# "UNSANDBOXED" for every submission; "require" refuses instead.
c.Sandbox.mode = "auto"
c.Sandbox.cpu_seconds = 600
c.Sandbox.memory_bytes = 4 * 1024 ** 3
c.Autograde.autograde_preprocessors = [
    # nbgrader's Execute, kernel in the sandbox; a cell that ignores the interrupt or kills the
    # kernel costs only itself (the kernel is replaced, the cells above run again: bn_helpers.grading)
    "bn_helpers.grading.preprocessors.SandboxedResilientExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "bn_helpers.judge.JudgeTests",  # test cells' outputs := the judge's verdict
    # student HTML made inert (no script, event handler, javascript: link, widget): formgrader renders this notebook
    "bn_helpers.judge.SanitizeNotebook",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Second line of defence: nbconvert's own sanitizer (bleach) on HTML outputs in the feedback and formgrader.
c.HTMLExporter.sanitize_html = True
# judge.json is the instructor's: never copied from a submission, never into feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "judge.json"]
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "bn_helpers.judge.ScrubFeedback",  # no hidden test, checker source or instructor path in feedback
    "bn_helpers.judge.SanitizeNotebook",  # no student script in the feedback HTML (docs/grading-security.md §3)
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
