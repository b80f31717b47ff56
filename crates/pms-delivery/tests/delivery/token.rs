//! The service token (downstream.md §2): cached, dropped after a 401, fetched again when it
//! expires, its failures counted as failed attempts, and never logged.

use crate::support::{Harness, Mode, Options, CLIENT_SECRET};
use pms_delivery::TokenMode;
use pms_domain::outbox::OutboxState;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn one_token_serves_many_calls() {
    let mut h = Harness::start(Options::default()).await;
    for id in ["t-1", "t-2", "t-3"] {
        h.create_client(id, true).await;
    }
    h.drive_until_done().await;
    h.partner_updated("pms-1").await;
    h.drive_until_done().await;
    assert_eq!(h.world.calls().len(), 3);
    assert_eq!(h.world.published().len(), 4);
    assert_eq!(h.world.fetches(), 1);
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn a_401_drops_the_token_and_the_retry_fetches_a_new_one() {
    let mut h = Harness::start(Options::default()).await;
    let c = h.create_client("t-4", false).await;
    h.drive_until_done().await;
    assert_eq!(h.world.fetches(), 1);
    h.world.revoke_all_tokens();
    h.update_client(&c.id, |c| c.name = "New name".into()).await;
    let rows = h.drive_until_done().await;
    let update = &rows[2];
    assert_eq!(update.state, OutboxState::Delivered);
    assert_eq!(update.attempts, 1);
    assert_eq!(update.last_error.as_deref(), Some("HTTP 401"));
    assert_eq!(h.world.fetches(), 2);
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn a_token_is_fetched_again_shortly_before_it_expires() {
    let mut h = Harness::start(Options::default()).await;
    h.create_client("t-5", false).await;
    h.drive_until_done().await;
    // The stand-in's tokens live a day; 60 s before that they are no longer used.
    h.clock.advance(chrono::Duration::seconds(86_400 - 59));
    h.partner_updated("pms-1").await;
    h.drive_until_done().await;
    assert_eq!(h.world.fetches(), 2);
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn an_opaque_token_is_kept_for_its_expires_in() {
    let mut h = Harness::prepare(Options::default()).await;
    h.world.opaque_tokens.store(true, Ordering::SeqCst);
    h.start_worker();
    h.create_client("t-6", false).await;
    h.drive_until_done().await;
    h.clock.advance(chrono::Duration::hours(2));
    h.partner_updated("pms-1").await;
    h.drive_until_done().await;
    assert_eq!(h.world.fetches(), 1);
    h.clock.advance(chrono::Duration::days(1));
    h.partner_updated("pms-2").await;
    h.drive_until_done().await;
    assert_eq!(h.world.fetches(), 2);
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn a_token_fetch_failure_is_a_failed_attempt() {
    let mut h = Harness::start(Options::default()).await;
    *h.world.token_mode.lock().unwrap() = Mode::Status(500);
    h.create_client("t-7", true).await;
    let rows = h
        .drive_until("a failed attempt", |rows| rows[0].attempts >= 2)
        .await;
    assert_eq!(rows[0].state, OutboxState::Pending);
    assert_eq!(
        rows[0].last_error.as_deref(),
        Some("service token: HTTP 500")
    );
    assert!(h.world.calls().is_empty());
    *h.world.token_mode.lock().unwrap() = Mode::Healthy;
    h.drive_until_done().await;
    assert_eq!(h.world.calls().len(), 1);
    assert_eq!(h.world.fetches(), 1);
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn mosip_auth_manager_token_comes_from_the_cookie() {
    let mut h = Harness::start(Options {
        token_mode: TokenMode::MosipAuthManager,
        ..Options::default()
    })
    .await;
    h.create_client("t-8", true).await;
    h.create_client("t-9", false).await;
    h.drive_until_done().await;
    assert_eq!(h.world.calls().len(), 2);
    assert_eq!(h.world.published().len(), 2);
    assert_eq!(h.world.fetches(), 1);
    h.world.assert_no_violations();
    h.stop().await;
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the worker logs at any level, through failures, a 401 and deliveries, mentions
/// neither the secret nor a token.
#[tokio::test]
async fn neither_secret_nor_token_is_logged() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut h = Harness::start(Options::default()).await;
    *h.world.token_mode.lock().unwrap() = Mode::Status(503);
    let c = h.create_client("t-10", true).await;
    h.drive_until("a failed attempt", |rows| rows[0].attempts >= 1)
        .await;
    *h.world.token_mode.lock().unwrap() = Mode::Healthy;
    h.drive_until_done().await;
    h.world.revoke_all_tokens();
    h.update_client(&c.id, |c| c.name = "x".into()).await;
    h.drive_until_done().await;
    h.world.set_esignet(Mode::Status(403));
    h.update_client(&c.id, |c| c.name = "y".into()).await;
    h.drive_until("a forbidden attempt", |rows| rows[4].attempts >= 1)
        .await;
    h.stop().await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("outbox row delivered"), "nothing captured");
    assert!(text.contains("HTTP 403"));
    assert!(!text.contains(CLIENT_SECRET));
    for token in h.world.issued_tokens() {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!text.contains(signature), "a token was logged");
    }
}
