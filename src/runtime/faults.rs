//! A transport wrapper that injects faults on a real network, for integration tests and demos,
//! in the vocabulary the simulator uses (see [`link`](crate::link)): partition a link to a
//! peer (one way or both) and repair it, hold it (messages are kept) and release it, add
//! delay and loss (so a loopback cluster can stand in for a LAN or a WAN). The controls are a cloneable [`Faults`] handle, so a test keeps one while the driver
//! owns the transport.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use tokio::time::Instant;

use super::transport::Transport;
use crate::core::{Envelope, NodeId};
use crate::link::Direction;

/// The standard normal's 99th percentile.
const Z_99: f64 = 2.326_347_874_040_841;

/// How often a receiver with held messages looks again whether they were released.
const HOLD_POLL: Duration = Duration::from_millis(5);

/// With [`Faults::set_precise_delays`], the last stretch of a delay slept on a blocking
/// thread rather than on tokio's timer wheel (which rounds up to the next millisecond).
const PRECISE_TAIL: Duration = Duration::from_millis(2);

#[derive(Debug)]
struct State {
    partitioned: BTreeSet<(Direction, NodeId)>,
    held: BTreeSet<NodeId>,
    hold_all: bool,
    delay: Duration,
    /// Whether delays finish on a blocking thread's sleep ([`Faults::set_precise_delays`]).
    precise: bool,
    /// The log-normal spread of the delay around its median (0: constant).
    spread: f64,
    loss: f64,
    rng: ChaCha8Rng,
}

impl Default for State {
    fn default() -> Self {
        State {
            partitioned: BTreeSet::new(),
            held: BTreeSet::new(),
            hold_all: false,
            delay: Duration::ZERO,
            precise: false,
            spread: 0.0,
            loss: 0.0,
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }
}

impl State {
    fn held(&self, peer: NodeId) -> bool {
        self.hold_all || self.held.contains(&peer)
    }

    /// The next inbound message's delay: the set delay, or a draw from the log-normal of that
    /// median and spread.
    fn next_delay(&mut self) -> Duration {
        if self.spread <= 0.0 || self.delay.is_zero() {
            return self.delay;
        }
        let factor = LogNormal::new(0.0, self.spread).map_or(1.0, |d| d.sample(&mut self.rng));
        self.delay.mul_f64(factor.min(1e3))
    }

    /// Whether the next inbound message is lost, drawn from the seeded generator.
    fn lose(&mut self) -> bool {
        self.loss > 0.0
            && (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < self.loss
    }
}

/// The controls of a [`FaultyTransport`]: every fault is on the links between this node and
/// one peer.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Faults {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // A panic elsewhere while the lock was held leaves plain data behind: keep using it.
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Partitions the link to or from `peer`, one way: what travels on it is dropped.
    pub fn partition_one_way(&self, direction: Direction, peer: NodeId) {
        self.with(|s| s.partitioned.insert((direction, peer)));
    }

    /// Partitions both directions between this node and `peer`.
    pub fn partition(&self, peer: NodeId) {
        self.partition_one_way(Direction::Outbound, peer);
        self.partition_one_way(Direction::Inbound, peer);
    }

    /// Repairs the link to or from `peer`, one way.
    pub fn repair_one_way(&self, direction: Direction, peer: NodeId) {
        self.with(|s| s.partitioned.remove(&(direction, peer)));
    }

    /// Repairs both directions between this node and `peer`.
    pub fn repair(&self, peer: NodeId) {
        self.repair_one_way(Direction::Outbound, peer);
        self.repair_one_way(Direction::Inbound, peer);
    }

    /// Repairs every partitioned link (holds stay).
    pub fn repair_all(&self) {
        self.with(|s| s.partitioned.clear());
    }

    /// Holds every message between this node and `peer`, both ways, until
    /// [`release`](Self::release): nothing is lost, it arrives late.
    pub fn hold(&self, peer: NodeId) {
        self.with(|s| s.held.insert(peer));
    }

    /// Releases what [`hold`](Self::hold) kept on the links with `peer`.
    pub fn release(&self, peer: NodeId) {
        self.with(|s| s.held.remove(&peer));
    }

    /// Holds every message of this node, both ways (a node frozen as by a long pause).
    pub fn hold_all(&self) {
        self.with(|s| s.hold_all = true);
    }

    /// Releases every hold.
    pub fn release_all(&self) {
        self.with(|s| {
            s.hold_all = false;
            s.held.clear();
        });
    }

    /// Delays every inbound message by `d` (each on its own, so order is kept).
    pub fn set_delay(&self, d: Duration) {
        self.with(|s| {
            s.delay = d;
            s.spread = 0.0;
        });
    }

    /// Delays every inbound message by a draw from the log-normal with median `median` and
    /// 99th percentile `p99` (a measured network's latency, as `advise` fits it), from the
    /// generator [`set_loss`](Self::set_loss) seeds. Messages keep their order, as on a TCP
    /// stream: one drawn shorter than the one before waits for it.
    pub fn set_delay_distribution(&self, median: Duration, p99: Duration) {
        let ratio = p99.as_secs_f64() / median.as_secs_f64().max(1e-9);
        let sigma = if ratio > 1.0 { ratio.ln() / Z_99 } else { 0.0 };
        self.with(|s| {
            s.delay = median;
            s.spread = sigma;
        });
    }

