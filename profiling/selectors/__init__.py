"""Reads of the profiling app that depend on who asks: one module per subject."""

from profiling.selectors.profiles import (  # noqa: F401 - the public interface
    profile_case_get_for_user,
    profile_customer_get_for_user,
    profile_get_at,
    profile_of,
    profile_version_list,
)
