"""The one error content models raise when they cannot run, saying what to install."""


class ModelUnavailable(RuntimeError):
    """A model's package or weights are missing; the message names the pip command that fixes it."""

    def __init__(self, model: str, reason: str, install: str):
        super().__init__(f"{model} is not available: {reason}. Install it with: {install}")
        self.model, self.reason, self.install = model, reason, install
