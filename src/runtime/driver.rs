//! Runs one `core` node on tokio: a single timer re-armed only when the core's deadline moves,
//! `select!` over inbound messages, the timer, the host's inputs and a shutdown future.

use std::future::Future;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep_until, Instant as TokioInstant};
use tracing::Instrument;

use super::storage::{HardStateStore, StorageError};
use super::telemetry::Telemetry;
use super::transport::Transport;
use crate::core::{
    Config, ConfigError, Contact, Event, Instant, LogPosition, Membership, MembershipError, Node,
    NodeId, ReadTicket, Role, Status, Term,
};

/// Why a driver could not start or had to stop.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Hard state could not be read or made durable: the node stops rather than risk a vote it
    /// would forget.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What the host tells a running node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostInput {
    /// The host received its own AppendEntries from `from` in `term` (counts as a heartbeat).
    LeaderContact {
        /// The leader.
        from: NodeId,
        /// Its term.
        term: Term,
        /// Its commit index.
        leader_commit: u64,
    },
    /// As leader, the host's AppendEntries sent `sent_ago` ago was acknowledged by `from`.
    AppendAcknowledged {
        /// The follower.
        from: NodeId,
        /// The term it answered in.
        term: Term,
        /// How long ago the acknowledged request was sent.
        sent_ago: Duration,
    },
    /// The host's log now ends here.
    LastLog(LogPosition),
    /// The host's commit index.
    CommitIndex(u64),
    /// As leader, start handing over to `target` (thesis §3.10).
    TransferLeadership {
        /// The member to take over.
        target: NodeId,
    },
    /// The transfer's target is caught up: send it `TimeoutNow`.
    TransferCaughtUp,
    /// The configuration last given to [`Handle::set_membership`] is committed: a leader it
    /// removed steps down.
    MembershipCommitted,
}

/// Why [`Handle::set_membership`] did not change the membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MembershipChangeError {
    /// The core refused the change (for example, more than one voter changed at once); the
    /// membership is as it was.
    #[error(transparent)]
    Refused(#[from] MembershipError),
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

/// What a [`Handle`] asks of the driver and waits for an answer to.
enum Request {
    Read(oneshot::Sender<Result<(), ReadError>>),
    Membership(Membership, oneshot::Sender<Result<(), MembershipError>>),
}

/// Why [`Handle::read_index`] could not confirm a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The node does not lead, or stopped leading (or moved to another term) before a majority
    /// confirmed it: serve the read elsewhere.
    #[error("this node does not lead (or lost leadership before a majority confirmed it)")]
    NotLeader,
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

/// A read waiting for a majority to acknowledge a round sent at or after it arrived.
struct PendingRead {
    ticket: ReadTicket,
    reply: oneshot::Sender<Result<(), ReadError>>,
}

/// A lease the node holds (thesis §6.4.1), in the host's monotonic time: it may serve reads
/// from local state until `until`, unless it reports otherwise first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// The term the node leads.
    pub term: Term,
    /// When the driver learned of the lease's latest extension.
    pub since: std::time::Instant,
    /// When the lease runs out, unless extended.
    pub until: std::time::Instant,
}

/// The host's side of a running node: status, events, and inputs.
#[derive(Debug)]
pub struct Handle {
    /// The latest status snapshot, updated after every input.
    pub status: watch::Receiver<Status>,
    /// The lease the node holds, changed only when it is taken, extended or given up (its
    /// instants are computed when the node decided, so a reader delayed, even by a stopped
    /// process, still reads when the lease really ends). `None` once the node knows it holds
    /// none; a lease that runs out without a new input still reads `Some` past `until`.
    pub lease: watch::Receiver<Option<Lease>>,
    events: broadcast::Sender<Event>,
    inputs: mpsc::Sender<HostInput>,
    requests: mpsc::Sender<Request>,
}

