//! Stage 1 from a running cluster: the network and the hosts as the nodes' own metrics measured
//! them (the runtime's histograms, `docs/runtime.md`), in place of figures typed in. The caller
//! reads the exposition text (the CLI fetches `/metrics` or reads saved files) and hands over
//! the samples; this module merges the histograms of every node and follower and reads
//! percentiles from the buckets.
//!
//! | figure | metric | how |
//! |---|---|---|
//! | one-way latency p50, p99 | `raft_heartbeat_heartbeat_round_trip_seconds` | half the round trip's percentile |
//! | loss | `raft_heartbeat_heartbeats_{answered,unanswered}_total` | a round is lost if either way is: `1 − √(1 − unanswered share)` |
//! | fsync p50, p99 | `raft_heartbeat_hard_state_write_seconds` | as measured, from [`MIN_WRITES`] writes on |
//! | timer lateness | `raft_heartbeat_timer_lateness_seconds` | its p99, from [`MIN_FIRINGS`] firings on |
//! | longest stall | the same | the highest bucket any firing reached |

use std::collections::BTreeSet;

use serde::Serialize;

use super::error::AdviseError;

/// Fewer durable writes than this are too few for a p99: the host's default stays.
pub const MIN_WRITES: f64 = 20.0;
/// Fewer timer firings than this are too few for a p99: the host's default stays.
pub const MIN_FIRINGS: f64 = 100.0;
/// Fewer heartbeat round trips than this are too few to read a latency from.
pub const MIN_ROUND_TRIPS: f64 = 50.0;

/// A histogram as exposition text gives it: cumulative counts by upper bound, merged over
/// series by adding the counts of equal bounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets {
    /// `(le, cumulative count)`, by `le`, `+Inf` last.
    cumulative: Vec<(f64, f64)>,
}

impl Buckets {
    /// Adds one series' bucket `le` holding `count` observations at or below it.
    pub fn add(&mut self, le: f64, count: f64) {
        match self.cumulative.iter_mut().find(|(b, _)| *b == le) {
            Some((_, c)) => *c += count,
            None => {
                self.cumulative.push((le, count));
                self.cumulative.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
    }

    /// Observations in all.
    pub fn count(&self) -> f64 {
        self.cumulative.last().map_or(0.0, |(_, c)| *c)
    }

    /// The `q` quantile, interpolated geometrically within its bucket (between the bucket
    /// below's bound and its own: the buckets are geometric), linearly in the first; `None`
    /// with no observations, the highest finite bound if it falls in `+Inf`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut below = (0.0, 0.0);
        for &(le, c) in &self.cumulative {
            if c >= rank && c > below.1 {
                if le.is_infinite() {
                    return Some(below.0);
                }
                let frac = (rank - below.1) / (c - below.1);
                return Some(if below.0 > 0.0 {
                    below.0 * (le / below.0).powf(frac)
                } else {
                    le * frac
                });
            }
            below = (le, c);
        }
        Some(below.0)
    }

    /// The upper bound of the highest bucket any observation reached (the highest finite bound
    /// if one went past it).
    pub fn reached(&self) -> Option<f64> {
        let mut prev = 0.0;
        let mut out = None;
        let mut finite = 0.0;
        for &(le, c) in &self.cumulative {
            if c > prev {
                out = Some(if le.is_finite() { le } else { finite });
            }
            if le.is_finite() {
                finite = le;
            }
            prev = c;
        }
        out
    }
}

/// What the metrics of one or more nodes hold, as `advise` needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scrape {
    /// Heartbeat round trips at the leader, s.
    pub round_trip: Buckets,
    /// Rounds a follower answered.
    pub answered: f64,
    /// Rounds no answer came for.
    pub unanswered: f64,
    /// Durable writes of term and vote, s.
    pub hard_state_write: Buckets,
    /// How late the driver's timer fired, s.
    pub timer_lateness: Buckets,
    /// The `node` labels seen.
    pub nodes: BTreeSet<String>,
}

/// The figures measured, in ms, each with how many observations it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Measured {
    /// Nodes whose metrics were read.
    pub nodes: usize,
    /// One-way latency, median (half the round trip's).
    pub latency_p50_ms: f64,
    /// One-way latency, 99th percentile.
    pub latency_p99_ms: f64,
    /// Round trips measured.
    pub round_trips: u64,
    /// One-way loss.
    pub loss: f64,
    /// Rounds unanswered, of all rounds closed.
    pub rounds_unanswered: u64,
    /// Durable writes, median and 99th percentile (none if fewer than 20 were seen).
    pub fsync_ms: Option<[f64; 2]>,
    /// Durable writes measured.
    pub writes: u64,
    /// Timer lateness, 99th percentile (none if fewer than 100 firings were seen).
    pub timer_lateness_ms: Option<f64>,
    /// The longest stall a timer showed (none if fewer than 100 firings were seen).
    pub longest_stall_ms: Option<f64>,
    /// Timer firings measured.
    pub firings: u64,
}

