//! Row → domain conversions. A value the domain cannot read is [`StoreError::Corrupt`], never
//! a panic.

use pms_domain::list::{ClientSummary, MappingSummary, PolicySummary};
use pms_domain::model::{
    ApprovalStatus, AuditRecord, AuthPolicy, ClientStatus, JsonText, MappingRequest, MappingStatus,
    OidcClient, Partner, PolicyGroup, PolicyState,
};
use pms_domain::outbox::{AggregateType, Channel, OutboxRow, OutboxState};
use pms_domain::str_list::StrList;
use pms_domain::{StoreError, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::sync::Arc;

pub(crate) fn get<T>(row: &PgRow, col: &str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// TIMESTAMPTZ(3) decodes straight into the domain's millisecond UTC instant.
fn ts(row: &PgRow, col: &str) -> Result<Timestamp, StoreError> {
    get(row, col)
}

fn ts_opt(row: &PgRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    get(row, col)
}

/// A JSON document kept as TEXT (member order as written).
fn json(row: &PgRow, col: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

fn json_text(row: &PgRow, col: &str) -> Result<Option<JsonText>, StoreError> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| JsonText::parse(s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(crate) fn group_from(row: &PgRow) -> Result<PolicyGroup, StoreError> {
    Ok(PolicyGroup {
        id: get(row, "id")?,
        name: get(row, "name")?,
        desc: get(row, "descr")?,
        is_active: get(row, "is_active")?,
        user_id: get(row, "user_id")?,
        cr_by: get(row, "cr_by")?,
        cr_dtimes: ts(row, "cr_dtimes")?,
        upd_by: get(row, "upd_by")?,
        upd_dtimes: ts_opt(row, "upd_dtimes")?,
    })
}

/// The policy document, decoded once per stored text (`policy_doc::shared`); NULL reads as
/// JSON null.
fn policy_doc(row: &PgRow, id: &str) -> Result<Arc<serde_json::Value>, StoreError> {
    let text: Option<String> = get(row, "policies")?;
    match text {
        Some(t) => pms_domain::policy_doc::shared(id, &t)
            .map_err(|e| StoreError::Corrupt(format!("policies: {e}"))),
        None => Ok(Arc::new(serde_json::Value::Null)),
    }
}

pub(crate) fn policy_from(row: &PgRow) -> Result<AuthPolicy, StoreError> {
    let id: String = get(row, "id")?;
    Ok(AuthPolicy {
        policies: policy_doc(row, &id)?,
        id,
        policy_group_id: get(row, "policy_group_id")?,
        name: get(row, "name")?,
        desc: get(row, "descr")?,
        policy_type: get(row, "policy_type")?,
        version: get(row, "version")?,
        schema: get(row, "schema_url")?,
        is_active: get(row, "is_active")?,
        valid_from: ts(row, "valid_from")?,
        valid_to: ts(row, "valid_to")?,
        cr_by: get(row, "cr_by")?,
        cr_dtimes: ts(row, "cr_dtimes")?,
        upd_by: get(row, "upd_by")?,
        upd_dtimes: ts_opt(row, "upd_dtimes")?,
    })
}

pub(crate) fn partner_from(row: &PgRow) -> Result<Partner, StoreError> {
    let status: String = get(row, "approval_status")?;
    Ok(Partner {
        id: get(row, "id")?,
        name: get(row, "name")?,
        address: get(row, "address")?,
        contact_no: get(row, "contact_no")?,
        email_id: get(row, "email_id")?,
        partner_type_code: get(row, "partner_type_code")?,
        policy_group_id: get(row, "policy_group_id")?,
        user_id: get(row, "user_id")?,
        approval_status: ApprovalStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("approval_status {status:?}")))?,
        is_active: get(row, "is_active")?,
        lang_code: get(row, "lang_code")?,
        cr_by: get(row, "cr_by")?,
        cr_dtimes: ts(row, "cr_dtimes")?,
        upd_by: get(row, "upd_by")?,
        upd_dtimes: ts_opt(row, "upd_dtimes")?,
    })
}

fn mapping_status(row: &PgRow) -> Result<MappingStatus, StoreError> {
    let s: String = get(row, "status_code")?;
    MappingStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("status_code {s:?}")))
}

pub(crate) fn mapping_from(row: &PgRow) -> Result<MappingRequest, StoreError> {
    Ok(MappingRequest {
        id: get(row, "id")?,
        partner_id: get(row, "partner_id")?,
        policy_id: get(row, "policy_id")?,
        request_detail: get(row, "request_detail")?,
        status: mapping_status(row)?,
        request_datetimes: ts(row, "request_datetimes")?,
        cr_by: get(row, "cr_by")?,
        cr_dtimes: ts(row, "cr_dtimes")?,
        upd_by: get(row, "upd_by")?,
        upd_dtimes: ts_opt(row, "upd_dtimes")?,
    })
}

pub(crate) fn policy_summary_from(row: &PgRow) -> Result<PolicySummary, StoreError> {
    let schema: Option<String> = get(row, "schema_url")?;
    let active: bool = get(row, "is_active")?;
    Ok(PolicySummary {
        policy_id: get(row, "id")?,
        policy_name: get(row, "name")?,
        policy_description: get(row, "descr")?,
        policy_group_id: get(row, "policy_group_id")?,
        policy_group_name: get(row, "group_name")?,
        state: match (schema, active) {
            (None, _) => PolicyState::Draft,
            (Some(_), true) => PolicyState::Activated,
            (Some(_), false) => PolicyState::Deactivated,
        },
        created: ts(row, "cr_dtimes")?,
    })
}

