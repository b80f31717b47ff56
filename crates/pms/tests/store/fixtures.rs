//! Domain structs built directly, fixed timestamps, seeding and comparison helpers.

use chrono::{Duration, TimeZone, Utc};
use pms_domain::clock::format_ts;
use pms_domain::list::{
    ClientSummary, ListQuery, MappingSummary, PageReq, PolicySummary, Sort, SortDir,
};
use pms_domain::model::{
    ApprovalStatus, AuditRecord, AuthPolicy, ClientStatus, MappingRequest, MappingStatus, NameMap,
    OidcClient, Partner, PolicyGroup,
};
use pms_domain::outbox::{AggregateType, Channel, NewOutboxRow, OutboxRow};
use pms_domain::store::{Constraint, Record, StoreError};
use pms_domain::{Store, Timestamp, Tx};
use serde_json::Value;
use std::sync::Arc;

/// 2024-03-01T10:00:00.000Z plus `secs` seconds and `ms` milliseconds.
pub fn at(secs: i64, ms: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap()
        + Duration::seconds(secs)
        + Duration::milliseconds(ms)
}

/// The end of a 200-year validity: 2224-02-29T23:59:59.999Z (a leap day).
pub fn far_future() -> Timestamp {
    Utc.with_ymd_and_hms(2224, 2, 29, 23, 59, 59).unwrap() + Duration::milliseconds(999)
}

/// A policy document whose members are deliberately not in alphabetical order.
pub fn policy_doc() -> Value {
    serde_json::from_str(
        r#"{"authTokenType":"policy","allowedKycAttributes":[{"attributeName":"name"},{"attributeName":"email"}],"allowedAuthTypes":[{"mandatory":true,"authType":"otp","authSubType":""}],"zeta":1.5,"big":12345678901234567890,"alpha":{"z":"é✓","a":null}}"#,
    )
    .unwrap()
}

/// Another document, also out of order, for updates.
pub fn policy_doc_v2() -> Value {
    serde_json::from_str(
        r#"{"zz":[3,2,1],"allowedAuthTypes":[{"authType":"demo","mandatory":false,"authSubType":"x"}],"authTokenType":"partner","aa":{"y":true,"b":false}}"#,
    )
    .unwrap()
}

pub fn name_map(pairs: &[(&str, &str)]) -> NameMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
        .collect()
}

/// JSON text exactly as serialised: equal text means equal member order.
pub fn text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

pub fn group(id: &str, name: &str, cr: Timestamp) -> PolicyGroup {
    PolicyGroup {
        id: id.into(),
        name: name.into(),
        desc: format!("{name} description"),
        is_active: true,
        user_id: "admin-1".into(),
        cr_by: "admin-1".into(),
        cr_dtimes: cr,
        upd_by: None,
        upd_dtimes: None,
    }
}

/// A draft policy.
pub fn policy(id: &str, group_id: &str, name: &str, cr: Timestamp) -> AuthPolicy {
    AuthPolicy {
        id: id.into(),
        policy_group_id: group_id.into(),
        name: name.into(),
        desc: format!("{name} description"),
        policy_type: "Auth".into(),
        version: "1.0".into(),
        policies: policy_doc().into(),
        schema: None,
        is_active: false,
        valid_from: cr,
        valid_to: far_future(),
        cr_by: "admin-1".into(),
        cr_dtimes: cr,
        upd_by: None,
        upd_dtimes: None,
    }
}

/// `p` published, active or not.
pub fn published(mut p: AuthPolicy, active: bool) -> AuthPolicy {
    p.schema = Some("https://schemas.mosip.io/v1/auth-policy".into());
    p.is_active = active;
    p
}

pub fn partner(id: &str, name: &str, email: &str, user: &str, cr: Timestamp) -> Partner {
    Partner {
        id: id.into(),
        name: name.into(),
        address: "1 Main Street".into(),
        contact_no: "+911234567890".into(),
        email_id: email.into(),
        partner_type_code: "Auth_Partner".into(),
        policy_group_id: None,
        user_id: user.into(),
        approval_status: ApprovalStatus::InProgress,
        is_active: true,
        lang_code: "eng".into(),
        cr_by: user.into(),
        cr_dtimes: cr,
        upd_by: None,
        upd_dtimes: None,
    }
}

pub fn mapping(
    id: &str,
    partner_id: &str,
    policy_id: &str,
    status: MappingStatus,
    cr: Timestamp,
) -> MappingRequest {
    MappingRequest {
        id: id.into(),
        partner_id: partner_id.into(),
        policy_id: policy_id.into(),
        request_detail: format!("request {id}"),
        status,
        request_datetimes: cr,
        cr_by: "user-1".into(),
        cr_dtimes: cr,
        upd_by: None,
        upd_dtimes: None,
    }
}

