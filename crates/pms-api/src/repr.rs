//! Response representations, member names as MOSIP serialises them
//! (policies-and-partners.md §1.1, §2.10, §3.4, §4.4; api-oidc-clients.md §7.2, §8.3).

use crate::wire::{ts, ts_opt};
use pms_domain::list::{ClientSummary, MappingSummary, PolicySummary};
use pms_domain::model::{AuthPolicy, OidcClient, Partner, PolicyGroup, PolicyState};
use pms_domain::outbox::{channel_status, Channel, ChannelStatus, DeliveryState, OutboxRow};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::{json, Value};

/// The `PolicyGroup` object of group reads.
pub fn group(g: &PolicyGroup) -> Value {
    json!({
        "id": g.id, "name": g.name, "desc": g.desc, "isActive": g.is_active, "isDeleted": false,
        "userId": g.user_id, "crBy": g.cr_by, "crDtimes": ts(&g.cr_dtimes),
        "updBy": g.upd_by, "updDtimes": ts_opt(&g.upd_dtimes), "delDtimes": null,
    })
}

/// `PolicyGroupCreateResponseDto`.
pub fn group_saved(g: &PolicyGroup) -> Value {
    json!({
        "id": g.id, "name": g.name, "desc": g.desc, "is_Active": g.is_active,
        "cr_by": g.cr_by, "cr_dtimes": ts(&g.cr_dtimes), "up_by": g.upd_by, "upd_dtimes": ts_opt(&g.upd_dtimes),
    })
}

fn policy_status(p: &AuthPolicy) -> &'static str {
    match p.state() {
        PolicyState::Draft => "DRAFTED",
        PolicyState::Activated => "PUBLISHED",
        PolicyState::Deactivated => "DEACTIVATED",
    }
}

/// `PolicyDto`, inside group reads.
pub fn policy_in_group(p: &AuthPolicy) -> Value {
    json!({
        "policyId": p.id, "policyName": p.name, "policyDesc": p.desc,
        "publishDate": ts(&p.valid_from), "validTill": ts(&p.valid_to), "status": policy_status(p),
        "version": p.version, "schema": p.schema, "is_Active": p.is_active,
        "cr_by": p.cr_by, "cr_dtimes": ts(&p.cr_dtimes), "up_by": p.upd_by, "upd_dtimes": ts_opt(&p.upd_dtimes),
        "policies": p.policies,
    })
}

/// `{ "policyGroup": …, "policies": [ … ] }`.
pub fn group_with_policies(g: &PolicyGroup, policies: &[AuthPolicy]) -> Value {
    json!({ "policyGroup": group(g), "policies": policies.iter().map(policy_in_group).collect::<Vec<_>>() })
}

/// `PolicyResponseDto`.
pub fn policy(p: &AuthPolicy, g: &PolicyGroup) -> Value {
    json!({
        "policyGroupId": g.id, "policyGroupName": g.name, "policyGroupDesc": g.desc,
        "policyGroupStatus": g.is_active, "policyGroup_cr_by": g.cr_by,
        "policyGroup_cr_dtimes": ts(&g.cr_dtimes), "policyGroup_up_by": g.upd_by,
        "policyGroup_upd_dtimes": ts_opt(&g.upd_dtimes),
        "policyId": p.id, "policyName": p.name, "policyDesc": p.desc, "policyType": p.policy_type,
        "version": p.version, "publishDate": ts(&p.valid_from), "validTill": ts(&p.valid_to),
        "status": policy_status(p), "schema": p.schema, "is_Active": p.is_active,
        "cr_by": p.cr_by, "cr_dtimes": ts(&p.cr_dtimes), "up_by": p.upd_by, "upd_dtimes": ts_opt(&p.upd_dtimes),
        "policies": p.policies,
    })
}

/// `PolicyCreateResponseDto`.
pub fn policy_saved(p: &AuthPolicy, group_name: &str) -> Value {
    json!({
        "id": p.id, "policyGroupName": group_name, "name": p.name, "desc": p.desc,
        "is_Active": p.is_active, "cr_by": p.cr_by, "cr_dtimes": ts(&p.cr_dtimes),
        "up_by": p.upd_by, "upd_dtimes": ts_opt(&p.upd_dtimes),
    })
}

/// `PolicySummaryDto` of `GET /policies/v2`.
pub fn policy_summary(s: &PolicySummary) -> Value {
    json!({
        "policyId": s.policy_id, "policyName": s.policy_name, "policyDescription": s.policy_description,
        "policyGroupId": s.policy_group_id, "policyGroupName": s.policy_group_name,
        "status": s.state.as_list_str(), "createdDateTime": ts(&s.created),
    })
}

/// `RetrievePartnerDetailsResponse`.
pub fn partner(p: &Partner, g: Option<&PolicyGroup>) -> Value {
    json!({
        "partnerID": p.id, "status": if p.is_active { "active" } else { "De-active" },
        "organizationName": p.name, "contactNumber": p.contact_no, "emailId": p.email_id,
        "address": p.address, "partnerType": p.partner_type_code,
        "policyGroup": g.map(|g| g.name.clone()), "isActive": p.is_active,
        "approvalStatus": p.approval_status.as_str(),
    })
}

