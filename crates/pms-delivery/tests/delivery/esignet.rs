//! `ESIGNET` rows: bodies, ordering, the outcome table of downstream.md §3.5 and the retry rules
//! of §5.4–5.5.

use crate::support::{family_path, of, Effect, EsignetAt, Harness, Mode, Options};
use pms_domain::clock::parse_ts;
use pms_domain::model::ClientStatus;
use pms_domain::outbox::{Channel, OutboxState, TOPIC_CLIENT_CREATED, TOPIC_CLIENT_UPDATED};
use pms_domain::Clock;
use serde_json::{json, Value};
use std::time::Duration;

fn created(id: &str, oauth: bool) -> Effect {
    Effect::Created {
        id: id.into(),
        family: family_path(oauth).into(),
    }
}

fn updated(id: &str, status: &str) -> Effect {
    Effect::Updated {
        id: id.into(),
        status: status.into(),
    }
}

#[tokio::test]
async fn oauth_client_create_then_deactivation_are_delivered_in_order() {
    let mut h = Harness::start(Options::default()).await;
    let c = h.create_client("client-a", true).await;
    let rows = h.drive_until_done().await;
    assert_eq!(rows.len(), 2);
    let e = &of(&rows, Channel::Esignet)[0];
    assert_eq!(
        (e.state, e.attempts, e.last_error.as_deref()),
        (OutboxState::Delivered, 0, None)
    );
    assert!(e.delivered_at.is_some() && e.last_attempt_at.is_some() && e.lease_until.is_none());
    assert_eq!(h.world.effects(), [created("client-a", true)]);

    // The create body, as eSignet's OAuth family takes it.
    let calls = h.world.calls();
    let body = &calls[0].body;
    let req = &body["request"];
    assert_eq!(req["clientId"], "client-a");
    assert_eq!(req["publicKey"]["kty"], "EC");
    assert_eq!(req["relyingPartyId"], "pms-111999");
    assert_eq!(
        req["clientNameLangMap"],
        json!({"eng": "Health Services Portal", "fra": "Portail des services de santé"})
    );
    assert_eq!(
        parse_ts(body["requestTime"].as_str().unwrap()),
        Some(e.last_attempt_at.unwrap())
    );

    h.update_client(&c.id, |c| {
        c.status = ClientStatus::Inactive;
        c.name = "Renamed".into();
    })
    .await;
    let rows = h.drive_until_done().await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.state == OutboxState::Delivered));
    assert_eq!(
        h.world.effects(),
        [created("client-a", true), updated("client-a", "INACTIVE")]
    );
    let calls = h.world.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (
            calls[1].method,
            calls[1].family.as_str(),
            calls[1].id.as_str()
        ),
        ("PUT", "oauth-client", "client-a")
    );
    assert_eq!(calls[1].body["request"]["clientName"], "Renamed");

    // IDA hears of each change after eSignet has it, in commit order.
    let published = h.world.published();
    let topics: Vec<&str> = published.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(topics, [TOPIC_CLIENT_CREATED, TOPIC_CLIENT_UPDATED]);
    assert!(published[0].0 > h.world.effect_seq("client-a").unwrap());
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn create_and_deactivation_committed_before_the_worker_runs_send_the_current_record() {
    let mut h = Harness::prepare(Options::default()).await;
    let c = h.create_client("client-b", false).await;
    h.update_client(&c.id, |c| c.status = ClientStatus::Inactive)
        .await;
    h.start_worker();
    let rows = h.drive_until_done().await;
    // The create is sent as the current (inactive, version 2) record: create, then update; the
    // UPDATE row's content went with it.
    assert_eq!(
        h.world.effects(),
        [created("client-b", false), updated("client-b", "INACTIVE")]
    );
    let esignet = of(&rows, Channel::Esignet);
    assert_eq!(
        esignet.iter().map(|r| r.state).collect::<Vec<_>>(),
        [OutboxState::Delivered, OutboxState::Superseded]
    );
    let calls = h.world.calls();
    assert!(
        calls
            .iter()
            .all(|c| c.family == "oidc-client"
                && c.body["request"].get("clientNameLangMap").is_none())
    );
    let topics: Vec<String> = h.world.published().into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(topics, [TOPIC_CLIENT_CREATED, TOPIC_CLIENT_UPDATED]);
    h.world.assert_no_violations();
    h.stop().await;
}

