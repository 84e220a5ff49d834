//! A hand-made trace for the tests: small enough to check every element by hand.

/// A three-node failover: n1 leads, crashes at 100 ms; n2 pre-votes, campaigns in term 2
/// and wins; n1 restarts at 300 ms in the term it made durable.
pub const FAILOVER: &str = r#"{"trial":0,"t_ns":0,"kind":"node","node":1,"event":{"RoleChanged":{"term":1,"from":"Candidate","to":"Leader"}}}
{"trial":0,"t_ns":1000000,"kind":"persist","node":1,"term":1}
{"trial":0,"t_ns":30000000,"kind":"node","node":3,"event":{"TermChanged":{"from":0,"to":1}}}
{"trial":0,"t_ns":50000000,"kind":"send","from":1,"to":2,"message":"heartbeat","term":1}
{"trial":0,"t_ns":50300000,"kind":"deliver","from":1,"to":2,"message":"heartbeat","term":1}
{"trial":0,"t_ns":50300000,"kind":"node","node":2,"event":{"TermChanged":{"from":0,"to":1}}}
{"trial":0,"t_ns":50400000,"kind":"send","from":1,"to":3,"message":"heartbeat","term":1}
{"trial":0,"t_ns":50400000,"kind":"drop","from":1,"to":3,"message":"heartbeat","reason":"loss"}
{"trial":0,"t_ns":100000000,"kind":"fault","node":1,"fault":{"fault":"crash"}}
{"trial":0,"t_ns":250000000,"kind":"node","node":2,"event":{"ElectionTimeout":{"term":1,"silence":null}}}
{"trial":0,"t_ns":250000000,"kind":"node","node":2,"event":{"RoleChanged":{"term":1,"from":"Follower","to":"PreCandidate"}}}
{"trial":0,"t_ns":250000000,"kind":"send","from":2,"to":3,"message":"pre-vote","term":2}
{"trial":0,"t_ns":250400000,"kind":"deliver","from":2,"to":3,"message":"pre-vote","term":2}
{"trial":0,"t_ns":251000000,"kind":"node","node":2,"event":{"TermChanged":{"from":1,"to":2}}}
{"trial":0,"t_ns":251000000,"kind":"node","node":2,"event":{"RoleChanged":{"term":2,"from":"PreCandidate","to":"Candidate"}}}
{"trial":0,"t_ns":260000000,"kind":"node","node":2,"event":{"RoleChanged":{"term":2,"from":"Candidate","to":"Leader"}}}
{"trial":0,"t_ns":270000000,"kind":"node","node":3,"event":{"ElectionTimeoutDeferred":{"term":2,"stalled":{"secs":0,"nanos":5}}}}
{"trial":0,"t_ns":280000000,"kind":"fault","node":null,"fault":{"fault":"network"}}
{"trial":0,"t_ns":300000000,"kind":"fault","node":1,"fault":{"fault":"restart"}}
{"trial":0,"t_ns":350000000,"kind":"node","node":2,"event":{"LeaseExpired":{"term":2}}}
{"trial":0,"t_ns":400000000,"kind":"fault","node":3,"fault":{"fault":"pause","for_ns":20000000}}
{"trial":0,"t_ns":500000000,"kind":"persist","node":3,"term":2}
"#;
