"""``python -m bn_helpers.grading``: the instructor's tool (see :mod:`bn_helpers.grading.cli`)."""
import sys

if __name__ == "__main__":
    if {"autograde", "feedback"} & set(sys.argv[1:]):
        from bn_helpers.grading import runner

        runner.warm_up()  # the grading processes' server imports nbgrader while this process does too
    from bn_helpers.grading.cli import main

    sys.exit(main())
