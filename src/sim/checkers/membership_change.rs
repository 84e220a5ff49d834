//! Membership change (thesis §4.1): every change reaches each node as one its core accepts, in
//! log order. A leader is never more than one change behind the latest (the election
//! restriction keeps a node lacking a committed change from winning), so it never meets a
//! change of two voters at once.

use super::{Invariant, Violation};
use crate::core::{Instant, MembershipError, NodeId};

/// `node` refused change `change` (of `latest`) at `at`: always a violation.
pub(crate) fn refused(
    at: Instant,
    node: NodeId,
    change: usize,
    latest: usize,
    error: &MembershipError,
) -> Violation {
    Violation {
        invariant: Invariant::MembershipChange,
        at,
        detail: format!("{node} refused membership change {change} of {latest}: {error}"),
    }
}
