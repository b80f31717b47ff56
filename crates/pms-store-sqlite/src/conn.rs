//! Connections: idle read connections used inline on the calling task, and the one writer
//! connection, whose transactions are committed in groups.
//!
//! Why inline: a statement on a warm SQLite file takes microseconds, less than handing it to
//! another thread and back (sqlx-sqlite did that for every statement, and the hand-offs were
//! half of a read request's CPU). Only what can wait long runs on the blocking pool:
//! `BEGIN IMMEDIATE` when another process holds the write lock, and `COMMIT` (fsync).
//!
//! Group commit: each write operation runs inside a savepoint of a transaction that several
//! operations share. An operation that finishes releases its savepoint and gives up its turn,
//! so writers already queued join the same transaction; the transaction is committed, with one
//! fsync, by its first member when the turn comes back to it (by another member if the first
//! one's request is cancelled, or at once when the group is full). Every member is answered
//! only after that commit succeeded; if it fails, every member gets the error. An operation
//! that fails rolls back to its savepoint and leaves the others' work alone.

use pms_domain::{Outage, StoreError, Writability};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

/// A group is committed without waiting for more members once it has this many.
const MAX_GROUP: usize = 64;

/// How long a group's later members leave committing it to its first member before they queue
/// for the turn themselves (the first member's request may have been cancelled).
const TAKE_OVER_AFTER: Duration = Duration::from_millis(200);

/// WAL pages after which a commit copies the WAL into the database file (SQLite's default is
/// 1000). The copy runs on the writer's serial path and writes each changed page once, however
/// often the WAL holds it; with random client ids most pages a create changes are index pages
/// that the next few thousand creates change again, so a longer WAL copies far fewer pages per
/// create. 10000 pages is a WAL file of at most ~40 MB; durability is the same (every commit
/// is synced, `synchronous = FULL`).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The one place where SQLite's errors are sorted: what says the database cannot serve now
/// (no room, read-only, an I/O error or a file that cannot be opened, a lock still held after
/// the busy timeout) is an [`Outage`]; anything else is a fault.
pub(crate) fn classify(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    let reason = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            C::DiskFull => Some(Outage::DiskFull),
            C::ReadOnly => Some(Outage::ReadOnly),
            C::SystemIoFailure | C::CannotOpen | C::PermissionDenied => Some(Outage::Unreachable),
            C::DatabaseBusy | C::DatabaseLocked | C::FileLockingProtocolFailed => {
                Some(Outage::Busy)
            }
            _ => None,
        },
        _ => None,
    };
    match reason {
        Some(reason) => StoreError::unavailable(reason, e.to_string()),
        None => StoreError::failed(e.to_string()),
    }
}

/// What a member of a group hears when SQLite rolled the group's transaction back on its own:
/// it does so only after an error of the kind [`classify`] calls an outage (SQLITE_FULL,
/// SQLITE_IOERR, SQLITE_BUSY, SQLITE_NOMEM), the one the failing write recorded in `health`.
fn rolled_back(health: &Writability) -> StoreError {
    let reason = match health.down() {
        Some(StoreError::Unavailable { reason, .. }) => reason,
        _ => Outage::Unreachable,
    };
    StoreError::unavailable(reason, "SQLite rolled the transaction back")
}

