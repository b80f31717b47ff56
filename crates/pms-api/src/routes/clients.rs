//! `/v1/partnermanager/oidc/client…` and `/v1/partnermanager/oauth/client…`: the two client
//! families over one set of clients (api-oidc-clients.md).

use super::PM;
use crate::auth::Caller;
use crate::client_input::{self as ci, AUTH_PARTNER_ID, NAME, POLICY_ID};
use crate::input::{list_params, page_json, read_json, Fields, Params, PathArgs};
use crate::openapi::{
    Paging, RequestWrapper, ResponseWrapper, ResponseWrapperV2, TAG_CLIENTS, V1_OK, V2_OK,
};
use crate::wire::{ApiError, Echo, Kind};
use crate::{repr, roles, AppState};
use axum::extract::{RawQuery, Request, State};
use axum::response::Response;
use pms_domain::list::{ClientFilter, ClientSortField, ListQuery};
use pms_domain::model::{ClientFamily, NameMap};
use pms_domain::ops::clients::{self, ClientUpdate, NewClient};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create_oidc))
        .routes(routes!(read_oidc, update_oidc))
        .routes(routes!(create_oauth, list))
        .routes(routes!(read_oauth, update_oauth))
        .routes(routes!(redeliver))
}

/// Stages 3 and 4: the role, then the feature switch (the portal's client pages check the same).
pub(crate) fn admit(st: &AppState, caller: &Caller, role_key: &str) -> Result<(), ApiError> {
    caller.require(st.roles(role_key))?;
    if !st.settings.oidc_enabled {
        return Err(ApiError::one(
            "PMS_FEATURE_002",
            "OIDC client related features are not available in the current deployment.",
        ));
    }
    Ok(())
}

/// The fields of a client create (the API and the portal read them alike).
pub(crate) fn create_command(st: &AppState, f: &mut Fields<'_>, family: ClientFamily) -> NewClient {
    let rules = &st.settings.client_fields;
    let name = f.name("name", NAME);
    let policy_id = f.text("policyId", POLICY_ID);
    let public_key = ci::public_key(f);
    let auth_partner_id = f.text("authPartnerId", AUTH_PARTNER_ID);
    let logo_uri = ci::logo_uri(f);
    let redirect_uris = ci::redirect_uris(f, rules);
    let grant_types = ci::grant_types(f, rules);
    let client_auth_methods = ci::client_auth_methods(f, rules);
    let name_lang_map = match family {
        ClientFamily::OAuth => ci::name_map(f, rules, name.as_str()),
        ClientFamily::Oidc => NameMap::new(),
    };
    NewClient {
        family,
        name,
        name_lang_map,
        policy_id,
        public_key,
        auth_partner_id,
        logo_uri,
        redirect_uris,
        grant_types,
        client_auth_methods,
    }
}

/// The fields of a client update through the family `path` (the API and the portal read them
/// alike).
pub(crate) fn update_command(
    st: &AppState,
    f: &mut Fields<'_>,
    path: ClientFamily,
) -> ClientUpdate {
    let rules = &st.settings.client_fields;
    let logo_uri = ci::logo_uri(f);
    let redirect_uris = ci::redirect_uris(f, rules);
    let status = ci::status(f);
    let grant_types = ci::grant_types(f, rules);
    let client_name = f.name("clientName", NAME);
    let client_auth_methods = ci::client_auth_methods(f, rules);
    let name_lang_map = match path {
        ClientFamily::OAuth => Some(ci::name_map(f, rules, client_name.as_str())),
        ClientFamily::Oidc => None,
    };
    ClientUpdate {
        logo_uri,
        redirect_uris,
        status,
        grant_types,
        client_name,
        client_auth_methods,
        name_lang_map,
    }
}

#[utoipa::path(
    post,
    context_path = PM,
    path = "/oidc/client",
    tag = TAG_CLIENTS,
    operation_id = "createOidcClient",
    summary = "Create an OIDC client",
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn create_oidc(State(st): State<AppState>, caller: Caller, req: Request) -> Response {
    create(st, caller, req, ClientFamily::Oidc).await
}

#[utoipa::path(
    post,
    context_path = PM,
    path = "/oauth/client",
    tag = TAG_CLIENTS,
    operation_id = "createOauthClient",
    summary = "Create an OAuth client (with a name per language)",
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn create_oauth(State(st): State<AppState>, caller: Caller, req: Request) -> Response {
    create(st, caller, req, ClientFamily::OAuth).await
}

