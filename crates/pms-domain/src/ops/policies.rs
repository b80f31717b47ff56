//! Auth policies: drafts, publishing, updates and status. Documents are validated at the edge (stage 9)
//! with [`crate::policy_doc`]; these are the business checks that follow.

use super::{audit, entity, new_id, Outcome, Rules};
use crate::list::{ListQuery, Page, PolicyFilter, PolicySortField, PolicySummary};
use crate::model::{
    AuditAction, AuthPolicy, Ctx, DomainEvent, MappingStatus, PolicyGroup, PolicyState,
};
use crate::name::{self, Name};
use crate::store::{Constraint, StoreError, Tx};
use crate::DomainError;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub policy_id: Option<String>,
    pub group_name: String,
    pub policy_type: String,
    pub name: Name,
    pub desc: String,
    pub version: String,
    pub policies: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct PolicyUpdate {
    pub policy_id: String,
    pub group_name: String,
    pub name: Name,
    pub desc: String,
    pub version: String,
    pub policies: serde_json::Value,
}

/// The canonical spelling of an allowed policy type, compared ignoring case.
pub fn allowed_policy_type<'r>(rules: &'r Rules, requested: &str) -> Option<&'r str> {
    rules
        .allowed_policy_types
        .iter()
        .find(|t| t.eq_ignore_ascii_case(requested))
        .map(String::as_str)
}

/// The group a request names, looked up by the name's normalised form ([`crate::name`]).
async fn active_group_named(tx: &mut dyn Tx, name: &str) -> Result<PolicyGroup, DomainError> {
    let group = tx
        .policy_group_by_name(&name::normalise(name))
        .await?
        .ok_or(DomainError::GroupNameNotFound)?;
    if !group.is_active {
        return Err(DomainError::GroupInactive);
    }
    Ok(group)
}

fn conflicts(name: &str) -> impl FnOnce(StoreError) -> DomainError + '_ {
    move |e| match e {
        StoreError::Conflict(Constraint::PolicyNameInGroup) => {
            DomainError::PolicyNameTaken(name.to_string())
        }
        StoreError::Conflict(Constraint::PolicyId) => DomainError::PolicyIdTaken,
        other => other.into(),
    }
}

/// `POST /policies`: a new draft.
pub async fn create(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    rules: &Rules,
    cmd: NewPolicy,
) -> Result<(AuthPolicy, PolicyGroup), DomainError> {
    let policy_type = allowed_policy_type(rules, &cmd.policy_type)
        .ok_or(DomainError::PolicyTypeNotAllowed)?
        .to_string();
    let group = active_group_named(tx, &cmd.group_name).await?;
    if tx
        .policy_by_name_in_group(&group.id, cmd.name.as_str())
        .await?
        .is_some()
    {
        return Err(DomainError::PolicyNameTaken(cmd.name.into()));
    }
    if let Some(id) = &cmd.policy_id {
        if tx.policy(id).await?.is_some() {
            return Err(DomainError::PolicyIdTaken);
        }
    }
    let valid_to = ctx
        .now
        .checked_add_months(chrono::Months::new(rules.validity_years.saturating_mul(12)))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    let policy = AuthPolicy {
        id: cmd.policy_id.unwrap_or_else(new_id),
        policy_group_id: group.id.clone(),
        name: cmd.name.into(),
        desc: cmd.desc,
        policy_type,
        version: cmd.version,
        policies: Arc::new(cmd.policies),
        schema: None,
        is_active: false,
        valid_from: ctx.now,
        valid_to,
        cr_by: ctx.caller.user_id.clone(),
        cr_dtimes: ctx.now,
        upd_by: None,
        upd_dtimes: None,
    };
    tx.insert_policy(&policy)
        .await
        .map_err(conflicts(&policy.name))?;
    audit(
        tx,
        ctx,
        AuditAction::CreatePolicy,
        entity::POLICY,
        &policy.id,
        None,
        &policy,
    )
    .await?;
    Ok((policy, group))
}

async fn policy_in_group(
    tx: &mut dyn Tx,
    policy_id: &str,
    group: &PolicyGroup,
) -> Result<AuthPolicy, DomainError> {
    let policy = tx
        .policy(policy_id)
        .await?
        .ok_or(DomainError::PolicyNotFound)?;
    if policy.policy_group_id != group.id {
        return Err(DomainError::PolicyNotInGroup);
    }
    Ok(policy)
}

/// `PUT /policies/{policyId}`: edit a draft.
pub async fn update(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    cmd: PolicyUpdate,
) -> Result<(AuthPolicy, PolicyGroup), DomainError> {
    let group = active_group_named(tx, &cmd.group_name).await?;
    let before = policy_in_group(tx, &cmd.policy_id, &group).await?;
    if before.state() != PolicyState::Draft {
        return Err(DomainError::PolicyNotDraftForUpdate);
    }
    if let Some(other) = tx
        .policy_by_name_in_group(&group.id, cmd.name.as_str())
        .await?
    {
        if other.id != before.id {
            return Err(DomainError::PolicyNameTaken(cmd.name.into()));
        }
    }
    let after = AuthPolicy {
        name: cmd.name.into(),
        desc: cmd.desc,
        version: cmd.version,
        policies: Arc::new(cmd.policies),
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..before.clone()
    };
    tx.update_policy(&after)
        .await
        .map_err(conflicts(&after.name))?;
    audit(
        tx,
        ctx,
        AuditAction::UpdatePolicy,
        entity::POLICY,
        &after.id,
        Some(&before),
        &after,
    )
    .await?;
    Ok((after, group))
}

