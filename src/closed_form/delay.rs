//! A delay as an operator measures it (median and upper percentiles), fitted to a log-normal
//! the closed forms integrate over and the simulator draws from.

use serde::Serialize;

use crate::sim::Latency;

/// The standard normal quantile at 0.99.
const Z_99: f64 = 2.326_347_874_040_841;
/// The standard normal quantile at 0.999.
const Z_999: f64 = 3.090_232_306_167_813;

/// A log-normal delay, `exp(N(ln median, sigma))`, fitted through the median and the upper
/// percentiles an operator measures; `sigma = 0` is a constant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Delay {
    /// Median, ms (zero: no delay at all).
    pub median_ms: f64,
    /// Standard deviation of the logarithm.
    pub sigma: f64,
}

impl Delay {
    /// No delay.
    pub const ZERO: Delay = Delay { median_ms: 0.0, sigma: 0.0 };

    /// Fits the median to `p50` and the spread to the wider of what `p99` and `p999` imply
    /// (a measured p99.9 above the log-normal's own only ever widens the tail).
    pub fn fit(p50: f64, p99: f64, p999: Option<f64>) -> Delay {
        if p50 <= 0.0 {
            return Delay::ZERO;
        }
        let from_p99 = (p99 / p50).ln() / Z_99;
        let from_p999 = p999.map_or(0.0, |p| (p / p50).ln() / Z_999);
        Delay { median_ms: p50, sigma: from_p99.max(from_p999).max(0.0) }
    }

    /// `P(delay > x)`.
    pub fn sf(&self, x: f64) -> f64 {
        if x < 0.0 {
            return 1.0;
        }
        if self.median_ms <= 0.0 {
            return 0.0;
        }
        if self.sigma == 0.0 {
            return if x < self.median_ms { 1.0 } else { 0.0 };
        }
        if x == 0.0 {
            return 1.0;
        }
        let z = (x / self.median_ms).ln() / self.sigma;
        0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
    }

    /// `E[(D − x)⁺]`, ms: how far past `x` a delay lands, on average (zero short of it). For
    /// a log-normal, `m·e^{σ²/2}·Φ(σ − z) − x·Φ(−z)` with `z = ln(x/m)/σ`.
    pub fn partial_expectation(&self, x: f64) -> f64 {
        let phi = |y: f64| 0.5 * libm::erfc(-y / std::f64::consts::SQRT_2);
        let mean = self.median_ms * (self.sigma * self.sigma / 2.0).exp();
        if x <= 0.0 {
            return mean - x;
        }
        if self.median_ms <= 0.0 {
            return 0.0;
        }
        if self.sigma == 0.0 {
            return (self.median_ms - x).max(0.0);
        }
        let z = (x / self.median_ms).ln() / self.sigma;
        (mean * phi(self.sigma - z) - x * phi(-z)).max(0.0)
    }

    /// The `p`-quantile, ms.
    pub fn quantile(&self, p: f64) -> f64 {
        if self.median_ms <= 0.0 || self.sigma == 0.0 {
            return self.median_ms.max(0.0);
        }
        // Bisection on the standard normal quantile; 80 halvings of [-12, 12] are exact to f64.
        let (mut lo, mut hi) = (-12.0f64, 12.0f64);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            let cdf = 0.5 * libm::erfc(-mid / std::f64::consts::SQRT_2);
            if cdf < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.median_ms * (self.sigma * 0.5 * (lo + hi)).exp()
    }

    /// The simulator's form of it.
    pub fn latency(&self) -> Latency {
        if self.sigma == 0.0 {
            Latency::Constant { ms: self.median_ms }
        } else {
            Latency::LogNormal { median_ms: self.median_ms, sigma: self.sigma }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fitted_delay_gives_back_its_percentiles() {
        let d = Delay::fit(0.3, 1.2, None);
        assert!((d.quantile(0.5) - 0.3).abs() < 1e-9);
        assert!((d.quantile(0.99) - 1.2).abs() < 1e-9);
        assert!((d.sf(1.2) - 0.01).abs() < 1e-9);
        let wide = Delay::fit(0.3, 1.2, Some(10.0));
        assert!((wide.quantile(0.999) - 10.0).abs() < 1e-6, "p999 widens the tail");
        let narrow = Delay::fit(0.3, 1.2, Some(1.3));
        assert_eq!(narrow, d, "a p999 inside the fitted tail changes nothing");
        assert_eq!(Delay::fit(2.0, 2.0, None).latency(), Latency::Constant { ms: 2.0 });
        assert_eq!(Delay::ZERO.sf(0.0), 0.0);
        // E[(D − x)⁺] is the integral of the tail: check it by the trapezoid rule.
        let x = 2.0;
        let (dx, mut area, mut y) = (1e-3, 0.0, x);
        while y < 2000.0 {
            area += 0.5 * (d.sf(y) + d.sf(y + dx)) * dx;
            y += dx;
        }
        assert!(
            (d.partial_expectation(x) - area).abs() < 1e-6,
            "{} against {area}",
            d.partial_expectation(x)
        );
        assert!((d.partial_expectation(0.0) - 0.3 * (d.sigma * d.sigma / 2.0).exp()).abs() < 1e-12);
    }
}