/// Each kind of temporary failure is retried; once eSignet is healthy the client is created
/// exactly once and the event follows it.
#[tokio::test]
async fn temporary_failures_are_retried_then_delivered_exactly_once() {
    let cases: [(Mode, &str); 10] = [
        (Mode::Status(500), "HTTP 500"),
        (Mode::Status(503), "HTTP 503"),
        (Mode::Status(408), "HTTP 408"),
        (Mode::Status(429), "HTTP 429"),
        (Mode::Status(403), "HTTP 403"),
        (Mode::Status(401), "HTTP 401"),
        (
            Mode::Code("invalid_request"),
            "eSignet error invalid_request",
        ),
        (Mode::Code("unknown_error"), "eSignet error unknown_error"),
        (Mode::Garbage, "eSignet reply unreadable"),
        (Mode::NoResponse, "eSignet reply without response"),
    ];
    for (mode, error) in cases {
        let mut h = Harness::start(Options::default()).await;
        h.world.set_esignet(mode.clone());
        h.create_client("client-c", true).await;
        let rows = h
            .drive_until(&format!("two failed attempts with {mode:?}"), |rows| {
                rows[0].attempts >= 2
            })
            .await;
        let e = &rows[0];
        assert_eq!(e.state, OutboxState::Pending, "{mode:?}");
        assert_eq!(e.last_error.as_deref(), Some(error), "{mode:?}");
        assert!(e.next_attempt_at.unwrap() > e.last_attempt_at.unwrap());
        assert!(
            h.world.published().is_empty(),
            "{mode:?}: event before eSignet"
        );
        h.world.set_esignet(Mode::Healthy);
        let rows = h.drive_until_done().await;
        assert!(rows[0].attempts >= 2);
        assert_eq!(h.world.effects(), [created("client-c", true)], "{mode:?}");
        let published = h.world.published();
        assert_eq!(published.len(), 1, "{mode:?}");
        assert!(published[0].0 > h.world.effect_seq("client-c").unwrap());
        h.world.assert_no_violations();
        h.stop().await;
    }
}

#[tokio::test]
async fn refused_connections_are_retried_until_esignet_is_up() {
    let mut h = Harness::start(Options {
        esignet: EsignetAt::Down,
        ..Options::default()
    })
    .await;
    h.create_client("client-d", false).await;
    let rows = h
        .drive_until("a refused attempt", |rows| rows[0].attempts >= 2)
        .await;
    assert_eq!(rows[0].last_error.as_deref(), Some("connection failed"));
    h.esignet_up().await;
    h.drive_until_done().await;
    assert_eq!(h.world.effects(), [created("client-d", false)]);
    h.world.assert_no_violations();
    h.stop().await;
}

