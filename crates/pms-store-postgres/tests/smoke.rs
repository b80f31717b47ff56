//! Smoke tests of the PostgreSQL store against a real server: each test creates a fresh
//! database on the server `PMS_TEST_POSTGRES_URL` names (an admin connection, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`), migrates it, runs, and drops it. Without the
//! variable they print `skipped: PMS_TEST_POSTGRES_URL not set` and pass.
//!
//! Where the server can, the database is created with an ICU `en-US` default collation, in which
//! `a < B` and `lower('É') = 'é'`: the byte-order and ASCII-only-folding answers below then show
//! that the store does not depend on the database's collation, as SQLite does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pms_domain::clock::{parse_ts, truncate_to_millis};
use pms_domain::list::{
    ClientFilter, ClientSortField, ListQuery, MappingFilter, PageReq, PolicyFilter,
    PolicySortField, Sort, SortDir,
};
use pms_domain::model::{
    ApprovalStatus, AuditRecord, AuthPolicy, ClientStatus, JsonText, MappingRequest, MappingStatus,
    OidcClient, Partner, PolicyGroup, PolicyState,
};
use pms_domain::store::{Constraint, Outage, Record, Store, StoreError, Table};
use pms_domain::Timestamp;
use pms_store_postgres::{PgSettings, PgStore};
use sqlx::Connection;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- a database per test

/// A database of its own on the test server, dropped (connections and all) when this is.
struct TestDb {
    admin_url: String,
    name: String,
    store: PgStore,
    /// Whether the database's default collation is ICU en-US (else the server's default).
    icu: bool,
}

fn admin_url() -> Option<String> {
    match std::env::var("PMS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            println!("skipped: PMS_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// `url` with its database (path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let base = match main[scheme_end..].find('/') {
        Some(i) => &main[..scheme_end + i],
        None => main,
    };
    format!("{base}/{name}{query}")
}

fn random_suffix() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

