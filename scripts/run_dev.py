"""``make run``'s two processes: the Celery worker and the web server, stopped together and cleanly.

Ctrl-C (SIGINT) or SIGTERM — to this script or to ``make`` — asks both to stop (SIGTERM: the worker finishes
its current step, the web server closes), waits up to ``GRACE_S`` seconds, then kills what is left. A job
cut short this way is found by the reaper at the next start. When one of the two exits on its own, the
other is stopped too, and this script exits with the first one's status.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_S = 10.0
BIN = Path(sys.executable).parent


def commands(host: str = "127.0.0.1:8000") -> list[list[str]]:
    return [
        [str(BIN / "celery"), "-A", "recsite", "worker", "-Q", "cpu,gpu", "--pool=solo", "--loglevel=info",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        [sys.executable, "manage.py", "runserver", host, "--noreload"],
    ]


def stop(children: list[subprocess.Popen[bytes]], grace_s: float | None = None) -> None:
    grace_s = GRACE_S if grace_s is None else grace_s
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> int:
    asked = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal asked
        asked = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    parent = os.getppid()
    # Own sessions: a terminal's Ctrl-C reaches only this script, which then stops the children in order.
    children = [subprocess.Popen(cmd, start_new_session=True) for cmd in commands()]
    while not asked and os.getppid() == parent and all(c.poll() is None for c in children):
        time.sleep(0.2)
    first = next((c.returncode for c in children if c.returncode is not None), 0)
    print("Stopping the web server and the Celery worker…", flush=True)
    stop(children)
    return 0 if asked else first


if __name__ == "__main__":
    sys.exit(main())