async fn group_and_policy(
    tx: &mut dyn Tx,
    policy_id: &str,
    group_id: &str,
) -> Result<(PolicyGroup, AuthPolicy), DomainError> {
    let group = tx
        .policy_group(group_id)
        .await?
        .ok_or(DomainError::GroupNotFound)?;
    if !group.is_active {
        return Err(DomainError::GroupInactive);
    }
    let policy = policy_in_group(tx, policy_id, &group).await?;
    Ok((group, policy))
}

/// `POST /policies/{policyId}/group/{policygroupId}/publish`.
pub async fn publish(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    rules: &Rules,
    policy_id: &str,
    group_id: &str,
) -> Result<Outcome<(AuthPolicy, PolicyGroup)>, DomainError> {
    let (group, before) = group_and_policy(tx, policy_id, group_id).await?;
    if before.state() != PolicyState::Draft {
        return Err(DomainError::PolicyAlreadyPublished);
    }
    let after = AuthPolicy {
        schema: Some(rules.schema_url.clone()),
        is_active: true,
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..before.clone()
    };
    tx.update_policy(&after).await?;
    audit(
        tx,
        ctx,
        AuditAction::PublishPolicy,
        entity::POLICY,
        &after.id,
        Some(&before),
        &after,
    )
    .await?;
    let events = vec![DomainEvent::PolicyUpdated {
        policy: after.clone(),
    }];
    crate::outbox::record(tx, ctx, &events).await?;
    Ok(Outcome {
        value: (after, group),
        events,
    })
}

/// `PATCH /policies/{policyId}` with `De-Activate`.
pub async fn deactivate(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    policy_id: &str,
) -> Result<Outcome<AuthPolicy>, DomainError> {
    if policy_id.trim().is_empty() {
        return Err(DomainError::PolicyIdBlank);
    }
    let before = tx
        .policy(policy_id)
        .await?
        .ok_or(DomainError::PolicyNotFoundForDeactivate)?;
    match before.state() {
        PolicyState::Draft => return Err(DomainError::PolicyIsDraft),
        PolicyState::Deactivated => return Err(DomainError::PolicyAlreadyDeactivated),
        PolicyState::Activated => {}
    }
    let mappings = tx.mappings_of_policy(policy_id).await?;
    if mappings.iter().any(|m| m.status == MappingStatus::Approved) {
        return Err(DomainError::PolicyHasApprovedMapping);
    }
    if mappings
        .iter()
        .any(|m| m.status == MappingStatus::InProgress)
    {
        return Err(DomainError::PolicyHasPendingMapping);
    }
    let after = AuthPolicy {
        is_active: false,
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..before.clone()
    };
    tx.update_policy(&after).await?;
    audit(
        tx,
        ctx,
        AuditAction::DeactivatePolicy,
        entity::POLICY,
        &after.id,
        Some(&before),
        &after,
    )
    .await?;
    let events = vec![DomainEvent::PolicyUpdated {
        policy: after.clone(),
    }];
    crate::outbox::record(tx, ctx, &events).await?;
    Ok(Outcome {
        value: after,
        events,
    })
}

/// `PATCH /policies/{policyId}/group/{policygroupId}`: MOSIP's legacy status change. Every
/// path either fails or changes nothing.
pub async fn legacy_status(
    tx: &mut dyn Tx,
    policy_id: &str,
    group_id: &str,
    activate: bool,
) -> Result<(), DomainError> {
    let (_, policy) = group_and_policy(tx, policy_id, group_id).await?;
    if policy.state() != PolicyState::Draft {
        return Err(DomainError::PolicyStatusOfPublished);
    }
    if activate {
        return Err(DomainError::PolicyActivateUnpublished);
    }
    Ok(())
}

/// `GET /policies/{policyId}`: the policy and its group.
pub async fn get(
    tx: &mut dyn Tx,
    policy_id: &str,
) -> Result<(AuthPolicy, PolicyGroup), DomainError> {
    let policy = tx
        .policy(policy_id)
        .await?
        .ok_or(DomainError::PolicyNotFound)?;
    let group = tx
        .policy_group(&policy.policy_group_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("policy {} has no group", policy.id)))?;
    Ok((policy, group))
}

/// `GET /policies`: every policy with its group.
pub async fn all(tx: &mut dyn Tx) -> Result<Vec<(AuthPolicy, PolicyGroup)>, DomainError> {
    let groups = tx.policy_groups().await?;
    let policies = tx.policies().await?;
    let mut out = Vec::with_capacity(policies.len());
    for p in policies {
        let g = groups
            .iter()
            .find(|g| g.id == p.policy_group_id)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt(format!("policy {} has no group", p.id)))?;
        out.push((p, g));
    }
    Ok(out)
}

/// `GET /policies/active/group/{groupName}`.
pub async fn active_of_group(
    tx: &mut dyn Tx,
    group_name: &str,
) -> Result<(PolicyGroup, Vec<AuthPolicy>), DomainError> {
    let group = active_group_named(tx, group_name).await?;
    let policies = tx
        .policies_in_group(&group.id)
        .await?
        .into_iter()
        .filter(|p| p.state() == PolicyState::Activated)
        .collect();
    Ok((group, policies))
}

/// `GET /policies/v2`.
pub async fn list(
    tx: &mut dyn Tx,
    q: &ListQuery<PolicySortField, PolicyFilter>,
) -> Result<Page<PolicySummary>, DomainError> {
    Ok(tx.list_policies(q).await?)
}
