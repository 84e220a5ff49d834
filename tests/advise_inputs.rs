//! `advise` over the input space its flags accept (issue 29, §4): latency p50 from 0.01 to
//! 10,000 ms, p99 up to a thousand times the p50, loss up to half, one to nine nodes, with and
//! without goals. Every answer is a recommendation every peer accepts, or a typed error; never
//! a panic.

use proptest::prelude::*;
use raft_heartbeat::advise::{advise, AdviseError, Options, Profile};

/// Few trials: this checks answers and errors, not figures.
fn fast() -> Options {
    Options {
        screen_trials: 50,
        climb_trials: 100,
        final_trials: 200,
        pause_trials: 0,
        effort_million_events: 1,
        ..Options::quick()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_accepted_input_gets_a_setting_every_peer_takes_or_a_typed_error(
        log_p50 in -2.0f64..4.0,
        log_spread in 0.0f64..3.0,
        loss in 0.0f64..0.5,
        nodes in 1u64..=9,
        failover_goal in proptest::option::of(1.0f64..100_000.0),
    ) {
        let p50 = 10f64.powf(log_p50);
        let profile = Profile {
            loss,
            failover_p99_ms: failover_goal,
            ..Profile::new(nodes, p50, p50 * 10f64.powf(log_spread))
        };
        match advise(&profile, &fast()) {
            Ok(advice) => {
                let r = &advice.recommended;
                prop_assert!(r.election_timeout_ms[0] > r.heartbeat_ms, "{r:?}");
                prop_assert!(r.election_timeout_ms[0] <= r.election_timeout_ms[1], "{r:?}");
                for p in &advice.settings.peers {
                    prop_assert!(p.setting.validate().is_ok(), "{}: {}", p.setting.system(), p.setting.written());
                }
            }
            Err(
                AdviseError::Invalid { .. }
                | AdviseError::TooFewNodes { .. }
                | AdviseError::BudgetBelowFloor { .. }
                | AdviseError::Unreachable(_)
                | AdviseError::NotVerified { .. },
            ) => {}
            // A simulator error is a bug here: a broken invariant, or a scenario advise built
            // that the simulator refuses.
            Err(e) => prop_assert!(false, "{profile:?}: {e}"),
        }
    }
}

/// Issue 29, §3: a peer whose setting runs differently from the recommendation (another
/// heartbeat, range or tick) is simulated under its own timers, and says what that gives.
#[test]
fn a_peer_that_differs_is_simulated_under_its_own_timers() {
    let profile = Profile::new(5, 0.3, 1.0);
    let advice = advise(&profile, &Options::quick()).unwrap();
    let ours = advice.closed_form.timing(advice.recommended.timer_granularity_ms as f64);
    let mut differing = 0;
    for p in &advice.settings.peers {
        match (&p.predicted, p.setting.timing() == ours) {
            (None, true) => {}
            (Some(predicted), false) => {
                differing += 1;
                assert!(predicted.failover_p99_ms >= predicted.failover_p50_ms);
                assert!(p.differs.contains("under its own timers"), "{}", p.differs);
            }
            (predicted, same) => {
                panic!("{}: same timing {same}, predicted {predicted:?}", p.setting.system())
            }
        }
    }
    // hashicorp/raft's leader heartbeats on its own schedule, so it always differs.
    assert!(differing >= 1);
}
