"""The grading worker's entry point: `python -I -S boot.py CONFIG_JSON`.

Started by the checker (grading/sandbox/launch.py) with a clean environment and one
inherited socket. It imports the worker's code, shuts itself in
(containment.enter), puts only the learner-side folders on sys.path, imports NumPy
(and what the checker asked to preload), tells the checker which walls hold, and
becomes the zygote.
"""

import json
import os
import socket
import sys


def main() -> None:
    config = json.loads(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.dirname(here))
    sys.path[1:1] = config["site_packages"]
    from kit_worker import calls, codec, containment, facts, figures, kernel, shape_errors, zygote  # noqa: F401

    control = socket.socket(fileno=config["control_fd"])
    try:
        report = containment.enter(config)
    except containment.ContainmentError as error:
        codec.send_message(control, {"op": "failed", "message": str(error)})
        sys.exit(3)
    sys.path[:] = [entry for entry in sys.path if entry != os.path.dirname(here)]
    sys.path[:0] = config["learner_paths"]  # kit_helpers (and nothing of the kit that grades)
    sys.modules["kit_worker"].__path__ = [os.path.join(config["learner_paths"][0], "kit_worker")]
    os.environ["MPLCONFIGDIR"] = os.path.join(config["work"], ".matplotlib")
    os.makedirs(os.environ["MPLCONFIGDIR"], exist_ok=True)
    for name in config.get("preload") or ["numpy"]:
        __import__(name)
    codec.send_message(control, {"op": "ready", "report": report, "pid": os.getpid()})
    zygote.Zygote(control, config).serve()


if __name__ == "__main__":
    main()
