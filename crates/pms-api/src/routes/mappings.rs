//! Partner–policy mapping requests (policies-and-partners.md §4).

use super::PM;
use crate::auth::Caller;
use crate::input::{list_params, page_json, read_json, Fields, Params, PathArgs, Text};
use crate::openapi::{
    Paging, RequestWrapper, ResponseWrapper, ResponseWrapperV2, TAG_MAPPINGS, V1_OK, V2_OK,
};
use crate::wire::{Echo, Kind};
use crate::{repr, roles, AppState};
use axum::extract::{RawQuery, Request, State};
use axum::response::Response;
use pms_domain::list::{ListQuery, MappingFilter, MappingSortField};
use pms_domain::model::MappingStatus;
use pms_domain::ops::mappings::{self, Decision, NewMappingRequest};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(request))
        .routes(routes!(decide))
        .routes(routes!(list))
}

const POLICY_NAME: Text = Text {
    null: "must not be null",
    blank: "must not be blank",
    max: 128,
    len: "size must be between 1 and 128",
};
const USE_CASE: Text = Text {
    null: "must not be null",
    blank: "must not be blank",
    max: 4000,
    len: "size must be between 1 and 4000",
};

/// The fields of a mapping request for `partner_id` (the API and the portal read them alike).
pub(crate) fn request_command(f: &mut Fields<'_>, partner_id: String) -> NewMappingRequest {
    let policy_name = f.text("policyName", POLICY_NAME);
    let use_case = f.text("useCaseDescription", USE_CASE);
    NewMappingRequest {
        partner_id,
        policy_name,
        use_case,
    }
}

/// The `status` of a decision; the fallback after a recorded failure is never used.
pub(crate) fn decision(f: &mut Fields<'_>) -> Decision {
    let status = f.text("status", Text::mosip(usize::MAX, ""));
    let decision = if status.eq_ignore_ascii_case("Approved") {
        Some(Decision::Approve)
    } else if status.eq_ignore_ascii_case("Rejected") {
        Some(Decision::Reject)
    } else {
        None
    };
    if decision.is_none() && f.is_ok() {
        f.push("PMS_PM_045", "Status should be either Approved or Rejected");
    }
    decision.unwrap_or(Decision::Reject)
}

#[utoipa::path(
    post,
    context_path = PM,
    path = "/partners/{id}/policy/map",
    tag = TAG_MAPPINGS,
    operation_id = "requestPolicyMapping",
    summary = "Request a published policy for a partner",
    params(("id" = String, Path, description = "Partner id")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn request(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::POST_POLICY_MAP))?;
        let partner_id = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let cmd = request_command(&mut f, partner_id);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let m = mappings::request(tx.as_mut(), &ctx, cmd).await?;
        st.commit(tx).await?;
        Ok(json!({ "mappingkey": m.id, "message": "Policy mapping request submitted successfully." }))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    put,
    context_path = PM,
    path = "/partners/policy/{key}",
    tag = TAG_MAPPINGS,
    operation_id = "decidePolicyMapping",
    summary = "Approve or reject a mapping request (`Approved` or `Rejected`)",
    params(("key" = String, Path, description = "Mapping key")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn decide(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::PUT_POLICY_MAPPING))?;
        let key = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let decision = decision(&mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        mappings::decide(tx.as_mut(), &ctx, &key, decision).await?;
        st.commit(tx).await?;
        Ok(Value::String(
            match decision {
                Decision::Approve => "Policy mapping approved successfully",
                Decision::Reject => "Policy mapping rejected successfully",
            }
            .to_string(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/partner-policy-requests",
    tag = TAG_MAPPINGS,
    operation_id = "listPolicyMappings",
    summary = "Page of mapping requests, filtered and sorted \
               (V2 envelope, id `mosip.pms.all.partner.policy.mapping.requests.get`)",
    params(
        Paging,
        ("partnerId" = Option<String>, Query, description = "Substring filter"),
        ("partnerComment" = Option<String>, Query, description = "Substring filter"),
        ("orgName" = Option<String>, Query, description = "Substring filter"),
        ("policyId" = Option<String>, Query, description = "Substring filter"),
        ("policyName" = Option<String>, Query, description = "Substring filter"),
        ("policyGroupName" = Option<String>, Query, description = "Substring filter"),
        ("partnerType" = Option<String>, Query, description = "Substring filter"),
        ("status" = Option<String>, Query, description = "Exact status"),
    ),
    responses((status = 200, description = V2_OK, body = ResponseWrapperV2))
)]
async fn list(State(st): State<AppState>, caller: Caller, RawQuery(query): RawQuery) -> Response {
    let echo = Echo::new(Kind::V2(
        "mosip.pms.all.partner.policy.mapping.requests.get",
    ));
    let res = async {
        caller.require(st.roles(roles::GET_MAPPING_REQUESTS))?;
        let params = Params::parse(query.as_deref())?;
        let (sort, page) =
            list_params(&params, st.settings.max_page_size, MappingSortField::parse)?;
        let status = match params.get("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match MappingStatus::parse(s) {
                Some(s) => Some(s),
                None => return Ok(page_json(page, 0, vec![])),
            },
        };
        let filter = MappingFilter {
            owned_by: None,
            partner_id: params.contains("partnerId"),
            partner_comment: params.contains("partnerComment"),
            org_name: params.contains("orgName"),
            policy_id: params.contains("policyId"),
            policy_name: params.contains("policyName"),
            policy_group_name: params.contains("policyGroupName"),
            partner_type: params.contains("partnerType"),
            status,
        };
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.read().await?;
        let result = mappings::list(tx.as_mut(), &ctx, ListQuery { sort, page, filter }).await?;
        Ok(page_json(
            page,
            result.total,
            result.items.iter().map(repr::mapping_summary).collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}
