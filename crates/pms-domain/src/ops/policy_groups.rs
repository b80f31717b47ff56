//! Policy groups: the named sets of policies partners register under.

use super::{audit, entity, new_id};
use crate::model::{AuditAction, AuthPolicy, Ctx, PolicyGroup, PolicyState};
use crate::name::Name;
use crate::store::{Constraint, StoreError, Tx};
use crate::DomainError;

#[derive(Debug, Clone)]
pub struct NewPolicyGroup {
    pub name: Name,
    pub desc: String,
}

#[derive(Debug, Clone)]
pub struct PolicyGroupUpdate {
    pub id: String,
    pub name: Name,
    pub desc: String,
    pub is_active: bool,
}

fn name_conflict(name: &str) -> impl FnOnce(StoreError) -> DomainError + '_ {
    move |e| match e {
        StoreError::Conflict(Constraint::PolicyGroupName) => {
            DomainError::GroupNameTaken(name.to_string())
        }
        other => other.into(),
    }
}

/// `POST /policies/group/new`.
pub async fn create(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    cmd: NewPolicyGroup,
) -> Result<PolicyGroup, DomainError> {
    if tx.policy_group_by_name(cmd.name.as_str()).await?.is_some() {
        return Err(DomainError::GroupNameTaken(cmd.name.into()));
    }
    let group = PolicyGroup {
        id: new_id(),
        name: cmd.name.into(),
        desc: cmd.desc,
        is_active: true,
        user_id: ctx.caller.user_id.clone(),
        cr_by: ctx.caller.user_id.clone(),
        cr_dtimes: ctx.now,
        upd_by: None,
        upd_dtimes: None,
    };
    tx.insert_policy_group(&group)
        .await
        .map_err(name_conflict(&group.name))?;
    audit(
        tx,
        ctx,
        AuditAction::CreatePolicyGroup,
        entity::POLICY_GROUP,
        &group.id,
        None,
        &group,
    )
    .await?;
    Ok(group)
}

/// `PUT /policies/group/{policygroupId}`.
pub async fn update(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    cmd: PolicyGroupUpdate,
) -> Result<PolicyGroup, DomainError> {
    let before = tx
        .policy_group(&cmd.id)
        .await?
        .ok_or(DomainError::GroupNotFoundForUpdate)?;
    if cmd.name != before.name && tx.policy_group_by_name(cmd.name.as_str()).await?.is_some() {
        return Err(DomainError::GroupNameTaken(cmd.name.into()));
    }
    if cmd.is_active != before.is_active
        && has_state(
            &tx.policies_in_group(&before.id).await?,
            PolicyState::Activated,
        )
    {
        return Err(DomainError::GroupHasActivePolicies);
    }
    let after = PolicyGroup {
        name: cmd.name.into(),
        desc: cmd.desc,
        is_active: cmd.is_active,
        user_id: ctx.caller.user_id.clone(),
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..before.clone()
    };
    tx.update_policy_group(&after)
        .await
        .map_err(name_conflict(&after.name))?;
    audit(
        tx,
        ctx,
        AuditAction::UpdatePolicyGroup,
        entity::POLICY_GROUP,
        &after.id,
        Some(&before),
        &after,
    )
    .await?;
    Ok(after)
}

/// `PATCH /policies/group/{policyGroupId}` (the `De-Activate` status was checked at the edge).
pub async fn deactivate(tx: &mut dyn Tx, ctx: &Ctx, id: &str) -> Result<PolicyGroup, DomainError> {
    if id.trim().is_empty() {
        return Err(DomainError::GroupIdBlank);
    }
    let before = tx
        .policy_group(id)
        .await?
        .ok_or(DomainError::GroupNotFoundForDeactivate)?;
    if !before.is_active {
        return Err(DomainError::GroupAlreadyDeactivated);
    }
    let policies = tx.policies_in_group(id).await?;
    match (
        has_state(&policies, PolicyState::Activated),
        has_state(&policies, PolicyState::Draft),
    ) {
        (true, true) => return Err(DomainError::GroupHasActiveAndDraftPolicies),
        (true, false) => return Err(DomainError::GroupHasActivePolicies),
        (false, true) => return Err(DomainError::GroupHasDraftPolicies),
        (false, false) => {}
    }
    let after = PolicyGroup {
        is_active: false,
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        ..before.clone()
    };
    tx.update_policy_group(&after).await?;
    audit(
        tx,
        ctx,
        AuditAction::DeactivatePolicyGroup,
        entity::POLICY_GROUP,
        id,
        Some(&before),
        &after,
    )
    .await?;
    Ok(after)
}

/// `GET /policies/group/{policygroupId}`: the group and every policy of it.
pub async fn get(tx: &mut dyn Tx, id: &str) -> Result<(PolicyGroup, Vec<AuthPolicy>), DomainError> {
    let group = tx
        .policy_group(id)
        .await?
        .ok_or(DomainError::GroupNotFound)?;
    let policies = tx.policies_in_group(id).await?;
    Ok((group, policies))
}

/// `GET /policies/group/all`.
pub async fn all(tx: &mut dyn Tx) -> Result<Vec<(PolicyGroup, Vec<AuthPolicy>)>, DomainError> {
    let groups = tx.policy_groups().await?;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let policies = tx.policies_in_group(&g.id).await?;
        out.push((g, policies));
    }
    Ok(out)
}

/// `GET /policies/policy-groups`: active groups by name.
pub async fn active(tx: &mut dyn Tx) -> Result<Vec<PolicyGroup>, DomainError> {
    let groups: Vec<_> = tx
        .policy_groups()
        .await?
        .into_iter()
        .filter(|g| g.is_active)
        .collect();
    if groups.is_empty() {
        return Err(DomainError::NoActiveGroups);
    }
    Ok(groups)
}

fn has_state(policies: &[AuthPolicy], state: PolicyState) -> bool {
    policies.iter().any(|p| p.state() == state)
}
