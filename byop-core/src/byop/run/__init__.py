"""The one-call run: `optimize` an objective in parallel, to its run limits, stored and resumable.

`optimize` is the guide's event loop (ask, submit, tell, ask again) with a run store, a
progress display and resuming around it: call it again with the same store and the run goes
on where it stopped. It sits above `byop.scheduling` and `byop.history`, and below
`byop.cli`.

Example:
    ```python
    from byop.run import optimize

    def objective(trial):
        x = trial.config["x"]
        return trial.success(cost=(x - 1.0) ** 2)

    history = optimize(
        objective, {"x": (-5.0, 5.0)}, seed=0, backend="threads", max_trials=10, progress="off"
    )
    assert len(history) == 10
    ```
"""

from __future__ import annotations

from byop.run._callbacks import Callback, RunEnd
from byop.run._errors import NoRunLimitsError, ResumeNotSupportedError
from byop.run._optimize import optimize
from byop.run._settings import RunSettings

__all__ = [
    "Callback",
    "NoRunLimitsError",
    "ResumeNotSupportedError",
    "RunEnd",
    "RunSettings",
    "optimize",
]