pub fn client(id: &str, rp_id: &str, policy_id: &str, name: &str, cr: Timestamp) -> OidcClient {
    OidcClient {
        id: id.into(),
        name: name.into(),
        name_lang_map: NameMap::new(),
        rp_id: rp_id.into(),
        policy_id: policy_id.into(),
        logo_uri: "https://rp.example/logo.png".into(),
        redirect_uris: ["https://rp.example/cb", "https://rp.example/a"].into(),
        public_key: format!(r#"{{"kty":"RSA","n":"{id}","e":"AQAB"}}"#),
        claims: ["name", "email"].into(),
        acr_values: ["mosip:idp:acr:generated-code"].into(),
        grant_types: ["authorization_code"].into(),
        client_auth_methods: ["private_key_jwt"].into(),
        status: ClientStatus::Active,
        cr_by: "user-1".into(),
        cr_dtimes: cr,
        upd_by: None,
        upd_dtimes: None,
        version: 1,
    }
}

pub fn audit(
    entity_type: &str,
    entity_id: &str,
    action: &str,
    when: Timestamp,
    before: Option<&str>,
    after: Option<&str>,
) -> AuditRecord {
    AuditRecord {
        at: when,
        actor: "admin-1".into(),
        action: action.into(),
        entity_type: entity_type.into(),
        entity_id: entity_id.into(),
        before: before.map(|s| serde_json::from_str(s).unwrap()),
        after: after.map(|s| serde_json::from_str(s).unwrap()),
        correlation_id: format!("corr-{entity_id}-{action}"),
    }
}

/// Rows to insert in one committed write transaction, table by table.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub groups: Vec<PolicyGroup>,
    pub policies: Vec<AuthPolicy>,
    pub partners: Vec<Partner>,
    pub mappings: Vec<MappingRequest>,
    pub clients: Vec<OidcClient>,
    pub audits: Vec<AuditRecord>,
    /// Restored with their ids (`restore_outbox`), as `copy-data` writes them.
    pub outbox: Vec<OutboxRow>,
}

impl Seed {
    pub async fn write_to(&self, tx: &mut dyn Tx) {
        for g in &self.groups {
            tx.insert_policy_group(g).await.unwrap();
        }
        for p in &self.policies {
            tx.insert_policy(p).await.unwrap();
        }
        for p in &self.partners {
            tx.insert_partner(p).await.unwrap();
        }
        for m in &self.mappings {
            tx.insert_mapping(m).await.unwrap();
        }
        for c in &self.clients {
            tx.insert_client(c).await.unwrap();
        }
        for a in &self.audits {
            tx.append_audit(a).await.unwrap();
        }
        for o in &self.outbox {
            tx.restore_outbox(o).await.unwrap();
        }
    }

    pub async fn insert(&self, store: &Arc<dyn Store>) {
        let mut tx = store.write().await.unwrap();
        self.write_to(&mut *tx).await;
        tx.commit().await.unwrap();
    }

    pub fn group(&self, id: &str) -> Option<&PolicyGroup> {
        self.groups.iter().find(|g| g.id == id)
    }
    pub fn policy(&self, id: &str) -> Option<&AuthPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }
    pub fn partner(&self, id: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.id == id)
    }

    /// What `list_policies` must return for `p`.
    pub fn policy_summary(&self, p: &AuthPolicy) -> PolicySummary {
        let g = self.group(&p.policy_group_id).unwrap();
        PolicySummary {
            policy_id: p.id.clone(),
            policy_name: p.name.clone(),
            policy_description: p.desc.clone(),
            policy_group_id: g.id.clone(),
            policy_group_name: g.name.clone(),
            state: p.state(),
            created: p.cr_dtimes,
        }
    }

    /// What `list_mappings` must return for `m`.
    pub fn mapping_summary(&self, m: &MappingRequest) -> MappingSummary {
        let pa = self.partner(&m.partner_id).unwrap();
        let p = self.policy(&m.policy_id).unwrap();
        let g = self.group(&p.policy_group_id);
        MappingSummary {
            id: m.id.clone(),
            partner_id: m.partner_id.clone(),
            partner_status: pa.status_label(),
            org_name: pa.name.clone(),
            partner_type: pa.partner_type_code.clone(),
            policy_group_id: Some(p.policy_group_id.clone()),
            policy_group_name: g.map(|g| g.name.clone()),
            policy_group_description: g.map(|g| g.desc.clone()),
            policy_id: p.id.clone(),
            policy_name: p.name.clone(),
            policy_description: p.desc.clone(),
            partner_comment: m.request_detail.clone(),
            status: m.status,
            created: m.cr_dtimes,
            updated: m.upd_dtimes,
        }
    }

    /// What `list_clients` must return for `c`: partner, the partner's group and the policy
    /// joined, `None` where the joined row does not exist.
    pub fn client_summary(&self, c: &OidcClient) -> ClientSummary {
        let pa = self.partner(&c.rp_id);
        let g = pa
            .and_then(|pa| pa.policy_group_id.as_deref())
            .and_then(|id| self.group(id));
        let p = self.policy(&c.policy_id);
        ClientSummary {
            partner_id: c.rp_id.clone(),
            org_name: pa.map(|pa| pa.name.clone()),
            policy_group_id: g.map(|g| g.id.clone()),
            policy_group_name: g.map(|g| g.name.clone()),
            policy_group_description: g.map(|g| g.desc.clone()),
            policy_name: p.map(|p| p.name.clone()),
            policy_description: p.map(|p| p.desc.clone()),
            client_id: c.id.clone(),
            client_name: c.name.clone(),
            status: c.status,
            created: c.cr_dtimes,
            updated: c.upd_dtimes,
        }
    }
}

