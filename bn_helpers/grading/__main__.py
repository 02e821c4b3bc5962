"""``python -m bn_helpers.grading``: the instructor's tool (see :mod:`bn_helpers.grading.cli`)."""
import sys

if __name__ == "__main__":
    from bn_helpers.grading.cli import main

    sys.exit(main())