/// A hanging eSignet costs one timeout per attempt of that row; other rows go on.
#[tokio::test]
async fn a_hanging_call_times_out_and_delays_only_its_row() {
    let mut h = Harness::start(Options {
        http_timeout_seconds: 1,
        concurrency: 2,
        ..Options::default()
    })
    .await;
    h.world
        .hang_ids
        .lock()
        .unwrap()
        .insert("client-slow".into());
    h.create_client("client-slow", true).await;
    h.create_client("client-fast", true).await;
    let rows = h
        .drive_until("the fast client delivered", |rows| {
            rows.iter()
                .filter(|r| r.aggregate_id == "client-fast")
                .all(|r| r.state == OutboxState::Delivered)
        })
        .await;
    assert!(rows
        .iter()
        .filter(|r| r.aggregate_id == "client-slow")
        .all(|r| r.state != OutboxState::Delivered));
    let rows = h
        .drive_until("a timed-out attempt", |rows| {
            rows.iter()
                .any(|r| r.aggregate_id == "client-slow" && r.attempts >= 1)
        })
        .await;
    let slow = rows
        .iter()
        .find(|r| r.aggregate_id == "client-slow" && r.channel == Channel::Esignet)
        .unwrap();
    assert_eq!(slow.last_error.as_deref(), Some("timeout"));
    assert_eq!(slow.state, OutboxState::Pending);
    h.world.hang_ids.lock().unwrap().clear();
    h.drive_until_done().await;
    assert_eq!(
        h.world.effects(),
        [created("client-fast", true), created("client-slow", true)]
    );
    h.world.assert_no_violations();
    h.stop().await;
}

/// The reply of an earlier create was lost: eSignet has the client, so the create becomes an
/// update built from the current record.
#[tokio::test]
async fn duplicate_client_id_on_create_becomes_an_update() {
    let mut h = Harness::prepare(Options::default()).await;
    let c = h.create_client("client-e", true).await;
    h.update_client(&c.id, |c| {
        c.logo_uri = "https://health-services.com/new.png".into()
    })
    .await;
    h.world
        .esignet_clients
        .lock()
        .unwrap()
        .insert("client-e".into(), ("oauth-client".into(), "ACTIVE".into()));
    h.start_worker();
    let rows = h.drive_until_done().await;
    let e = of(&rows, Channel::Esignet);
    assert_eq!(e[0].state, OutboxState::Delivered);
    assert_eq!(e[0].attempts, 0);
    assert_eq!(e[1].state, OutboxState::Superseded);
    let calls = h.world.calls();
    let replies: Vec<(&str, &str)> = calls.iter().map(|c| (c.method, c.reply.as_str())).collect();
    assert_eq!(replies, [("POST", "duplicate_client_id"), ("PUT", "ok")]);
    assert_eq!(
        calls[1].body["request"]["logoUri"],
        "https://health-services.com/new.png"
    );
    assert_eq!(h.world.effects(), [updated("client-e", "ACTIVE")]);
    h.world.assert_no_violations();
    h.stop().await;
}

/// eSignet lacks the client an update is for: the update becomes a create, followed by an
/// update when the client is inactive.
#[tokio::test]
async fn invalid_client_id_on_update_becomes_a_create_and_update() {
    let mut h = Harness::start(Options::default()).await;
    let mut c = crate::support::client("client-f", false, h.clock.now());
    c.status = ClientStatus::Inactive;
    c.version = 3;
    // Only the UPDATE row exists (say the CREATE row was purged or never written).
    h.commit(
        Some(&c),
        vec![pms_domain::model::DomainEvent::ClientUpdated { client: c.clone() }],
    )
    .await;
    let rows = h.drive_until_done().await;
    assert!(rows.iter().all(|r| r.state == OutboxState::Delivered));
    let replies: Vec<(&str, String)> = h
        .world
        .calls()
        .into_iter()
        .map(|c| (c.method, c.reply))
        .collect();
    assert_eq!(
        replies,
        [
            ("PUT", "invalid_client_id".to_string()),
            ("POST", "ok".to_string()),
            ("PUT", "ok".to_string())
        ]
    );
    assert_eq!(
        h.world.effects(),
        [created("client-f", false), updated("client-f", "INACTIVE")]
    );
    h.world.assert_no_violations();
    h.stop().await;
}

