//! Lease safety (thesis §6.4.1): no two nodes hold a valid lease at the same real time.

use super::{Invariant, Violation};
use crate::core::{Instant, NodeId, Term};

/// Given the nodes that believe they hold a valid lease at one instant (the engine lists at
/// most two: two are already one too many).
pub(crate) fn check_leases(at: Instant, holders: &[(NodeId, Term)]) -> Result<(), Violation> {
    if holders.len() > 1 {
        let list: Vec<String> = holders.iter().map(|(n, t)| format!("{n} ({t})")).collect();
        return Err(Violation {
            invariant: Invariant::LeaseSafety,
            at,
            detail: format!(
                "{} nodes hold a valid lease at once: {}",
                holders.len(),
                list.join(", ")
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_safety_fires_on_two_holders() {
        let t = Instant::from_millis(1);
        check_leases(t, &[(NodeId(1), Term(1))]).unwrap();
        let v = check_leases(t, &[(NodeId(1), Term(1)), (NodeId(2), Term(2))]).unwrap_err();
        assert_eq!(v.invariant, Invariant::LeaseSafety);
    }
}