/// Runs one statement from the connection's statement cache (`execute_batch` would parse it
/// again on every call; these run several times per write).
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Opens one connection with the settings every connection of the store uses.
pub(crate) fn open(path: &Path, busy: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| classify(e).context(&format!("cannot open SQLite file {}", path.display())))?;
    conn.busy_timeout(busy).map_err(classify)?;
    // FULL: a commit acknowledged to a caller survives a power loss, not only a crash.
    conn.execute_batch(
        // temp_store: each write runs in a savepoint, whose statement journal would otherwise
        // be a temporary file.
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(classify)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The outcome of a group's commit, shared with its members.
type Outcome = Option<Result<(), StoreError>>;

struct Group {
    outcome: watch::Sender<Outcome>,
}

pub(crate) struct Writer {
    conn: Connection,
    /// The open shared transaction, if any.
    group: Option<Arc<Group>>,
    /// Operations whose savepoints were released into the open transaction.
    members: usize,
    /// Steps aside while a group is open.
    holder: Arc<Holder>,
    health: Arc<Writability>,
}

impl Writer {
    /// Called when SQLite rolled the whole transaction back on its own (disk full, I/O error):
    /// the members' released work is gone, so they must hear it.
    fn abandon(&mut self, why: StoreError) {
        if let Some(g) = self.group.take() {
            g.outcome.send_replace(Some(Err(why)));
        }
        self.members = 0;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.holder.hold_again();
    }
}

/// How old the holder's snapshot may get before the store's task drops it (the next read takes
/// a new one). Another process's commits leave it behind; a stale snapshot keeps
/// that process's checkpoints from copying the newest frames (and its WAL from restarting), and
/// readers then lock a newer mark themselves.
pub(crate) const HOLD_AT_MOST: Duration = Duration::from_secs(1);

/// A connection that keeps a read transaction open while no write group is, so that this
/// process always holds a shared lock on the WAL read mark its readers use.
///
/// Why: SQLite takes that lock with an `fcntl`, under a process-wide mutex, whenever the first
/// connection of the process starts reading on a mark, and drops it when the last one stops;
/// with reads one after another the count went 0 → 1 → 0 on every read
/// (`docs/performance.md`). Held here, it never reaches 0 while nobody writes. The holder reads
/// nothing: each reader still takes its own, newest snapshot. It steps aside before a write
/// group begins and takes a fresh snapshot when the group has ended, so this process's
/// checkpoints copy the whole WAL and the WAL restarts from its start as before; and a task of
/// the store drops a snapshot older than [`HOLD_AT_MOST`] (`Db::drop_stale_snapshot`), for
/// other processes' commits.
pub(crate) struct Holder {
    path: PathBuf,
    busy: Duration,
    state: SyncMutex<HolderState>,
    /// Milliseconds after `epoch` at which the held snapshot was taken; `u64::MAX`: none held.
    /// Read without the lock on every read (only whether one is held).
    held_at: AtomicU64,
    epoch: Instant,
}

struct HolderState {
    conn: Option<Connection>,
    /// A write group is open: hold nothing until it ends.
    aside: bool,
}

impl Holder {
    fn new(path: PathBuf, busy: Duration) -> Self {
        Self {
            path,
            busy,
            state: SyncMutex::new(HolderState {
                conn: None,
                aside: false,
            }),
            held_at: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Called before every read: takes a snapshot if none is held.
    fn before_read(&self) {
        if self.held_at.load(Ordering::Relaxed) == u64::MAX {
            self.renew();
        }
    }

    /// Ends the snapshot held, if any, and takes a new one unless a write group is open.
    /// Best effort: without it reads are as correct, only dearer.
    fn renew(&self) {
        let Ok(mut guard) = self.state.lock() else {
            return;
        };
        let h = &mut *guard;
        self.release(h);
        if h.aside {
            return;
        }
        if h.conn.is_none() {
            h.conn = open(&self.path, self.busy).ok();
        }
        let Some(c) = h.conn.as_ref() else {
            return;
        };
        // BEGIN is deferred: the snapshot, and the lock, come with the first read.
        let held = run(c, "BEGIN").is_ok()
            && c.prepare_cached("SELECT 1 FROM sqlite_schema LIMIT 1")
                .and_then(|mut st| st.exists([]))
                .is_ok();
        if held {
            self.held_at.store(self.now_ms(), Ordering::Relaxed);
        } else {
            self.release(h);
        }
    }

    /// Drops a snapshot older than [`HOLD_AT_MOST`]; the next read takes a new one.
    fn drop_if_stale(&self) {
        let max = u64::try_from(HOLD_AT_MOST.as_millis()).unwrap_or(u64::MAX);
        if let Ok(mut h) = self.state.lock() {
            let at = self.held_at.load(Ordering::Relaxed);
            if at != u64::MAX && self.now_ms().saturating_sub(at) > max {
                self.release(&mut h);
            }
        }
    }

    fn release(&self, h: &mut HolderState) {
        self.held_at.store(u64::MAX, Ordering::Relaxed);
        if let Some(c) = h.conn.as_ref() {
            if !c.is_autocommit() {
                let _ = c.execute_batch("ROLLBACK");
            }
        }
    }

    /// Ends the snapshot before a write group begins (called with the writer's turn).
    fn step_aside(&self) {
        if let Ok(mut h) = self.state.lock() {
            h.aside = true;
            self.release(&mut h);
        }
    }

    /// A fresh snapshot once the write group has ended (called with the writer's turn).
    fn hold_again(&self) {
        if let Ok(mut h) = self.state.lock() {
            h.aside = false;
        }
        self.renew();
    }
}

pub(crate) struct Db {
    path: PathBuf,
    busy: Duration,
    holder: Arc<Holder>,
    idle_readers: SyncMutex<Vec<Connection>>,
    max_idle_readers: usize,
    writer: Arc<Mutex<Writer>>,
    turn_timeout: Duration,
    health: Arc<Writability>,
}

impl Db {
    pub(crate) fn open(
        path: PathBuf,
        max_connections: u32,
        turn_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let busy = Duration::from_secs(10);
        let writer = open(&path, busy)?;
        // Only the writer commits, so only its setting matters.
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
            ))
            .map_err(classify)?;
        let holder = Arc::new(Holder::new(path.clone(), busy));
        let health = Arc::new(Writability::default());
        Ok(Self {
            path,
            busy,
            holder: holder.clone(),
            idle_readers: SyncMutex::new(Vec::new()),
            max_idle_readers: usize::try_from(max_connections.max(1)).unwrap_or(1),
            writer: Arc::new(Mutex::new(Writer {
                conn: writer,
                group: None,
                members: 0,
                holder,
                health: health.clone(),
            })),
            turn_timeout,
            health,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn health(&self) -> &Writability {
        &self.health
    }

    /// Drops the held snapshot once it is older than [`HOLD_AT_MOST`] (called every
    /// `HOLD_AT_MOST` by the store's task), so pms does not hold another process's checkpoints
    /// back for longer.
    pub(crate) fn drop_stale_snapshot(&self) {
        self.holder.drop_if_stale();
    }

    /// Runs `sql` on the writer connection (tests only: SQLite's own switches, such as
    /// `query_only`, that no file system can flip under a running process).
    #[cfg(test)]
    pub(crate) async fn on_writer(&self, sql: &str) {
        let w = self.writer.lock().await;
        if let Err(e) = w.conn.execute_batch(sql) {
            panic!("{sql}: {e}");
        }
    }

    /// An idle read connection, or a new one.
    pub(crate) fn reader(self: &Arc<Self>) -> Result<Reader, StoreError> {
        self.holder.before_read();
        let idle = self
            .idle_readers
            .lock()
            .map_err(|_| StoreError::failed("reader pool poisoned"))?
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => open(&self.path, self.busy)?,
        };
        Ok(Reader {
            conn: Some(conn),
            db: self.clone(),
        })
    }

    /// Folds the WAL into the database file (at shutdown), once no group is open: the next
    /// start then reads one file. Best effort; the WAL is as safe as the file.
    pub(crate) async fn checkpoint(&self) {
        let w = self.writer.clone().lock_owned().await;
        if w.group.is_some() {
            return;
        }
        let _ = tokio::task::spawn_blocking(move || {
            // TRUNCATE waits for every reader of the WAL, the holder's snapshot included.
            w.holder.step_aside();
            let _ = w.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
            w.holder.hold_again();
        })
        .await;
    }

    /// Waits for the writer's turn and opens a savepoint for one operation. A failure is
    /// recorded in the store's [`Writability`], as is the outcome of the turn's commit.
    pub(crate) async fn write(self: &Arc<Self>) -> Result<WriteTurn, StoreError> {
        let turn = self.turn().await;
        if let Err(e) = &turn {
            self.health.failed(e);
        }
        turn
    }

    async fn turn(self: &Arc<Self>) -> Result<WriteTurn, StoreError> {
        let mut w = tokio::time::timeout(self.turn_timeout, self.writer.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::unavailable(Outage::Busy, "timed out waiting for the SQLite writer")
            })?;
        if w.group.is_none() {
            if !w.conn.is_autocommit() {
                // A transaction left open by a commit that never came back; nobody was told
                // it succeeded.
                let _ = w.conn.execute_batch("ROLLBACK");
            }
            let holder = w.holder.clone();
            holder.step_aside();
            w = begin(w, self.busy)
                .await
                .inspect_err(|_| holder.hold_again())?;
            let (outcome, _) = watch::channel(None);
            w.group = Some(Arc::new(Group { outcome }));
            w.members = 0;
        }
        if let Err(e) = run(&w.conn, "SAVEPOINT op") {
            let e = classify(e);
            if w.conn.is_autocommit() {
                w.abandon(e.clone());
            }
            return Err(e);
        }
        Ok(WriteTurn {
            guard: Some(w),
            writer: self.writer.clone(),
            health: self.health.clone(),
        })
    }
}

/// A read connection, returned to the idle list when dropped.
pub(crate) struct Reader {
    conn: Option<Connection>,
    db: Arc<Db>,
}

impl Reader {
    pub(crate) fn conn(&self) -> Option<&Connection> {
        self.conn.as_ref()
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if let Ok(mut idle) = self.db.idle_readers.lock() {
                if idle.len() < self.db.max_idle_readers {
                    idle.push(c);
                }
            }
        }
    }
}

/// One operation's turn on the writer, inside its savepoint. Dropped without
/// [`WriteTurn::commit`], it rolls the savepoint back.
pub(crate) struct WriteTurn {
    guard: Option<OwnedMutexGuard<Writer>>,
    writer: Arc<Mutex<Writer>>,
    health: Arc<Writability>,
}

impl WriteTurn {
    pub(crate) fn conn(&self) -> Option<&Connection> {
        self.guard.as_ref().map(|w| &w.conn)
    }

    /// Records the failure of one of the turn's statements (an outage marks the store down).
    pub(crate) fn note(&self, e: &StoreError) {
        self.health.failed(e);
    }

    /// Releases the savepoint into the shared transaction and returns once that transaction
    /// is durably committed (or failed); records the outcome in the store's [`Writability`].
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        let health = self.health.clone();
        let outcome = self.commit_inner().await;
        health.record(&outcome);
        outcome
    }

    async fn commit_inner(mut self) -> Result<(), StoreError> {
        let Some(mut w) = self.guard.take() else {
            return Err(StoreError::failed("write turn already finished"));
        };
        if let Err(e) = run(&w.conn, "RELEASE op") {
            let e = classify(e);
            if w.conn.is_autocommit() {
                w.abandon(e.clone());
            } else {
                rollback_op(&mut w);
            }
            return Err(e);
        }
        if w.conn.is_autocommit() {
            let e = rolled_back(&w.health);
            w.abandon(e.clone());
            return Err(e);
        }
        w.members += 1;
        let Some(group) = w.group.clone() else {
            return Err(StoreError::failed("no open transaction"));
        };
        let mut rx = group.outcome.subscribe();
        if w.members >= MAX_GROUP {
            return commit_group(w).await;
        }
        // Give the turn to writers already queued; they join this transaction. The group's
        // first member queues again at once and commits when its turn comes; the others only
        // wait for the outcome. (When every member queued for the turn, each one still queued
        // after the commit was handed the turn only to give it back: a hand-off each on the
        // writer's path.) If the first member goes away (its request was cancelled), the
        // others queue after `TAKE_OVER_AFTER`, so the group is committed all the same.
        let first = w.members == 1;
        drop(w);
        tokio::select! {
            biased;
            _ = rx.changed() => {}
            w = async {
                if !first {
                    tokio::time::sleep(TAKE_OVER_AFTER).await;
                }
                self.writer.clone().lock_owned().await
            } => {
                if w.group.as_ref().is_some_and(|g| Arc::ptr_eq(g, &group)) {
                    return commit_group(w).await;
                }
                // Another member committed it before we got the turn.
            }
        }
        let outcome = rx.borrow().clone();
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err(StoreError::failed("transaction abandoned")),
        }
    }
}

