"""Where the checks are run from: pytest (the suites in exercises/) and the nbgrader notebooks (grader/)."""
