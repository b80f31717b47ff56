//! OIDC clients: create under an approved policy mapping with the id derived
//! from the public key, update with one-way deactivation, read and list with ownership checks.

use super::{audit, entity, owned_partner_ids, Outcome};
use crate::claims::{ClaimsMapping, Grants, GrantsError};
use crate::client_key::{ClientPublicKey, KeyPolicy};
use crate::list::{ClientFilter, ClientSortField, ClientSummary, ListQuery, Page};
use crate::model::{
    AuditAction, ClientFamily, ClientStatus, Ctx, DomainEvent, NameMap, OidcClient, Partner,
    PolicyState,
};
use crate::name::Name;
use crate::outbox::{self, AggregateType, DeliveryState, OutboxRow, OutboxState};
use crate::store::{ClientCreateView, Constraint, StoreError, Tx};
use crate::DomainError;

/// What client operations need beyond the store: the key policy and the claims / ACR mapping
/// data, both fixed at start-up.
#[derive(Debug, Clone)]
pub struct ClientRules {
    pub key_policy: KeyPolicy,
    pub claims: ClaimsMapping,
}

/// A create request after field validation (the wire fields are read in `pms-api`).
#[derive(Debug, Clone)]
pub struct NewClient {
    pub family: ClientFamily,
    pub name: Name,
    /// Empty for the legacy family; its values normalised as names are.
    pub name_lang_map: NameMap,
    pub policy_id: String,
    /// The JWK as sent; its content is checked as the first business check.
    pub public_key: serde_json::Value,
    pub auth_partner_id: String,
    pub logo_uri: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub client_auth_methods: Vec<String>,
}

/// What a client read shows: the client, its policy's name (`None` if the policy is gone) and
/// its outbox rows, for the `delivery` member.
#[derive(Debug, Clone)]
pub struct ClientRead {
    pub client: OidcClient,
    pub policy_name: Option<String>,
    pub deliveries: Vec<OutboxRow>,
}

/// An update request after field validation.
#[derive(Debug, Clone)]
pub struct ClientUpdate {
    pub logo_uri: String,
    pub redirect_uris: Vec<String>,
    pub status: ClientStatus,
    pub grant_types: Vec<String>,
    pub client_name: Name,
    pub client_auth_methods: Vec<String>,
    /// `Some` on `PUT /oauth/client` (replaces the whole map); `None` keeps the stored map.
    pub name_lang_map: Option<NameMap>,
}

/// Checks 3–4 of create and their twins in update and read: a non-admin caller must own at
/// least one partner, and `partner_id` among them.
async fn require_owner(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    partner_id: &str,
    not_owned: DomainError,
) -> Result<(), DomainError> {
    if ctx.caller.is_admin {
        return Ok(());
    }
    let owned = tx.partners_of_user(&ctx.caller.user_id).await?;
    if owned.is_empty() {
        return Err(DomainError::OwnsNoPartner);
    }
    if !owned.iter().any(|p| p.id == partner_id) {
        return Err(not_owned);
    }
    Ok(())
}

/// A create request whose public key passed the create's check 1 ([`check_key`]).
#[derive(Debug, Clone)]
pub struct KeyedNewClient {
    key: ClientPublicKey,
    cmd: NewClient,
}

/// The create's check 1: the public key's content under the key policy. It reads nothing, so callers
/// run it before they take the writer's turn, which then holds only the checks that read the
/// store (nothing else runs between the two, so the order of the checks is unchanged).
pub fn check_key(rules: &ClientRules, cmd: NewClient) -> Result<KeyedNewClient, DomainError> {
    let key = ClientPublicKey::parse(&cmd.public_key, &rules.key_policy)
        .map_err(|e| DomainError::ClientKeyRejected(e.0))?;
    Ok(KeyedNewClient { key, cmd })
}