impl TestDb {
    async fn create() -> Option<TestDb> {
        let admin_url = admin_url()?;
        let name = format!("pms_pg_smoke_{:016x}", random_suffix());
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        let icu = sqlx::raw_sql(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        ))
        .execute(&mut conn)
        .await
        .is_ok();
        if !icu {
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        // Timestamps must not depend on the session time zone.
        sqlx::raw_sql(&format!(
            "ALTER DATABASE {name} SET timezone = 'Asia/Kolkata'"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        let store = PgStore::connect(&PgSettings {
            url: with_database(&admin_url, &name),
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
        store.migrate().await.unwrap();
        Some(TestDb {
            admin_url,
            name,
            store,
            icu,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
            });
        })
        .join();
    }
}

// ---------------------------------------------------------------- fixtures

fn t(s: &str) -> Timestamp {
    parse_ts(s).unwrap()
}

fn group(id: &str, name: &str) -> PolicyGroup {
    PolicyGroup {
        id: id.into(),
        name: name.into(),
        desc: format!("{name} desc"),
        is_active: true,
        user_id: "admin".into(),
        cr_by: "admin".into(),
        cr_dtimes: t("2024-01-01T00:00:00.000Z"),
        upd_by: None,
        upd_dtimes: None,
    }
}

fn policy(id: &str, group_id: &str, name: &str, cr: &str) -> AuthPolicy {
    AuthPolicy {
        id: id.into(),
        policy_group_id: group_id.into(),
        name: name.into(),
        desc: format!("{name} desc"),
        policy_type: "Auth".into(),
        version: "1.0".into(),
        policies: serde_json::from_str(r#"{"authTokenType":"partner","allowedAuthTypes":[]}"#)
            .unwrap(),
        schema: None,
        is_active: false,
        valid_from: t("2024-01-01T00:00:00.000Z"),
        valid_to: t("2034-01-01T00:00:00.000Z"),
        cr_by: "admin".into(),
        cr_dtimes: t(cr),
        upd_by: None,
        upd_dtimes: None,
    }
}

fn partner(id: &str, email: &str, group_id: Option<&str>) -> Partner {
    Partner {
        id: id.into(),
        name: format!("{id} org"),
        address: "street 1".into(),
        contact_no: "+100000000".into(),
        email_id: email.into(),
        partner_type_code: "Auth_Partner".into(),
        policy_group_id: group_id.map(Into::into),
        user_id: id.into(),
        approval_status: ApprovalStatus::InProgress,
        is_active: false,
        lang_code: "eng".into(),
        cr_by: id.into(),
        cr_dtimes: t("2024-01-02T00:00:00.000Z"),
        upd_by: None,
        upd_dtimes: None,
    }
}

fn mapping(id: &str, partner_id: &str, policy_id: &str, status: MappingStatus) -> MappingRequest {
    MappingRequest {
        id: id.into(),
        partner_id: partner_id.into(),
        policy_id: policy_id.into(),
        request_detail: "use case".into(),
        status,
        request_datetimes: t("2024-01-03T00:00:00.000Z"),
        cr_by: partner_id.into(),
        cr_dtimes: t("2024-01-03T00:00:00.000Z"),
        upd_by: None,
        upd_dtimes: None,
    }
}

fn client(id: &str, rp_id: &str, policy_id: &str, cr: &str) -> OidcClient {
    OidcClient {
        id: id.into(),
        name: format!("{id} name"),
        name_lang_map: serde_json::Map::new(),
        rp_id: rp_id.into(),
        policy_id: policy_id.into(),
        logo_uri: "https://logo.example/x.png".into(),
        redirect_uris: ["https://rp.example/cb", "https://rp.example/a"].into(),
        public_key: r#"{"kty":"RSA","n":"xyz","e":"AQAB"}"#.into(),
        claims: ["name", "email"].into(),
        acr_values: ["mosip:idp:acr:static-code"].into(),
        grant_types: ["authorization_code"].into(),
        client_auth_methods: ["private_key_jwt"].into(),
        status: ClientStatus::Active,
        cr_by: rp_id.into(),
        cr_dtimes: t(cr),
        upd_by: None,
        upd_dtimes: None,
        version: 1,
    }
}

fn audit(entity_id: &str, n: u32) -> AuditRecord {
    AuditRecord {
        at: t("2024-01-04T00:00:00.000Z"),
        actor: "admin".into(),
        action: "CREATE_POLICY_GROUP".into(),
        entity_type: "policy_group".into(),
        entity_id: entity_id.into(),
        before: None,
        after: Some(JsonText::of(&serde_json::json!({ "n": n })).unwrap()),
        correlation_id: format!("corr-{n}"),
    }
}

fn all<F, Filter: Default>() -> ListQuery<F, Filter> {
    ListQuery {
        sort: None,
        page: None,
        filter: Filter::default(),
    }
}

/// Group `g1`, policy `pol1` in it, partner `p1` of the group, request `m1`, client `c1`.
async fn seed(store: &PgStore) {
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&group("g1", "group one"))
        .await
        .unwrap();
    tx.insert_policy(&policy(
        "pol1",
        "g1",
        "policy one",
        "2024-01-01T00:00:00.000Z",
    ))
    .await
    .unwrap();
    tx.insert_partner(&partner("p1", "p1@example.com", Some("g1")))
        .await
        .unwrap();
    tx.insert_mapping(&mapping("m1", "p1", "pol1", MappingStatus::InProgress))
        .await
        .unwrap();
    tx.insert_client(&client("c1", "p1", "pol1", "2024-01-05T00:00:00.000Z"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn every_entity_round_trips_and_updates() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    store.ping().await.unwrap();
    seed(store).await;
    let mut tx = store.write().await.unwrap();
    tx.append_audit(&audit("g1", 1)).await.unwrap();
    tx.append_audit(&audit("g1", 2)).await.unwrap();
    tx.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.policy_group("g1").await.unwrap(),
        Some(group("g1", "group one"))
    );
    assert_eq!(
        r.policy_group_by_name("group one").await.unwrap(),
        Some(group("g1", "group one"))
    );
    assert_eq!(r.policy_group("nope").await.unwrap(), None);
    let pol = policy("pol1", "g1", "policy one", "2024-01-01T00:00:00.000Z");
    assert_eq!(r.policy("pol1").await.unwrap(), Some(pol.clone()));
    assert_eq!(r.policies().await.unwrap(), vec![pol.clone()]);
    assert_eq!(r.policies_in_group("g1").await.unwrap(), vec![pol.clone()]);
    assert_eq!(
        r.policy_by_name_in_group("g1", "policy one").await.unwrap(),
        Some(pol.clone())
    );
    assert_eq!(r.policies_named("policy one").await.unwrap(), vec![pol]);
    let p1 = partner("p1", "p1@example.com", Some("g1"));
    assert_eq!(r.partner("p1").await.unwrap(), Some(p1.clone()));
    assert_eq!(
        r.partner_by_email("P1@Example.COM").await.unwrap(),
        Some(p1.clone())
    );
    assert_eq!(r.partners_of_user("p1").await.unwrap(), vec![p1]);
    let m1 = mapping("m1", "p1", "pol1", MappingStatus::InProgress);
    assert_eq!(r.mapping("m1").await.unwrap(), Some(m1.clone()));
    assert_eq!(r.mappings_of("p1", "pol1").await.unwrap(), vec![m1.clone()]);
    assert_eq!(r.mappings_of_policy("pol1").await.unwrap(), vec![m1]);
    let c1 = client("c1", "p1", "pol1", "2024-01-05T00:00:00.000Z");
    assert_eq!(r.client("c1").await.unwrap(), Some(c1));
    assert_eq!(
        r.audit_of("policy_group", "g1").await.unwrap(),
        vec![audit("g1", 1), audit("g1", 2)]
    );

    let policies = r.list_policies(&all()).await.unwrap();
    assert_eq!(policies.total, 1);
    assert_eq!(policies.items[0].policy_group_name, "group one");
    assert_eq!(policies.items[0].state, PolicyState::Draft);
    let mappings = r.list_mappings(&all()).await.unwrap();
    assert_eq!(mappings.total, 1);
    assert_eq!(mappings.items[0].partner_status, "InProgress");
    assert_eq!(
        mappings.items[0].policy_group_name.as_deref(),
        Some("group one")
    );
    let clients = r.list_clients(&all()).await.unwrap();
    assert_eq!(clients.total, 1);
    assert_eq!(clients.items[0].org_name.as_deref(), Some("p1 org"));
    assert_eq!(clients.items[0].policy_name.as_deref(), Some("policy one"));
    drop(r);

    // Updates, read back through the *_for_update reads of a write transaction.
    let later = t("2024-02-01T10:20:30.456Z");
    let mut g = group("g1", "group renamed");
    g.desc = "new desc".into();
    g.is_active = false;
    g.upd_by = Some("admin2".into());
    g.upd_dtimes = Some(later);
    let mut pol = policy("pol1", "g1", "policy renamed", "2024-01-01T00:00:00.000Z");
    pol.schema = Some("https://schema.example/auth".into());
    pol.is_active = true;
    pol.version = "1.1".into();
    pol.policies = serde_json::json!({"b": 1, "a": [1, 2]}).into();
    pol.upd_by = Some("admin2".into());
    pol.upd_dtimes = Some(later);
    let mut p1 = partner("p1", "P1@New.example", Some("g1"));
    p1.approval_status = ApprovalStatus::Approved;
    p1.is_active = true;
    p1.upd_by = Some("admin2".into());
    p1.upd_dtimes = Some(later);
    let mut m1 = mapping("m1", "p1", "pol1", MappingStatus::Approved);
    m1.upd_by = Some("admin2".into());
    m1.upd_dtimes = Some(later);
    let mut c1 = client("c1", "p1", "pol1", "2024-01-05T00:00:00.000Z");
    c1.name = "renamed".into();
    c1.name_lang_map.insert("tam".into(), "பெயர்".into());
    c1.redirect_uris = ["https://rp.example/new"].into();
    c1.status = ClientStatus::Inactive;
    c1.upd_by = Some("admin2".into());
    c1.upd_dtimes = Some(later);

    let mut w = store.write().await.unwrap();
    w.update_policy_group(&g).await.unwrap();
    w.update_policy(&pol).await.unwrap();
    w.update_partner(&p1).await.unwrap();
    assert!(w.mapping_for_update("m1").await.unwrap().is_some());
    w.update_mapping(&m1).await.unwrap();
    assert!(w.client_for_update("c1").await.unwrap().is_some());
    w.update_client(&c1).await.unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    assert_eq!(r.policy_group("g1").await.unwrap(), Some(g));
    assert_eq!(r.policy("pol1").await.unwrap(), Some(pol));
    assert_eq!(r.partner("p1").await.unwrap(), Some(p1.clone()));
    assert_eq!(
        r.partner_by_email("p1@new.EXAMPLE").await.unwrap(),
        Some(p1)
    );
    assert_eq!(r.mapping("m1").await.unwrap(), Some(m1));
    assert_eq!(r.client("c1").await.unwrap(), Some(c1));
    let policies = r.list_policies(&all()).await.unwrap();
    assert_eq!(policies.items[0].state, PolicyState::Activated);
    let mappings = r.list_mappings(&all()).await.unwrap();
    assert_eq!(mappings.items[0].partner_status, "activated");
    assert_eq!(mappings.items[0].updated, Some(later));

    // A read transaction is read-only, and a dropped write transaction rolls back.
    drop(r);
    let mut w = store.write().await.unwrap();
    w.insert_policy_group(&group("g2", "dropped"))
        .await
        .unwrap();
    drop(w);
    let mut r = store.read().await.unwrap();
    assert_eq!(r.policy_group("g2").await.unwrap(), None);
    // pms's own read-only transaction refusing a write is a fault, not a read-only database.
    assert!(matches!(
        r.insert_policy_group(&group("g3", "read only")).await,
        Err(StoreError::Failed(_))
    ));
    drop(r);
    store.close().await;
}

async fn insert_err(store: &PgStore, rec: Record) -> StoreError {
    let mut tx = store.write().await.unwrap();
    let res = match &rec {
        Record::PolicyGroup(g) => tx.insert_policy_group(g).await,
        Record::AuthPolicy(p) => tx.insert_policy(p).await,
        Record::Partner(p) => tx.insert_partner(p).await,
        Record::Mapping(m) => tx.insert_mapping(m).await,
        Record::Client(c) => tx.insert_client(c).await,
        Record::Audit(a) => tx.append_audit(a).await,
        Record::Outbox(o) => tx.restore_outbox(o).await,
    };
    match res {
        Ok(()) => panic!("{rec:?} was accepted"),
        Err(e) => e,
    }
}

async fn insert_ok(store: &PgStore, rec: Record) {
    let mut tx = store.write().await.unwrap();
    match &rec {
        Record::PolicyGroup(g) => tx.insert_policy_group(g).await,
        Record::AuthPolicy(p) => tx.insert_policy(p).await,
        Record::Partner(p) => tx.insert_partner(p).await,
        Record::Mapping(m) => tx.insert_mapping(m).await,
        Record::Client(c) => tx.insert_client(c).await,
        Record::Audit(a) => tx.append_audit(a).await,
        Record::Outbox(o) => tx.restore_outbox(o).await,
    }
    .unwrap();
    tx.commit().await.unwrap();
}

fn conflict(e: StoreError) -> Constraint {
    match e {
        StoreError::Conflict(c) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn unique_violations_map_to_their_constraints() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    seed(store).await;

    let e = insert_err(store, Record::PolicyGroup(group("g9", "group one"))).await;
    assert_eq!(conflict(e), Constraint::PolicyGroupName);
    let e = insert_err(
        store,
        Record::AuthPolicy(policy("pol1", "g1", "other", "2024-01-01T00:00:00.000Z")),
    )
    .await;
    assert_eq!(conflict(e), Constraint::PolicyId);
    let e = insert_err(
        store,
        Record::AuthPolicy(policy(
            "pol9",
            "g1",
            "policy one",
            "2024-01-01T00:00:00.000Z",
        )),
    )
    .await;
    assert_eq!(conflict(e), Constraint::PolicyNameInGroup);
    let e = insert_err(store, Record::Partner(partner("p1", "other@x.org", None))).await;
    assert_eq!(conflict(e), Constraint::PartnerId);
    // The e-mail key ignores ASCII case only, as SQLite's lower() does.
    let e = insert_err(
        store,
        Record::Partner(partner("p9", "P1@EXAMPLE.com", None)),
    )
    .await;
    assert_eq!(conflict(e), Constraint::PartnerEmail);
    insert_ok(
        store,
        Record::Partner(partner("p2", "élan@example.com", None)),
    )
    .await;
    insert_ok(
        store,
        Record::Partner(partner("p3", "Élan@example.com", None)),
    )
    .await;
    let e = insert_err(
        store,
        Record::Mapping(mapping("m9", "p1", "pol1", MappingStatus::InProgress)),
    )
    .await;
    assert_eq!(conflict(e), Constraint::LiveMapping);
    let e = insert_err(
        store,
        Record::Mapping(mapping("m9", "p1", "pol1", MappingStatus::Approved)),
    )
    .await;
    assert_eq!(conflict(e), Constraint::LiveMapping);
    // Rejected requests are not live: any number of them.
    insert_ok(
        store,
        Record::Mapping(mapping("m2", "p1", "pol1", MappingStatus::Rejected)),
    )
    .await;
    insert_ok(
        store,
        Record::Mapping(mapping("m3", "p1", "pol1", MappingStatus::Rejected)),
    )
    .await;
    let e = insert_err(
        store,
        Record::Client(Box::new(client(
            "c1",
            "p2",
            "pol1",
            "2024-01-05T00:00:00.000Z",
        ))),
    )
    .await;
    assert_eq!(conflict(e), Constraint::ClientId);
    // An update that makes a request live again hits the same key.
    let mut w = store.write().await.unwrap();
    let mut m2 = mapping("m2", "p1", "pol1", MappingStatus::InProgress);
    m2.upd_dtimes = Some(t("2024-03-01T00:00:00.000Z"));
    assert_eq!(
        conflict(w.update_mapping(&m2).await.unwrap_err()),
        Constraint::LiveMapping
    );
    drop(w);
    // Renaming a group onto another's name.
    insert_ok(store, Record::PolicyGroup(group("g2", "group two"))).await;
    let mut w = store.write().await.unwrap();
    assert_eq!(
        conflict(
            w.update_policy_group(&group("g2", "group one"))
                .await
                .unwrap_err()
        ),
        Constraint::PolicyGroupName
    );
    drop(w);

    // Keys SQLite does not map are not mapped here either; foreign keys hold.
    assert!(matches!(
        insert_err(store, Record::PolicyGroup(group("g1", "fresh name"))).await,
        StoreError::Failed(_)
    ));
    assert!(matches!(
        insert_err(
            store,
            Record::Mapping(mapping("m1", "p2", "pol1", MappingStatus::Rejected))
        )
        .await,
        StoreError::Failed(_)
    ));
    assert!(matches!(
        insert_err(
            store,
            Record::AuthPolicy(policy("pol8", "nogroup", "x", "2024-01-01T00:00:00.000Z"))
        )
        .await,
        StoreError::Failed(_)
    ));
    // No foreign keys from oidc_client (migrated clients may point at rows that are gone).
    insert_ok(
        store,
        Record::Client(Box::new(client(
            "c2",
            "gone",
            "gone",
            "2024-01-05T00:00:00.000Z",
        ))),
    )
    .await;

    let mut r = store.read().await.unwrap();
    assert_eq!(r.count_rows(Table::PolicyGroup).await.unwrap(), 2);
    assert_eq!(r.count_rows(Table::Partner).await.unwrap(), 3);
    assert_eq!(r.count_rows(Table::Mapping).await.unwrap(), 3);
    assert_eq!(r.count_rows(Table::Client).await.unwrap(), 2);
    drop(r);
    store.close().await;
}

#[tokio::test]
async fn timestamps_keep_exact_milliseconds() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    let stamps = [
        "2024-02-29T23:59:59.999Z",
        "1999-12-31T23:59:59.001Z",
        "1970-01-01T00:00:00.000Z",
        "1969-07-20T20:17:40.123Z",
        "2000-01-01T00:00:00.500Z",
        "9999-12-31T23:59:59.999Z",
    ];
    let mut w = store.write().await.unwrap();
    for (i, s) in stamps.iter().enumerate() {
        let mut g = group(&format!("g{i}"), &format!("n{i}"));
        g.cr_dtimes = t(s);
        g.upd_dtimes = Some(t(s));
        w.insert_policy_group(&g).await.unwrap();
    }
    // Finer than a millisecond is cut, as the wire format SQLite stores cuts it (not rounded).
    let fine = t("2024-05-05T05:05:05.123Z") + chrono::Duration::microseconds(999);
    let mut g = group("fine", "fine");
    g.cr_dtimes = fine;
    w.insert_policy_group(&g).await.unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    for (i, s) in stamps.iter().enumerate() {
        let g = r.policy_group(&format!("g{i}")).await.unwrap().unwrap();
        assert_eq!(g.cr_dtimes, t(s), "{s}");
        assert_eq!(g.upd_dtimes, Some(t(s)), "{s}");
        assert_eq!(pms_domain::clock::format_ts(&g.cr_dtimes), *s);
    }
    let g = r.policy_group("fine").await.unwrap().unwrap();
    assert_eq!(g.cr_dtimes, truncate_to_millis(fine));
    assert_eq!(g.cr_dtimes, t("2024-05-05T05:05:05.123Z"));
    drop(r);
    store.close().await;
}

#[tokio::test]
async fn json_documents_keep_member_order() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    seed(store).await;
    let doc = r#"{"z":1,"a":{"y":[3,2,1],"b":null,"aa":"x"},"m":"é","_":true}"#;
    let mut pol = policy("pol2", "g1", "ordered", "2024-01-01T00:00:00.000Z");
    pol.policies = serde_json::from_str(doc).unwrap();
    let mut c = client("c2", "p1", "pol2", "2024-01-05T00:00:00.000Z");
    for (k, v) in [("tam", "ஒன்று"), ("eng", "one"), ("ara", "واحد")] {
        c.name_lang_map.insert(k.into(), v.into());
    }
    c.redirect_uris = ["https://z.example", "https://a.example"].into();
    let mut a = audit("pol2", 7);
    a.before = Some(serde_json::from_str(r#"{"zeta":1,"alpha":2}"#).unwrap());
    a.after = Some(serde_json::from_str(doc).unwrap());
    let mut w = store.write().await.unwrap();
    w.insert_policy(&pol).await.unwrap();
    w.insert_client(&c).await.unwrap();
    w.append_audit(&a).await.unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let got = r.policy("pol2").await.unwrap().unwrap();
    assert_eq!(got.policies.to_string(), doc);
    let got = r.client("c2").await.unwrap().unwrap();
    assert_eq!(
        got.name_lang_map.keys().collect::<Vec<_>>(),
        vec!["tam", "eng", "ara"]
    );
    assert_eq!(got.redirect_uris, c.redirect_uris);
    let got = r.audit_of("policy_group", "pol2").await.unwrap();
    assert_eq!(
        got[0].before.as_ref().unwrap().to_string(),
        r#"{"zeta":1,"alpha":2}"#
    );
    assert_eq!(got[0].after.as_ref().unwrap().to_string(), doc);
    drop(r);
    store.close().await;
}

#[tokio::test]
async fn text_orders_bytewise_and_filters_literally() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    println!("database default collation ICU en-US: {}", db.icu);
    let names = ["b", "B", "a", "A", "_x", "é", "Z", "a%b", "a_b", "Éz"];
    let mut w = store.write().await.unwrap();
    for (i, n) in names.iter().enumerate() {
        w.insert_policy_group(&group(&format!("g{i}"), n))
            .await
            .unwrap();
        // One policy per group, named after it; later ones created later.
        w.insert_policy(&policy(
            &format!("pol{i}"),
            &format!("g{i}"),
            n,
            &format!("2024-01-01T00:00:0{i}.000Z"),
        ))
        .await
        .unwrap();
    }
    w.insert_partner(&partner("p1", "p1@example.com", Some("g0")))
        .await
        .unwrap();
    // Clients: one of a partner and a policy that exist, two of rows that are gone.
    w.insert_client(&client("cB", "p1", "pol0", "2024-01-05T00:00:00.000Z"))
        .await
        .unwrap();
    w.insert_client(&client("ca", "gone", "gone", "2024-01-05T00:00:00.000Z"))
        .await
        .unwrap();
    w.insert_client(&client("cA", "gone", "gone", "2024-01-06T00:00:00.000Z"))
        .await
        .unwrap();
    w.commit().await.unwrap();

    let mut bytewise: Vec<&str> = names.to_vec();
    bytewise.sort_unstable(); // Rust compares str byte-wise, as SQLite's BINARY collation.
    assert_eq!(
        bytewise,
        ["A", "B", "Z", "_x", "a", "a%b", "a_b", "b", "Éz", "é"]
    );

    let mut r = store.read().await.unwrap();
    let got: Vec<String> = r
        .policy_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(got, bytewise);

    let sorted = |dir| ListQuery {
        sort: Some(Sort {
            field: PolicySortField::PolicyName,
            dir,
        }),
        page: None,
        filter: PolicyFilter::default(),
    };
    let got: Vec<String> = r
        .list_policies(&sorted(SortDir::Asc))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.policy_name)
        .collect();
    assert_eq!(got, bytewise);
    let got: Vec<String> = r
        .list_policies(&sorted(SortDir::Desc))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.policy_name)
        .collect();
    let mut rev = bytewise.clone();
    rev.reverse();
    assert_eq!(got, rev);
    // Default order: newest first.
    let got: Vec<String> = r
        .list_policies(&all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.policy_id)
        .collect();
    assert_eq!(got[0], "pol9");
    assert_eq!(got[9], "pol0");
    // Paging: LIMIT/OFFSET over the same order, total over all pages.
    let mut q = sorted(SortDir::Asc);
    q.page = Some(PageReq {
        page_no: 1,
        page_size: 4,
    });
    let page = r.list_policies(&q).await.unwrap();
    assert_eq!(page.total, 10);
    let got: Vec<String> = page.items.into_iter().map(|p| p.policy_name).collect();
    assert_eq!(got, bytewise[4..8]);

    // "Contains, ignoring case": literal % and _, ASCII case only (like SQLite's lower()).
    let filtered = |name: &str| ListQuery {
        sort: Some(Sort {
            field: PolicySortField::PolicyName,
            dir: SortDir::Asc,
        }),
        page: None,
        filter: PolicyFilter {
            policy_name: Some(name.into()),
            ..PolicyFilter::default()
        },
    };
    let names_of = |p: pms_domain::list::Page<pms_domain::list::PolicySummary>| {
        p.items
            .into_iter()
            .map(|p| p.policy_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names_of(r.list_policies(&filtered("%")).await.unwrap()),
        ["a%b"]
    );
    assert_eq!(
        names_of(r.list_policies(&filtered("_")).await.unwrap()),
        ["_x", "a_b"]
    );
    assert_eq!(
        names_of(r.list_policies(&filtered("b")).await.unwrap()),
        ["B", "a%b", "a_b", "b"]
    );
    assert_eq!(
        names_of(r.list_policies(&filtered("é")).await.unwrap()),
        ["é"]
    );
    assert_eq!(
        names_of(r.list_policies(&filtered("éz")).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        names_of(r.list_policies(&filtered("Éz")).await.unwrap()),
        ["Éz"]
    );
    let status = ListQuery {
        sort: None,
        page: None,
        filter: PolicyFilter {
            status: Some(PolicyState::Activated),
            ..PolicyFilter::default()
        },
    };
    assert_eq!(r.list_policies(&status).await.unwrap().total, 0);

    // Client list: sorting by a joined column that is NULL for clients of rows that are gone
    // puts NULLs first ascending and last descending, as SQLite does; ties by id, byte-wise.
    let by_org = |dir| ListQuery {
        sort: Some(Sort {
            field: ClientSortField::OrgName,
            dir,
        }),
        page: None,
        filter: ClientFilter::default(),
    };
    let ids = |p: pms_domain::list::Page<pms_domain::list::ClientSummary>| {
        p.items.into_iter().map(|c| c.client_id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(r.list_clients(&by_org(SortDir::Asc)).await.unwrap()),
        ["cA", "ca", "cB"]
    );
    assert_eq!(
        ids(r.list_clients(&by_org(SortDir::Desc)).await.unwrap()),
        ["cB", "cA", "ca"]
    );
    // Default: newest first, then id byte-wise.
    assert_eq!(
        ids(r.list_clients(&all()).await.unwrap()),
        ["cA", "cB", "ca"]
    );
    let owned = |ids: Vec<&str>| ListQuery {
        sort: None,
        page: None,
        filter: ClientFilter {
            owned_by: Some(ids.into_iter().map(String::from).collect()),
            ..ClientFilter::default()
        },
    };
    assert_eq!(r.list_clients(&owned(vec![])).await.unwrap().total, 0);
    assert_eq!(
        ids(r.list_clients(&owned(vec!["gone"])).await.unwrap()),
        ["cA", "ca"]
    );
    let none_owned = ListQuery {
        sort: None,
        page: None,
        filter: MappingFilter {
            owned_by: Some(vec![]),
            ..MappingFilter::default()
        },
    };
    assert_eq!(r.list_mappings(&none_owned).await.unwrap().total, 0);
    drop(r);
    store.close().await;
}

#[tokio::test]
async fn write_transactions_are_serialised() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = db.store.clone();

    // A second writer waits for the first one's commit, then sees what it wrote.
    let mut w1 = store.write().await.unwrap();
    w1.insert_policy_group(&group("g1", "first")).await.unwrap();
    let s2 = store.clone();
    let second = tokio::spawn(async move {
        let mut w2 = s2.write().await.unwrap();
        let seen = w2.policy_group_by_name("first").await.unwrap();
        w2.insert_policy_group(&group("g2", "second"))
            .await
            .unwrap();
        w2.commit().await.unwrap();
        seen
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!second.is_finished(), "the second writer did not wait");
    // Readers do not wait, and see the last committed state.
    let mut r = store.read().await.unwrap();
    assert!(r.policy_groups().await.unwrap().is_empty());
    drop(r);
    w1.commit().await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, Some(group("g1", "first")));

    // Check-then-insert from many tasks at once: exactly one inserts, the others see its row
    // (never a constraint violation), as with SQLite's single writer.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                let mut w = s.write().await.unwrap();
                if w.policy_group_by_name("race").await.unwrap().is_some() {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                w.insert_policy_group(&group(&format!("race{i}"), "race"))
                    .await
                    .unwrap();
                w.commit().await.unwrap();
                true
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        if task.await.unwrap() {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 1);
    let mut r = store.read().await.unwrap();
    assert_eq!(r.count_rows(Table::PolicyGroup).await.unwrap(), 3);
    drop(r);
    store.close().await;
}

#[tokio::test]
async fn export_pages_in_key_order() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    seed(store).await;
    let ids = ["b", "B", "a", "A", "_", "é", "Z9", "z"];
    let mut w = store.write().await.unwrap();
    for id in ids {
        w.insert_policy_group(&group(id, &format!("name {id}")))
            .await
            .unwrap();
    }
    for n in 0..5 {
        w.append_audit(&audit("g1", n)).await.unwrap();
    }
    w.commit().await.unwrap();

    let mut expected: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    expected.push("g1".into());
    expected.sort_unstable();

    let mut r = store.read().await.unwrap();
    assert_eq!(r.count_rows(Table::PolicyGroup).await.unwrap(), 9);
    let mut got = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = r
            .export(Table::PolicyGroup, after.as_deref(), 4)
            .await
            .unwrap();
        let Some(last) = page.last else {
            assert!(page.records.is_empty());
            break;
        };
        pages += 1;
        assert!(page.records.len() <= 4);
        for rec in page.records {
            let Record::PolicyGroup(g) = rec else {
                panic!("not a group: {rec:?}")
            };
            got.push(g.id);
        }
        assert_eq!(got.last(), Some(&last));
        after = Some(last);
    }
    assert_eq!(pages, 3);
    assert_eq!(got, expected);

    // Audit: by sequence, positions are decimal ids.
    assert_eq!(r.count_rows(Table::Audit).await.unwrap(), 5);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = r.export(Table::Audit, after.as_deref(), 2).await.unwrap();
        let Some(last) = page.last else { break };
        last.parse::<i64>().unwrap();
        for rec in page.records {
            let Record::Audit(a) = rec else {
                panic!("not audit: {rec:?}")
            };
            seen.push(a);
        }
        after = Some(last);
    }
    assert_eq!(seen, (0..5).map(|n| audit("g1", n)).collect::<Vec<_>>());
    assert!(matches!(
        r.export(Table::Audit, Some("x"), 2).await,
        Err(StoreError::Corrupt(_))
    ));

    // Every table exports what was written.
    for (table, n) in [
        (Table::AuthPolicy, 1),
        (Table::Partner, 1),
        (Table::Mapping, 1),
        (Table::Client, 1),
    ] {
        let page = r.export(table, None, 100).await.unwrap();
        assert_eq!(page.records.len(), n, "{table:?}");
        assert_eq!(r.count_rows(table).await.unwrap(), n as u64);
        match &page.records[0] {
            Record::AuthPolicy(p) => assert_eq!(p.id, "pol1"),
            Record::Partner(p) => assert_eq!(p.id, "p1"),
            Record::Mapping(m) => assert_eq!(m.id, "m1"),
            Record::Client(c) => assert_eq!(c.id, "c1"),
            other => panic!("{other:?}"),
        }
        assert!(r
            .export(table, page.last.as_deref(), 100)
            .await
            .unwrap()
            .records
            .is_empty());
    }
    drop(r);
    store.close().await;
}

#[tokio::test]
async fn migrations_apply_once() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    // Applied by create(); again is a no-op.
    db.store.migrate().await.unwrap();
    db.store.close().await;
}

