//! Partner–policy mapping requests: a partner asks for a policy of its group, an admin approves or rejects.

use super::{audit, entity, new_id, owned_partner_ids};
use crate::list::{ListQuery, MappingFilter, MappingSortField, MappingSummary, Page};
use crate::model::{AuditAction, Ctx, MappingRequest, MappingStatus, PolicyState};
use crate::name;
use crate::store::{Constraint, StoreError, Tx};
use crate::DomainError;

#[derive(Debug, Clone)]
pub struct NewMappingRequest {
    pub partner_id: String,
    pub policy_name: String,
    pub use_case: String,
}

/// `POST /partners/{partnerId}/policy/map`, checks 1–11 in order.
pub async fn request(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    cmd: NewMappingRequest,
) -> Result<MappingRequest, DomainError> {
    let partner = tx
        .partner(&cmd.partner_id)
        .await?
        .ok_or(DomainError::PartnerNotFound)?;
    if !ctx.caller.is_admin && partner.user_id != ctx.caller.user_id {
        return Err(DomainError::PartnerNotAuthorized);
    }
    if !partner.is_active {
        return Err(DomainError::PartnerNotActive);
    }
    let group_id = partner
        .policy_group_id
        .clone()
        .ok_or(DomainError::PartnerHasNoGroup)?;
    let named: Vec<_> = tx
        .policies_named(&name::normalise(&cmd.policy_name))
        .await?
        .into_iter()
        .filter(|p| p.state() == PolicyState::Activated)
        .collect();
    if named.is_empty() {
        return Err(DomainError::PolicyNameNotFound);
    }
    let policy = named
        .into_iter()
        .find(|p| p.policy_group_id == group_id)
        .ok_or(DomainError::PolicyNotInPartnerGroup)?;
    if policy.state() != PolicyState::Activated {
        return Err(DomainError::PolicyNotActive);
    }
    if !policy.within_validity(ctx.now) {
        return Err(DomainError::PolicyExpired);
    }
    let group_active = tx
        .policy_group(&group_id)
        .await?
        .is_some_and(|g| g.is_active);
    if !group_active {
        return Err(DomainError::PolicyGroupNotActive);
    }
    let existing = tx.mappings_of(&partner.id, &policy.id).await?;
    if existing
        .iter()
        .any(|m| m.status == MappingStatus::InProgress)
    {
        return Err(DomainError::MappingPending);
    }
    if existing.iter().any(|m| m.status == MappingStatus::Approved) {
        return Err(DomainError::MappingApproved);
    }
    let mapping = MappingRequest {
        id: new_id(),
        partner_id: partner.id,
        policy_id: policy.id,
        request_detail: cmd.use_case,
        status: MappingStatus::InProgress,
        request_datetimes: ctx.now,
        cr_by: ctx.caller.user_id.clone(),
        cr_dtimes: ctx.now,
        upd_by: None,
        upd_dtimes: None,
    };
    tx.insert_mapping(&mapping).await.map_err(|e| match e {
        // A concurrent request won the race: it is pending (or was approved since).
        StoreError::Conflict(Constraint::LiveMapping) => DomainError::MappingPending,
        other => other.into(),
    })?;
    audit(
        tx,
        ctx,
        AuditAction::RequestPolicyMapping,
        entity::MAPPING,
        &mapping.id,
        None,
        &mapping,
    )
    .await?;
    Ok(mapping)
}

/// The decision of `PUT /partners/policy/{mappingkey}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// `PUT /partners/policy/{mappingkey}`, checks 1–8 (4–8 on approval only).
pub async fn decide(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    key: &str,
    decision: Decision,
) -> Result<MappingRequest, DomainError> {
    let before = tx
        .mapping_for_update(key)
        .await?
        .ok_or(DomainError::MappingNotFound)?;
    match before.status {
        MappingStatus::Approved => return Err(DomainError::MappingAlreadyApproved),
        MappingStatus::Rejected => return Err(DomainError::MappingAlreadyRejected),
        MappingStatus::InProgress => {}
    }
    if decision == Decision::Approve {
        let policy = tx
            .policy(&before.policy_id)
            .await?
            .ok_or(DomainError::ApprovalPolicyMissing)?;
        if policy.state() != PolicyState::Activated {
            return Err(DomainError::ApprovalPolicyNotActive);
        }
        let group = tx
            .policy_group(&policy.policy_group_id)
            .await?
            .ok_or(DomainError::ApprovalGroupMissing)?;
        if !group.is_active {
            return Err(DomainError::PolicyGroupNotActive);
        }
        if !policy.within_validity(ctx.now) {
            return Err(DomainError::ApprovalPolicyExpired);
        }
    }
    let (status, action) = match decision {
        Decision::Approve => (MappingStatus::Approved, AuditAction::ApprovePolicyMapping),
        Decision::Reject => (MappingStatus::Rejected, AuditAction::RejectPolicyMapping),
    };
    let after = MappingRequest {
        status,
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..before.clone()
    };
    tx.update_mapping(&after).await?;
    audit(tx, ctx, action, entity::MAPPING, key, Some(&before), &after).await?;
    Ok(after)
}

/// `GET /partner-policy-requests`: admins see every request; anyone else only those of the
/// partners it owns, after the ownership checks the list endpoints share (`super::owned_partner_ids`).
pub async fn list(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    mut q: ListQuery<MappingSortField, MappingFilter>,
) -> Result<Page<MappingSummary>, DomainError> {
    q.filter.owned_by = if ctx.caller.is_admin {
        None
    } else {
        // Device and FTM providers have no policy group by design.
        Some(
            owned_partner_ids(tx, ctx, |p| {
                !matches!(
                    p.partner_type_code.as_str(),
                    "Device_Provider" | "FTM_Provider"
                )
            })
            .await?,
        )
    };
    Ok(tx.list_mappings(&q).await?)
}
