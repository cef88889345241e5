"""HTTP headers read the same way for the HMC and for Glance."""

import email.utils
import time


def parse_retry_after(value, now=None):
    """Seconds to wait per a Retry-After header, or None.

    Accepts delta-seconds and HTTP dates; a date in the past gives 0.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
