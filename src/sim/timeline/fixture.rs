//! A hand-made trace for the tests: small enough to check every element by hand.

/// A three-node failover: n1 leads, crashes at 100 ms; n2 pre-votes, campaigns in term 2
/// and wins; n1 restarts at 300 ms in the term it made durable.
pub const FAILOVER: &str = r#"{"trial":0,"t_ns":0,"kind":"node","node":1,"event":{"kind":"role-changed","term":1,"from":"candidate","to":"leader"}}
{"trial":0,"t_ns":1000000,"kind":"persist","node":1,"term":1}
{"trial":0,"t_ns":30000000,"kind":"node","node":3,"event":{"kind":"term-changed","from":0,"to":1}}
{"trial":0,"t_ns":50000000,"kind":"send","from":1,"to":2,"message":"heartbeat","term":1}
{"trial":0,"t_ns":50300000,"kind":"deliver","from":1,"to":2,"message":"heartbeat","term":1}
{"trial":0,"t_ns":50300000,"kind":"node","node":2,"event":{"kind":"term-changed","from":0,"to":1}}
{"trial":0,"t_ns":50400000,"kind":"send","from":1,"to":3,"message":"heartbeat","term":1}
{"trial":0,"t_ns":50400000,"kind":"drop","from":1,"to":3,"message":"heartbeat","reason":"loss"}
{"trial":0,"t_ns":100000000,"kind":"fault","node":1,"fault":{"fault":"crash"}}
{"trial":0,"t_ns":250000000,"kind":"node","node":2,"event":{"kind":"election-timeout","term":1,"silence_ms":null}}
{"trial":0,"t_ns":250000000,"kind":"node","node":2,"event":{"kind":"role-changed","term":1,"from":"follower","to":"pre-candidate"}}
{"trial":0,"t_ns":250000000,"kind":"send","from":2,"to":3,"message":"pre-vote","term":2}
{"trial":0,"t_ns":250400000,"kind":"deliver","from":2,"to":3,"message":"pre-vote","term":2}
{"trial":0,"t_ns":251000000,"kind":"node","node":2,"event":{"kind":"term-changed","from":1,"to":2}}
{"trial":0,"t_ns":251000000,"kind":"node","node":2,"event":{"kind":"role-changed","term":2,"from":"pre-candidate","to":"candidate"}}
{"trial":0,"t_ns":260000000,"kind":"node","node":2,"event":{"kind":"role-changed","term":2,"from":"candidate","to":"leader"}}
{"trial":0,"t_ns":270000000,"kind":"node","node":3,"event":{"kind":"election-timeout-deferred","term":2,"stalled_ms":0.000005}}
{"trial":0,"t_ns":280000000,"kind":"fault","node":null,"fault":{"fault":"network"}}
{"trial":0,"t_ns":300000000,"kind":"fault","node":1,"fault":{"fault":"restart"}}
{"trial":0,"t_ns":350000000,"kind":"node","node":2,"event":{"kind":"lease-expired","term":2}}
{"trial":0,"t_ns":400000000,"kind":"fault","node":3,"fault":{"fault":"pause","for_ns":20000000}}
{"trial":0,"t_ns":500000000,"kind":"persist","node":3,"term":2}
"#;
