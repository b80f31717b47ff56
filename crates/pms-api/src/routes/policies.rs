//! `/v1/policymanager/policies…`: auth policies (policies-and-partners.md §2).

use super::policy_groups::require_deactivate;
use super::POL;
use crate::auth::Caller;
use crate::input::{page_json, policy_list_params, read_json, Fields, Params, PathArgs, Text};
use crate::openapi::{
    Paging, RequestWrapper, RequestWrapperV2, ResponseWrapper, ResponseWrapperV2, TAG_POLICIES,
    V1_OK, V2_OK,
};
use crate::wire::{ApiError, Echo, ErrorEntry, Kind};
use crate::{repr, roles, AppState};
use axum::extract::{RawQuery, Request, State};
use axum::response::Response;
use pms_domain::list::{ListQuery, PolicyFilter, PolicySortField};
use pms_domain::model::PolicyState;
use pms_domain::ops::policies::{self, allowed_policy_type, NewPolicy, PolicyUpdate};
use pms_domain::policy_doc::Violation;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create, all))
        .routes(routes!(list))
        .routes(routes!(active_of_group))
        .routes(routes!(read, update, deactivate))
        .routes(routes!(publish))
        .routes(routes!(legacy_status))
}

const GROUP_NAME: Text = Text::mosip(128, "Length should be in between 1 and 128 chars");
const POLICY_TYPE: Text = Text {
    null: "value is empty or null. Allowed values Auth/DataShare/CredentialIssuance",
    blank: "value is empty or null. Allowed values Auth/DataShare/CredentialIssuance",
    max: 128,
    len: "Length should be in between 1 and 128 chars",
};
const NAME: Text = Text::mosip(128, "Length should be in between 1 and 128 chars");
const DESC: Text = Text::mosip(256, "Length should be in between 1 and 256 chars");
const VERSION: Text = Text::mosip(8, "Length should be in between 1 and 8 chars");
const MAX_DOCUMENT_CHARS: usize = 5120;

/// The `policies` member: a required object of at most 5120 characters as compact JSON.
fn document(f: &mut Fields<'_>) -> Option<Value> {
    if !f.has_request() {
        return None;
    }
    match f.raw("policies") {
        None | Some(Value::Null) => f.reject("value is empty or null", "policies"),
        Some(v @ Value::Object(_)) if v.to_string().chars().count() > MAX_DOCUMENT_CHARS => {
            f.reject("Length should be in between 1 and 5120 chars", "policies")
        }
        Some(v @ Value::Object(_)) => return Some(v.clone()),
        Some(_) => f.reject("invalid type, expected object", "policies"),
    }
    None
}

/// §2.3: every document violation in document order, closed by `PMS_PV_002`.
fn check_document(st: &AppState, f: &mut Fields<'_>, doc: &Value) {
    let violations = st.policy_validator.validate(doc);
    if violations.is_empty() {
        return;
    }
    for v in violations {
        let e = match v {
            Violation::Missing { path } => ErrorEntry::new(
                "PMS_PV_006",
                format!("Missing input parameter - {path} in policy data"),
            ),
            Violation::Invalid { path } => ErrorEntry::new(
                "PMS_PV_005",
                format!("Invalid input parameter - {path} in policy data"),
            ),
            Violation::Format { path, expected } => ErrorEntry::new(
                "PMS_PV_007",
                format!("Format Error: Expected format is {path}/{expected}."),
            ),
            Violation::EmptyArray { path } => ErrorEntry::new(
                "PMS_PV_008",
                format!("Empty array is not allowed in {path}."),
            ),
            Violation::EmptyString { path } => ErrorEntry::new(
                "PMS_PV_009",
                format!("Empty string is not allowed in {path}."),
            ),
        };
        f.push(&e.code, &e.message);
    }
    f.push("PMS_PV_002", "Policy Object validation failed");
}

fn valid_policy_id(id: &str) -> bool {
    (1..=36).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && id != "v2"
        && id != "policy-groups"
}