/// What a create's checks read, read on `tx` outside the writer's turn (a read transaction),
/// with the create's checks 2–17 made on it in
/// order: a request they refuse is answered without waiting for the writer. [`create`] uses
/// the view only while nothing it read has changed.
pub async fn prepare_create(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    rules: &ClientRules,
    keyed: &KeyedNewClient,
) -> Result<ClientCreateView, DomainError> {
    let view = create_view(tx, ctx, keyed).await?;
    check_create(&view, ctx, rules, &keyed.cmd)?;
    Ok(view)
}

async fn create_view(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    keyed: &KeyedNewClient,
) -> Result<ClientCreateView, DomainError> {
    let reader = (!ctx.caller.is_admin).then_some(ctx.caller.user_id.as_str());
    Ok(tx
        .client_create_view(
            keyed.key.client_id(),
            reader,
            &keyed.cmd.auth_partner_id,
            &keyed.cmd.policy_id,
        )
        .await?)
}

/// The create's checks 2–17 (partner, policy, mapping, claims, ACR), in order, on one view; what the client is granted when they pass.
fn check_create(
    view: &ClientCreateView,
    ctx: &Ctx,
    rules: &ClientRules,
    cmd: &NewClient,
) -> Result<Grants, DomainError> {
    if view.client_taken {
        return Err(DomainError::ClientKeyTaken);
    }
    if !ctx.caller.is_admin {
        if !view.reader_owns_any {
            return Err(DomainError::OwnsNoPartner);
        }
        if !view.reader_owns_partner {
            return Err(DomainError::ClientPartnerNotOwnedForCreate);
        }
    }
    let partner = view
        .partner
        .as_ref()
        .ok_or_else(|| DomainError::AuthPartnerNotFound(cmd.auth_partner_id.clone()))?;
    if !partner
        .partner_type_code
        .eq_ignore_ascii_case("Auth_Partner")
    {
        return Err(DomainError::NotAuthPartner(
            partner.partner_type_code.clone(),
        ));
    }
    if !partner.is_active {
        return Err(DomainError::PartnerNotActive);
    }
    let policy = view
        .policy
        .as_ref()
        .ok_or(DomainError::ClientPolicyNotFound)?;
    if !policy.policy_type.eq_ignore_ascii_case("Auth") {
        return Err(DomainError::NotAuthPolicy);
    }
    if policy.state() != PolicyState::Activated {
        return Err(DomainError::PolicyNotActive);
    }
    if !policy.within_validity(ctx.now) {
        return Err(DomainError::PolicyExpired);
    }
    if !view.group_active {
        return Err(DomainError::PolicyGroupNotActive);
    }
    if !view.mapping_exists {
        return Err(DomainError::ClientMappingNotFound);
    }
    if !view.mapping_approved {
        return Err(DomainError::ClientMappingNotApproved);
    }
    rules
        .claims
        .grants_of(&policy.policies)
        .map_err(|e| match e {
            GrantsError::NoClaims => DomainError::NoClaims,
            GrantsError::MandatoryAuth => DomainError::MandatoryAuth,
            GrantsError::NoAcr => DomainError::NoAcrValues,
        })
}

