"""Stop requests: SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 stop a run where no commit is under way.

SLURM sends SIGTERM on pre-emption (and, with `--signal`, a user signal before the time
limit); submitit asks for SIGUSR2. Inside `stop_on_signals()` such a signal raises `Stopped`
in the main thread at once, unless a commit is under way (`deferred()`: records being
written, the lock changing hands), in which case it is raised as soon as the commit ends.
Work done since the last commit is dropped; a relaunch redoes it with the same seeds, so
the records end as an uninterrupted run's.

After the run has released its lock, `hand_over()` gives each signal received to the
handler that was in place before (the process then dies of the signal as if it had not
caught it, or a launcher's handler runs: submitit's requeues the job); when every such
handler returns, the process exits with status 128 + the signal number.
"""

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2)


class Stopped(BaseException):
    """A stop signal arrived (a BaseException, like KeyboardInterrupt: nothing catches it
    by accident)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class _Requests:
    """The signals received inside `stop_on_signals()`, and whether a commit is open."""

    received: list[int] = field(default_factory=list)
    commits: int = 0
    stopping: bool = False

    def stop_now(self) -> None:
        if self.received and not self.stopping and self.commits == 0:
            self.stopping = True
            raise Stopped(self.received[0])


_requests = _Requests()


def _on_signal(signum: int, frame: object) -> None:
    _requests.received.append(signum)
    _requests.stop_now()


@contextmanager
def deferred() -> Iterator[None]:
    """A commit: a stop signal arriving inside it is raised when it ends (main thread only)."""
    _requests.commits += 1
    try:
        yield
    finally:
        _requests.commits -= 1
    _requests.stop_now()


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn the stop signals into `Stopped` for the duration (in the main thread; a signal
    ignored before, such as SIGINT in a background job, stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is not signal.SIG_IGN:
            previous[signum] = signal.SIG_DFL if handler is None else handler
            signal.signal(signum, _on_signal)
    _requests.received.clear()
    _requests.stopping = False
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def received() -> list[int]:
    """The stop signals received by the last `stop_on_signals()`, in order."""
    return list(_requests.received)


def hand_over() -> NoReturn:
    """Deliver each stop signal received to the handler in place before `stop_on_signals()`
    (call after leaving it); exit 128 + the first signal if every such handler returns."""
    signals = list(dict.fromkeys(_requests.received))
    for signum in signals:
        if signal.getsignal(signum) is signal.default_int_handler:
            signal.signal(signum, signal.SIG_DFL)  # die of SIGINT, not of a traceback
        signal.raise_signal(signum)
    sys.exit(128 + signals[0])
