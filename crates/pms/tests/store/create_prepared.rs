//! A create whose checks were read before the writer's turn (`clients::prepare_create`) uses
//! them only while no row they read has changed; otherwise it reads and checks again, so a
//! partner deactivated in between refuses the create and nothing is written.

use crate::fixtures::*;
use pms_domain::claims::ClaimsMapping;
use pms_domain::client_key::KeyPolicy;
use pms_domain::model::{Caller, ClientFamily, Ctx, MappingStatus};
use pms_domain::name::Name;
use pms_domain::ops::clients::{self, ClientRules, NewClient};
use pms_domain::store::ClientCreateView;
use pms_domain::{DomainError, Store};
use serde_json::json;
use std::sync::Arc;

fn new_client(name: &str) -> NewClient {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    NewClient {
        family: ClientFamily::Oidc,
        name: Name::parse(name).unwrap(),
        name_lang_map: Default::default(),
        policy_id: "p1".into(),
        public_key: serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap(),
        auth_partner_id: "rp1".into(),
        logo_uri: "https://rp.example/logo.png".into(),
        redirect_uris: vec!["https://rp.example/cb".into()],
        grant_types: vec!["authorization_code".into()],
        client_auth_methods: vec!["private_key_jwt".into()],
    }
}

async fn case_a_prepared_create_checks_again_after_a_change(store: Arc<dyn Store>) {
    let rules = ClientRules {
        key_policy: KeyPolicy::default(),
        claims: ClaimsMapping::defaults().unwrap(),
    };
    let ctx = Ctx {
        caller: Caller {
            user_id: "admin-1".into(),
            email: None,
            is_admin: true,
            reads_all_partners: true,
        },
        now: at(60, 0),
        correlation_id: "corr-1".into(),
        outbox: Default::default(),
    };
    let mut p1 = published(policy("p1", "g1", "Pol", at(0, 1)), true);
    p1.policies = Arc::new(json!({
        "authTokenType": "policy",
        "allowedKycAttributes": [{ "attributeName": "name" }, { "attributeName": "email" }],
        "allowedAuthTypes": [{ "authType": "otp", "authSubType": "", "mandatory": false }]
    }));
    let mut rp1 = partner("rp1", "Org", "a@x.org", "user-a", at(0, 2));
    let mut tx = store.write().await.unwrap();
    tx.insert_policy_group(&group("g1", "G1", at(0, 0)))
        .await
        .unwrap();
    tx.insert_policy(&p1).await.unwrap();
    tx.insert_partner(&rp1).await.unwrap();
    tx.insert_mapping(&mapping(
        "m1",
        "rp1",
        "p1",
        MappingStatus::Approved,
        at(0, 3),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    /// What the API does: prepare on a read connection.
    async fn prepare(
        store: &Arc<dyn Store>,
        ctx: &Ctx,
        rules: &ClientRules,
        keyed: &clients::KeyedNewClient,
    ) -> Result<ClientCreateView, DomainError> {
        let mut rx = store.read().await.unwrap();
        clients::prepare_create(rx.as_mut(), ctx, rules, keyed).await
    }

    // Nothing changed in between: the prepared checks are used and the create lands.
    let keyed = clients::check_key(&rules, new_client("First")).unwrap();
    let prepared = prepare(&store, &ctx, &rules, &keyed).await.unwrap();
    let mut tx = store.write().await.unwrap();
    let out = clients::create(tx.as_mut(), &ctx, &rules, keyed, Some(prepared))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut rx = store.read().await.unwrap();
    let stored = rx.client(&out.value.id).await.unwrap();
    drop(rx);
    check_eq!(stored.as_ref(), Some(&out.value), "the first create landed");
    // Its audit record's snapshot is the stored client.
    let mut rx = store.read().await.unwrap();
    let trail = rx.audit_of("OIDC_CLIENT", &out.value.id).await.unwrap();
    drop(rx);
    check_eq!(trail.len(), 1, "one audit record");
    let after: Option<serde_json::Value> = trail
        .first()
        .and_then(|a| a.after.as_ref())
        .map(|t| serde_json::from_str(t.as_str()).unwrap());
    check_eq!(
        after,
        Some(serde_json::to_value(&out.value).unwrap()),
        "the audit record's after is the stored client"
    );

    // The partner is deactivated after the checks were read: the create must see it.
    let keyed = clients::check_key(&rules, new_client("Second")).unwrap();
    let prepared = prepare(&store, &ctx, &rules, &keyed).await.unwrap();
    let mut tx = store.write().await.unwrap();
    rp1.is_active = false;
    tx.update_partner(&rp1).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.write().await.unwrap();
    let err = clients::create(tx.as_mut(), &ctx, &rules, keyed.clone(), Some(prepared))
        .await
        .unwrap_err();
    drop(tx);
    check!(
        matches!(err, DomainError::PartnerNotActive),
        "stale prepared checks are read again: {err:?}"
    );
    let mut rx = store.read().await.unwrap();
    let page = rx.list_clients(&query(Default::default())).await.unwrap();
    check_eq!(page.items.len(), 1, "only the first client was written");

    // Checks that fail when prepared are answered without the writer.
    let err = prepare(&store, &ctx, &rules, &keyed).await.unwrap_err();
    check!(
        matches!(err, DomainError::PartnerNotActive),
        "prepare refuses: {err:?}"
    );
}

cases!(case_a_prepared_create_checks_again_after_a_change);
