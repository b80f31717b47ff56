//! `/v1/policymanager/policies/group…`: policy groups (policies-and-partners.md §1).

use super::POL;
use crate::auth::Caller;
use crate::input::{read_json, Fields, PathArgs, Text};
use crate::openapi::{
    RequestWrapper, RequestWrapperV2, ResponseWrapper, ResponseWrapperV2, TAG_POLICY_GROUPS, V1_OK,
    V2_OK,
};
use crate::wire::{Echo, Kind};
use crate::{repr, roles, AppState};
use axum::extract::{Request, State};
use axum::response::Response;
use pms_domain::ops::policy_groups::{self, NewPolicyGroup, PolicyGroupUpdate};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create))
        .routes(routes!(all))
        .routes(routes!(read, update, deactivate))
        .routes(routes!(active))
}

const NAME_IN: Text = Text::mosip(128, "Length should be in between 1 and 128 chars");
const DESC_IN: Text = Text::mosip(256, "Length should be in between 1 and 256 chars");
const NAME: Text = Text::mosip(128, "Length should be between 1 and 128 chars");
const DESC: Text = Text::mosip(256, "Length should be between 1 and 256 chars");

/// The fields of a group create (the API and the portal read them alike).
pub(crate) fn create_command(f: &mut Fields<'_>) -> NewPolicyGroup {
    let name = f.name("name", NAME_IN);
    let desc = f.text("desc", DESC_IN);
    NewPolicyGroup { name, desc }
}

#[utoipa::path(
    post,
    context_path = POL,
    path = "/policies/group/new",
    tag = TAG_POLICY_GROUPS,
    operation_id = "createPolicyGroup",
    summary = "Create a policy group",
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn create(State(st): State<AppState>, caller: Caller, req: Request) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::POST_GROUP))?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let cmd = create_command(&mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let g = policy_groups::create(tx.as_mut(), &ctx, cmd).await?;
        st.commit(tx).await?;
        Ok(repr::group_saved(&g))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    put,
    context_path = POL,
    path = "/policies/group/{id}",
    tag = TAG_POLICY_GROUPS,
    operation_id = "updatePolicyGroup",
    summary = "Update a policy group",
    params(("id" = String, Path, description = "Policy group id")),
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
        caller.require(st.roles(roles::PUT_GROUP))?;
        let id = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let name = f.name("name", NAME);
        let desc = f.text("desc", DESC);
        let is_active = f.boolean("isActive");
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let g = policy_groups::update(
            tx.as_mut(),
            &ctx,
            PolicyGroupUpdate {
                id,
                name,
                desc,
                is_active,
            },
        )
        .await?;
        st.commit(tx).await?;
        Ok(repr::group_saved(&g))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

const DEACTIVATE_GROUP_ID: &str = "mosip.pms.deactivate.policy.group.patch";

/// The `status` member of the two V2 deactivate endpoints: exactly `De-Activate`.
pub(super) fn require_deactivate(f: &mut Fields<'_>) {
    if f.has_request() && f.raw("status").and_then(Value::as_str) != Some("De-Activate") {
        f.push("PMS_POL_073", "Request status should be De-Activate");
    }
}

#[utoipa::path(
    patch,
    context_path = POL,
    path = "/policies/group/{id}",
    tag = TAG_POLICY_GROUPS,
    operation_id = "deactivatePolicyGroup",
    summary = "Deactivate a policy group (V2 envelope, id `mosip.pms.deactivate.policy.group.patch`)",
    params(("id" = String, Path, description = "Policy group id")),
    request_body = RequestWrapperV2,
    responses((status = 200, description = V2_OK, body = ResponseWrapperV2))
)]
async fn deactivate(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V2(DEACTIVATE_GROUP_ID));
    let res = async {
        caller.require(st.roles(roles::PATCH_GROUP))?;
        let id = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v2(&st, &body, DEACTIVATE_GROUP_ID);
        require_deactivate(&mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let g = policy_groups::deactivate(tx.as_mut(), &ctx, &id).await?;
        st.commit(tx).await?;
        Ok(json!({ "policyGroupId": g.id, "isActive": g.is_active }))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies/group/{id}",
    tag = TAG_POLICY_GROUPS,
    operation_id = "getPolicyGroup",
    summary = "Read a policy group with its policies",
    params(("id" = String, Path, description = "Policy group id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn read(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::GET_GROUP))?;
        let id = path.one()?;
        let mut tx = st.store.read().await?;
        let (g, policies) = policy_groups::get(tx.as_mut(), &id).await?;
        Ok(repr::group_with_policies(&g, &policies))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies/group/all",
    tag = TAG_POLICY_GROUPS,
    operation_id = "getAllPolicyGroups",
    summary = "All policy groups with their policies",
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn all(State(st): State<AppState>, caller: Caller) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::GET_GROUPS_ALL))?;
        let mut tx = st.store.read().await?;
        let groups = policy_groups::all(tx.as_mut()).await?;
        Ok(Value::Array(
            groups
                .iter()
                .map(|(g, p)| repr::group_with_policies(g, p))
                .collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = POL,
    path = "/policies/policy-groups",
    tag = TAG_POLICY_GROUPS,
    operation_id = "getActivePolicyGroups",
    summary = "Active policy groups (V2 envelope, id `mosip.pms.policy.groups.get`)",
    responses((status = 200, description = V2_OK, body = ResponseWrapperV2))
)]
async fn active(State(st): State<AppState>, caller: Caller) -> Response {
    let echo = Echo::new(Kind::V2("mosip.pms.policy.groups.get"));
    let res = async {
        caller.require(st.roles(roles::GET_ACTIVE_GROUPS))?;
        let mut tx = st.store.read().await?;
        let groups = policy_groups::active(tx.as_mut()).await?;
        Ok(Value::Array(
            groups
                .iter()
                .map(|g| json!({ "id": g.id, "name": g.name, "description": g.desc }))
                .collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}