    /// Makes injected delays precise to tens of microseconds. tokio's timer wheel works in
    /// whole milliseconds and rounds every wait up, so on its own it turns a LAN's injected
    /// 0.3 ms into about 1 ms a hop, and a loopback cluster checked against a LAN's prediction
    /// runs on a network three times slower (`cluster --advice` saw split votes rise from 0.9%
    /// to 2.5%). With this on, the last 2 ms of each wait are slept on a blocking thread
    /// instead (`std::thread::sleep`, which asks the kernel for the exact time). Off by
    /// default: under tokio's paused test clock a blocking sleep does not move time.
    pub fn set_precise_delays(&self, on: bool) {
        self.with(|s| s.precise = on);
    }

    /// Drops each inbound message with probability `probability` (clamped to `[0, 1]`), drawn
    /// from a generator seeded with `seed`: the same seed loses the same messages of a
    /// sequence.
    pub fn set_loss(&self, probability: f64, seed: u64) {
        self.with(|s| {
            s.loss = if probability.is_nan() { 0.0 } else { probability.clamp(0.0, 1.0) };
            s.rng = ChaCha8Rng::seed_from_u64(seed);
        });
    }

    /// Removes every fault: repairs every link, releases every hold, ends the delay and the
    /// loss (whether delays are precise stays as set).
    pub fn clear(&self) {
        self.with(|s| *s = State { precise: s.precise, ..State::default() });
    }
}

/// Wraps a transport and applies the faults set on its [`Faults`].
#[derive(Debug)]
pub struct FaultyTransport<T> {
    inner: T,
    faults: Faults,
    held_out: VecDeque<Envelope>,
    inbound: VecDeque<(Instant, Envelope)>,
}

impl<T: Transport> FaultyTransport<T> {
    /// Wraps `inner`; keep the returned [`Faults`] to inject faults.
    pub fn new(inner: T) -> (Self, Faults) {
        let faults = Faults::default();
        (
            FaultyTransport {
                inner,
                faults: faults.clone(),
                held_out: VecDeque::new(),
                inbound: VecDeque::new(),
            },
            faults,
        )
    }

    /// Sends what was held for peers no longer held, in the order it was sent.
    async fn release_held(&mut self) {
        let mut still_held = VecDeque::new();
        while let Some(env) = self.held_out.pop_front() {
            if self.faults.with(|s| s.held(env.to)) {
                still_held.push_back(env);
            } else {
                self.inner.send(env).await;
            }
        }
        self.held_out = still_held;
    }
}

#[async_trait]
impl<T: Transport> Transport for FaultyTransport<T> {
    async fn send(&mut self, envelope: Envelope) {
        let (dropped, held) = self.faults.with(|s| {
            (s.partitioned.contains(&(Direction::Outbound, envelope.to)), s.held(envelope.to))
        });
        if dropped {
            return;
        }
        self.release_held().await;
        if held {
            self.held_out.push_back(envelope);
        } else {
            self.inner.send(envelope).await;
        }
    }

    async fn recv(&mut self) -> Option<Envelope> {
        loop {
            self.release_held().await;
            let now = Instant::now();
            let (ready, any_held, next_due) = self.faults.with(|s| {
                let ready =
                    self.inbound.iter().position(|(at, env)| *at <= now && !s.held(env.from));
                let any_held = self.inbound.iter().any(|(_, env)| s.held(env.from))
                    || !self.held_out.is_empty();
                let next_due = self
                    .inbound
                    .iter()
                    .filter(|(_, env)| !s.held(env.from))
                    .map(|(at, _)| *at)
                    .min();
                (ready, any_held, next_due)
            });
            if let Some(k) = ready {
                return self.inbound.remove(k).map(|(_, env)| env);
            }
            let idle = now + Duration::from_secs(3600);
            let mut wake = next_due.unwrap_or(idle);
            if any_held {
                wake = wake.min(now + HOLD_POLL);
            }
            let precise = self.faults.with(|s| s.precise);
            tokio::select! {
                message = self.inner.recv() => {
                    let env = message?;
                    let (dropped, delay) = self.faults.with(|s| {
                        let cut = s.partitioned.contains(&(Direction::Inbound, env.from));
                        (cut || s.lose(), s.next_delay())
                    });
                    if !dropped {
                        self.inbound.push_back((Instant::now() + delay, env));
                    }
                }
                () = wait_until(wake, precise) => {}
            }
        }
    }
}

/// Waits until `wake`: on tokio's timer, or, when `precise`, on it until [`PRECISE_TAIL`]
/// before and on a blocking thread's sleep for the rest.
async fn wait_until(wake: Instant, precise: bool) {
    if !precise {
        return tokio::time::sleep_until(wake).await;
    }
    if let Some(coarse) = wake.checked_sub(PRECISE_TAIL) {
        if coarse > Instant::now() {
            tokio::time::sleep_until(coarse).await;
        }
    }
    let left = wake.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        // The task cannot fail but by panicking, and a sleep does not; either way the caller
        // looks at the clock again.
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(left)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_distribution_draws_the_median_and_p99_it_was_given() {
        let faults = Faults::default();
        faults.set_loss(0.0, 7);
        faults.set_delay_distribution(Duration::from_millis(10), Duration::from_millis(30));
        let mut draws: Vec<f64> =
            (0..20_000).map(|_| faults.with(|s| s.next_delay()).as_secs_f64() * 1e3).collect();
        draws.sort_by(f64::total_cmp);
        let (p50, p99) = (draws[10_000], draws[19_800]);
        assert!((p50 - 10.0).abs() < 0.5, "median {p50} ms");
        assert!((p99 - 30.0).abs() < 2.0, "p99 {p99} ms");
        faults.set_delay(Duration::from_millis(4));
        assert_eq!(faults.with(|s| s.next_delay()), Duration::from_millis(4));
    }
}
