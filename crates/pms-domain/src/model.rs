//! The entities pms stores and the caller acting on them.

use crate::clock::Timestamp;
use crate::str_list::StrList;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;

/// The authenticated caller, as the API layer established it from the token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `preferred_username`: the user id everywhere in the spec.
    pub user_id: String,
    /// The token's `email` claim, read only by partner registration.
    pub email: Option<String>,
    /// Exact match of a role in `auth.admin_roles`.
    pub is_admin: bool,
    /// A role in `auth.partner_read_all_roles`.
    pub reads_all_partners: bool,
}

/// Who did what, when, and under which correlation id: the context of every operation.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub now: Timestamp,
    pub correlation_id: String,
    /// The downstream targets a change must be delivered to (outbox rows are written for these).
    pub outbox: crate::outbox::OutboxTargets,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyGroup {
    pub id: String,
    pub name: String,
    pub desc: String,
    pub is_active: bool,
    /// The last caller who created or updated it (as MOSIP).
    pub user_id: String,
    pub cr_by: String,
    pub cr_dtimes: Timestamp,
    pub upd_by: Option<String>,
    pub upd_dtimes: Option<Timestamp>,
}

/// The state of an auth policy, derived from `schema` and `is_active` exactly as MOSIP does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyState {
    Draft,
    Activated,
    Deactivated,
}

impl PolicyState {
    /// The spelling of `GET /policies/v2` and its `status` filter.
    pub fn as_list_str(self) -> &'static str {
        match self {
            PolicyState::Draft => "draft",
            PolicyState::Activated => "activated",
            PolicyState::Deactivated => "deactivated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthPolicy {
    pub id: String,
    pub policy_group_id: String,
    pub name: String,
    pub desc: String,
    /// Canonical spelling from `policy.allowed_policy_types` (`Auth`).
    pub policy_type: String,
    pub version: String,
    /// The policy document, member order as sent. Shared, not copied: a store hands out the
    /// same decoded document for as long as the stored text is unchanged, and the claims
    /// mapping remembers what a document grants by that identity.
    pub policies: Arc<serde_json::Value>,
    /// Null while a draft; `policy.schema_url` once published.
    pub schema: Option<String>,
    pub is_active: bool,
    pub valid_from: Timestamp,
    pub valid_to: Timestamp,
    pub cr_by: String,
    pub cr_dtimes: Timestamp,
    pub upd_by: Option<String>,
    pub upd_dtimes: Option<Timestamp>,
}

impl AuthPolicy {
    pub fn state(&self) -> PolicyState {
        match (&self.schema, self.is_active) {
            (None, _) => PolicyState::Draft,
            (Some(_), true) => PolicyState::Activated,
            (Some(_), false) => PolicyState::Deactivated,
        }
    }

    pub fn within_validity(&self, now: Timestamp) -> bool {
        self.valid_from <= now && now <= self.valid_to
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApprovalStatus {
    InProgress,
    Approved,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::InProgress => "InProgress",
            ApprovalStatus::Approved => "approved",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "InProgress" => Some(ApprovalStatus::InProgress),
            "approved" => Some(ApprovalStatus::Approved),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub address: String,
    pub contact_no: String,
    pub email_id: String,
    pub partner_type_code: String,
    pub policy_group_id: Option<String>,
    pub user_id: String,
    pub approval_status: ApprovalStatus,
    pub is_active: bool,
    pub lang_code: String,
    pub cr_by: String,
    pub cr_dtimes: Timestamp,
    pub upd_by: Option<String>,
    pub upd_dtimes: Option<Timestamp>,
}

impl Partner {
    /// `approved` and inactive: terminal.
    pub fn is_deactivated(&self) -> bool {
        self.approval_status == ApprovalStatus::Approved && !self.is_active
    }

    /// `partnerStatus` of the mapping list.
    pub fn status_label(&self) -> &'static str {
        match (self.approval_status, self.is_active) {
            (ApprovalStatus::InProgress, _) => "InProgress",
            (ApprovalStatus::Approved, true) => "activated",
            (ApprovalStatus::Approved, false) => "deactivated",
        }
    }
}

/// Seed data of MOSIP's `pms-partner_type.csv`: code and whether a policy group is required.
pub const PARTNER_TYPES: &[(&str, bool)] = &[
    ("Auth_Partner", true),
    ("Device_Provider", false),
    ("Credential_Partner", true),
    ("Partner_Admin", false),
    ("FTM_Provider", false),
    ("Online_Verification_Partner", true),
    ("ABIS_Partner", true),
    ("Manual_Adjudication", true),
    ("MISP_Partner", false),
    ("Internal_Partner", true),
    ("SDK_Partner", false),
    ("Print_Partner", true),
    ("Binding_Partner", true),
];

/// Looks a partner type up ignoring case; returns its canonical code and whether it needs a group.
pub fn partner_type(code: &str) -> Option<(&'static str, bool)> {
    PARTNER_TYPES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .copied()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MappingStatus {
    InProgress,
    Approved,
    Rejected,
}

impl MappingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingStatus::InProgress => "InProgress",
            MappingStatus::Approved => "approved",
            MappingStatus::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "InProgress" => Some(MappingStatus::InProgress),
            "approved" => Some(MappingStatus::Approved),
            "rejected" => Some(MappingStatus::Rejected),
            _ => None,
        }
    }
}

/// A partner's request to use a policy (`partner_policy_request`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappingRequest {
    /// The `mappingkey`.
    pub id: String,
    pub partner_id: String,
    pub policy_id: String,
    pub request_detail: String,
    pub status: MappingStatus,
    pub request_datetimes: Timestamp,
    pub cr_by: String,
    pub cr_dtimes: Timestamp,
    pub upd_by: Option<String>,
    pub upd_dtimes: Option<Timestamp>,
}