impl Handle {
    /// Read index (thesis §6.4): resolves once a majority has acknowledged a heartbeat round
    /// this leader sent after the call, so a read of state committed before the call may be
    /// served linearizably. The node sends that round at once. Fails if the node does not lead
    /// or loses its term first.
    pub async fn read_index(&self) -> Result<(), ReadError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Read(reply)).await.map_err(|_| ReadError::Stopped)?;
        answer.await.map_err(|_| ReadError::Stopped)?
    }

    /// The latest configuration in the host's log is now `membership` (thesis §4.1): see
    /// [`Node::set_membership`](crate::core::Node::set_membership) for when to call it, and
    /// [`HostInput::MembershipCommitted`] once it commits. The transport must already know
    /// how to reach a member added.
    pub async fn set_membership(
        &self,
        membership: Membership,
    ) -> Result<(), MembershipChangeError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Membership(membership, reply);
        self.requests.send(request).await.map_err(|_| MembershipChangeError::Stopped)?;
        Ok(answer.await.map_err(|_| MembershipChangeError::Stopped)??)
    }

    /// A stream of the node's events from now on (a slow reader misses old ones, and is told).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Sends the node an input from the host; fails only if the node has stopped.
    pub async fn input(&self, input: HostInput) -> Result<(), HostInput> {
        self.inputs.send(input).await.map_err(|e| e.0)
    }
}

/// A node ready to run.
pub struct Driver<T, S> {
    node: Node,
    transport: T,
    store: S,
    origin: TokioInstant,
    status: watch::Sender<Status>,
    lease: watch::Sender<Option<Lease>>,
    /// The term and expiry (core time) of the lease last published.
    lease_published: Option<(Term, Instant)>,
    events: broadcast::Sender<Event>,
    inputs: mpsc::Receiver<HostInput>,
    requests: mpsc::Receiver<Request>,
    pending_reads: Vec<PendingRead>,
    telemetry: Telemetry,
}

impl<T: Transport, S: HardStateStore> Driver<T, S> {
    /// Loads the hard state from `store` and builds the node, whose log ends at `last_log`
    /// (`LogPosition::default()` for a host without a log): votes compare it (Raft §5.4.1).
    pub async fn new(
        config: Config,
        mut store: S,
        transport: T,
        last_log: LogPosition,
    ) -> Result<(Self, Handle), RuntimeError> {
        let hard_state = store.load().await?.unwrap_or_default();
        let telemetry =
            Telemetry::new(config.id.0, config.heartbeat_interval, &config.shadow_detectors);
        let node = Node::restart(config, hard_state, last_log, Instant::ZERO)?;
        let (status, status_rx) = watch::channel(node.status(Instant::ZERO));
        let (lease, lease_rx) = watch::channel(None);
        let (events, _) = broadcast::channel(256);
        let (inputs_tx, inputs) = mpsc::channel(256);
        let (requests_tx, requests) = mpsc::channel(256);
        let handle = Handle {
            status: status_rx,
            lease: lease_rx,
            events: events.clone(),
            inputs: inputs_tx,
            requests: requests_tx,
        };
        let driver = Driver {
            node,
            transport,
            store,
            origin: TokioInstant::now(),
            status,
            lease,
            lease_published: None,
            events,
            inputs,
            requests,
            pending_reads: Vec::new(),
            telemetry,
        };
        Ok((driver, handle))
    }

    fn now(&self) -> Instant {
        let elapsed = TokioInstant::now().saturating_duration_since(self.origin);
        Instant::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    fn tokio_instant(&self, at: Instant) -> TokioInstant {
        self.origin + Duration::from_nanos(at.as_nanos())
    }

    /// Runs until `shutdown` completes, the transport closes, or storage fails; everything it
    /// logs is in a `node` span naming the node.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), RuntimeError> {
        let span = tracing::info_span!("node", id = %self.node.id());
        self.serve(shutdown).instrument(span).await
    }

