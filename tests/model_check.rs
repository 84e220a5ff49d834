//! The model checker over the real core, at bounds small enough for every `cargo test`: the
//! search is complete, every safety property holds, and the liveness examples exist.

use raft_heartbeat::model::{self, Expectation, Options, ELECTED, LEASE_HELD};

fn small() -> Options {
    Options {
        timeout_steps: 2,
        horizon_steps: 3,
        max_term: 2,
        max_in_flight: 2,
        max_crashes: 0,
        behind: 0,
        duplicates: false,
        async_writes: false,
        ..Options::default()
    }
}

#[test]
fn every_safety_property_holds_in_a_complete_search_of_three_voters() {
    let report = model::check(&small(), &mut |_, _| {}).unwrap();
    assert!(report.complete, "the search stopped early: {report:?}");
    assert!(
        report.unique_states > 1_000,
        "too few states to mean anything: {}",
        report.unique_states
    );
    for p in &report.properties {
        if p.expectation == Expectation::Always {
            assert!(p.holds, "{} is broken: {:?}", p.name, p.counterexample);
        }
    }
    for name in [ELECTED, LEASE_HELD] {
        let p = report.properties.iter().find(|p| p.name == name).unwrap();
        assert!(p.holds, "no execution within the bounds reaches \"{name}\"");
    }
}

#[test]
fn symmetry_merges_states_equal_up_to_renaming() {
    // Three alike voters: six renamings. One voter behind: only the two ahead swap.
    let alike = model::check(&small(), &mut |_, _| {}).unwrap();
    assert_eq!(alike.symmetry, 6);
    let staggered = model::check(&Options { behind: 1, ..small() }, &mut |_, _| {}).unwrap();
    assert_eq!(staggered.symmetry, 2);
    assert!(alike.unique_states < staggered.unique_states);
}

#[test]
fn options_out_of_range_are_named() {
    let e = model::check(&Options { lease: true, stickiness: false, ..small() }, &mut |_, _| {})
        .unwrap_err();
    assert!(e.to_string().contains("--lease"), "{e}");
    let e = model::check(&Options { behind: 3, ..small() }, &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("--behind"), "{e}");
}