/// The fields of a policy create, the document checked against the schema and the auth-type
/// allow-list (the API and the portal read them alike).
pub(crate) fn create_command(st: &AppState, f: &mut Fields<'_>) -> NewPolicy {
    let policy_id = match f.raw("policyId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if valid_policy_id(s) => Some(s.clone()),
        Some(_) => {
            f.reject("invalid policy id", "policyId");
            None
        }
    };
    let group_name = f.text("policyGroupName", GROUP_NAME);
    let policy_type = f.text("policyType", POLICY_TYPE);
    let name = f.name("name", NAME);
    let desc = f.text("desc", DESC);
    let version = f.text("version", VERSION);
    let doc = document(f);
    // Only an allowed type has a schema to validate against; otherwise check 1 reports it.
    if let (Some(doc), true) = (&doc, allowed_policy_type(&st.rules, &policy_type).is_some()) {
        check_document(st, f, doc);
    }
    NewPolicy {
        policy_id,
        group_name,
        policy_type,
        name,
        desc,
        version,
        policies: doc.unwrap_or(Value::Null),
    }
}

#[utoipa::path(
    post,
    context_path = POL,
    path = "/policies",
    tag = TAG_POLICIES,
    operation_id = "createPolicy",
    summary = "Create an auth policy (draft)",
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn create(State(st): State<AppState>, caller: Caller, req: Request) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::POST_POLICY))?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let cmd = create_command(&st, &mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let (p, g) = policies::create(tx.as_mut(), &ctx, &st.rules, cmd).await?;
        st.commit(tx).await?;
        Ok(repr::policy_saved(&p, &g.name))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    put,
    context_path = POL,
    path = "/policies/{id}",
    tag = TAG_POLICIES,
    operation_id = "updatePolicy",
    summary = "Update a draft policy",
    params(("id" = String, Path, description = "Policy id")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn update(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::PUT_POLICY))?;
        let policy_id = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let group_name = f.text("policyGroupName", GROUP_NAME);
        let name = f.name("name", NAME);
        let desc = f.text("desc", DESC);
        let version = f.text("version", VERSION);
        let doc = document(&mut f);
        if let Some(doc) = &doc {
            check_document(&st, &mut f, doc);
        }
        f.finish()?;
        let cmd = PolicyUpdate {
            policy_id,
            group_name,
            name,
            desc,
            version,
            policies: doc.unwrap_or(Value::Null),
        };
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let (p, g) = policies::update(tx.as_mut(), &ctx, cmd).await?;
        st.commit(tx).await?;
        Ok(repr::policy_saved(&p, &g.name))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    post,
    context_path = POL,
    path = "/policies/{id}/group/{group}/publish",
    tag = TAG_POLICIES,
    operation_id = "publishPolicy",
    summary = "Publish a draft policy of a group (no body)",
    params(("id" = String, Path, description = "Policy id"), ("group" = String, Path, description = "Policy group id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn publish(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::PUBLISH_POLICY))?;
        let (id, group) = path.two()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let out = policies::publish(tx.as_mut(), &ctx, &st.rules, &id, &group).await?;
        st.commit(tx).await?;
        let (p, g) = out.value;
        Ok(repr::policy(&p, &g))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

const DEACTIVATE_POLICY_ID: &str = "mosip.pms.deactivate.policy.patch";

#[utoipa::path(
    patch,
    context_path = POL,
    path = "/policies/{id}",
    tag = TAG_POLICIES,
    operation_id = "deactivatePolicy",
    summary = "Deactivate a policy (V2 envelope, id `mosip.pms.deactivate.policy.patch`)",
    params(("id" = String, Path, description = "Policy id")),
    request_body = RequestWrapperV2,
    responses((status = 200, description = V2_OK, body = ResponseWrapperV2))
)]
async fn deactivate(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V2(DEACTIVATE_POLICY_ID));
    let res = async {
        caller.require(st.roles(roles::PATCH_POLICY))?;
        let id = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v2(&st, &body, DEACTIVATE_POLICY_ID);
        require_deactivate(&mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let out = policies::deactivate(tx.as_mut(), &ctx, &id).await?;
        st.commit(tx).await?;
        Ok(json!({ "policyId": out.value.id, "isActive": out.value.is_active }))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    patch,
    context_path = POL,
    path = "/policies/{id}/group/{group}",
    tag = TAG_POLICIES,
    operation_id = "setPolicyStatusLegacy",
    summary = "Legacy status change of a policy (`Active` or `De-active`)",
    params(("id" = String, Path, description = "Policy id"), ("group" = String, Path, description = "Policy group id")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn legacy_status(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::PATCH_POLICY_LEGACY))?;
        let (id, group) = path.two()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let status = f
            .raw("status")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let activate = match status.as_deref() {
            Some("active") => true,
            Some("de-active") => false,
            _ => {
                if f.has_request() {
                    f.push("PMS_POL_045", "Policy Status either Active or De-active.");
                }
                false
            }
        };
        f.finish()?;
        let mut tx = st.store.read().await?;
        policies::legacy_status(tx.as_mut(), &id, &group, activate).await?;
        Ok(json!({ "message": "status updated successfully" }))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies/{id}",
    tag = TAG_POLICIES,
    operation_id = "getPolicy",
    summary = "Read a policy",
    params(("id" = String, Path, description = "Policy id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn read(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::GET_POLICY))?;
        let id = path.one()?;
        let mut tx = st.store.read().await?;
        let (p, g) = policies::get(tx.as_mut(), &id).await?;
        Ok(repr::policy(&p, &g))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies",
    tag = TAG_POLICIES,
    operation_id = "getAllPolicies",
    summary = "All policies",
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn all(State(st): State<AppState>, caller: Caller) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::GET_POLICIES))?;
        let mut tx = st.store.read().await?;
        let list = policies::all(tx.as_mut()).await?;
        Ok(Value::Array(
            list.iter().map(|(p, g)| repr::policy(p, g)).collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies/active/group/{name}",
    tag = TAG_POLICIES,
    operation_id = "getActivePoliciesOfGroup",
    summary = "The active policies of a policy group",
    params(("name" = String, Path, description = "Policy group name")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn active_of_group(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::GET_ACTIVE_POLICIES_OF_GROUP))?;
        let name = path.one()?;
        let mut tx = st.store.read().await?;
        let (g, list) = policies::active_of_group(tx.as_mut(), &name).await?;
        Ok(Value::Array(
            list.iter()
                .map(|p| {
                    json!({ "policyGroupId": g.id, "policyGroupName": g.name, "id": p.id, "name": p.name,
                            "descr": p.desc, "policyType": p.policy_type })
                })
                .collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies/v2",
    tag = TAG_POLICIES,
    operation_id = "listPolicies",
    summary = "Page of policy summaries, filtered and sorted (V2 envelope, id `mosip.pms.policies.get`)",
    params(
        Paging,
        ("policyType" = Option<String>, Query, description = "Substring filter"),
        ("policyId" = Option<String>, Query, description = "Substring filter"),
        ("policyName" = Option<String>, Query, description = "Substring filter"),
        ("policyDescription" = Option<String>, Query, description = "Substring filter"),
        ("policyGroupName" = Option<String>, Query, description = "Substring filter"),
        ("status" = Option<String>, Query, description = "`activated`, `deactivated` or `draft`"),
    ),
    responses((status = 200, description = V2_OK, body = ResponseWrapperV2))
)]
async fn list(State(st): State<AppState>, caller: Caller, RawQuery(query): RawQuery) -> Response {
    let echo = Echo::new(Kind::V2("mosip.pms.policies.get"));
    let res = async {
        caller.require(st.roles(roles::GET_POLICIES_V2))?;
        let params = Params::parse(query.as_deref())?;
        let (sort, page) =
            policy_list_params(&params, st.settings.max_page_size, PolicySortField::parse)?;
        let status = match params.get("status").filter(|s| !s.is_empty()) {
            None => None,
            Some("activated") => Some(PolicyState::Activated),
            Some("deactivated") => Some(PolicyState::Deactivated),
            Some("draft") => Some(PolicyState::Draft),
            // An unknown status matches nothing rather than everything.
            Some(_) => return Ok(page_json(Some(page), 0, vec![])),
        };
        let filter = PolicyFilter {
            policy_type: params.contains("policyType"),
            policy_id: params.contains("policyId"),
            policy_name: params.contains("policyName"),
            policy_description: params.contains("policyDescription"),
            policy_group_name: params.contains("policyGroupName"),
            status,
        };
        let mut tx = st.store.read().await?;
        let result = policies::list(
            tx.as_mut(),
            &ListQuery {
                sort,
                page: Some(page),
                filter,
            },
        )
        .await?;
        Ok::<_, ApiError>(page_json(
            Some(page),
            result.total,
            result.items.iter().map(repr::policy_summary).collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}