/// A list query without sort and paging.
pub fn query<F, Fl>(filter: Fl) -> ListQuery<F, Fl> {
    ListQuery {
        sort: None,
        page: None,
        filter,
    }
}

pub fn sorted_by<F, Fl>(field: F, dir: SortDir, filter: Fl) -> ListQuery<F, Fl> {
    ListQuery {
        sort: Some(Sort { field, dir }),
        page: None,
        filter,
    }
}

pub fn page(page_no: u32, page_size: u32) -> Option<PageReq> {
    Some(PageReq { page_no, page_size })
}

/// The reference order of the lists: `key` in `dir` (`None` lowest, as SQL NULL sorts in
/// SQLite), then `id` ascending. Strings compare byte-wise, like the databases' "C"/BINARY
/// collation.
pub fn reference_order<T: Clone>(
    items: &[T],
    key: impl Fn(&T) -> Option<String>,
    id: impl Fn(&T) -> String,
    dir: SortDir,
) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by(|a, b| {
        let o = key(a).cmp(&key(b));
        let o = match dir {
            SortDir::Asc => o,
            SortDir::Desc => o.reverse(),
        };
        o.then_with(|| id(a).cmp(&id(b)))
    });
    v
}

/// Sort key of a timestamp: the wire text sorts in time order.
pub fn ts_key(t: &Timestamp) -> Option<String> {
    Some(format_ts(t))
}

/// Asserts that `result` is the conflict `want`.
pub fn expect_conflict(result: Result<(), StoreError>, want: Constraint, what: &str) {
    match result {
        Err(StoreError::Conflict(c)) => check_eq!(c, want, "{what}: wrong constraint"),
        other => panic!(
            "[{}] {what}: expected Conflict({want:?}), got {other:?}",
            crate::harness::backend()
        ),
    }
}

/// Asserts two records equal, comparing JSON members in order (serialised text) as well.
pub fn assert_record_eq(got: &Record, want: &Record, what: &str) {
    check_eq!(got, want, "{what}");
    match (got, want) {
        (Record::AuthPolicy(g), Record::AuthPolicy(w)) => assert_policy_eq(g, w, what),
        (Record::Client(g), Record::Client(w)) => assert_client_eq(g, w, what),
        (Record::Audit(g), Record::Audit(w)) => assert_audit_eq(g, w, what),
        (Record::Outbox(g), Record::Outbox(w)) => assert_outbox_eq(g, w, what),
        _ => {}
    }
}

pub fn assert_policy_eq(got: &AuthPolicy, want: &AuthPolicy, what: &str) {
    check_eq!(got, want, "{what}");
    check_eq!(
        text(&got.policies),
        text(&want.policies),
        "{what}: policy document text (member order)"
    );
}

pub fn assert_client_eq(got: &OidcClient, want: &OidcClient, what: &str) {
    check_eq!(got, want, "{what}");
    check_eq!(
        text(&got.name_lang_map),
        text(&want.name_lang_map),
        "{what}: name map text (member order)"
    );
}

pub fn assert_audit_eq(got: &AuditRecord, want: &AuditRecord, what: &str) {
    check_eq!(got, want, "{what}");
    check_eq!(
        text(&got.before),
        text(&want.before),
        "{what}: audit `before` text (member order)"
    );
    check_eq!(
        text(&got.after),
        text(&want.after),
        "{what}: audit `after` text (member order)"
    );
}

pub fn assert_outbox_eq(got: &OutboxRow, want: &OutboxRow, what: &str) {
    check_eq!(got, want, "{what}");
    check_eq!(
        text(&got.event),
        text(&want.event),
        "{what}: outbox event text (member order)"
    );
}

