//! Feeds arbitrary bytes to the frame decoder: it must never panic or allocate past the frame
//! limit, and every frame it accepts must encode and decode back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raft_heartbeat::runtime::codec::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((frame, used))) = decode(rest) {
        let mut again = Vec::new();
        encode(&frame, &mut again).expect("a decoded frame encodes");
        assert_eq!(decode(&again), Ok(Some((frame, again.len()))), "a frame does not survive a round trip");
        rest = &rest[used..];
    }
});
