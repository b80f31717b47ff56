//! Row → domain conversions. A value the domain cannot read is [`StoreError::Corrupt`], never
//! a panic.

use pms_domain::clock::parse_ts;
use pms_domain::list::{ClientSummary, MappingSummary, PolicySummary};
use pms_domain::model::{
    ApprovalStatus, AuditRecord, AuthPolicy, ClientStatus, JsonText, MappingRequest, MappingStatus,
    OidcClient, Partner, PolicyGroup, PolicyState,
};
use pms_domain::outbox::{AggregateType, Channel, OutboxRow, OutboxState};
use pms_domain::str_list::StrList;
use pms_domain::{StoreError, Timestamp};
use rusqlite::types::{FromSql, ValueRef};
use rusqlite::Row;
use serde_json::Value;
use std::sync::Arc;

fn get<T: FromSql>(row: &Row<'_>, col: &str) -> Result<T, StoreError> {
    row.get(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn ts(row: &Row<'_>, col: &str) -> Result<Timestamp, StoreError> {
    let s: String = get(row, col)?;
    parse_ts(&s).ok_or_else(|| StoreError::Corrupt(format!("{col}: bad timestamp {s:?}")))
}

fn ts_opt(row: &Row<'_>, col: &str) -> Result<Option<Timestamp>, StoreError> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| {
        parse_ts(&s).ok_or_else(|| StoreError::Corrupt(format!("{col}: bad timestamp {s:?}")))
    })
    .transpose()
}

fn json_text(row: &Row<'_>, col: &str) -> Result<Option<JsonText>, StoreError> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| JsonText::parse(s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(crate) fn group_from(row: &Row<'_>) -> Result<PolicyGroup, StoreError> {
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

pub(crate) fn policy_from(row: &Row<'_>) -> Result<AuthPolicy, StoreError> {
    policy_at(row, 0)
}

/// A timestamp column that must be set.
fn ts_req(row: &Row<'_>, i: usize, col: &str) -> Result<Timestamp, StoreError> {
    ts_at(row, i, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: missing")))
}

/// A policy whose `policy_cols!()` start at column `b` (by position: see [`outbox_at`]).
fn policy_at(row: &Row<'_>, b: usize) -> Result<AuthPolicy, StoreError> {
    let id: String = at(row, b, "id")?;
    Ok(AuthPolicy {
        policies: policy_doc_at(row, b + 6, &id)?,
        id,
        policy_group_id: at(row, b + 1, "policy_group_id")?,
        name: at(row, b + 2, "name")?,
        desc: at(row, b + 3, "descr")?,
        policy_type: at(row, b + 4, "policy_type")?,
        version: at(row, b + 5, "version")?,
        schema: at(row, b + 7, "schema_url")?,
        is_active: at(row, b + 8, "is_active")?,
        valid_from: ts_req(row, b + 9, "valid_from")?,
        valid_to: ts_req(row, b + 10, "valid_to")?,
        cr_by: at(row, b + 11, "cr_by")?,
        cr_dtimes: ts_req(row, b + 12, "cr_dtimes")?,
        upd_by: at(row, b + 13, "upd_by")?,
        upd_dtimes: ts_at(row, b + 14, "upd_dtimes")?,
    })
}

/// The policy document in column `i` of policy `id` (SQL NULL reads as JSON null), borrowed
/// from the row and decoded once per stored text (`policy_doc::shared`).
fn policy_doc_at(row: &Row<'_>, i: usize, id: &str) -> Result<Arc<Value>, StoreError> {
    let text = row
        .get_ref(i)
        .and_then(|v| v.as_str_or_null().map_err(Into::into))
        .map_err(|e| StoreError::Corrupt(format!("policies: {e}")))?;
    let Some(text) = text else {
        return Ok(Arc::new(Value::Null));
    };
    pms_domain::policy_doc::shared(id, text)
        .map_err(|e| StoreError::Corrupt(format!("policies: {e}")))
}

pub(crate) fn partner_from(row: &Row<'_>) -> Result<Partner, StoreError> {
    partner_at(row, 0)
}

/// A partner whose `partner_cols!()` start at column `b` (by position: see [`outbox_at`]).
fn partner_at(row: &Row<'_>, b: usize) -> Result<Partner, StoreError> {
    Ok(Partner {
        id: at(row, b, "id")?,
        name: at(row, b + 1, "name")?,
        address: at(row, b + 2, "address")?,
        contact_no: at(row, b + 3, "contact_no")?,
        email_id: at(row, b + 4, "email_id")?,
        partner_type_code: at(row, b + 5, "partner_type_code")?,
        policy_group_id: at(row, b + 6, "policy_group_id")?,
        user_id: at(row, b + 7, "user_id")?,
        approval_status: parsed_at(row, b + 8, "approval_status", ApprovalStatus::parse)?,
        is_active: at(row, b + 9, "is_active")?,
        lang_code: at(row, b + 10, "lang_code")?,
        cr_by: at(row, b + 11, "cr_by")?,
        cr_dtimes: ts_req(row, b + 12, "cr_dtimes")?,
        upd_by: at(row, b + 13, "upd_by")?,
        upd_dtimes: ts_at(row, b + 14, "upd_dtimes")?,
    })
}

fn mapping_status(row: &Row<'_>) -> Result<MappingStatus, StoreError> {
    let s: String = get(row, "status_code")?;
    MappingStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("status_code {s:?}")))
}

