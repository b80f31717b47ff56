//! Partners: self-registration, admin status changes, reads.

use super::{audit, entity, Outcome, Rules};
use crate::model::{
    partner_type, ApprovalStatus, AuditAction, Ctx, DomainEvent, Partner, PolicyGroup,
};
use crate::name::{self, Name};
use crate::store::{Constraint, StoreError, Tx};
use crate::DomainError;

#[derive(Debug, Clone)]
pub struct NewPartner {
    pub partner_id: String,
    pub policy_group: Option<String>,
    pub organization_name: Name,
    pub address: String,
    pub contact_number: String,
    pub email_id: String,
    pub partner_type: String,
    pub lang_code: Option<String>,
}

/// `POST /partners`: self-registration, checks 1–12 in order.
pub async fn register(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    rules: &Rules,
    cmd: NewPartner,
) -> Result<Partner, DomainError> {
    if let Some(email) = &ctx.caller.email {
        if tx.partner_by_email(email).await?.is_some() {
            return Err(DomainError::PartnerNotAuthorized);
        }
    }
    if !rules.email_regex.is_match(&cmd.email_id) {
        return Err(DomainError::InvalidEmail);
    }
    if cmd.partner_id.chars().any(char::is_whitespace) {
        return Err(DomainError::PartnerIdHasSpaces);
    }
    if cmd.partner_id.chars().count() > 36 {
        return Err(DomainError::PartnerIdTooLong);
    }
    if !ctx.caller.is_admin && cmd.partner_id != ctx.caller.user_id {
        return Err(DomainError::PartnerNotAuthorized);
    }
    if tx.partner_by_email(&cmd.email_id).await?.is_some() {
        return Err(DomainError::EmailTaken);
    }
    if let Some(lang) = &cmd.lang_code {
        if !rules.supported_languages.iter().any(|l| l == lang) {
            return Err(DomainError::LangNotSupported);
        }
    }
    if tx.partner(&cmd.partner_id).await?.is_some() {
        return Err(DomainError::PartnerIdTaken);
    }
    let (type_code, needs_group) =
        partner_type(&cmd.partner_type).ok_or(DomainError::UnknownPartnerType)?;
    let group_name = cmd.policy_group.filter(|g| !g.is_empty());
    if needs_group && group_name.is_none() {
        return Err(DomainError::PolicyGroupMandatory(type_code.to_string()));
    }
    let mut policy_group_id = None;
    if let Some(group_name) = &group_name {
        let group = tx
            .policy_group_by_name(&name::normalise(group_name))
            .await?
            .ok_or(DomainError::PartnerGroupNotFound)?;
        if !group.is_active {
            return Err(DomainError::PolicyGroupNotActive);
        }
        policy_group_id = Some(group.id);
    }
    let lang_code = match cmd.lang_code {
        Some(l) => l,
        None => rules
            .supported_languages
            .first()
            .cloned()
            .unwrap_or_default(),
    };
    let partner = Partner {
        id: cmd.partner_id.clone(),
        name: cmd.organization_name.into(),
        address: cmd.address,
        contact_no: cmd.contact_number,
        email_id: cmd.email_id,
        partner_type_code: type_code.to_string(),
        policy_group_id,
        user_id: cmd.partner_id,
        approval_status: ApprovalStatus::InProgress,
        is_active: false,
        lang_code,
        cr_by: ctx.caller.user_id.clone(),
        cr_dtimes: ctx.now,
        upd_by: None,
        upd_dtimes: None,
    };
    tx.insert_partner(&partner).await.map_err(|e| match e {
        StoreError::Conflict(Constraint::PartnerId) => DomainError::PartnerIdTaken,
        StoreError::Conflict(Constraint::PartnerEmail) => DomainError::EmailTaken,
        other => other.into(),
    })?;
    audit(
        tx,
        ctx,
        AuditAction::RegisterPartner,
        entity::PARTNER,
        &partner.id,
        None,
        &partner,
    )
    .await?;
    Ok(partner)
}

/// `GET /partners/{partnerId}`: the partner and its group (if it has one).
pub async fn get(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: &str,
) -> Result<(Partner, Option<PolicyGroup>), DomainError> {
    let partner = tx.partner(id).await?.ok_or(DomainError::PartnerNotFound)?;
    if !ctx.caller.reads_all_partners && partner.user_id != ctx.caller.user_id {
        return Err(DomainError::PartnerNotAuthorized);
    }
    let group = match &partner.policy_group_id {
        Some(gid) => Some(
            tx.policy_group(gid)
                .await?
                .ok_or(DomainError::PartnerGroupNotFound)?,
        ),
        None => None,
    };
    Ok((partner, group))
}

/// The requested partner status of `PATCH /partners/{partnerId}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerStatusChange {
    Activate,
    Deactivate,
}

/// `PATCH /partners/{partnerId}`. Returns the partner as it now is; a request that matches the
/// current state changes nothing and writes nothing.
pub async fn set_status(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: &str,
    change: PartnerStatusChange,
) -> Result<Outcome<Partner>, DomainError> {
    let before = tx
        .partner(id)
        .await?
        .ok_or(DomainError::PartnerNotFoundForStatus)?;
    if before.is_deactivated() {
        return Err(DomainError::PartnerAlreadyDeactivated);
    }
    let (after, action) = match (change, before.is_active) {
        (PartnerStatusChange::Activate, false) => (
            Partner {
                is_active: true,
                approval_status: ApprovalStatus::Approved,
                ..before.clone()
            },
            AuditAction::ActivatePartner,
        ),
        (PartnerStatusChange::Deactivate, true) => (
            Partner {
                is_active: false,
                ..before.clone()
            },
            AuditAction::DeactivatePartner,
        ),
        _ => return Ok(Outcome::quiet(before)),
    };
    let after = Partner {
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..after
    };
    tx.update_partner(&after).await?;
    audit(tx, ctx, action, entity::PARTNER, id, Some(&before), &after).await?;
    let events = vec![DomainEvent::PartnerUpdated {
        partner: after.clone(),
    }];
    crate::outbox::record(tx, ctx, &events).await?;
    Ok(Outcome {
        value: after,
        events,
    })
}
