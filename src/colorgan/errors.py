"""The base of every error that is the user's to fix (bad path, bad option): printed, not traced."""


class UserError(ValueError):
    """A problem with the user's input or configuration, reported as one clear message."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none): for one-line reports."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