/// Codes that mean "the configurations disagree" end the row `FAILED` at once; it blocks the
/// client's later rows and its event.
#[tokio::test]
async fn give_up_replies_fail_the_row_and_block_what_follows() {
    let cases: [(Mode, &str); 5] = [
        (
            Mode::Code("duplicate_public_key"),
            "eSignet error duplicate_public_key",
        ),
        (Mode::Code("invalid_claim"), "eSignet error invalid_claim"),
        (
            Mode::Code("invalid_redirect_uri"),
            "eSignet error invalid_redirect_uri",
        ),
        (Mode::Status(400), "HTTP 400"),
        (Mode::Status(404), "HTTP 404"),
    ];
    for (mode, error) in cases {
        let mut h = Harness::start(Options::default()).await;
        h.world.set_esignet(mode.clone());
        let c = h.create_client("client-g", true).await;
        h.drive_until("the create failed", |rows| {
            rows[0].state == OutboxState::Failed
        })
        .await;
        h.update_client(&c.id, |c| c.name = "Later".into()).await;
        // Give the worker a few rounds: nothing else may move.
        for _ in 0..5 {
            h.wake();
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let rows = h.rows().await;
        let e = of(&rows, Channel::Esignet);
        assert_eq!(
            (e[0].state, e[0].attempts, e[0].last_error.as_deref()),
            (OutboxState::Failed, 1, Some(error)),
            "{mode:?}"
        );
        assert_eq!(e[1].state, OutboxState::Pending, "{mode:?}");
        assert_eq!(e[1].attempts, 0);
        assert!(of(&rows, Channel::Websub)
            .iter()
            .all(|r| r.state == OutboxState::Pending && r.attempts == 0));
        assert_eq!(h.world.calls().len(), 1, "{mode:?}");
        assert!(h.world.published().is_empty());
        h.world.assert_no_violations();
        h.stop().await;
    }
}

#[tokio::test]
async fn a_row_out_of_attempts_ends_failed() {
    let mut h = Harness::start(Options {
        max_attempts: 3,
        ..Options::default()
    })
    .await;
    h.world.set_esignet(Mode::Status(502));
    h.create_client("client-h", false).await;
    let rows = h
        .drive_until("the row failed", |rows| {
            rows[0].state == OutboxState::Failed
        })
        .await;
    assert_eq!(rows[0].attempts, 3);
    assert_eq!(rows[0].last_error.as_deref(), Some("HTTP 502"));
    assert_eq!(h.world.calls().len(), 3);
    let wants = [
        r#"pms_delivery_attempts_total{channel="esignet",outcome="retry"} 2"#,
        r#"pms_delivery_attempts_total{channel="esignet",outcome="failed"} 1"#,
        r#"pms_delivery_failures_total{channel="esignet",reason="http_status"} 3"#,
    ];
    let text = h.metrics_with(&wants).await;
    for w in wants {
        assert!(text.contains(w), "{w} missing from\n{text}");
    }
    h.stop().await;
}

/// The wait between attempts follows §5.5: base × 2^(n−1), capped, with jitter 0.8–1.2.
#[tokio::test]
async fn retries_back_off() {
    let mut h = Harness::start(Options::default()).await;
    h.world.set_esignet(Mode::Status(500));
    h.create_client("client-i", false).await;
    let mut waits = Vec::new();
    for n in 1..=3u32 {
        let rows = h
            .drive_until("one more attempt", |rows| rows[0].attempts >= n)
            .await;
        let r = &rows[0];
        let wait = r.next_attempt_at.unwrap() - r.last_attempt_at.unwrap();
        waits.push(wait.num_milliseconds());
    }
    // base 1 s, max 2 s: 1, 2, 2 seconds, each ×0.8–1.2.
    for (wait, nominal) in waits.iter().zip([1000i64, 2000, 2000]) {
        assert!(
            (nominal * 8 / 10..=nominal * 12 / 10).contains(wait),
            "{waits:?}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn the_stored_key_is_sent_as_a_json_object() {
    let mut h = Harness::start(Options::default()).await;
    let c = h.create_client("client-j", false).await;
    h.drive_until_done().await;
    let key: Value = serde_json::from_str(&c.public_key).unwrap();
    assert_eq!(h.world.calls()[0].body["request"]["publicKey"], key);
    h.stop().await;
}
