//! `/v1/partnermanager/partners…`: registration, read, activation (policies-and-partners.md §3).

use super::PM;
use crate::auth::Caller;
use crate::input::{read_json, Fields, PathArgs, Text};
use crate::openapi::{RequestWrapper, ResponseWrapper, TAG_PARTNERS, V1_OK};
use crate::wire::{Echo, Kind};
use crate::{repr, roles, AppState};
use axum::extract::{Request, State};
use axum::response::Response;
use pms_domain::ops::partners::{self, NewPartner, PartnerStatusChange};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(register))
        .routes(routes!(read, set_status))
}

const PARTNER_ID: Text = Text::mosip(usize::MAX, "");
const ORG_NAME: Text = Text::mosip(128, "Length should be between 1 and 128 chars");
const ADDRESS: Text = Text::mosip(2000, "Length should be between 1 and 2000 chars");
const CONTACT: Text = Text::mosip(16, "Length should be between 1 and 16 chars");
const EMAIL: Text = Text::mosip(254, "Length should be between 1 and 254 chars");
const PARTNER_TYPE: Text = Text::mosip(usize::MAX, "");

/// The fields of a registration (the API and the portal read them alike).
pub(crate) fn register_command(f: &mut Fields<'_>) -> NewPartner {
    let partner_id = f.text("partnerId", PARTNER_ID);
    let policy_group = f.opt_text("policyGroup");
    let organization_name = f.name("organizationName", ORG_NAME);
    let address = f.text("address", ADDRESS);
    let contact_number = f.text("contactNumber", CONTACT);
    let email_id = f.text("emailId", EMAIL);
    let partner_type = f.text("partnerType", PARTNER_TYPE);
    let lang_code = f.opt_text("langCode");
    NewPartner {
        partner_id,
        policy_group,
        organization_name,
        address,
        contact_number,
        email_id,
        partner_type,
        lang_code,
    }
}

/// The `status` of a partner status change; the fallback after a recorded failure is never used.
pub(crate) fn status_change(f: &mut Fields<'_>) -> PartnerStatusChange {
    let status = f.text("status", Text::mosip(usize::MAX, ""));
    let change = if status.eq_ignore_ascii_case("Active") {
        Some(PartnerStatusChange::Activate)
    } else if status.eq_ignore_ascii_case("De-Active") {
        Some(PartnerStatusChange::Deactivate)
    } else {
        None
    };
    if change.is_none() && f.is_ok() {
        f.push("PMS_PM_058", "Status should be either Active or De-Active");
    }
    change.unwrap_or(PartnerStatusChange::Deactivate)
}

#[utoipa::path(
    post,
    context_path = PM,
    path = "/partners",
    tag = TAG_PARTNERS,
    operation_id = "registerPartner",
    summary = "Register a partner",
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn register(State(st): State<AppState>, caller: Caller, req: Request) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::POST_PARTNERS))?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let cmd = register_command(&mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let p = partners::register(tx.as_mut(), &ctx, &st.rules, cmd).await?;
        st.commit(tx).await?;
        Ok(json!({ "partnerId": p.id, "status": p.approval_status.as_str() }))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/partners/{id}",
    tag = TAG_PARTNERS,
    operation_id = "getPartner",
    summary = "Read a partner",
    params(("id" = String, Path, description = "Partner id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn read(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::GET_PARTNER))?;
        let id = path.one()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.read().await?;
        let (p, g) = partners::get(tx.as_mut(), &ctx, &id).await?;
        Ok(repr::partner(&p, g.as_ref()))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    patch,
    context_path = PM,
    path = "/partners/{id}",
    tag = TAG_PARTNERS,
    operation_id = "setPartnerStatus",
    summary = "Activate or deactivate a partner (`Active` or `De-Active`)",
    params(("id" = String, Path, description = "Partner id")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn set_status(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        caller.require(st.roles(roles::PATCH_PARTNER))?;
        let id = path.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let change = status_change(&mut f);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        partners::set_status(tx.as_mut(), &ctx, &id, change).await?;
        st.commit(tx).await?;
        let message = match change {
            PartnerStatusChange::Activate => "Partner activated successfully",
            PartnerStatusChange::Deactivate => "Partner de-activated successfully",
        };
        Ok(json!({ "message": message }))
    }
    .await;
    echo.respond(st.clock.now(), res)
}
