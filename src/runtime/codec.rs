//! The wire format, and the only place that knows it: length-prefixed frames whose body is
//! bincode 2 (serde mode). The length is checked against a maximum before anything is
//! allocated, and bincode's own limit guards every length inside the body.
//!
//! Parsing is separate from the socket (after mini-redis): [`decode`] looks at a buffer and
//! answers "a whole frame", "not yet", or a typed error, so it can be fuzzed.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::core::{Envelope, NodeId};

/// Largest frame body accepted, in bytes. Protocol messages take well under 100 bytes; the
/// limit leaves room for host payloads while keeping a hostile length prefix harmless.
pub const MAX_FRAME: usize = 4 << 20;

/// Bytes of the length prefix (big-endian `u32`).
pub const PREFIX: usize = 4;

pub use crate::link::Lane;

/// One unit on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The first frame of a connection: who is calling, for which cluster, on which lane.
    Hello {
        /// The cluster the caller belongs to; a mismatch closes the connection.
        cluster_id: u64,
        /// The caller; an unknown node closes the connection.
        node: NodeId,
        /// The lane this connection carries.
        lane: Lane,
    },
    /// A protocol message.
    Protocol(Envelope),
    /// An opaque payload of the host's (encoded as one byte string, not byte by byte).
    Payload(#[serde(with = "serde_bytes")] Vec<u8>),
}

/// Why bytes could not be turned into a frame, or a frame into bytes.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The length prefix announces more than [`MAX_FRAME`] bytes.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The length prefix announces an empty frame.
    #[error("empty frame")]
    Empty,
    /// The body is not a valid frame.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The body decoded but did not use every byte.
    #[error("frame has {0} trailing bytes")]
    Trailing(usize),
    /// The frame could not be encoded.
    #[error("cannot encode frame: {0}")]
    Encode(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_big_endian().with_limit::<MAX_FRAME>()
}

