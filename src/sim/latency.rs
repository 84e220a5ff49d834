//! Delay distributions for links and disks.

use std::time::Duration;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};
use serde::{Deserialize, Serialize};

use super::error::ScenarioError;

/// A distribution of delays, in milliseconds, as written in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "dist", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Latency {
    /// Always the same.
    Constant {
        /// The delay.
        ms: f64,
    },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform {
        /// Lower bound.
        min_ms: f64,
        /// Upper bound.
        max_ms: f64,
    },
    /// Normal, truncated at zero.
    Normal {
        /// Mean.
        mean_ms: f64,
        /// Standard deviation.
        std_ms: f64,
    },
    /// Log-normal: `exp(N(ln median, sigma))`.
    LogNormal {
        /// Median.
        median_ms: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// `min_ms` plus an exponential tail, with mean `mean_ms` overall.
    Exponential {
        /// Smallest delay.
        min_ms: f64,
        /// Mean delay (above `min_ms`).
        mean_ms: f64,
    },
    /// Mostly `fast`, with probability `slow_fraction` drawn from `slow` instead
    /// (FoundationDB's 99.9% / 0.1% mix).
    LongTail {
        /// The common case.
        fast: Box<Latency>,
        /// The rare case.
        slow: Box<Latency>,
        /// Probability of the rare case.
        slow_fraction: f64,
    },
}

impl Latency {
    /// Checks the parameters; `field` names the distribution in errors.
    pub fn validate(&self, field: &str) -> Result<(), ScenarioError> {
        let bad =
            |problem: String| Err(ScenarioError::Invalid { field: field.to_string(), problem });
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        match self {
            Latency::Constant { ms } if !ok(*ms) => {
                bad(format!("ms must be a non-negative number, got {ms}"))
            }
            Latency::Uniform { min_ms, max_ms }
                if !(ok(*min_ms) && ok(*max_ms) && min_ms <= max_ms) =>
            {
                bad(format!("needs 0 <= min_ms <= max_ms, got [{min_ms}, {max_ms}]"))
            }
            Latency::Normal { mean_ms, std_ms } if !(ok(*mean_ms) && ok(*std_ms)) => {
                bad(format!("mean_ms and std_ms must be non-negative, got {mean_ms}, {std_ms}"))
            }
            Latency::LogNormal { median_ms, sigma }
                if !(ok(*median_ms) && *median_ms > 0.0 && ok(*sigma)) =>
            {
                bad(format!("needs median_ms > 0 and sigma >= 0, got {median_ms}, {sigma}"))
            }
            Latency::Exponential { min_ms, mean_ms }
                if !(ok(*min_ms) && ok(*mean_ms) && mean_ms > min_ms) =>
            {
                bad(format!("needs 0 <= min_ms < mean_ms, got {min_ms}, {mean_ms}"))
            }
            Latency::LongTail { fast, slow, slow_fraction } => {
                if !(0.0..=1.0).contains(slow_fraction) {
                    return bad(format!("slow_fraction must be in [0, 1], got {slow_fraction}"));
                }
                fast.validate(&format!("{field}.fast"))?;
                slow.validate(&format!("{field}.slow"))
            }
            Latency::Constant { .. }
            | Latency::Uniform { .. }
            | Latency::Normal { .. }
            | Latency::LogNormal { .. }
            | Latency::Exponential { .. } => Ok(()),
        }
    }

    /// Prepares the distribution for sampling. Call [`validate`](Self::validate) first.
    pub(crate) fn sampler(&self) -> Sampler {
        match self {
            Latency::Constant { ms } => Sampler::Constant(*ms),
            Latency::Uniform { min_ms, max_ms } => Sampler::Uniform(*min_ms, *max_ms),
            Latency::Normal { mean_ms, std_ms } => {
                Sampler::Normal(Normal::new(*mean_ms, *std_ms).expect("validated parameters"))
            }
            Latency::LogNormal { median_ms, sigma } => Sampler::LogNormal(
                LogNormal::new(median_ms.ln(), *sigma).expect("validated parameters"),
            ),
            Latency::Exponential { min_ms, mean_ms } => Sampler::Exponential(
                *min_ms,
                Exp::new(1.0 / (mean_ms - min_ms)).expect("validated parameters"),
            ),
            Latency::LongTail { fast, slow, slow_fraction } => {
                Sampler::LongTail(Box::new((fast.sampler(), slow.sampler())), *slow_fraction)
            }
        }
    }

