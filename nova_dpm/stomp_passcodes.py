"""Keep STOMP passcodes (the HMC password) out of debug logs.

stomp.py logs every frame it sends at DEBUG and means to hide the
``passcode`` header, but its pattern wants a blank after the colon that
STOMP 1.1 frames do not have; coilmq logs every frame it receives.  A
filter on those loggers rewrites any ``passcode`` value before a handler
sees it, whoever configured logging.
"""

import logging
import re

#: A header line (``passcode:...`` up to the end of the line, also as
#: the ``\\n`` of a bytes repr) and a header tuple (``('passcode', ...)``).
_PASSCODES = (
    (re.compile(r'(passcode:).*?(?=\\n|\n|$)', re.IGNORECASE),
     r'\1********'),
    (re.compile(r"""(['"]passcode['"],\s*)(['"]).*?\2\)""", re.IGNORECASE),
     r'\1\2********\2)'),
)


class PasscodeFilter(logging.Filter):
    """Replaces STOMP passcodes in a record's message with ********."""

    def filter(self, record):
        message = record.getMessage()
        hidden = message
        for pattern, replacement in _PASSCODES:
            hidden = pattern.sub(replacement, hidden)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


def hide_passcodes(*logger_names):
    """Install the filter on each named logger (once)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, PasscodeFilter) for f in logger.filters):
            logger.addFilter(PasscodeFilter())
