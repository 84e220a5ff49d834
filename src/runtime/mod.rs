//! The tokio runtime: drives the same `core` for real, over any [`Transport`], with durable
//! hard state.
//!
//! ```
//! use raft_heartbeat::core::{Config, LogPosition, NodeId, Role};
//! use raft_heartbeat::runtime::{Driver, MemoryNetwork, MemoryStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let net = MemoryNetwork::new();
//! let config = Config::new(NodeId(1), [NodeId(1)]);
//! let (driver, handle) =
//!     Driver::new(config, MemoryStore::default(), net.join(NodeId(1)), LogPosition::default())
//!         .await
//!         .unwrap();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn(driver.run(async { let _ = stopped.await; }));
//! let mut status = handle.status.clone();
//! status.wait_for(|s| s.role == Role::Leader).await.unwrap();
//! stop.send(()).unwrap();
//! task.await.unwrap().unwrap();
//! # }
//! ```

pub mod codec;
mod driver;
mod faults;
mod storage;
mod tcp;
mod telemetry;
mod transport;

pub use crate::link::Lanes;
pub use driver::{
    Driver, Handle, HostInput, Lease, MembershipChangeError, ReadError, RuntimeError,
};
pub use faults::{Faults, FaultyTransport};
pub use storage::{Corruption, FileStore, HardStateStore, MemoryStore, StorageError};
pub use tcp::{PayloadSender, TcpConfig, TcpStats, TcpTransport};
pub use telemetry::buckets_seconds;
pub use transport::{MemoryNetwork, MemoryTransport, Transport};
