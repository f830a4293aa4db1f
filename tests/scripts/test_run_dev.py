"""``make run``'s launcher stops both of its processes on INT and TERM, and kills one that will not stop."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAUNCHER = textwrap.dedent("""
    import sys
    sys.path.insert(0, "scripts")
    import run_dev
    polite = [sys.executable, "-c", "import time\\nwhile True: time.sleep(0.1)"]
    stubborn = [sys.executable, "-c", "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
                "print('ready', flush=True)\\nwhile True: time.sleep(0.1)"]
    run_dev.GRACE_S = 1.0
    run_dev.commands = lambda: [polite, stubborn]
    sys.exit(run_dev.main())
""")


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_both_children_and_a_stubborn_one_is_killed_after_the_grace_period(sig):
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert launcher.stdout is not None and launcher.stdout.readline().strip() == "ready"
    kids = children_of(launcher.pid)
    assert len(kids) == 2
    started = time.monotonic()
    launcher.send_signal(sig)
    assert launcher.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    alive = [k for k in kids if Path(f"/proc/{k}").exists() and "Z" not in Path(f"/proc/{k}/stat").read_text().split()[2]]
    assert alive == []
