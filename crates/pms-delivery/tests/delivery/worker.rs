//! The loop itself: unconfigured targets, concurrency with per-aggregate order, shutdown, and
//! settings checks.

use crate::support::{of, Effect, EsignetAt, Harness, Mode, Options};
use pms_delivery::{DeliveryError, DeliveryMetrics, DeliverySettings, Worker};
use pms_domain::clock::ManualClock;
use pms_domain::model::ClientStatus;
use pms_domain::outbox::{Channel, OutboxState};
use pms_domain::{Clock, Store};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn rows_of_an_unconfigured_target_stay_pending() {
    let mut h = Harness::start(Options {
        esignet: EsignetAt::Absent,
        ..Options::default()
    })
    .await;
    h.create_client("w-1", true).await;
    h.partner_updated("pms-1").await;
    let rows = h
        .drive_until("the partner event delivered", |rows| {
            rows.iter()
                .any(|r| r.aggregate_id == "pms-1" && r.state == OutboxState::Delivered)
        })
        .await;
    // Let the worker come round a few more times.
    for _ in 0..5 {
        h.wake();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let rows_after = h.rows().await;
    let e = &of(&rows_after, Channel::Esignet)[0];
    assert_eq!(e.state, OutboxState::Pending);
    assert_eq!(e.attempts, 0);
    assert!(e.last_attempt_at.is_none());
    assert!(matches!(
        e.last_error.as_deref(),
        None | Some("target not configured")
    ));
    let w = rows
        .iter()
        .find(|r| r.aggregate_id == "w-1" && r.channel == Channel::Websub)
        .unwrap();
    assert_eq!((w.state, w.attempts), (OutboxState::Pending, 0));
    assert_eq!(h.world.published().len(), 1);
    h.stop().await;
}

/// Many clients at once, each created then changed twice: every client's calls arrive in
/// commit order, whatever the interleaving across clients.
#[tokio::test]
async fn concurrent_rows_keep_each_clients_order() {
    let mut h = Harness::start(Options {
        concurrency: 3,
        ..Options::default()
    })
    .await;
    let ids: Vec<String> = (0..8).map(|i| format!("many-{i}")).collect();
    for id in &ids {
        h.create_client(id, true).await;
    }
    h.drive_until_done().await;
    for id in &ids {
        h.update_client(id, |c| c.name = "second".into()).await;
    }
    // A failure in the middle for some of them.
    h.world
        .script_esignet([Mode::Status(500), Mode::Status(503)]);
    for id in &ids {
        h.update_client(id, |c| c.status = ClientStatus::Inactive)
            .await;
    }
    let rows = h.drive_until_done().await;
    assert_eq!(rows.len(), ids.len() * 6);
    let effects = h.world.effects();
    for id in &ids {
        let mine: Vec<&Effect> = effects
            .iter()
            .filter(|e| matches!(e, Effect::Created { id: i, .. } | Effect::Updated { id: i, .. } if i == id))
            .collect();
        assert!(matches!(mine[0], Effect::Created { .. }), "{id}: {mine:?}");
        assert!(
            matches!(mine.last().unwrap(), Effect::Updated { status, .. } if status == "INACTIVE"),
            "{id}: {mine:?}"
        );
        assert!(mine.len() <= 3);
        let topics: Vec<String> = h
            .world
            .hub_log()
            .into_iter()
            .filter_map(|e| match e {
                crate::support::HubEvent::Publish {
                    body,
                    topic,
                    accepted: true,
                    ..
                } if body.contains(id.as_str()) => Some(topic),
                _ => None,
            })
            .collect();
        assert_eq!(
            topics,
            [
                "OIDC_CLIENT_CREATED",
                "OIDC_CLIENT_UPDATED",
                "OIDC_CLIENT_UPDATED"
            ],
            "{id}"
        );
    }
    h.world.assert_no_violations();
    let want = r#"pms_delivery_attempts_total{channel="websub",outcome="delivered"} 24"#;
    let text = h.metrics_with(&[want]).await;
    assert!(text.contains(want), "{text}");
    h.stop().await;
}

/// Shutdown does not wait for a hanging call: the worker stops and the row keeps its lease, so
/// another worker takes it once the lease has run out.
#[tokio::test]
async fn shutdown_leaves_a_hanging_row_to_its_lease() {
    let mut h = Harness::start(Options {
        http_timeout_seconds: 60,
        lease_seconds: 600,
        ..Options::default()
    })
    .await;
    h.world.set_esignet(Mode::Hang);
    h.create_client("w-2", false).await;
    let rows = h
        .drive_until("the row in flight", |rows| {
            rows[0].state == OutboxState::InFlight
        })
        .await;
    let lease = rows[0].lease_until.unwrap();
    assert_eq!(lease, h.clock.now() + chrono::Duration::seconds(600));
    let started = std::time::Instant::now();
    h.stop().await;
    assert!(started.elapsed() < Duration::from_secs(8));
    let rows = h.rows().await;
    assert_eq!(rows[0].state, OutboxState::InFlight);
    assert_eq!(rows[0].lease_until, Some(lease));

    // A new worker takes the row once the lease has run out.
    h.world.set_esignet(Mode::Healthy);
    h.clock.set(lease + chrono::Duration::seconds(1));
    h.start_worker();
    let rows = h.drive_until_done().await;
    assert_eq!(rows[0].attempts, 0);
    assert_eq!(h.world.effects().len(), 1);
    h.stop().await;
}

#[tokio::test]
async fn the_worker_refuses_bad_settings() {
    let h = Harness::prepare(Options::default()).await;
    let store: Arc<dyn Store> = h.store.clone();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(crate::support::t0()));
    let build = |s: DeliverySettings| {
        let mut registry = prometheus_client::registry::Registry::default();
        Worker::new(
            store.clone(),
            clock.clone(),
            s,
            DeliveryMetrics::register(&mut registry),
        )
    };
    let good = h.settings();
    assert!(build(good.clone()).is_ok());
    let cases: [(DeliverySettings, &str); 5] = [
        (
            DeliverySettings {
                concurrency: 0,
                ..good.clone()
            },
            "delivery.concurrency",
        ),
        (
            DeliverySettings {
                esignet_base_url: Some("esignet.local".into()),
                ..good.clone()
            },
            "esignet.base_url",
        ),
        (
            DeliverySettings {
                websub_hub_url: Some("ftp://hub/".into()),
                ..good.clone()
            },
            "websub.hub_url",
        ),
        (
            DeliverySettings {
                token: pms_delivery::ServiceTokenSettings {
                    token_url: String::new(),
                    ..good.token.clone()
                },
                ..good.clone()
            },
            "service_token.token_url",
        ),
        (
            DeliverySettings {
                http_timeout_seconds: 0,
                ..good.clone()
            },
            "delivery.http_timeout_seconds",
        ),
    ];
    for (settings, key) in cases {
        match build(settings) {
            Err(DeliveryError::InvalidSetting { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{key}: {other:?}"),
        }
    }
    // Without targets no token endpoint is needed.
    let none = DeliverySettings::default();
    assert!(build(none).is_ok());
}