pub(crate) fn mapping_from(row: &Row<'_>) -> Result<MappingRequest, StoreError> {
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

pub(crate) fn policy_summary_from(row: &Row<'_>) -> Result<PolicySummary, StoreError> {
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

pub(crate) fn summary_from(row: &Row<'_>) -> Result<MappingSummary, StoreError> {
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

pub(crate) fn audit_from(row: &Row<'_>) -> Result<AuditRecord, StoreError> {
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

/// Column `i` (named `col` in errors), read by position.
pub(crate) fn at<T: FromSql>(row: &Row<'_>, i: usize, col: &str) -> Result<T, StoreError> {
    row.get(i)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// A JSON column holding a value of type `T` (a list of strings, the name map), parsed from
/// SQLite's own copy of the text (no intermediate `String`); text the domain cannot read is
/// [`StoreError::Corrupt`].
fn json_at<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    i: usize,
    col: &str,
) -> Result<T, StoreError> {
    json_opt_at(row, i, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: NULL")))
}

/// A JSON string-list column, kept as its text ([`StrList`]).
fn list_at(row: &Row<'_>, i: usize, col: &str) -> Result<StrList, StoreError> {
    let text = text_at(row, i, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: NULL")))?;
    StrList::from_json(text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// A nullable JSON column.
fn json_opt_at<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    i: usize,
    col: &str,
) -> Result<Option<T>, StoreError> {
    text_at(row, i, col)?
        .map(|t| serde_json::from_str(t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

/// A text column as SQLite holds it (`None` for NULL), checked as UTF-8 once: serde_json
/// then reads it as `&str` (its byte-slice reader would check each string again).
fn text_at<'r>(row: &'r Row<'_>, i: usize, col: &str) -> Result<Option<&'r str>, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{col}: {e}"));
    match row.get_ref(i).map_err(|e| corrupt(&e))? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => std::str::from_utf8(t).map(Some).map_err(|e| corrupt(&e)),
        other => Err(corrupt(&format_args!(
            "expected text, found {}",
            other.data_type()
        ))),
    }
}

fn ts_at(row: &Row<'_>, i: usize, col: &str) -> Result<Option<Timestamp>, StoreError> {
    let s: Option<String> = at(row, i, col)?;
    s.map(|s| {
        parse_ts(&s).ok_or_else(|| StoreError::Corrupt(format!("{col}: bad timestamp {s:?}")))
    })
    .transpose()
}

fn client_status(s: &str) -> Result<ClientStatus, StoreError> {
    match s {
        "ACTIVE" => Ok(ClientStatus::Active),
        "INACTIVE" => Ok(ClientStatus::Inactive),
        _ => Err(StoreError::Corrupt(format!("client status {s:?}"))),
    }
}

/// A client from the 18 columns of `client_cols!()` (lib.rs), read by position: this is the
/// hottest row, and a lookup by name searches the column names each time.
pub(crate) fn client_from(row: &Row<'_>) -> Result<OidcClient, StoreError> {
    let status: String = at(row, 12, "status")?;
    Ok(OidcClient {
        id: at(row, 0, "id")?,
        name: at(row, 1, "name")?,
        name_lang_map: json_at(row, 2, "name_lang_map")?,
        rp_id: at(row, 3, "rp_id")?,
        policy_id: at(row, 4, "policy_id")?,
        logo_uri: at(row, 5, "logo_uri")?,
        redirect_uris: list_at(row, 6, "redirect_uris")?,
        public_key: at(row, 7, "public_key")?,
        claims: list_at(row, 8, "claims")?,
        acr_values: list_at(row, 9, "acr_values")?,
        grant_types: list_at(row, 10, "grant_types")?,
        client_auth_methods: list_at(row, 11, "client_auth_methods")?,
        status: client_status(&status)?,
        cr_by: at(row, 13, "cr_by")?,
        cr_dtimes: ts_at(row, 14, "cr_dtimes")?
            .ok_or_else(|| StoreError::Corrupt("cr_dtimes: missing".into()))?,
        upd_by: at(row, 15, "upd_by")?,
        upd_dtimes: ts_at(row, 16, "upd_dtimes")?,
        version: at(row, 17, "version")?,
    })
}

pub(crate) fn client_summary_from(row: &Row<'_>) -> Result<ClientSummary, StoreError> {
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
        status: client_status(&get::<String>(row, "status")?)?,
        created: ts(row, "cr_dtimes")?,
        updated: ts_opt(row, "upd_dtimes")?,
    })
}

/// An enum column: the stored text parsed, anything else [`StoreError::Corrupt`].
fn parsed_at<T>(
    row: &Row<'_>,
    i: usize,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let s: String = at(row, i, col)?;
    parse(&s).ok_or_else(|| StoreError::Corrupt(format!("{col} {s:?}")))
}

pub(crate) fn outbox_from(row: &Row<'_>) -> Result<OutboxRow, StoreError> {
    outbox_at(row, 0)
}

/// An outbox row whose `outbox_cols!()` start at column `b`. By position: joined to a client
/// row, the names clash (`id`), and a lookup by name scans the column names each time.
pub(crate) fn outbox_at(row: &Row<'_>, b: usize) -> Result<OutboxRow, StoreError> {
    let attempts: i64 = at(row, b + 9, "attempts")?;
    Ok(OutboxRow {
        id: at(row, b, "id")?,
        aggregate_type: parsed_at(row, b + 1, "aggregate_type", AggregateType::parse)?,
        aggregate_id: at(row, b + 2, "aggregate_id")?,
        channel: parsed_at(row, b + 3, "channel", Channel::parse)?,
        operation: at(row, b + 4, "operation")?,
        client_version: at(row, b + 5, "client_version")?,
        event: json_opt_at(row, b + 6, "event")?,
        depends_on: at(row, b + 7, "depends_on")?,
        state: parsed_at(row, b + 8, "state", OutboxState::parse)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
        next_attempt_at: ts_at(row, b + 10, "next_attempt_at")?,
        last_attempt_at: ts_at(row, b + 11, "last_attempt_at")?,
        lease_until: ts_at(row, b + 12, "lease_until")?,
        delivered_at: ts_at(row, b + 13, "delivered_at")?,
        created_at: ts_req(row, b + 14, "created_at")?,
        last_error: at(row, b + 15, "last_error")?,
    })
}

/// Whether column `i` is NULL (an outer join found no row).
pub(crate) fn is_null(row: &Row<'_>, i: usize) -> Result<bool, StoreError> {
    Ok(row
        .get_ref(i)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .data_type()
        == rusqlite::types::Type::Null)
}

/// What `read` makes of the columns from `i` on, or `None` where an outer join found no row.
fn unless_null<T>(
    row: &Row<'_>,
    i: usize,
    read: fn(&Row<'_>, usize) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    if is_null(row, i)? {
        Ok(None)
    } else {
        read(row, i).map(Some)
    }
}

/// The client create view's row: six 0/1 answers, then `partner_cols!()` and `policy_cols!()`.
pub(crate) fn client_create_view_from(
    row: &Row<'_>,
) -> Result<pms_domain::store::ClientCreateView, StoreError> {
    const PARTNER: usize = 7;
    const POLICY: usize = PARTNER + 15;
    Ok(pms_domain::store::ClientCreateView {
        client_taken: at(row, 0, "client_taken")?,
        reader_owns_any: at(row, 1, "owns_any")?,
        reader_owns_partner: at(row, 2, "owns_partner")?,
        mapping_exists: at(row, 3, "mapping_exists")?,
        mapping_approved: at(row, 4, "mapping_approved")?,
        group_active: at(row, 5, "group_active")?,
        rows_version: at(row, 6, "check_rows_version")?,
        partner: unless_null(row, PARTNER, partner_at)?,
        policy: unless_null(row, POLICY, policy_at)?,
    })
}

/// Where the outbox columns start in the client view's row.
pub(crate) const CLIENT_VIEW_OUTBOX: usize = 20;

pub(crate) fn client_view_from(row: &Row<'_>) -> Result<pms_domain::store::ClientView, StoreError> {
    // 2: the reader owns the client's partner (so owns one), 1: another partner only, 0:
    // neither, or no reader. The second ownership lookup runs only when the first one fails.
    let ownership: i64 = at(row, 19, "ownership")?;
    Ok(pms_domain::store::ClientView {
        client: client_from(row)?,
        policy_name: at(row, 18, "policy_name")?,
        reader_owns_any: ownership >= 1,
        reader_owns_partner: ownership == 2,
        deliveries: Vec::new(),
    })
}