impl Scrape {
    /// The figures, or why the metrics hold too little to give them.
    pub fn measured(&self) -> Result<Measured, AdviseError> {
        let trips = self.round_trip.count();
        if trips < MIN_ROUND_TRIPS {
            return Err(AdviseError::Invalid {
                field: "from-metrics",
                problem: format!(
                    "{trips} heartbeat round trips in the metrics, fewer than {MIN_ROUND_TRIPS}: \
                     read a leader's metrics (raft_heartbeat_heartbeat_round_trip_seconds) \
                     after it has led for a while"
                ),
            });
        }
        let ms = |s: Option<f64>| s.unwrap_or(0.0) * 1e3;
        let half = |q| ms(self.round_trip.quantile(q)) / 2.0;
        let closed = self.answered + self.unanswered;
        let lost_rounds = if closed > 0.0 { self.unanswered / closed } else { 0.0 };
        let writes = self.hard_state_write.count();
        let firings = self.timer_lateness.count();
        Ok(Measured {
            nodes: self.nodes.len(),
            latency_p50_ms: half(0.5),
            latency_p99_ms: half(0.99).max(half(0.5)),
            round_trips: trips as u64,
            loss: (1.0 - (1.0 - lost_rounds).sqrt()).clamp(0.0, 0.49),
            rounds_unanswered: self.unanswered as u64,
            fsync_ms: (writes >= MIN_WRITES).then(|| {
                [ms(self.hard_state_write.quantile(0.5)), ms(self.hard_state_write.quantile(0.99))]
            }),
            writes: writes as u64,
            timer_lateness_ms: (firings >= MIN_FIRINGS)
                .then(|| ms(self.timer_lateness.quantile(0.99))),
            longest_stall_ms: (firings >= MIN_FIRINGS).then(|| ms(self.timer_lateness.reached())),
            firings: firings as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(points: &[(f64, f64)]) -> Buckets {
        let mut b = Buckets::default();
        for &(le, c) in points {
            b.add(le, c);
        }
        b
    }

    #[test]
    fn empty_buckets_below_do_not_drag_a_percentile_down() {
        // Everything between 40 and 45 ms, many empty buckets below.
        let mut points: Vec<(f64, f64)> = (1..=20).map(|k| (0.001 * f64::from(k), 0.0)).collect();
        points.extend([(0.04, 0.0), (0.045, 100.0), (f64::INFINITY, 100.0)]);
        let p50 = buckets(&points).quantile(0.5).unwrap();
        assert!(p50 > 0.04 && p50 < 0.045, "{p50}");
    }

    #[test]
    fn percentiles_read_from_buckets_merged_over_series() {
        // Two followers' series, the same bounds: counts add.
        let mut b = buckets(&[(0.01, 0.0), (0.02, 40.0), (0.04, 50.0), (f64::INFINITY, 50.0)]);
        for (le, c) in [(0.01, 0.0), (0.02, 10.0), (0.04, 50.0), (f64::INFINITY, 50.0)] {
            b.add(le, c);
        }
        assert_eq!(b.count(), 100.0);
        // Half the observations are at or below 0.02: the median is at its bound.
        let p50 = b.quantile(0.5).unwrap();
        assert!((p50 - 0.02).abs() < 1e-9, "{p50}");
        // The 75th percentile is halfway (geometrically) through (0.02, 0.04].
        let p75 = b.quantile(0.75).unwrap();
        assert!((p75 - 0.02 * 2f64.sqrt()).abs() < 1e-9, "{p75}");
        assert_eq!(b.reached(), Some(0.04));
        assert_eq!(Buckets::default().quantile(0.5), None);
    }

    #[test]
    fn loss_is_one_way_and_too_few_round_trips_are_refused() {
        let scrape = Scrape {
            round_trip: buckets(&[(0.001, 0.0), (0.002, 100.0), (f64::INFINITY, 100.0)]),
            answered: 81.0,
            unanswered: 19.0,
            ..Scrape::default()
        };
        let m = scrape.measured().unwrap();
        // 19% of rounds lost is 10% each way: 1 - 0.9².
        assert!((m.loss - 0.1).abs() < 1e-9, "{}", m.loss);
        assert!(m.latency_p50_ms > 0.5 && m.latency_p50_ms <= 1.0, "{m:?}");
        assert_eq!(m.fsync_ms, None);
        let empty = Scrape::default().measured().unwrap_err().to_string();
        assert!(empty.contains("round trips"), "{empty}");
    }
}
