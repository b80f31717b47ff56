//! `WEBSUB` rows: registration, the published event, and how the hub's replies are read
//! (downstream.md §4).

use crate::support::{policy, EsignetAt, Harness, HubEvent, Options};
use pms_domain::clock::format_ts;
use pms_domain::model::DomainEvent;
use pms_domain::outbox::{OutboxState, TOPIC_PARTNER_UPDATED, TOPIC_POLICY_UPDATED};
use serde_json::Value;
use std::sync::atomic::Ordering;

fn hub_only() -> Options {
    Options {
        esignet: EsignetAt::Absent,
        ..Options::default()
    }
}

#[tokio::test]
async fn reply_variants_are_read_like_mosip_does() {
    /// Hub replies, then the attempts that failed and the row's last error.
    type Case = (&'static [(u16, &'static str)], u32, Option<&'static str>);
    let cases: [Case; 6] = [
        (&[(202, "")], 0, None),
        (&[(200, "hub.mode=accepted")], 0, None),
        (
            &[(200, "result=accepted&hub.topic=PARTNER_UPDATED")],
            0,
            None,
        ),
        (
            &[(200, "hub.mode=denied"), (200, "")],
            2,
            Some("hub did not accept the publish"),
        ),
        (
            &[(200, "accepted")],
            1,
            Some("hub did not accept the publish"),
        ),
        (&[(500, ""), (503, "")], 2, Some("HTTP 503")),
    ];
    for (script, attempts, error) in cases {
        let mut h = Harness::start(hub_only()).await;
        h.world.script_hub(script.iter().copied());
        h.partner_updated("pms-1").await;
        let rows = h.drive_until_done().await;
        assert_eq!(rows[0].state, OutboxState::Delivered, "{script:?}");
        assert_eq!(rows[0].attempts, attempts, "{script:?}");
        assert_eq!(rows[0].last_error.as_deref(), error, "{script:?}");
        let publishes = h
            .world
            .hub_log()
            .into_iter()
            .filter(|e| matches!(e, HubEvent::Publish { .. }))
            .count();
        assert_eq!(publishes, usize::try_from(attempts).unwrap() + 1);
        assert_eq!(h.world.published().len(), 1);
        h.world.assert_no_violations();
        h.stop().await;
    }
}

#[tokio::test]
async fn the_stored_event_is_published_with_a_fresh_published_on() {
    let mut h = Harness::start(hub_only()).await;
    h.partner_updated("pms-2").await;
    let rows = h.drive_until_done().await;
    let stored = rows[0].event.clone().unwrap();
    let published = h.world.published();
    let (_, topic, body) = &published[0];
    assert_eq!(topic, TOPIC_PARTNER_UPDATED);
    // Member order is part of the contract: publisher, topic, publishedOn, event.
    let v: Value = serde_json::from_str(body).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["publisher", "topic", "publishedOn", "event"]);
    assert_eq!(v["event"], stored["event"]);
    assert_eq!(v["publisher"], stored["publisher"]);
    assert_eq!(
        v["publishedOn"],
        format_ts(&rows[0].last_attempt_at.unwrap()).as_str()
    );
    assert_eq!(v["event"]["data"]["partnerData"]["partnerId"], "pms-2");
    h.stop().await;
}

#[tokio::test]
async fn topics_are_registered_once_per_process_before_their_first_publish() {
    let mut h = Harness::start(hub_only()).await;
    h.world.hub_register_fails.store(true, Ordering::SeqCst);
    h.partner_updated("pms-1").await;
    h.partner_updated("pms-2").await;
    h.commit(None, vec![DomainEvent::PolicyUpdated { policy: policy() }])
        .await;
    h.drive_until_done().await;
    h.partner_updated("pms-1").await;
    let rows = h.drive_until_done().await;
    // A failed registration is ignored: the publishes went through at the first attempt.
    assert!(rows.iter().all(|r| r.attempts == 0));
    let mut regs = h.world.registrations();
    regs.sort();
    assert_eq!(regs, [TOPIC_PARTNER_UPDATED, TOPIC_POLICY_UPDATED]);
    let log = h.world.hub_log();
    for topic in [TOPIC_PARTNER_UPDATED, TOPIC_POLICY_UPDATED] {
        let reg = log
            .iter()
            .position(|e| matches!(e, HubEvent::Register { topic: t, .. } if t == topic))
            .unwrap();
        let first_publish = log
            .iter()
            .position(|e| matches!(e, HubEvent::Publish { topic: t, .. } if t == topic))
            .unwrap();
        assert!(reg < first_publish, "{topic}: {log:#?}");
    }
    assert_eq!(h.world.published().len(), 4);
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn after_400_or_404_the_topic_is_registered_again() {
    let mut h = Harness::start(hub_only()).await;
    h.world.script_hub([(400, ""), (404, "")]);
    h.partner_updated("pms-1").await;
    let rows = h.drive_until_done().await;
    assert_eq!(rows[0].attempts, 2);
    let shape: Vec<String> = h
        .world
        .hub_log()
        .into_iter()
        .map(|e| match e {
            HubEvent::Register { .. } => "register".to_string(),
            HubEvent::Publish { status, .. } => format!("publish {status}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "register",
            "publish 400",
            "register",
            "publish 404",
            "register",
            "publish 202"
        ]
    );
    h.world.assert_no_violations();
    h.stop().await;
}

#[tokio::test]
async fn a_500_does_not_register_again() {
    let mut h = Harness::start(hub_only()).await;
    h.world.script_hub([(500, "")]);
    h.partner_updated("pms-1").await;
    h.drive_until_done().await;
    assert_eq!(h.world.registrations().len(), 1);
    h.stop().await;
}