/// `POST /oidc/client` and `POST /oauth/client`: checks 2–17 in order (`check_create`), after
/// [`check_key`], then the insert. `prepared` is what [`prepare_create`] read: it is used
/// only while the store's [`Tx::check_rows_version`] still equals the one it was read with
/// (no partner, policy, group or mapping written since), and is otherwise read again here.
/// Either way the checks are made on rows as this transaction sees them.
pub async fn create(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    rules: &ClientRules,
    keyed: KeyedNewClient,
    prepared: Option<ClientCreateView>,
) -> Result<Outcome<OidcClient>, DomainError> {
    let view = match prepared {
        Some(v) if tx.check_rows_version().await? == v.rows_version => v,
        _ => create_view(tx, ctx, &keyed).await?,
    };
    let grants = check_create(&view, ctx, rules, &keyed.cmd)?;
    let KeyedNewClient { key, cmd } = keyed;
    // check_create refused a view without them.
    let (Some(partner), Some(policy)) = (view.partner, view.policy) else {
        return Err(DomainError::ClientPolicyNotFound);
    };
    let client = OidcClient {
        id: key.client_id().to_string(),
        name: cmd.name.into(),
        name_lang_map: cmd.name_lang_map,
        rp_id: partner.id.clone(),
        policy_id: policy.id.clone(),
        logo_uri: cmd.logo_uri,
        redirect_uris: cmd.redirect_uris.into(),
        public_key: key.normalized_json().to_string(),
        claims: grants.claims.into(),
        acr_values: grants.acr_values.into(),
        grant_types: cmd.grant_types.into(),
        client_auth_methods: cmd.client_auth_methods.into(),
        status: ClientStatus::Active,
        cr_by: ctx.caller.user_id.clone(),
        cr_dtimes: ctx.now,
        upd_by: None,
        upd_dtimes: None,
        version: 1,
    };
    // A racing create with the same key loses here, at the primary key, with the same code.
    tx.insert_client(&client).await.map_err(|e| match e {
        StoreError::Conflict(Constraint::ClientId) => DomainError::ClientKeyTaken,
        other => other.into(),
    })?;
    audit(
        tx,
        ctx,
        AuditAction::CreateClient,
        entity::CLIENT,
        &client.id,
        None,
        &client,
    )
    .await?;
    let events = vec![DomainEvent::ClientCreated {
        client: client.clone(),
        family: cmd.family,
        partner: Box::new(partner),
        policy: Box::new(policy),
    }];
    crate::outbox::record(tx, ctx, &events).await?;
    Ok(Outcome {
        value: client,
        events,
    })
}

/// `PUT /oidc/client/{id}` and `PUT /oauth/client/{id}`: the update's checks 1–6 (client exists, caller owns it, not INACTIVE, …), then the status change.
pub async fn update(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: &str,
    cmd: ClientUpdate,
) -> Result<Outcome<OidcClient>, DomainError> {
    let before = tx
        .client_for_update(id)
        .await?
        .ok_or(DomainError::ClientNotFound)?;
    if before.status == ClientStatus::Inactive {
        return Err(DomainError::ClientDeactivated);
    }
    let partner: Partner = tx
        .partner(&before.rp_id)
        .await?
        .ok_or_else(|| DomainError::AuthPartnerNotFound(before.rp_id.clone()))?;
    require_owner(
        tx,
        ctx,
        &before.rp_id,
        DomainError::ClientPartnerNotOwnedForUpdate,
    )
    .await?;
    let status_change = cmd.status != before.status;
    let admin_status_change = ctx.caller.is_admin && status_change;
    if !admin_status_change && !partner.is_active {
        return Err(DomainError::PartnerNotActive);
    }
    let after = if status_change {
        // Only the status moves; the other fields were validated and are ignored, as MOSIP does.
        OidcClient {
            status: cmd.status,
            ..before.clone()
        }
    } else {
        OidcClient {
            name: cmd.client_name.into(),
            logo_uri: cmd.logo_uri,
            redirect_uris: cmd.redirect_uris.into(),
            grant_types: cmd.grant_types.into(),
            client_auth_methods: cmd.client_auth_methods.into(),
            name_lang_map: cmd
                .name_lang_map
                .unwrap_or_else(|| before.name_lang_map.clone()),
            ..before.clone()
        }
    };
    if after == before {
        return Ok(Outcome::quiet(before));
    }
    let after = OidcClient {
        upd_by: Some(ctx.caller.user_id.clone()),
        upd_dtimes: Some(ctx.now),
        version: before.version + 1,
        ..after
    };
    tx.update_client(&after).await?;
    audit(
        tx,
        ctx,
        AuditAction::UpdateClient,
        entity::CLIENT,
        id,
        Some(&before),
        &after,
    )
    .await?;
    let events = vec![DomainEvent::ClientUpdated {
        client: after.clone(),
    }];
    crate::outbox::record(tx, ctx, &events).await?;
    Ok(Outcome {
        value: after,
        events,
    })
}