// ---------------------------------------------------------------- no server needed

#[tokio::test]
async fn unreachable_server_fails_within_the_timeout_without_the_password() {
    let started = Instant::now();
    let err = PgStore::connect(&PgSettings {
        // Nothing listens on port 1: refused, retried until the deadline.
        url: "postgres://pms:topsecret@127.0.0.1:1/pms".into(),
        max_connections: 2,
        connect_timeout: Duration::from_secs(1),
    })
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let StoreError::Unavailable {
        reason: Outage::Unreachable,
        detail: msg,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(!msg.contains("topsecret"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains("127.0.0.1:1/pms"), "{msg}");

    let err = PgStore::connect(&PgSettings {
        url: "postgres://pms:topsecret@127.0.0.1:notaport/pms".into(),
        max_connections: 2,
        connect_timeout: Duration::from_secs(1),
    })
    .await
    .unwrap_err();
    let StoreError::Failed(msg) = err else {
        panic!("{err:?}")
    };
    assert!(msg.starts_with("invalid PostgreSQL URL"), "{msg}");
    assert!(!msg.contains("topsecret"), "{msg}");
}

#[tokio::test]
async fn wrong_password_is_reported_without_it() {
    let Some(admin) = admin_url() else {
        return;
    };
    // A role that does not exist: the server refuses it (whatever the auth method).
    let url = with_database(&admin, "postgres").replacen("://", "://no_such_role_pms:hunter2@", 1);
    let url = match url.split_once("@") {
        // The admin URL may already carry user info: keep only ours.
        Some((head, tail)) if tail.contains('@') => {
            format!("{head}@{}", tail.split_once('@').unwrap().1)
        }
        _ => url,
    };
    let started = Instant::now();
    let err = PgStore::connect(&PgSettings {
        url,
        max_connections: 1,
        connect_timeout: Duration::from_secs(3),
    })
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    // A refused login is a configuration fault, not an outage.
    let StoreError::Failed(msg) = err else {
        panic!("{err:?}")
    };
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(msg.contains("no_such_role_pms"), "{msg}");
}

/// Runs `sql` on the admin connection.
async fn admin(admin_url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// A database that turns read-only (as a standby, or `default_transaction_read_only` set by an
/// operator or a disk-space guard, does): its writes fail as a read-only outage (SQLSTATE
/// 25006), which marks the store down although it still reads; health's write probe keeps it
/// down while that lasts and brings it back up after, with no write needed.
#[tokio::test]
async fn read_only_database_is_an_outage_and_health_follows_it() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = &db.store;
    let sessions = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name
    );
    store.ping().await.unwrap();
    admin(
        &db.admin_url,
        &format!(
            "ALTER DATABASE {} SET default_transaction_read_only = on; {sessions}",
            db.name
        ),
    )
    .await;
    // The pool finds its connections gone (57P01) and opens new, read-only ones.
    let mut err = None;
    for _ in 0..5 {
        let r = async {
            let mut w = store.write().await?;
            w.insert_policy_group(&group("g1", "one")).await?;
            w.commit().await
        }
        .await;
        match r {
            Err(StoreError::Unavailable {
                reason: Outage::ReadOnly,
                ..
            }) => {
                err = r.err();
                break;
            }
            Err(StoreError::Unavailable {
                reason: Outage::Unreachable,
                ..
            }) => continue,
            other => panic!("{other:?}"),
        }
    }
    let err = err.expect("no read-only outage");
    assert!(
        err.to_string().starts_with("database is read-only"),
        "{err}"
    );
    // Reads work; health is down, and stays down through its probe.
    let mut r = store.read().await.unwrap();
    assert_eq!(r.policy_group("g1").await.unwrap(), None);
    drop(r);
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable {
            reason: Outage::ReadOnly,
            ..
        })
    ));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable {
            reason: Outage::ReadOnly,
            ..
        })
    ));

    admin(
        &db.admin_url,
        &format!(
            "ALTER DATABASE {} RESET default_transaction_read_only; {sessions}",
            db.name
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut up = false;
    for _ in 0..5 {
        if store.ping().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(up, "health did not come back up");
    let mut w = store.write().await.unwrap();
    w.insert_policy_group(&group("g1", "one")).await.unwrap();
    w.commit().await.unwrap();
}
