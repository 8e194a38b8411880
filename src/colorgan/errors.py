"""The base of every error that is the user's to fix (bad path, bad option): printed, not traced."""


class UserError(ValueError):
    """A problem with the user's input or configuration, reported as one clear message."""