/// `GET /oidc/client/{id}` and `GET /oauth/client/{id}`.
pub async fn get(tx: &mut dyn Tx, ctx: &Ctx, id: &str) -> Result<ClientRead, DomainError> {
    // One round trip answers checks 1-3 and brings the deliveries: reads are the hot path.
    let reader = (!ctx.caller.is_admin).then_some(ctx.caller.user_id.as_str());
    let view = tx
        .client_view(id, reader)
        .await?
        .ok_or(DomainError::ClientNotFound)?;
    if reader.is_some() {
        if !view.reader_owns_any {
            return Err(DomainError::OwnsNoPartner);
        }
        if !view.reader_owns_partner {
            return Err(DomainError::ClientPartnerNotOwnedForRead);
        }
    }
    Ok(ClientRead {
        client: view.client,
        policy_name: view.policy_name,
        deliveries: view.deliveries,
    })
}

/// `GET /oauth/client`: admins see every client, anyone else those of the partners it
/// owns, after the ownership checks the list endpoints share (`super::owned_partner_ids`). Each row comes with its `deliveryState`.
pub async fn list(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    mut q: ListQuery<ClientSortField, ClientFilter>,
) -> Result<Page<(ClientSummary, DeliveryState)>, DomainError> {
    q.filter.owned_by = if ctx.caller.is_admin {
        None
    } else {
        Some(owned_partner_ids(tx, ctx, |_| true).await?)
    };
    let page = tx.list_clients(&q).await?;
    let ids: Vec<String> = page.items.iter().map(|c| c.client_id.clone()).collect();
    let rows = if ids.is_empty() {
        Vec::new()
    } else {
        tx.outbox_of(AggregateType::Client, &ids).await?
    };
    let items = page
        .items
        .into_iter()
        .map(|c| {
            let mine: Vec<OutboxRow> = rows
                .iter()
                .filter(|r| r.aggregate_id == c.client_id)
                .cloned()
                .collect();
            let state = outbox::overall(&mine);
            (c, state)
        })
        .collect();
    Ok(Page {
        items,
        total: page.total,
    })
}

/// `POST /oauth/client/{id}/redeliver`: the client's `FAILED` rows go back to `PENDING`,
/// due now, with no attempts counted; audited when anything changed. Returns the client and all
/// its outbox rows afterwards.
pub async fn redeliver(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: &str,
) -> Result<(OidcClient, Vec<OutboxRow>), DomainError> {
    let client = tx.client(id).await?.ok_or(DomainError::ClientNotFound)?;
    let mut rows = tx
        .outbox_of(AggregateType::Client, std::slice::from_ref(&client.id))
        .await?;
    let mut changed = Vec::new();
    for row in rows.iter_mut().filter(|r| r.state == OutboxState::Failed) {
        row.state = OutboxState::Pending;
        row.attempts = 0;
        row.next_attempt_at = Some(ctx.now);
        row.lease_until = None;
        tx.update_outbox(row).await?;
        changed.push(row.id);
    }
    if !changed.is_empty() {
        audit(
            tx,
            ctx,
            AuditAction::RedeliverClient,
            entity::CLIENT,
            &client.id,
            None::<&serde_json::Value>,
            &serde_json::json!({ "outboxRows": changed }),
        )
        .await?;
    }
    Ok((client, rows))
}

/// A client's outbox rows, for the `delivery` member of a read.
pub async fn deliveries(tx: &mut dyn Tx, client_id: &str) -> Result<Vec<OutboxRow>, DomainError> {
    Ok(tx
        .outbox_of(AggregateType::Client, &[client_id.to_string()])
        .await?)
}
