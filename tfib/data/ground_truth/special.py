"""Special functions the closed forms need, in numpy and the standard library only.

Mathematical details
--------------------
Digamma ψ(x) = d/dx log Γ(x), for x > 0. The recurrence ψ(x) = ψ(x + 1) − 1/x moves x to
x ≥ 10, where the asymptotic (Stirling) series

    ψ(x) = log x − 1/(2x) − Σ_{k≥1} B_{2k} / (2k x^{2k})
         = log x − 1/(2x) − 1/(12x²) + 1/(120x⁴) − 1/(252x⁶) + 1/(240x⁸) − 1/(132x¹⁰)
           + 691/(32760x¹²) − 1/(12x¹⁴) + O(x⁻¹⁶)

(B_{2k} the Bernoulli numbers) is truncated after the x⁻¹⁴ term; at x ≥ 10 the first
omitted term is below 1e-16 (Abramowitz & Stegun 6.3.5 and 6.3.18).

Standard normal CDF Φ(x) = ½ erfc(−x / √2), with `math.erfc` applied element-wise.
Writing it through erfc rather than ½(1 + erf(x/√2)) keeps the relative accuracy in the
lower tail, where Φ(x) is far below the float64 spacing of numbers near 1.
"""
import math

import numpy as np

from tfib.data.ground_truth import _checks

__all__ = ["digamma", "standard_normal_cdf"]

# ψ(x) for x below this is shifted up with the recurrence before the series is summed.
_ASYMPTOTIC_FROM = 10.0
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def digamma(x: float) -> float:
  """ψ(x) = Γ'(x) / Γ(x) for finite x > 0, to about 1e-15 relative accuracy."""
  x = _checks.positive_float("x", x)
  shift = 0.0
  while x < _ASYMPTOTIC_FROM:
    shift -= 1.0 / x
    x += 1.0
  u = 1.0 / (x * x)
  series = u * (1.0 / 12 - u * (1.0 / 120 - u * (1.0 / 252 - u * (
      1.0 / 240 - u * (1.0 / 132 - u * (691.0 / 32760 - u / 12))))))
  return shift + math.log(x) - 0.5 / x - series


def standard_normal_cdf(x) -> np.ndarray:
  """Φ(x) element-wise, float64 of the shape of ``x``."""
  x = np.asarray(x, dtype=np.float64)
  return 0.5 * np.asarray(_ERFC(-x / math.sqrt(2.0)), dtype=np.float64)
