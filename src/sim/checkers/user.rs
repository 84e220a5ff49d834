//! The embedder's invariants ([`Harness::invariant`](crate::sim::Harness::invariant)), checked
//! after every event over a read-only [`View`], and the one rule the engine holds hosts to:
//! an engine event may not set off node events without end.

use super::{Invariant, Violation};
use crate::core::Instant;
use crate::sim::harness::{Harness, InvariantCheck, View};

/// Host callbacks one engine event may cause, at most: a host whose events keep causing
/// events (a livelock of its own) is reported rather than run forever.
pub(crate) const MAX_DISPATCHES: usize = 100_000;

/// This trial's instances of the embedder's invariants.
#[derive(Default)]
pub(crate) struct UserInvariants {
    checks: Vec<(String, InvariantCheck)>,
}

impl std::fmt::Debug for UserInvariants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.checks.iter().map(|(name, _)| name)).finish()
    }
}

impl UserInvariants {
    /// Fresh instances of `harness`'s invariants, for one trial.
    pub(crate) fn new(harness: &Harness) -> Self {
        let checks =
            harness.invariants.iter().map(|inv| (inv.name.clone(), (inv.make)())).collect();
        UserInvariants { checks }
    }

    /// Whether there is none to check.
    pub(crate) fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// Every invariant over `view` at `at`; the first broken one is the violation.
    pub(crate) fn check(&mut self, at: Instant, view: &View<'_>) -> Result<(), Violation> {
        for (name, check) in &mut self.checks {
            if let Err(detail) = check(view) {
                return Err(Violation {
                    invariant: Invariant::User,
                    at,
                    detail: format!("{name}: {detail}"),
                });
            }
        }
        Ok(())
    }
}

/// The hosts handled more than [`MAX_DISPATCHES`] node events caused by one engine event.
pub(crate) fn endless_dispatch(at: Instant) -> Violation {
    Violation {
        invariant: Invariant::User,
        at,
        detail: format!(
            "hosts handled more than {MAX_DISPATCHES} node events caused by one engine event: a \
             host keeps causing the events it reacts to"
        ),
    }
}
