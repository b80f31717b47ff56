//! The ceiling: a trivial axum server answering every `GET /ceiling` with a fixed, small
//! MOSIP-shaped JSON body. It runs as its own process (`pms-bench --ceiling-server`) with the
//! same runtime shape as `pms serve` (tokio's default multi-threaded runtime, axum over HTTP/1.1),
//! so that the load client, the server under test and the ceiling compete for the same two cores
//! in the same way: the ceiling is what this machine and this client can do with no application
//! work at all.

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use std::io::Write;

/// The path the ceiling serves.
pub const PATH: &str = "/ceiling";

/// What the ceiling prints on stdout once it listens.
pub const LISTENING: &str = "ceiling listening on ";

const BODY: &str = r#"{"id":"mosip.bench.ceiling","version":"1.0","responsetime":"2026-01-01T00:00:00.000Z","metadata":null,"response":{"status":"ok"},"errors":[]}"#;

/// Serves on 127.0.0.1:0 until killed; prints `ceiling listening on <addr>` first.
pub fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Router::new().route(
            PATH,
            get(|| async { ([(CONTENT_TYPE, "application/json")], BODY) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(out, "{LISTENING}{addr}")?;
        out.flush()?;
        let stop = async {
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
            }
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await?;
        Ok(())
    })
}
