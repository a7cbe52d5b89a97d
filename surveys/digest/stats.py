"""The few statistics the digest needs, pure: shares and a two-proportion z-test.

scipy is not a dependency, and the test is a handful of lines of arithmetic.
"""

from __future__ import annotations

import math

# The two-sided 95% critical value of the standard normal distribution.
Z_95 = 1.959963984540054

SIGNIFICANCE_TEST = (
    "▲/▼ mark a change since the previous cycle that a two-proportion z-test finds significant "
    "at the 95% level (|z| ≥ 1.96); unmarked changes may be chance."
)


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """z for the change from x1/n1 (before) to x2/n2 (after), with the pooled standard error.

    None when either side has no answers; 0 when everyone answered alike on both sides.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return 0.0
    return (x2 / n2 - x1 / n1) / se


def significant(z: float | None) -> bool:
    return z is not None and abs(z) >= Z_95
