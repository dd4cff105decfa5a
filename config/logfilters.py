"""Keep secrets and personal data out of logs: answer-link paths are redacted, and exceptions are logged by type
and place only."""

import logging
import re
import traceback

_SECRET_PATHS = re.compile(r"(/d/|/public/delaktighet/)[^/\s\"?]+")


def redact(text: str) -> str:
    return _SECRET_PATHS.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def log_exception_without_message(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """The type and where it happened, not the message: database errors quote the offending values (a duplicate
    personnummer, say), and personal data never goes to logs."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s %s\n%s", what, type(exc).__name__, sqlstate, frames)