pub(crate) fn summary_from(row: &PgRow) -> Result<MappingSummary, StoreError> {
    let approval: String = get(row, "approval_status")?;
    let active: bool = get(row, "is_active")?;
    let partner_status = match (ApprovalStatus::parse(&approval), active) {
        (Some(ApprovalStatus::InProgress), _) => "InProgress",
        (Some(ApprovalStatus::Approved), true) => "activated",
        (Some(ApprovalStatus::Approved), false) => "deactivated",
        (None, _) => return Err(StoreError::Corrupt(format!("approval_status {approval:?}"))),
    };
    Ok(MappingSummary {
        id: get(row, "id")?,
        partner_id: get(row, "partner_id")?,
        partner_status,
        org_name: get(row, "org_name")?,
        partner_type: get(row, "partner_type_code")?,
        policy_group_id: get(row, "policy_group_id")?,
        policy_group_name: get(row, "group_name")?,
        policy_group_description: get(row, "group_desc")?,
        policy_id: get(row, "policy_id")?,
        policy_name: get(row, "policy_name")?,
        policy_description: get(row, "policy_desc")?,
        partner_comment: get(row, "request_detail")?,
        status: mapping_status(row)?,
        created: ts(row, "cr_dtimes")?,
        updated: ts_opt(row, "upd_dtimes")?,
    })
}

pub(crate) fn audit_from(row: &PgRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        at: ts(row, "at")?,
        actor: get(row, "actor")?,
        action: get(row, "action")?,
        entity_type: get(row, "entity_type")?,
        entity_id: get(row, "entity_id")?,
        before: json_text(row, "before")?,
        after: json_text(row, "after")?,
        correlation_id: get(row, "correlation_id")?,
    })
}

/// A JSON column holding a value of type `T` (a list of strings, the name map).
fn json_of<T: serde::de::DeserializeOwned>(row: &PgRow, col: &str) -> Result<T, StoreError> {
    let s: String = get(row, col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// A JSON string-list column, kept as its text ([`StrList`]).
fn list_of(row: &PgRow, col: &str) -> Result<StrList, StoreError> {
    let s: String = get(row, col)?;
    StrList::from_json(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn client_status(row: &PgRow) -> Result<ClientStatus, StoreError> {
    let s: String = get(row, "status")?;
    match s.as_str() {
        "ACTIVE" => Ok(ClientStatus::Active),
        "INACTIVE" => Ok(ClientStatus::Inactive),
        _ => Err(StoreError::Corrupt(format!("client status {s:?}"))),
    }
}

pub(crate) fn client_from(row: &PgRow) -> Result<OidcClient, StoreError> {
    Ok(OidcClient {
        id: get(row, "id")?,
        name: get(row, "name")?,
        name_lang_map: json_of(row, "name_lang_map")?,
        rp_id: get(row, "rp_id")?,
        policy_id: get(row, "policy_id")?,
        logo_uri: get(row, "logo_uri")?,
        redirect_uris: list_of(row, "redirect_uris")?,
        public_key: get(row, "public_key")?,
        claims: list_of(row, "claims")?,
        acr_values: list_of(row, "acr_values")?,
        grant_types: list_of(row, "grant_types")?,
        client_auth_methods: list_of(row, "client_auth_methods")?,
        status: client_status(row)?,
        cr_by: get(row, "cr_by")?,
        cr_dtimes: ts(row, "cr_dtimes")?,
        upd_by: get(row, "upd_by")?,
        upd_dtimes: ts_opt(row, "upd_dtimes")?,
        version: get(row, "version")?,
    })
}

pub(crate) fn client_summary_from(row: &PgRow) -> Result<ClientSummary, StoreError> {
    Ok(ClientSummary {
        partner_id: get(row, "rp_id")?,
        org_name: get(row, "org_name")?,
        policy_group_id: get(row, "group_id")?,
        policy_group_name: get(row, "group_name")?,
        policy_group_description: get(row, "group_desc")?,
        policy_name: get(row, "policy_name")?,
        policy_description: get(row, "policy_desc")?,
        client_id: get(row, "id")?,
        client_name: get(row, "name")?,
        status: client_status(row)?,
        created: ts(row, "cr_dtimes")?,
        updated: ts_opt(row, "upd_dtimes")?,
    })
}

/// An enum column: the stored text parsed, anything else [`StoreError::Corrupt`].
fn parsed<T>(row: &PgRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let s: String = get(row, col)?;
    parse(&s).ok_or_else(|| StoreError::Corrupt(format!("{col} {s:?}")))
}

pub(crate) fn outbox_from(row: &PgRow) -> Result<OutboxRow, StoreError> {
    let attempts = get::<i32>(row, "attempts")?;
    Ok(OutboxRow {
        id: get(row, "id")?,
        aggregate_type: parsed(row, "aggregate_type", AggregateType::parse)?,
        aggregate_id: get(row, "aggregate_id")?,
        channel: parsed(row, "channel", Channel::parse)?,
        operation: get(row, "operation")?,
        client_version: get(row, "client_version")?,
        event: json(row, "event")?,
        depends_on: get(row, "depends_on")?,
        state: parsed(row, "state", OutboxState::parse)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
        next_attempt_at: ts_opt(row, "next_attempt_at")?,
        last_attempt_at: ts_opt(row, "last_attempt_at")?,
        lease_until: ts_opt(row, "lease_until")?,
        delivered_at: ts_opt(row, "delivered_at")?,
        created_at: ts(row, "created_at")?,
        last_error: get(row, "last_error")?,
    })
}