    async fn serve(mut self, shutdown: impl Future<Output = ()>) -> Result<(), RuntimeError> {
        tokio::pin!(shutdown);
        let timer = sleep_until(self.origin);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            self.flush().await?;
            let deadline = self.node.poll_timeout();
            if armed != Some(deadline) {
                timer.as_mut().reset(self.tokio_instant(deadline));
                armed = Some(deadline);
            }
            tokio::select! {
                biased;
                () = &mut shutdown => return Ok(()),
                () = &mut timer, if armed.is_some() => {
                    let due = armed.take().unwrap_or(Instant::ZERO);
                    let now = self.now();
                    self.telemetry.timer_fired(due, now, self.node.role() == Role::Leader);
                    self.node.handle_timeout(now);
                }
                message = self.transport.recv() => {
                    let Some(envelope) = message else { return Ok(()) };
                    let now = self.now();
                    self.telemetry.received(&envelope, now);
                    if let Err(e) = self.node.handle_message(now, envelope) {
                        tracing::warn!(error = %e, "message refused");
                    }
                }
                Some(input) = self.inputs.recv() => self.host_input(input),
                Some(request) = self.requests.recv() => match request {
                    Request::Read(reply) => self.start_read(reply),
                    Request::Membership(membership, reply) => {
                        let now = self.now();
                        let _ = reply.send(self.node.set_membership(now, membership));
                    }
                },
            }
        }
    }

    fn host_input(&mut self, input: HostInput) {
        let now = self.now();
        let result = match input {
            HostInput::LeaderContact { from, term, leader_commit } => {
                self.node.leader_contact(now, from, term, leader_commit).map(Self::note)
            }
            HostInput::AppendAcknowledged { from, term, sent_ago } => {
                let sent_at = Instant::from_nanos(
                    now.as_nanos()
                        .saturating_sub(u64::try_from(sent_ago.as_nanos()).unwrap_or(u64::MAX)),
                );
                self.node.append_acknowledged(now, from, term, sent_at).map(Self::note)
            }
            HostInput::LastLog(pos) => {
                self.node.set_last_log(pos);
                Ok(())
            }
            HostInput::CommitIndex(index) => {
                self.node.set_commit_index(index);
                Ok(())
            }
            HostInput::TransferLeadership { target } => {
                if let Err(e) = self.node.transfer_leadership(now, target) {
                    tracing::warn!(error = %e, "transfer refused");
                }
                Ok(())
            }
            HostInput::TransferCaughtUp => {
                if let Err(e) = self.node.transfer_caught_up(now) {
                    tracing::warn!(error = %e, "transfer refused");
                }
                Ok(())
            }
            HostInput::MembershipCommitted => {
                self.node.membership_committed(now);
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "host input refused");
        }
    }

    /// Sends a round now for a read, or refuses it if this node does not lead.
    fn start_read(&mut self, reply: oneshot::Sender<Result<(), ReadError>>) {
        let now = self.now();
        match self.node.heartbeat_now(now) {
            Some(ticket) => self.pending_reads.push(PendingRead { ticket, reply }),
            None => {
                let _ = reply.send(Err(ReadError::NotLeader));
            }
        }
    }

    /// Answers the reads a majority has confirmed, and refuses those whose term has passed.
    fn settle_reads(&mut self) {
        if self.pending_reads.is_empty() {
            return;
        }
        let (node, mut kept) = (&self.node, Vec::new());
        for read in self.pending_reads.drain(..) {
            if node.role() != Role::Leader || node.term() != read.ticket.term() {
                let _ = read.reply.send(Err(ReadError::NotLeader));
            } else if node.majority_acked_since(read.ticket) {
                let _ = read.reply.send(Ok(()));
            } else {
                kept.push(read);
            }
        }
        self.pending_reads = kept;
    }

    /// Logs a host-reported contact the node did not count.
    fn note(outcome: Contact) {
        if outcome != Contact::Counted {
            tracing::debug!(?outcome, "host input not counted");
        }
    }

    /// The core's contract: persist, then send, then report.
    async fn flush(&mut self) -> Result<(), RuntimeError> {
        while let Some(state) = self.node.take_hard_state() {
            let started = self.now();
            self.store.save(state).await?;
            let now = self.now();
            self.telemetry.hard_state_written(now.saturating_duration_since(started));
            self.node.hard_state_persisted(now, state);
        }
        while let Some(envelope) = self.node.poll_transmit() {
            let now = self.now();
            self.telemetry.sent(&envelope, now);
            self.transport.send(envelope).await;
        }
        while let Some(event) = self.node.poll_event() {
            tracing::debug!(?event, "event");
            self.telemetry.event(&event, self.now());
            let _ = self.events.send(event);
        }
        self.settle_reads();
        let now = self.now();
        let status = self.node.status(now);
        self.publish_lease(now, status.term, status.lease_remaining);
        self.telemetry.status(&status);
        self.status.send_replace(status);
        Ok(())
    }

    /// Publishes the lease when it is taken, extended or given up.
    fn publish_lease(&mut self, now: Instant, term: Term, remaining: Option<Duration>) {
        let held = remaining.map(|r| (term, now + r));
        if held == self.lease_published {
            return;
        }
        self.lease_published = held;
        let lease = held.map(|(term, until)| Lease {
            term,
            since: self.tokio_instant(now).into_std(),
            until: self.tokio_instant(until).into_std(),
        });
        self.lease.send_replace(lease);
    }
}
