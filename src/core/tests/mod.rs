//! Behaviour tests of the core, named after the rule they check and citing the Raft paper
//! (§N) or Ongaro's thesis (thesis §N).

mod contract;
mod detectors;
mod harness;
mod local_health;
mod membership;
mod paper;
mod safety;
mod shadows;
mod telemetry;
mod terms;
mod thesis;
mod timer_rule;
mod transfer;