/// `PartnerPolicyRequestSummaryDto`.
pub fn mapping_summary(m: &MappingSummary) -> Value {
    json!({
        "id": m.id, "partnerId": m.partner_id, "partnerStatus": m.partner_status, "orgName": m.org_name,
        "partnerType": m.partner_type, "policyGroupId": m.policy_group_id,
        "policyGroupName": m.policy_group_name, "policyGroupDescription": m.policy_group_description,
        "policyId": m.policy_id, "policyName": m.policy_name, "policyDescription": m.policy_description,
        "partnerComment": m.partner_comment, "status": m.status.as_str(),
        "createdDateTime": ts(&m.created), "updatedDateTime": ts_opt(&m.updated),
    })
}

/// The `delivery` object of a client's outbox rows (api-oidc-clients.md §7.2), as a `Value`
/// for the responses still built as trees; the shape is [`DeliveryRepr`]'s.
fn delivery(rows: &[OutboxRow]) -> Value {
    let esignet = channel_status(rows, Channel::Esignet);
    let websub = channel_status(rows, Channel::Websub);
    serde_json::to_value(DeliveryRepr {
        esignet: ChannelRepr(&esignet),
        websub: ChannelRepr(&websub),
    })
    .unwrap_or(Value::Null)
}

/// `ClientDetail`. The public key is a JSON *text*, as MOSIP returns it. Serialised straight
/// from the stored client (the hot read path builds no `Value` tree).
pub fn client(c: OidcClient, policy_name: Option<String>, rows: &[OutboxRow]) -> ClientDetail {
    ClientDetail {
        esignet: channel_status(rows, Channel::Esignet),
        websub: channel_status(rows, Channel::Websub),
        client: c,
        policy_name,
    }
}

pub struct ClientDetail {
    client: OidcClient,
    policy_name: Option<String>,
    esignet: ChannelStatus,
    websub: ChannelStatus,
}

impl Serialize for ClientDetail {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let c = &self.client;
        let mut s = ser.serialize_struct("ClientDetail", 17)?;
        s.serialize_field("id", &c.id)?;
        s.serialize_field("name", &c.name)?;
        s.serialize_field("clientNameLangMap", &c.name_lang_map)?;
        s.serialize_field("policyId", &c.policy_id)?;
        s.serialize_field("policyName", self.policy_name.as_deref().unwrap_or(""))?;
        s.serialize_field("relyingPartyId", &c.rp_id)?;
        s.serialize_field("logoUri", &c.logo_uri)?;
        s.serialize_field("redirectUris", &c.redirect_uris)?;
        s.serialize_field("publicKey", &c.public_key)?;
        s.serialize_field("claims", &c.claims)?;
        s.serialize_field("acrValues", &c.acr_values)?;
        s.serialize_field("status", c.status.as_str())?;
        s.serialize_field("grantTypes", &c.grant_types)?;
        s.serialize_field("clientAuthMethods", &c.client_auth_methods)?;
        s.serialize_field("createdDateTime", &Ts(&c.cr_dtimes))?;
        s.serialize_field("updatedDateTime", &c.upd_dtimes.as_ref().map(Ts))?;
        s.serialize_field(
            "delivery",
            &DeliveryRepr {
                esignet: ChannelRepr(&self.esignet),
                websub: ChannelRepr(&self.websub),
            },
        )?;
        s.end()
    }
}

/// A timestamp in the wire format, written without an intermediate `Value`.
struct Ts<'a>(&'a pms_domain::Timestamp);

impl Serialize for Ts<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&pms_domain::clock::format_ts(self.0))
    }
}

#[derive(Serialize)]
struct DeliveryRepr<'a> {
    esignet: ChannelRepr<'a>,
    websub: ChannelRepr<'a>,
}

/// One channel of `delivery` (api-oidc-clients.md §7.2).
struct ChannelRepr<'a>(&'a ChannelStatus);

impl Serialize for ChannelRepr<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut s = ser.serialize_struct("ChannelStatus", 6)?;
        s.serialize_field("state", c.state.as_str())?;
        s.serialize_field("pendingItems", &c.pending_items)?;
        s.serialize_field("attempts", &c.attempts)?;
        s.serialize_field("lastAttemptAt", &c.last_attempt_at.as_ref().map(Ts))?;
        s.serialize_field("nextAttemptAt", &c.next_attempt_at.as_ref().map(Ts))?;
        s.serialize_field("lastError", &c.last_error)?;
        s.end()
    }
}

/// The response of `POST /oauth/client/{id}/redeliver`.
pub fn client_redelivered(c: &OidcClient, rows: &[OutboxRow]) -> Value {
    json!({ "clientId": c.id, "status": c.status.as_str(), "delivery": delivery(rows) })
}

/// `ClientDetailResponse` of creates and updates.
pub fn client_saved(c: &OidcClient) -> Value {
    json!({ "clientId": c.id, "status": c.status.as_str() })
}

/// `ClientSummaryDto`.
pub fn client_summary((c, delivery): &(ClientSummary, DeliveryState)) -> Value {
    json!({
        "partnerId": c.partner_id, "orgName": c.org_name, "policyGroupId": c.policy_group_id,
        "policyGroupName": c.policy_group_name, "policyGroupDescription": c.policy_group_description,
        "policyName": c.policy_name, "policyDescription": c.policy_description,
        "clientId": c.client_id, "clientName": c.client_name, "status": c.status.as_str(),
        "createdDateTime": ts(&c.created), "updatedDateTime": ts_opt(&c.updated),
        "deliveryState": delivery.as_str(),
    })
}
