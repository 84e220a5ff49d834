//! The command-line layer: argument types, progress and report rendering.

pub mod advise_cmd;
pub mod args;
pub mod cluster_cmd;
pub mod defaults_cmd;
pub mod detectors_cmd;
pub mod event_line;
pub mod false_elections_cmd;
pub mod figure16_cmd;
pub mod live_checks;
pub mod merge_cmd;
pub mod metrics_source;
pub mod model_check_cmd;
pub mod node_cmd;
pub mod output;
pub mod plot;
pub mod progress;
pub mod report;
pub mod reproducer;
pub mod schema_cmd;
pub mod simulate_cmd;
pub mod split_votes_cmd;
pub mod sweep_cmd;
pub mod table;
pub mod timeline_cmd;
