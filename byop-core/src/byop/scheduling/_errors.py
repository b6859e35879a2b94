"""Errors of the scheduler, its tasks and its back ends."""

from __future__ import annotations


class SchedulerNotRunningError(RuntimeError):
    """A task was called when no scheduler was running to take it."""


class NotPicklableError(TypeError):
    """A function or its arguments cannot be sent to a worker process."""


class WorkerDiedError(RuntimeError):
    """The worker process running a call died (a signal, ``os._exit``, the OOM killer...).

    Attributes:
        pid: The worker's process id.
        exitcode: Its exit code, if it exited.
        signal: The name of the signal that killed it, if one did (``"SIGKILL"``).
    """

    def __init__(
        self, message: str, pid: int = 0, exitcode: int | None = None, signal: str | None = None
    ) -> None:
        super().__init__(message)
        self.pid = pid
        self.exitcode = exitcode
        self.signal = signal

    def __reduce__(self) -> tuple[object, ...]:
        return (WorkerDiedError, (str(self), self.pid, self.exitcode, self.signal))


class CallCancelledError(RuntimeError):
    """A call was cancelled, or terminated, because the scheduler stopped before it finished.

    Attributes:
        still_running: The call could not be stopped (a thread cannot be): it runs on, its
            result discarded, until it returns or its process exits.
    """

    def __init__(self, message: str = "", *, still_running: bool = False) -> None:
        super().__init__(message)
        self.still_running = still_running

    def __reduce__(self) -> tuple[object, ...]:
        return (_cancelled, (str(self), self.still_running))


def _cancelled(message: str, still_running: bool) -> CallCancelledError:
    return CallCancelledError(message, still_running=still_running)


class UnknownBackendError(LookupError):
    """No back end is registered under that name; the message lists those that are."""

    def __str__(self) -> str:
        return str(self.args[0])