async fn create(st: AppState, caller: Caller, req: Request, family: ClientFamily) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        admit(&st, &caller, roles::POST_OIDC_CLIENT)?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let cmd = create_command(&st, &mut f, family);
        f.finish()?;
        let cmd = clients::check_key(&st.client_rules, cmd)?;
        let ctx = st.ctx(&caller, &echo);
        // The checks' reads happen before the writer's turn; the turn only confirms that
        // nothing they read has changed.
        let prepared = {
            let mut rx = st.store.read().await?;
            clients::prepare_create(rx.as_mut(), &ctx, &st.client_rules, &cmd).await?
        };
        let mut tx = st.store.write().await?;
        let out = clients::create(tx.as_mut(), &ctx, &st.client_rules, cmd, Some(prepared)).await?;
        st.commit(tx).await?;
        Ok(repr::client_saved(&out.value))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    put,
    context_path = PM,
    path = "/oidc/client/{client_id}",
    tag = TAG_CLIENTS,
    operation_id = "updateOidcClient",
    summary = "Update a client through the OIDC family",
    params(("client_id" = String, Path, description = "Client id")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn update_oidc(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    update(st, caller, path, req, ClientFamily::Oidc).await
}

#[utoipa::path(
    put,
    context_path = PM,
    path = "/oauth/client/{client_id}",
    tag = TAG_CLIENTS,
    operation_id = "updateOauthClient",
    summary = "Update a client through the OAuth family (with a name per language)",
    params(("client_id" = String, Path, description = "Client id")),
    request_body = RequestWrapper,
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn update_oauth(
    State(st): State<AppState>,
    caller: Caller,
    path: PathArgs,
    req: Request,
) -> Response {
    update(st, caller, path, req, ClientFamily::OAuth).await
}

/// `path` is the family of the path called; the stored client decides what eSignet is told.
async fn update(
    st: AppState,
    caller: Caller,
    args: PathArgs,
    req: Request,
    path: ClientFamily,
) -> Response {
    let mut echo = Echo::new(Kind::V1);
    let res = async {
        admit(&st, &caller, roles::PUT_OIDC_CLIENT)?;
        let id = args.one()?;
        let body = read_json(&st, req, &mut echo).await?;
        let mut f = Fields::v1(&st, &body);
        let cmd = update_command(&st, &mut f, path);
        f.finish()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let out = clients::update(tx.as_mut(), &ctx, &id, cmd).await?;
        st.commit(tx).await?;
        Ok(repr::client_saved(&out.value))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/oidc/client/{client_id}",
    tag = TAG_CLIENTS,
    operation_id = "getOidcClient",
    summary = "Read a client",
    params(("client_id" = String, Path, description = "Client id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn read_oidc(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    read(st, caller, path).await
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/oauth/client/{client_id}",
    tag = TAG_CLIENTS,
    operation_id = "getOauthClient",
    summary = "Read a client",
    params(("client_id" = String, Path, description = "Client id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn read_oauth(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    read(st, caller, path).await
}

/// Both families read the same clients.
async fn read(st: AppState, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        admit(&st, &caller, roles::GET_OIDC_CLIENT)?;
        let id = path.one()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.read().await?;
        let read = clients::get(tx.as_mut(), &ctx, &id).await?;
        Ok(repr::client(
            read.client,
            read.policy_name,
            &read.deliveries,
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    get,
    context_path = PM,
    path = "/oauth/client",
    tag = TAG_CLIENTS,
    operation_id = "listOauthClients",
    summary = "Page of client summaries, filtered and sorted \
               (V2 envelope, id `mosip.pms.oauth.partners.clients.get`)",
    params(
        Paging,
        ("partnerId" = Option<String>, Query, description = "Substring filter"),
        ("orgName" = Option<String>, Query, description = "Substring filter"),
        ("policyGroupName" = Option<String>, Query, description = "Substring filter"),
        ("policyName" = Option<String>, Query, description = "Substring filter"),
        ("clientName" = Option<String>, Query, description = "Substring filter"),
        ("status" = Option<String>, Query, description = "Exact status"),
    ),
    responses((status = 200, description = V2_OK, body = ResponseWrapperV2))
)]
async fn list(State(st): State<AppState>, caller: Caller, RawQuery(query): RawQuery) -> Response {
    let echo = Echo::new(Kind::V2("mosip.pms.oauth.partners.clients.get"));
    let res = async {
        admit(&st, &caller, roles::GET_OAUTH_CLIENTS)?;
        let params = Params::parse(query.as_deref())?;
        let (sort, page) = list_params(&params, st.settings.max_page_size, ClientSortField::parse)?;
        let filter = ClientFilter {
            owned_by: None,
            partner_id: params.contains("partnerId"),
            org_name: params.contains("orgName"),
            policy_group_name: params.contains("policyGroupName"),
            policy_name: params.contains("policyName"),
            client_name: params.contains("clientName"),
            status: params
                .get("status")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        };
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.read().await?;
        let result = clients::list(tx.as_mut(), &ctx, ListQuery { sort, page, filter }).await?;
        Ok(page_json(
            page,
            result.total,
            result.items.iter().map(repr::client_summary).collect(),
        ))
    }
    .await;
    echo.respond(st.clock.now(), res)
}

#[utoipa::path(
    post,
    context_path = PM,
    path = "/oauth/client/{client_id}/redeliver",
    tag = TAG_CLIENTS,
    operation_id = "redeliverClient",
    summary = "Put the client's failed deliveries back in the queue (pms extension)",
    params(("client_id" = String, Path, description = "Client id")),
    responses((status = 200, description = V1_OK, body = ResponseWrapper))
)]
async fn redeliver(State(st): State<AppState>, caller: Caller, path: PathArgs) -> Response {
    let echo = Echo::new(Kind::V1);
    let res = async {
        admit(&st, &caller, roles::POST_REDELIVER)?;
        let id = path.one()?;
        let ctx = st.ctx(&caller, &echo);
        let mut tx = st.store.write().await?;
        let (client, rows) = clients::redeliver(tx.as_mut(), &ctx, &id).await?;
        st.commit(tx).await?;
        Ok(repr::client_redelivered(&client, &rows))
    }
    .await;
    echo.respond(st.clock.now(), res)
}