/// `BEGIN IMMEDIATE` on the writer: inline first, without waiting (only another process can
/// hold the write lock, and a thread hand-off there and back cost more than the statement),
/// else on the blocking pool until the lock is free.
async fn begin(
    w: OwnedMutexGuard<Writer>,
    busy: Duration,
) -> Result<OwnedMutexGuard<Writer>, StoreError> {
    if begin_now(&w.conn, busy).map_err(classify)? {
        return Ok(w);
    }
    let (w, r) = tokio::task::spawn_blocking(move || {
        let r = run(&w.conn, "BEGIN IMMEDIATE");
        (w, r)
    })
    .await
    .map_err(|e| StoreError::failed(format!("writer task failed: {e}")))?;
    r.map_err(classify)?;
    Ok(w)
}

/// `BEGIN IMMEDIATE` if the write lock is free right now: `Ok(false)` when another connection
/// holds it (the caller then waits for it off the runtime's threads).
fn begin_now(conn: &Connection, busy: Duration) -> rusqlite::Result<bool> {
    conn.busy_timeout(Duration::ZERO)?;
    let r = run(conn, "BEGIN IMMEDIATE");
    conn.busy_timeout(busy)?;
    match r {
        Ok(()) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn rollback_op(w: &mut Writer) {
    let _ = run(&w.conn, "ROLLBACK TO op");
    let _ = run(&w.conn, "RELEASE op");
}

/// Commits the open group (fsync on the blocking pool) and tells its members. The outcome is
/// published from the blocking task itself, so a caller that goes away meanwhile cannot
/// leave the members waiting.
async fn commit_group(mut w: OwnedMutexGuard<Writer>) -> Result<(), StoreError> {
    let group = w.group.take();
    w.members = 0;
    let result = tokio::task::spawn_blocking(move || {
        let r = run(&w.conn, "COMMIT").map_err(classify);
        if r.is_err() && !w.conn.is_autocommit() {
            let _ = w.conn.execute_batch("ROLLBACK");
        }
        if let Some(g) = group {
            g.outcome.send_replace(Some(r.clone()));
        }
        // After the members have their answer, still within the writer's turn.
        w.holder.hold_again();
        drop(w);
        r
    })
    .await
    .map_err(|e| StoreError::failed(format!("writer task failed: {e}")))?;
    result
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        let Some(mut w) = self.guard.take() else {
            return;
        };
        rollback_op(&mut w);
        if w.conn.is_autocommit() {
            let e = rolled_back(&w.health);
            w.abandon(e);
        } else if w.members == 0 {
            // Nothing of anyone's in the transaction: end it rather than hold the write lock.
            let _ = w.conn.execute_batch("ROLLBACK");
            w.group = None;
            w.holder.hold_again();
        }
        // Otherwise released members are queued for the turn and one of them commits.
    }
}
