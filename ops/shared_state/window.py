"""The sliding window of a rate limit: the previous fixed window's count, weighted by how much
of it still overlaps ``now``, plus the current one's. Pure arithmetic, shared by the stores."""


def refusal(
    previous: int, current: int, window: int, duration: int, limit: int, now: float
) -> float | None:
    """None if one more request fits under ``limit`` (the previous window's count weighted by
    how much of it still overlaps, plus the current one's); else the seconds until one does."""
    overlap = 1 - (now - window * duration) / duration
    if previous * overlap + current + 1 <= limit:
        return None
    if limit <= 0:  # a rate of 0: nothing ever fits; try again in a period
        return float(duration)
    window_start = window * duration
    if current < limit:  # this window: the previous one's weight has to fall far enough
        if previous == 0:
            return 0.0
        fits_at = window_start + duration * (1 - (limit - 1 - current) / previous)
    else:  # the next window, where this one's count becomes the weighted one
        fits_at = window_start + duration * (2 - (limit - 1) / current)
    return max(fits_at - now, 0.0)
