//! One run of the checker: breadth-first over every state within the bounds, and its report.

use std::time::{Duration, Instant};

use serde::Serialize;
use stateright::{Checker, HasDiscoveries, Model, Property};

use super::error::ModelError;
use super::machine::{Machine, Step};
use super::options::Options;
use super::properties::Expectation;
use super::state::State;

/// What one run found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// Whether every state within the bounds was explored (no state cap, no early stop).
    pub complete: bool,
    /// States generated, revisits included.
    pub states: usize,
    /// Distinct states, up to symmetry.
    pub unique_states: usize,
    /// The longest execution explored, in steps.
    pub max_depth: usize,
    /// Wall-clock time of the search.
    pub wall_ms: u64,
    /// Renamings of node ids the symmetry reduction merges states under.
    pub symmetry: usize,
    /// What was explored.
    pub options: Options,
    /// Each property and what the search found.
    pub properties: Vec<PropertyReport>,
}

/// One property's verdict.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PropertyReport {
    /// Its name.
    pub name: &'static str,
    /// Always (safety) or sometimes (liveness).
    pub expectation: Expectation,
    /// For "always": no state breaks it. For "sometimes": an example was found.
    pub holds: bool,
    /// For a broken "always", the shortest execution that breaks it; for a "sometimes", the
    /// shortest example.
    pub counterexample: Option<Trace>,
}

/// An execution, step by step.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Trace {
    /// What broke, in the words of the transition that broke it (for properties judged on a
    /// transition).
    pub finding: Option<String>,
    /// The steps, each with the state it led to.
    pub steps: Vec<TraceStep>,
}

/// One step of a trace.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TraceStep {
    /// The clock when the step was taken, ms.
    pub at_ms: u64,
    /// The step.
    pub step: String,
    /// The state it led to, summarized.
    pub state: String,
}

/// Explores every state of `options`'s cluster within its bounds and judges every property.
/// `progress` is called about once a second with the states generated so far.
pub fn check(
    options: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, ModelError> {
    options.validate()?;
    let machine = Machine::new(options.clone());
    let symmetry = machine.symmetry_size();
    let started = Instant::now();
    let mut builder =
        machine.checker().threads(options.threads).target_state_count(options.max_states);
    if options.stop_on_failure {
        builder = builder.finish_when(HasDiscoveries::AnyFailures);
    }
    Ok(if options.depth_first {
        finish(builder.spawn_dfs(), symmetry, started, progress)
    } else {
        finish(builder.spawn_bfs(), symmetry, started, progress)
    })
}

/// Waits for `checker` and reports what it found.
fn finish(
    checker: impl Checker<Machine>,
    symmetry: usize,
    started: Instant,
    progress: &mut dyn FnMut(usize, usize),
) -> Report {
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(200));
        progress(checker.state_count(), checker.unique_state_count());
    }
    let checker = checker.join();
    let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let discoveries = checker.discoveries();
    let machine = checker.model();
    let options = &machine.options;
    let properties: Vec<PropertyReport> = machine
        .properties()
        .into_iter()
        .map(|p| {
            let path = discoveries.get(p.name);
            let (expectation, holds) = if p.expectation.discovery_is_failure() {
                (Expectation::Always, path.is_none())
            } else {
                (Expectation::Sometimes, path.is_some())
            };
            let counterexample = path.map(|path| trace(machine, &p, path.clone().into_vec()));
            PropertyReport { name: p.name, expectation, holds, counterexample }
        })
        .collect();
    let decided_early = properties.iter().all(|p| p.counterexample.is_some())
        || (options.stop_on_failure
            && properties.iter().any(|p| p.expectation == Expectation::Always && !p.holds));
    let capped = checker.state_count() >= options.max_states;
    Report {
        complete: !capped && !decided_early,
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        wall_ms,
        symmetry,
        options: options.clone(),
        properties,
    }
}

/// The execution `path` that decided `property`, cut at the first state that decides it (the
/// checker may report a later state of the same execution).
fn trace(
    machine: &Machine,
    property: &Property<Machine>,
    path: Vec<(State, Option<Step>)>,
) -> Trace {
    let decides = |state: &State| {
        (property.condition)(machine, state) != property.expectation.discovery_is_failure()
    };
    let name = property.name;
    let mut steps = Vec::new();
    let mut finding = None;
    let mut states = path.into_iter();
    let Some((mut state, mut step)) = states.next() else {
        return Trace { finding, steps };
    };
    for (next, next_step) in states {
        let Some(s) = step else { break };
        steps.push(TraceStep {
            at_ms: state.now.as_nanos() / 1_000_000,
            step: machine.describe(s),
            state: format!("{next:?}"),
        });
        if decides(&next) {
            finding = next.ghost.broken.get(name).cloned();
            break;
        }
        state = next;
        step = next_step;
    }
    Trace { finding, steps }
}
