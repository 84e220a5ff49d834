//! `advise --from-metrics`: nodes' Prometheus exposition text, from `http://` endpoints or
//! saved files, read into the samples `advise` measures a profile from.

use std::io::BufRead;

use anyhow::Context;
use prometheus_parse::Value;
use raft_heartbeat::advise::{Buckets, Scrape};

/// Reads every source and merges what they hold.
pub fn scrape(sources: &[String]) -> anyhow::Result<Scrape> {
    let mut out = Scrape::default();
    for source in sources {
        let text = read(source)?;
        let parsed = prometheus_parse::Scrape::parse(text.as_bytes().lines())
            .with_context(|| format!("{source}: not Prometheus exposition text"))?;
        for sample in parsed.samples {
            if let Some(node) = sample.labels.get("node") {
                out.nodes.insert(format!("{source}#{node}"));
            }
            let into = |b: &mut Buckets| {
                if let Value::Histogram(counts) = &sample.value {
                    for c in counts {
                        b.add(c.less_than, c.count);
                    }
                }
            };
            let counter = match sample.value {
                Value::Counter(v) | Value::Untyped(v) => v,
                _ => 0.0,
            };
            match sample.metric.as_str() {
                "raft_heartbeat_heartbeat_round_trip_seconds" => into(&mut out.round_trip),
                "raft_heartbeat_hard_state_write_seconds" => into(&mut out.hard_state_write),
                "raft_heartbeat_timer_lateness_seconds" => into(&mut out.timer_lateness),
                "raft_heartbeat_heartbeats_answered_total" => out.answered += counter,
                "raft_heartbeat_heartbeats_unanswered_total" => out.unanswered += counter,
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A source's text: fetched if it is an `http://` address, read from disk otherwise.
fn read(source: &str) -> anyhow::Result<String> {
    if source.starts_with("http://") {
        let mut response =
            ureq::get(source).call().with_context(|| format!("cannot fetch {source}"))?;
        response.body_mut().read_to_string().with_context(|| format!("cannot read {source}"))
    } else if source.contains("://") {
        anyhow::bail!("{source}: only http:// endpoints and files are read (no TLS)")
    } else {
        std::fs::read_to_string(source).with_context(|| format!("cannot read {source}"))
    }
}
