"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """A problem with the user's input; scripts print its message on one line and exit non-zero."""