    /// An upper bound on the delay, if the distribution has one.
    pub fn max_ms(&self) -> Option<f64> {
        match self {
            Latency::Constant { ms } => Some(*ms),
            Latency::Uniform { max_ms, .. } => Some(*max_ms),
            Latency::Normal { std_ms, mean_ms } if *std_ms == 0.0 => Some(*mean_ms),
            Latency::LongTail { fast, slow, .. } => Some(fast.max_ms()?.max(slow.max_ms()?)),
            Latency::Normal { .. } | Latency::LogNormal { .. } | Latency::Exponential { .. } => {
                None
            }
        }
    }
}

/// A distribution ready to draw from.
#[derive(Clone, Debug)]
pub(crate) enum Sampler {
    /// See [`Latency::Constant`].
    Constant(f64),
    /// See [`Latency::Uniform`].
    Uniform(f64, f64),
    /// See [`Latency::Normal`].
    Normal(Normal<f64>),
    /// See [`Latency::LogNormal`].
    LogNormal(LogNormal<f64>),
    /// See [`Latency::Exponential`].
    Exponential(f64, Exp<f64>),
    /// See [`Latency::LongTail`].
    LongTail(Box<(Sampler, Sampler)>, f64),
}

impl Sampler {
    /// Draws one delay.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        Duration::from_nanos(self.sample_nanos(rng))
    }

    /// Draws one delay, in whole nanoseconds (what [`sample`](Self::sample) returns).
    pub fn sample_nanos<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let ms = match self {
            Sampler::Constant(ms) => *ms,
            Sampler::Uniform(lo, hi) => lo + (hi - lo) * unit(rng),
            Sampler::Normal(d) => d.sample(rng),
            Sampler::LogNormal(d) => d.sample(rng),
            Sampler::Exponential(min, d) => min + d.sample(rng),
            Sampler::LongTail(pair, p) => {
                let (fast, slow) = &**pair;
                return if unit(rng) < *p {
                    slow.sample_nanos(rng)
                } else {
                    fast.sample_nanos(rng)
                };
            }
        };
        (ms.max(0.0) * 1e6) as u64
    }
}

/// A uniform draw from `[0, 1)` with 53 bits of precision.
pub(crate) fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn draws(l: &Latency, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let s = l.sampler();
        (0..n).map(|_| s.sample(&mut rng).as_secs_f64() * 1e3).collect()
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn each_distribution_has_the_shape_it_promises() {
        let c = draws(&Latency::Constant { ms: 2.0 }, 10);
        assert!(c.iter().all(|&x| (x - 2.0).abs() < 1e-9));
        let u = draws(&Latency::Uniform { min_ms: 1.0, max_ms: 3.0 }, 10_000);
        assert!(u.iter().all(|&x| (1.0..=3.0).contains(&x)));
        assert!((mean(&u) - 2.0).abs() < 0.05);
        let n = draws(&Latency::Normal { mean_ms: 0.1, std_ms: 1.0 }, 10_000);
        assert!(n.iter().all(|&x| x >= 0.0), "truncated at zero");
        let e = draws(&Latency::Exponential { min_ms: 1.0, mean_ms: 3.0 }, 20_000);
        assert!(e.iter().all(|&x| x >= 1.0));
        assert!((mean(&e) - 3.0).abs() < 0.1, "{}", mean(&e));
        let mut l = draws(&Latency::LogNormal { median_ms: 5.0, sigma: 0.5 }, 20_001);
        l.sort_by(f64::total_cmp);
        assert!((l[10_000] - 5.0).abs() < 0.2, "median {}", l[10_000]);
        let tail = Latency::LongTail {
            fast: Box::new(Latency::Constant { ms: 0.5 }),
            slow: Box::new(Latency::Constant { ms: 100.0 }),
            slow_fraction: 0.01,
        };
        let slow = draws(&tail, 100_000).iter().filter(|&&x| x > 50.0).count();
        assert!((800..1200).contains(&slow), "{slow} slow of 100000");
        assert_eq!(tail.max_ms(), Some(100.0));
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let err =
            Latency::Uniform { min_ms: 3.0, max_ms: 1.0 }.validate("network.latency").unwrap_err();
        assert!(err.to_string().contains("network.latency"), "{err}");
        let nested = Latency::LongTail {
            fast: Box::new(Latency::Constant { ms: -1.0 }),
            slow: Box::new(Latency::Constant { ms: 1.0 }),
            slow_fraction: 0.1,
        };
        assert!(nested.validate("x").unwrap_err().to_string().contains("x.fast"));
    }
}