pub fn assert_outbox_rows_eq(got: &[OutboxRow], want: &[OutboxRow], what: &str) {
    let ids = |v: &[OutboxRow]| v.iter().map(|r| r.id).collect::<Vec<_>>();
    check_eq!(ids(got), ids(want), "{what}: ids in order");
    for (g, w) in got.iter().zip(want) {
        assert_outbox_eq(g, w, &format!("{what}: row {}", w.id));
    }
}

/// An outbox row as `copy-data` restores it: every field set from its arguments, the rest
/// empty; `PENDING` due at creation.
pub fn outbox_row(
    id: i64,
    aggregate_type: AggregateType,
    aggregate_id: &str,
    channel: Channel,
    created: Timestamp,
) -> OutboxRow {
    let (operation, client_version, event) = match channel {
        Channel::Esignet => ("CREATE".to_string(), Some(1), None),
        Channel::Websub => (
            "OIDC_CLIENT_CREATED".to_string(),
            None,
            Some(websub_event(aggregate_id)),
        ),
    };
    OutboxRow::new(
        id,
        &NewOutboxRow {
            aggregate_type,
            aggregate_id: aggregate_id.into(),
            channel,
            operation,
            client_version,
            event,
            depends_on: None,
            created_at: created,
        },
    )
}

/// A WebSub event whose members are deliberately not in alphabetical order.
pub fn websub_event(id: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"publisher":"PartnerManagementServiceImpl","topic":"OIDC_CLIENT_CREATED","event":{{"id":"ev-{id}","type":{{"name":"PartnerManagementServiceImpl","namespace":"io.mosip"}},"timestamp":"2024-03-01T10:00:00.000Z","data":{{"zeta":1,"clientData":{{"clientId":"{id}","clientName":"é✓"}},"alpha":null}}}}}}"#
    ))
    .unwrap()
}

pub fn assert_audits_eq(got: &[AuditRecord], want: &[AuditRecord], what: &str) {
    check_eq!(got.len(), want.len(), "{what}: number of audit records");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_audit_eq(g, w, &format!("{what}[{i}]"));
    }
}

pub fn assert_policies_eq(got: &[AuthPolicy], want: &[AuthPolicy], what: &str) {
    let ids = |v: &[AuthPolicy]| v.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    check_eq!(ids(got), ids(want), "{what}: ids in order");
    for (g, w) in got.iter().zip(want) {
        assert_policy_eq(g, w, what);
    }
}

/// The catalogue the list cases share: three groups, six policies in every state, three
/// partners in every status. Names, descriptions and ids exercise byte order ("B" < "Z" < "a" <
/// "b"), literal `%`/`_`, mixed case and ties on every sort field.
pub fn catalogue() -> Seed {
    let mut g1 = group("g-1", "Alpha_Group", at(1, 0));
    g1.desc = "group one".into();
    let mut g2 = group("g-2", "beta%grp", at(2, 0));
    g2.desc = "group two".into();
    let mut g3 = group("g-3", "B grp", at(3, 0));
    g3.desc = "group three".into();

    let with = |mut p: AuthPolicy, desc: &str, policy_type: &str| {
        p.desc = desc.into();
        p.policy_type = policy_type.into();
        p
    };
    let policies = vec![
        with(policy("pol-a", "g-1", "a", at(100, 5)), "100% sure", "Auth"),
        with(
            published(policy("pol-b", "g-2", "B", at(200, 1)), true),
            "under_score",
            "Auth",
        ),
        with(
            published(policy("pol-c", "g-1", "b", at(200, 1)), false),
            "plain",
            "Auth",
        ),
        with(
            published(policy("pol-d", "g-2", "a", at(50, 999)), true),
            "Plain TEXT",
            "Auth",
        ),
        with(policy("pol-e", "g-3", "Zed_x", at(300, 0)), "x%y_z", "MISP"),
        with(
            published(policy("pol-f", "g-3", "b", at(200, 1)), true),
            "100 sure",
            "Auth",
        ),
    ];

    let mut par1 = partner("par-1", "Org_One", "one@example.org", "user-1", at(10, 0));
    par1.policy_group_id = Some("g-1".into());
    let mut par2 = partner("par-2", "org%two", "two@example.org", "user-2", at(11, 0));
    par2.partner_type_code = "Device_Provider".into();
    par2.policy_group_id = Some("g-3".into());
    par2.approval_status = ApprovalStatus::Approved;
    let mut par3 = partner("par-3", "Big Org", "three@example.org", "user-3", at(12, 0));
    par3.partner_type_code = "Credential_Partner".into();
    par3.policy_group_id = Some("g-2".into());
    par3.approval_status = ApprovalStatus::Approved;
    par3.is_active = false;

    Seed {
        groups: vec![g1, g2, g3],
        policies,
        partners: vec![par1, par2, par3],
        ..Seed::default()
    }
}
