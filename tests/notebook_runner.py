"""Running a notebook's code cells the way a kernel does, in a fresh Python process (for the grader tests).

The test cells of the course drop `grading` and `solutions` from sys.modules and import them
afresh, so they must not run inside the pytest process: a child process runs them instead.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

RUNNER = textwrap.dedent('''
    import contextlib, io, json, sys
    report = {}
    for path in sys.argv[1:]:
        notebook = json.load(open(path))
        namespace, results = {"__name__": "__main__"}, {}
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            out, err = io.StringIO(), io.StringIO()
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    exec(compile("".join(cell["source"]), cell["id"] + ".py", "exec"), namespace)
                error = None
            except BaseException as raised:
                error = f"{type(raised).__name__}: {raised}"
            results[cell["id"]] = {"error": error, "stdout": out.getvalue(), "stderr": err.getvalue()}
        report[path] = results
    print(json.dumps(report))
''')


def run_cells(named: dict[str, dict], tmp_path: Path) -> dict[str, dict[str, dict]]:
    """Run each notebook's code cells in order, one fresh namespace per notebook, in a new Python.

    Returns {name: {cell id: {"error", "stdout", "stderr"}}}.
    """
    paths = {}
    for name, notebook in named.items():
        paths[name] = tmp_path / f"{name}.ipynb"
        paths[name].write_text(json.dumps(notebook))
    (tmp_path / "runner.py").write_text(RUNNER)
    result = subprocess.run([sys.executable, str(tmp_path / "runner.py"), *map(str, paths.values())],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {name: report[str(path)] for name, path in paths.items()}
