"""Domain errors. A service raises one of these when a rule is broken; the message is for people."""


class ApplicationError(Exception):
    """A broken business rule, with a message a caseworker can read."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request is valid but clashes with the current state (someone was faster)."""

    status_code = 409