/// Appends `frame`, length-prefixed, to `out`.
pub fn encode(frame: &Frame, out: &mut Vec<u8>) -> Result<(), CodecError> {
    let body = bincode::serde::encode_to_vec(frame, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    if body.len() > MAX_FRAME {
        return Err(CodecError::TooLarge { len: body.len(), max: MAX_FRAME });
    }
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// Decodes the frame at the start of `buf`: `Ok(None)` if it is not all there yet, otherwise
/// the frame and how many bytes it used.
pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, CodecError> {
    let Some(prefix) = buf.get(..PREFIX) else { return Ok(None) };
    let len = u32::from_be_bytes(prefix.try_into().expect("four bytes")) as usize;
    if len > MAX_FRAME {
        return Err(CodecError::TooLarge { len, max: MAX_FRAME });
    }
    if len == 0 {
        return Err(CodecError::Empty);
    }
    let Some(body) = buf.get(PREFIX..PREFIX + len) else { return Ok(None) };
    let (frame, used) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if used != len {
        return Err(CodecError::Trailing(len - used));
    }
    Ok(Some((frame, PREFIX + len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Heartbeat, LogPosition, Message, Term};

    fn heartbeat() -> Frame {
        let hb = Heartbeat {
            term: Term(3),
            leader_last_log: LogPosition::new(Term(2), 9),
            leader_commit: 7,
            round: 42,
        };
        Frame::Protocol(Envelope {
            from: NodeId(1),
            to: NodeId(2),
            message: Message::Heartbeat(hb),
        })
    }

    #[test]
    fn a_frame_round_trips_and_a_partial_one_waits() {
        let mut buf = Vec::new();
        encode(&heartbeat(), &mut buf).unwrap();
        encode(&Frame::Hello { cluster_id: 9, node: NodeId(4), lane: Lane::Protocol }, &mut buf)
            .unwrap();
        let (first, used) = decode(&buf).unwrap().unwrap();
        assert_eq!(first, heartbeat());
        let (second, used2) = decode(&buf[used..]).unwrap().unwrap();
        assert_eq!(second, Frame::Hello { cluster_id: 9, node: NodeId(4), lane: Lane::Protocol });
        assert_eq!(used + used2, buf.len());
        for cut in 0..used {
            assert_eq!(
                decode(&buf[..cut]),
                Ok(None),
                "a frame cut at {cut} bytes waits for the rest"
            );
        }
    }

    #[test]
    fn a_huge_length_prefix_is_refused_before_anything_is_allocated() {
        let buf = [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3];
        assert_eq!(
            decode(&buf),
            Err(CodecError::TooLarge { len: u32::MAX as usize, max: MAX_FRAME })
        );
        assert_eq!(decode(&[0, 0, 0, 0]), Err(CodecError::Empty));
    }

    #[test]
    fn garbage_and_trailing_bytes_are_typed_errors() {
        let buf = [0, 0, 0, 3, 0xEE, 0xEE, 0xEE];
        assert!(matches!(decode(&buf), Err(CodecError::Malformed(_))));
        let mut good = Vec::new();
        encode(&heartbeat(), &mut good).unwrap();
        let body_len = good.len() - PREFIX;
        let mut padded = ((body_len + 2) as u32).to_be_bytes().to_vec();
        padded.extend_from_slice(&good[PREFIX..]);
        padded.extend_from_slice(&[0, 0]);
        assert_eq!(decode(&padded), Err(CodecError::Trailing(2)));
    }

    #[test]
    fn a_payload_claiming_a_huge_inner_length_is_refused() {
        // Variant 2 (payload), then a vector length of 2^40: bincode's limit stops it.
        let body = [2u8, 0xFD, 0, 0, 1, 0, 0, 0, 0, 0];
        let mut buf = (body.len() as u32).to_be_bytes().to_vec();
        buf.extend_from_slice(&body);
        assert!(matches!(decode(&buf), Err(CodecError::Malformed(_))));
    }

    mod properties {
        use super::*;
        use crate::core::{HeartbeatResponse, TimeoutNow, VoteKind, VoteRequest, VoteResponse};
        use proptest::prelude::*;

        fn kind(k: u8) -> VoteKind {
            match k % 3 {
                0 => VoteKind::Vote,
                1 => VoteKind::PreVote,
                _ => VoteKind::Transfer,
            }
        }

        fn message() -> impl Strategy<Value = Message> {
            let pos = (any::<u64>(), any::<u64>()).prop_map(|(t, i)| LogPosition::new(Term(t), i));
            prop_oneof![
                (any::<u64>(), pos.clone(), any::<u64>(), any::<u64>()).prop_map(|(t, p, c, r)| {
                    Message::Heartbeat(Heartbeat {
                        term: Term(t),
                        leader_last_log: p,
                        leader_commit: c,
                        round: r,
                    })
                }),
                (any::<u64>(), any::<bool>(), any::<u64>()).prop_map(|(t, s, r)| {
                    Message::HeartbeatResponse(HeartbeatResponse {
                        term: Term(t),
                        success: s,
                        round: r,
                    })
                }),
                (any::<u64>(), pos, any::<u8>()).prop_map(|(t, p, v)| {
                    Message::VoteRequest(VoteRequest { term: Term(t), last_log: p, kind: kind(v) })
                }),
                (any::<u64>(), any::<bool>(), any::<u8>()).prop_map(|(t, g, v)| {
                    Message::VoteResponse(VoteResponse { term: Term(t), granted: g, kind: kind(v) })
                }),
                any::<u64>().prop_map(|t| Message::TimeoutNow(TimeoutNow { term: Term(t) })),
            ]
        }

        fn frame() -> impl Strategy<Value = Frame> {
            prop_oneof![
                (any::<u64>(), any::<u64>(), any::<u64>(), message()).prop_map(|(f, t, _, m)| {
                    Frame::Protocol(Envelope { from: NodeId(f), to: NodeId(t), message: m })
                }),
                (any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(c, n, p)| Frame::Hello {
                    cluster_id: c,
                    node: NodeId(n),
                    lane: if p { Lane::Protocol } else { Lane::Payload },
                }),
                proptest::collection::vec(any::<u8>(), 0..64).prop_map(Frame::Payload),
            ]
        }

        proptest! {
            #[test]
            fn every_frame_round_trips(f in frame()) {
                let mut buf = Vec::new();
                encode(&f, &mut buf).unwrap();
                prop_assert_eq!(decode(&buf).unwrap(), Some((f, buf.len())));
            }

            #[test]
            fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = decode(&bytes);
            }
        }
    }
}
