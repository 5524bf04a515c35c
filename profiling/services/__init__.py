"""Writes of the profiling app: one module per subject; callers import from here or the module.

profiles     the customer's profile (profile_update)
models       model versions: store a training run, activate, roll back (issue 4)
segments     customer group rules and settings (issue 4)
suggestions  AI suggestions, the human decision, re-profiling in batches (issue 4)
"""

from profiling.services.profiles import (  # noqa: F401 - the public interface
    ProfileConflictError,
    ProfileInvalidError,
    profile_snapshot,
    profile_update,
)
