"""Keep answer-link secrets out of logs: request lines and 'Not Found' warnings name the path."""

import logging
import re

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