/// One row of the audit trail, written in the transaction of the change it describes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub at: Timestamp,
    pub actor: String,
    /// An [`AuditAction`] name.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<JsonText>,
    pub after: Option<JsonText>,
    pub correlation_id: String,
}

/// A JSON document kept as the text it was serialised to. The audit trail writes, reads and
/// exports its snapshots whole and never looks inside them, so they are never built as a
/// `serde_json::Value` (that was most of the cost of an audit record on the writer's path).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// The JSON serialisation of `v`.
    pub fn of<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(v).map(Self)
    }

    /// `text`, checked to be one JSON document.
    pub fn parse(text: String) -> serde_json::Result<Self> {
        RawValue::from_string(text).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

/// Same text: snapshots are compared as written.
impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Display for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditAction {
    RegisterPartner,
    ActivatePartner,
    DeactivatePartner,
    RequestPolicyMapping,
    ApprovePolicyMapping,
    RejectPolicyMapping,
    CreatePolicyGroup,
    UpdatePolicyGroup,
    DeactivatePolicyGroup,
    CreatePolicy,
    UpdatePolicy,
    PublishPolicy,
    DeactivatePolicy,
    CreateClient,
    UpdateClient,
    RedeliverClient,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RegisterPartner => "REGISTER_PARTNER",
            AuditAction::ActivatePartner => "ACTIVATE_PARTNER",
            AuditAction::DeactivatePartner => "DEACTIVATE_PARTNER",
            AuditAction::RequestPolicyMapping => "REQUEST_POLICY_MAPPING",
            AuditAction::ApprovePolicyMapping => "APPROVE_POLICY_MAPPING",
            AuditAction::RejectPolicyMapping => "REJECT_POLICY_MAPPING",
            AuditAction::CreatePolicyGroup => "CREATE_POLICY_GROUP",
            AuditAction::UpdatePolicyGroup => "UPDATE_POLICY_GROUP",
            AuditAction::DeactivatePolicyGroup => "DEACTIVATE_POLICY_GROUP",
            AuditAction::CreatePolicy => "CREATE_POLICY",
            AuditAction::UpdatePolicy => "UPDATE_POLICY",
            AuditAction::PublishPolicy => "PUBLISH_POLICY",
            AuditAction::DeactivatePolicy => "DEACTIVATE_POLICY",
            AuditAction::CreateClient => "CREATE_CLIENT",
            AuditAction::UpdateClient => "UPDATE_CLIENT",
            AuditAction::RedeliverClient => "REDELIVER_CLIENT",
        }
    }
}

/// What a committed change must tell the outside world (eSignet, the WebSub hub). Operations return
/// these after `outbox::record` has turned them into outbox rows in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// WebSub `PARTNER_UPDATED`: the partner as committed.
    PartnerUpdated { partner: Partner },
    /// WebSub `POLICY_UPDATED`: the policy as committed.
    PolicyUpdated { policy: AuthPolicy },
    /// eSignet create (of `family`) and WebSub `OIDC_CLIENT_CREATED`, carrying the new client with
    /// its partner and policy.
    ClientCreated {
        client: OidcClient,
        family: ClientFamily,
        partner: Box<Partner>,
        policy: Box<AuthPolicy>,
    },
    /// eSignet update (family per [`OidcClient::family`]) and WebSub `OIDC_CLIENT_UPDATED`,
    /// carrying the client's full new state.
    ClientUpdated { client: OidcClient },
}

/// `ACTIVE` / `INACTIVE`; deactivation is one-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClientStatus {
    #[serde(rename = "ACTIVE")]
    Active,
    #[serde(rename = "INACTIVE")]
    Inactive,
}

impl ClientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => "ACTIVE",
            ClientStatus::Inactive => "INACTIVE",
        }
    }

    /// Ignoring case, as MOSIP compares status values.
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("ACTIVE") {
            Some(ClientStatus::Active)
        } else if s.eq_ignore_ascii_case("INACTIVE") {
            Some(ClientStatus::Inactive)
        } else {
            None
        }
    }
}

/// Which of eSignet's two client APIs a client belongs to: the legacy one
/// with a plain name, or the OAuth one with a per-language name map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClientFamily {
    Oidc,
    OAuth,
}

/// A localised client name per ISO 639-2/T code, in request order.
pub type NameMap = serde_json::Map<String, serde_json::Value>;

/// An OIDC client.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OidcClient {
    pub id: String,
    pub name: String,
    pub name_lang_map: NameMap,
    pub rp_id: String,
    pub policy_id: String,
    pub logo_uri: String,
    pub redirect_uris: StrList,
    /// The normalised JWK as compact JSON text (`client_key::ClientPublicKey::normalized_json`).
    pub public_key: String,
    pub claims: StrList,
    pub acr_values: StrList,
    pub grant_types: StrList,
    pub client_auth_methods: StrList,
    pub status: ClientStatus,
    pub cr_by: String,
    pub cr_dtimes: Timestamp,
    pub upd_by: Option<String>,
    pub upd_dtimes: Option<Timestamp>,
    /// 1 at creation, +1 with every committed change (orders eSignet deliveries).
    pub version: i64,
}

impl OidcClient {
    /// The eSignet family of the stored client: OAuth when it has a name map.
    pub fn family(&self) -> ClientFamily {
        if self.name_lang_map.is_empty() {
            ClientFamily::Oidc
        } else {
            ClientFamily::OAuth
        }
    }
}
