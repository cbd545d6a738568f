"""The one exception archeo raises for bad input.

Every message is one line that names the thing that is wrong and the fix; the CLI prints
it as `archeo: <message>` and exits non-zero, without a traceback.
"""


class ArcheoError(Exception):
    """Bad input or an unusable environment, with a one-line message for the user."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))
