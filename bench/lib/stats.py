"""Medians over interleaved rounds and paired comparisons between systems."""
import statistics


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired_ratio(values, reference):
    """Median over rounds of values[r] / reference[r] (each round pairs runs made side by side)."""
    return median([v / r for v, r in zip(values, reference) if v is not None and r])


def paired_difference(values, reference):
    """Median over rounds of values[r] - reference[r]."""
    return median([v - r for v, r in zip(values, reference) if v is not None and r is not None])


def fmt(value, digits=2, suffix=""):
    if value is None:
        return "-"
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def fmt_signed(value, digits=2):
    return "-" if value is None else f"{value:+.{digits}f}"
