//! The operations of pms: each runs its spec's checks in order against a [`Tx`], writes the
//! change and its audit record through the same `Tx`, and returns what happened. The caller (the
//! API layer) commits.

pub mod clients;
pub mod mappings;
pub mod partners;
pub mod policies;
pub mod policy_groups;

use crate::model::{AuditAction, AuditRecord, Ctx, DomainEvent, JsonText, Partner};
use crate::store::Tx;
use crate::DomainError;
use regex::Regex;
use serde::Serialize;

/// The configured rules the operations need (a subset of the service configuration).
#[derive(Debug, Clone)]
pub struct Rules {
    /// Canonical spellings; compared ignoring case.
    pub allowed_policy_types: Vec<String>,
    pub schema_url: String,
    pub validity_years: u32,
    /// The first entry is the default `lang_code`.
    pub supported_languages: Vec<String>,
    pub email_regex: Regex,
}

/// MOSIP's e-mail rule with `\w` written as ASCII.
pub const DEFAULT_EMAIL_REGEX: &str =
    r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_]+)*@[A-Za-z0-9_-]+(\.[A-Za-z0-9_]+)*(\.[a-z]{2,})$";

/// A result plus the events the change must publish (the outbox seam).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    pub value: T,
    pub events: Vec<DomainEvent>,
}

impl<T> Outcome<T> {
    pub fn quiet(value: T) -> Self {
        Self {
            value,
            events: Vec::new(),
        }
    }
}

fn snapshot<T: Serialize>(v: &T) -> Option<JsonText> {
    // Serialising plain data structs cannot fail; should it, keep the audit row without the
    // snapshot rather than fail the change.
    JsonText::of(v).ok()
}

/// Writes the audit record of a change, in the caller's transaction.
async fn audit<T: Serialize>(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    action: AuditAction,
    entity_type: &str,
    entity_id: &str,
    before: Option<&T>,
    after: &T,
) -> Result<(), DomainError> {
    let record = AuditRecord {
        at: ctx.now,
        actor: ctx.caller.user_id.clone(),
        action: action.as_str().to_string(),
        entity_type: entity_type.to_string(),
        entity_id: entity_id.to_string(),
        before: before.and_then(snapshot),
        after: snapshot(after),
        correlation_id: ctx.correlation_id.clone(),
    };
    tx.append_audit(&record).await?;
    Ok(())
}

/// Entity type names of the audit trail.
pub mod entity {
    pub const POLICY_GROUP: &str = "POLICY_GROUP";
    pub const POLICY: &str = "POLICY";
    pub const PARTNER: &str = "PARTNER";
    pub const MAPPING: &str = "PARTNER_POLICY_REQUEST";
    pub const CLIENT: &str = "OIDC_CLIENT";
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The ownership checks the list endpoints share (client list, mapping list), for a non-admin caller: it owns at least one partner, and every owned partner that
/// `checked` selects has an id and an existing policy group. Returns the owned partner ids.
async fn owned_partner_ids(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    checked: impl Fn(&Partner) -> bool,
) -> Result<Vec<String>, DomainError> {
    let owned = tx.partners_of_user(&ctx.caller.user_id).await?;
    if owned.is_empty() {
        return Err(DomainError::OwnsNoPartner);
    }
    for p in owned.iter().filter(|p| checked(p)) {
        if p.id.trim().is_empty() {
            return Err(DomainError::OwnedPartnerBlankId);
        }
        let gid = p
            .policy_group_id
            .as_deref()
            .ok_or(DomainError::OwnedPartnerNoGroup)?;
        if tx.policy_group(gid).await?.is_none() {
            return Err(DomainError::OwnedPartnerGroupMissing);
        }
    }
    Ok(owned.into_iter().map(|p| p.id).collect())
}
