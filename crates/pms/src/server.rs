//! The HTTP/1 server loop: hyper's connection driver with the limits a service on an open
//! network needs, which `axum::serve` does not offer.
//!
//! - At most `max_connections` connections are served at once; beyond that pms stops accepting
//!   and further connections wait in the kernel's accept queue.
//! - A request head must arrive within `header_read_timeout`: counted from the connection's start
//!   for its first request, from the head's first byte for later ones.
//! - A keep-alive connection with no request in flight is closed after `idle_timeout`.
//! - A request (its body included: handlers read it) not answered within `request_timeout` gets
//!   [`pms_api::request_timeout_response`] and the connection is closed.
//! - On shutdown pms stops accepting, lets every connection finish its request in flight, and
//!   returns once all are closed (the timeouts above bound how long that can take).
//!
//! The timeouts are watched per connection by one timer in the connection's own task, waking at
//! least once every `min(header_read_timeout, idle_timeout)`, so a busy connection costs no extra
//! wake-up per request.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use pms_domain::Clock;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;
use tower::{Service, ServiceExt};

/// `http.*` connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains the open connections.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    // Dropping `stop` tells every connection to finish; each holds a `done` sender, so `recv`
    // returns `None` once all have closed.
    let (stop, stopped) = watch::channel(());
    let (done, mut all_closed) = mpsc::channel::<Infallible>(1);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if !per_connection(&e) {
                        // Out of file descriptors (or alike): wait for connections to close
                        // instead of spinning; pms itself keeps running.
                        tracing::warn!(error = %e, "cannot accept connections; retrying in 1 s");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn = connection(stream, app.clone(), limits, clock.clone(), stopped.clone());
        let done = done.clone();
        tokio::spawn(async move {
            conn.await;
            drop(permit);
            drop(done);
        });
    }
    drop(listener);
    drop(stop);
    drop(done);
    let _ = all_closed.recv().await;
}

/// Accept errors that concern only the connection being accepted (as hyper/axum treat them).
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// What the connection's watcher needs to know, updated from the I/O and the service. Times are
/// nanoseconds since the connection started.
struct ConnState {
    start: Instant,
    in_flight: AtomicUsize,
    served: AtomicU64,
    /// Bytes of a request head arrived while no request was in flight.
    head_started: AtomicBool,
    head_started_at: AtomicU64,
    idle_since: AtomicU64,
}

/// What the watcher does when a deadline passes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expiry {
    /// A request head did not arrive in time: the connection is dropped.
    Head,
    /// A keep-alive connection stayed idle: it is closed gracefully.
    Idle,
}

impl ConnState {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            head_started: AtomicBool::new(false),
            head_started_at: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    fn elapsed_nanos(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn at(&self, nanos: u64) -> Instant {
        self.start + Duration::from_nanos(nanos)
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(false, Ordering::Relaxed);
    }

    fn request_finished(&self) {
        self.idle_since
            .store(self.elapsed_nanos(), Ordering::Relaxed);
        self.served.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Bytes were read from the socket.
    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0 && !self.head_started.load(Ordering::Relaxed)
        {
            self.head_started_at
                .store(self.elapsed_nanos(), Ordering::Relaxed);
            self.head_started.store(true, Ordering::Relaxed);
        }
    }

    /// The next deadline and what happens at it; `None` while a request is in flight (its own
    /// timeout bounds it).
    fn deadline(&self, limits: &Limits) -> Option<(Instant, Expiry)> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        if self.head_started.load(Ordering::Relaxed) {
            let at = self.at(self.head_started_at.load(Ordering::Relaxed));
            return Some((at + limits.header_read_timeout, Expiry::Head));
        }
        if self.served.load(Ordering::Relaxed) == 0 {
            return Some((self.start + limits.header_read_timeout, Expiry::Head));
        }
        let at = self.at(self.idle_since.load(Ordering::Relaxed));
        Some((at + limits.idle_timeout, Expiry::Idle))
    }
}

/// A request in flight; finishing (or being dropped with its connection) counts it done.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn start(state: &Arc<ConnState>) -> Self {
        state.request_started();
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The socket, telling the connection's state when bytes arrive.
struct Watched {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Serves one connection until it closes, times out, or shutdown has let it finish.
async fn connection<S>(
    stream: TcpStream,
    app: S,
    limits: Limits,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let state = Arc::new(ConnState::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        state: state.clone(),
    });
    let service_state = state.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let in_flight = InFlight::start(&service_state);
        // Only the portal's prefix decides the timeout answer's form: no copy of the path.
        let portal = pms_api::is_portal_path(req.uri().path());
        let answer = app.clone().oneshot(req.map(Body::new));
        let clock = clock.clone();
        async move {
            let response = match tokio::time::timeout(limits.request_timeout, answer).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => pms_api::request_timeout_response(
                    portal,
                    clock.now(),
                    limits.request_timeout.as_secs(),
                ),
            };
            drop(in_flight);
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // This module watches the request head itself (hyper's own timer would also close idle
    // keep-alive connections after the head timeout).
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // A deadline can only move earlier than the armed wake-up when a request finishes (idle
    // from then) or a head starts (head timeout from then); waking at least this often sees
    // either in time.
    let period = limits.header_read_timeout.min(limits.idle_timeout);
    let timer = tokio::time::sleep(period);
    tokio::pin!(timer);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                // The sender is dropped on shutdown, never sent on: either way, finish.
                let _ = changed;
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = timer.as_mut() => {
                let now = Instant::now();
                let next = match state.deadline(&limits) {
                    Some((at, expiry)) if at <= now => match expiry {
                        Expiry::Head => {
                            tracing::debug!("request head not received in time; closing");
                            return;
                        }
                        Expiry::Idle => {
                            conn.as_mut().graceful_shutdown();
                            now + period
                        }
                    },
                    Some((at, _)) => at.min(now + period),
                    None => now + period,
                };
                timer.as_mut().reset(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections: 1,
        }
    }

    #[test]
    fn deadlines_follow_the_connection_state() {
        let l = limits();
        let s = ConnState::new();
        // New connection: the head timeout from the start.
        assert_eq!(
            s.deadline(&l),
            Some((s.start + l.header_read_timeout, Expiry::Head))
        );
        s.bytes_read();
        assert_eq!(s.deadline(&l).map(|d| d.1), Some(Expiry::Head));
        s.request_started();
        assert_eq!(s.deadline(&l), None);
        // Body bytes while in flight do not start a head.
        s.bytes_read();
        s.request_finished();
        let (at, expiry) = s.deadline(&l).unwrap();
        assert_eq!(expiry, Expiry::Idle);
        assert!(at >= s.start + l.idle_timeout);
        // The next head's first byte: the head timeout from then.
        s.bytes_read();
        let (at, expiry) = s.deadline(&l).unwrap();
        assert_eq!(expiry, Expiry::Head);
        assert!(at < s.start + l.idle_timeout);
    }
}
