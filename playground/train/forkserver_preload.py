"""Imported by the forkserver only (first in its preload list): it ends the forkserver when the server dies.

The forkserver (``playground.train.processes``) is the server's child; the training processes are the
forkserver's. Each level watches its own parent: a training process asks the kernel for SIGKILL
when the forkserver dies (``PR_SET_PDEATHSIG``), and the forkserver, imported here, polls its parent
id. It cannot use ``PR_SET_PDEATHSIG`` itself: that signal fires when the *thread* that started the
process ends, and the server starts the forkserver from whichever thread first needs it (a Streamlit
script thread or a run's relay thread, both short-lived). Never import this module anywhere else:
the process that imports it dies with its parent.
"""

from __future__ import annotations

import os
import threading
import time

from playground.train.lifelines import set_process_name

POLL_SECONDS = 0.5
FORKSERVER_PID = os.getpid()  # inherited by every process forked from here: how a child knows its parent
_PARENT = os.getppid()


def _watch() -> None:
    while os.getppid() == _PARENT:  # the parent's death re-parents us (to init or a subreaper)
        time.sleep(POLL_SECONDS)
    os._exit(0)  # the children follow at once: each asked for SIGKILL when we die


set_process_name("cnn-forkserver")
threading.Thread(target=_watch, name="parent-watch", daemon=True).start()
