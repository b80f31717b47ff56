//! OIDC clients of the signed-in partner: list, create (JWK pasted or PEM uploaded, with a preview
//! of the derived client id, claims and ACR values), detail, edit, deactivate.

use super::extract::{Path, Query};
use super::forms::{list as form_list, strings, Form, Problems};
use super::partner::parse;
use super::{failure_page, layout, see_other, Portal, St, User, PREFIX};
use crate::routes::clients as client_routes;
use crate::wire::{ApiError, Echo, Kind};
use crate::{jwk, roles};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};
use pms_domain::list::{ClientFilter, ClientSummary, ListQuery, MappingFilter, PageReq};
use pms_domain::model::{ClientFamily, ClientStatus, MappingStatus, OidcClient};
use pms_domain::ops::{clients, mappings};
use pms_domain::outbox::{channel_status, Channel, DeliveryState};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(crate) const PAGE_SIZE: u32 = 20;

#[derive(serde::Deserialize)]
pub struct ListParams {
    #[serde(rename = "pageNo")]
    page_no: Option<u32>,
    ok: Option<String>,
}

/// A copyable id.
pub(crate) fn copyable(id: &str) -> Markup {
    html! {
        span.id { (id) }
        button.copy.secondary type="button" data-copy=(id) hidden aria-label={"Copy " (id)} { "Copy" }
    }
}

pub(crate) fn state_badge(s: &str) -> Markup {
    html! { span class={"state state-" (s)} { (s) } }
}

/// The eSignet channel's delivery state of each client (the list's `deliveryState` is the
/// worst over every channel).
pub(crate) async fn esignet_states(
    p: &Portal,
    rows: &[(ClientSummary, DeliveryState)],
) -> Result<HashMap<String, DeliveryState>, ApiError> {
    let mut tx = p.app.store.read().await?;
    let mut out = HashMap::new();
    for (c, _) in rows {
        let outbox = clients::deliveries(tx.as_mut(), &c.client_id).await?;
        out.insert(
            c.client_id.clone(),
            channel_status(&outbox, Channel::Esignet).state,
        );
    }
    Ok(out)
}

/// The client table of the partner's list and the admin's (which adds the partner and the
/// state over every channel, the one its filter uses).
pub(crate) fn client_table(
    rows: &[(ClientSummary, DeliveryState)],
    esignet: &HashMap<String, DeliveryState>,
    admin: bool,
) -> Markup {
    let none = DeliveryState::None;
    html! {
        div.table-wrap {
            table.stack {
                thead { tr {
                    th { "Name" } th { "Client id" }
                    @if admin { th { "Partner" } }
                    th { "Policy" } th { "Status" } th { "eSignet delivery" }
                    @if admin { th { "All deliveries" } }
                    th { "Created" }
                } }
                tbody {
                    @for (c, d) in rows {
                        tr {
                            td data-label="Name" { a href={(PREFIX) "/clients/" (c.client_id)} { (c.client_name) } }
                            td data-label="Client id" { (copyable(&c.client_id)) }
                            @if admin { td data-label="Partner" { span.id { (c.partner_id) } } }
                            td data-label="Policy" { (c.policy_name.as_deref().unwrap_or("—")) }
                            td data-label="Status" { (state_badge(c.status.as_str())) }
                            td data-label="eSignet delivery" { (state_badge(esignet.get(&c.client_id).unwrap_or(&none).as_str())) }
                            @if admin { td data-label="All deliveries" { (state_badge(d.as_str())) } }
                            td data-label="Created" { (c.created.format("%Y-%m-%d %H:%M")) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /portal/clients`: the caller's clients (an admin's: all of them).
pub async fn list(State(p): St, user: User, Query(q): Query<ListParams>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::GET_OAUTH_CLIENTS) {
        return r;
    }
    let page = PageReq {
        page_no: q.page_no.unwrap_or(0),
        page_size: PAGE_SIZE,
    };
    let st = &p.app;
    let res = async {
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.read().await?;
        let q = ListQuery {
            sort: None,
            page: Some(page),
            filter: ClientFilter::default(),
        };
        Ok::<_, ApiError>(clients::list(tx.as_mut(), &ctx, q).await?)
    }
    .await;
    let result = match res {
        Ok(r) => r,
        // Owning no partner yet is a state, not a failure, on this page.
        Err(e)
            if e.errors
                .iter()
                .any(|x| x.code == "PMS_CERTIFICATE_ERROR_002") =>
        {
            pms_domain::list::Page {
                items: Vec::new(),
                total: 0,
            }
        }
        Err(e) => return failure_page(&user, &e),
    };
    let esignet = match esignet_states(&p, &result.items).await {
        Ok(s) => s,
        Err(e) => return failure_page(&user, &e),
    };
    let body = html! {
        h1 { "OIDC clients" }
        (layout::flash(q.ok.as_deref()))
        @if user.may(&p, roles::POST_OIDC_CLIENT) {
            p.actions { a.button href={(PREFIX) "/clients/new"} { "Create a client" } }
        }
        @if result.items.is_empty() {
            p { "No clients yet." }
        } @else {
            (client_table(&result.items, &esignet, false))
            (layout::pager(&format!("{PREFIX}/clients"), "", page.page_no, page.page_size, result.total))
        }
    };
    layout::ok(layout::page("OIDC clients", Some(&user), body))
}

/// The choices of the create form: the caller's partners and approved policies.
struct Choices {
    partners: Vec<(String, String)>,
    policies: Vec<(String, String)>,
}

async fn choices(p: &Portal, user: &User) -> Result<Choices, ApiError> {
    let st = &p.app;
    let echo = Echo::new(Kind::V1);
    let ctx = st.ctx(&user.caller, &echo);
    let mut tx = st.store.read().await?;
    let partners: Vec<(String, String)> = tx
        .partners_of_user(user.id())
        .await?
        .into_iter()
        .map(|x| (x.id.clone(), format!("{} ({})", x.name, x.id)))
        .collect();
    let mut policies: Vec<(String, String)> = Vec::new();
    if !partners.is_empty() {
        let q = ListQuery {
            sort: None,
            page: None,
            filter: MappingFilter {
                status: Some(MappingStatus::Approved),
                ..MappingFilter::default()
            },
        };
        for m in mappings::list(tx.as_mut(), &ctx, q).await?.items {
            if !policies.iter().any(|(id, _)| *id == m.policy_id) {
                policies.push((m.policy_id.clone(), m.policy_name.clone()));
            }
        }
    }
    Ok(Choices { partners, policies })
}

/// The create form, filled with what was sent, its problems, and the preview if any.
async fn create_page(
    p: &Portal,
    user: &User,
    form: &Form,
    problems: &Problems,
    preview: Option<&OidcClient>,
    status: StatusCode,
) -> Response {
    let ch = match choices(p, user).await {
        Ok(c) => c,
        Err(e) => return failure_page(user, &e),
    };
    let rules = &p.app.settings.client_fields;
    let grant_default: Vec<&str> = rules
        .grant_types
        .iter()
        .take(1)
        .map(String::as_str)
        .collect();
    let auth_default: Vec<&str> = rules
        .client_auth_methods
        .iter()
        .take(1)
        .map(String::as_str)
        .collect();
    let fresh = form.fields.is_empty();
    let grants = if fresh {
        grant_default
    } else {
        form.all("grantTypes")
    };
    let methods = if fresh {
        auth_default
    } else {
        form.all("clientAuthMethods")
    };
    let body = html! {
        h1 { "Create an OIDC client" }
        @if ch.policies.is_empty() {
            p.error-box { "You need an approved policy request before you can create a client. "
                a href={(PREFIX) "/partner"} { "Request a policy" } "." }
        }
        // The preview: rendered after "Preview", and refreshed live by portal.js when the key,
        // the partner or the policy changes (the same POST with action=preview).
        div #preview-live aria-live="polite" {
            @if let Some(c) = preview {
                section.panel #preview aria-labelledby="preview-title" {
                    h2 #preview-title { "Preview: nothing is saved yet" }
                    dl.facts {
                        dt { "Client id" } dd { (copyable(&c.id)) }
                        dt { "Claims" } dd { (c.claims.join(", ")) }
                        dt { "ACR values" } dd { (c.acr_values.join(", ")) }
                    }
                    p.hint { "The client id is derived from the public key; claims and ACR values from the policy." }
                }
            }
        }
        (layout::general(problems))
        form method="post" action={(PREFIX) "/clients/new"} enctype="multipart/form-data" data-preview="preview-live" {
            (layout::csrf(user))
            (layout::text("Client name", "name", form.get("name"), problems, None))
            (layout::area("Name per language (optional)", "clientNameLangMap", form.get("clientNameLangMap"), 2, problems,
                Some("One per line as code=name, e.g. fra=Portail santé (ISO 639-2/T codes).")))
            (layout::select("Partner", "authPartnerId", &ch.partners, form.get("authPartnerId"), problems))
            (layout::select("Approved policy", "policyId", &ch.policies, form.get("policyId"), problems))
            fieldset {
                legend { "Public key" }
                (layout::area("Public key as JWK", "publicKey", form.get("publicKey"), 6, problems,
                    Some("Paste the JSON Web Key, or upload a PEM file below: it is converted to a JWK here.")))
                div.field {
                    label for="publicKeyPem" { "or a PEM file (public or private key; only the public half is used)" }
                    input #publicKeyPem type="file" name="publicKeyPem" accept=".pem,.key,.pub,.txt";
                }
            }
            (layout::typed("Logo URI", "logoUri", "url", form.get("logoUri"), problems, None))
            (redirect_inputs(&form.all("redirectUris"), problems))
            (layout::checks("Grant types", "grantTypes", &rules.grant_types, &grants, problems))
            (layout::checks("Client authentication methods", "clientAuthMethods", &rules.client_auth_methods, &methods, problems))
            div.actions {
                button.secondary type="submit" name="action" value="preview" { "Preview" }
                button type="submit" name="action" value="create" { "Create client" }
            }
        }
    };
    layout::with_status(status, layout::page("Create a client", Some(user), body))
}

/// The growing list of redirect URIs: the ones sent, then one empty row (more with JS).
fn redirect_inputs(values: &[&str], problems: &Problems) -> Markup {
    let mut rows: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| !v.trim().is_empty())
        .collect();
    if rows.len() < 5 {
        rows.push("");
    }
    // Only the entries the error names are marked (all of them for a whole-list problem).
    let bad = |i: usize| {
        problems
            .entry_invalid("redirectUris", i)
            .then_some("redirectUris-error")
    };
    html! {
        fieldset.uris data-max="5" {
            legend { "Redirect URIs (1 to 5)" }
            @for (i, v) in rows.iter().enumerate() {
                div.uri-row.field {
                    label for={"redirectUris-" (i + 1)} { "Redirect URI " (i + 1) }
                    input id={"redirectUris-" (i + 1)} type="text" inputmode="url" name="redirectUris" value=(v)
                        aria-invalid=[bad(i).map(|_| "true")] aria-describedby=[bad(i)];
                }
            }
            button.add-uri.secondary type="button" hidden { "Add another redirect URI" }
            (layout::errors(problems, "redirectUris"))
        }
    }
}

/// `GET /portal/clients/new`.
pub async fn new_form(State(p): St, user: User) -> Response {
    if let Some(r) = user.admit_client(&p, roles::POST_OIDC_CLIENT) {
        return r;
    }
    create_page(
        &p,
        &user,
        &Form::default(),
        &Problems::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `code=name` lines → the `clientNameLangMap` object.
fn name_map(text: &str, problems: &mut Problems) -> Map<String, Value> {
    let mut m = Map::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match line.split_once('=') {
            Some((k, v)) => {
                m.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
            }
            None => problems.add(
                "clientNameLangMap",
                format!("Line {} is not written as code=name", i + 1),
            ),
        }
    }
    m
}

/// The create request of the form, with the PEM file converted to a JWK (shown in the JWK field
/// afterwards, since a file input cannot be refilled).
fn create_request(
    p: &Portal,
    form: &mut Form,
    problems: &mut Problems,
) -> (Map<String, Value>, ClientFamily) {
    let mut m = strings(form, &["name", "policyId", "authPartnerId", "logoUri"]);
    m.insert("redirectUris".into(), form_list(form, "redirectUris"));
    m.insert("grantTypes".into(), form_list(form, "grantTypes"));
    m.insert(
        "clientAuthMethods".into(),
        form_list(form, "clientAuthMethods"),
    );
    let pem = form.get("publicKeyPem").to_string();
    if !pem.trim().is_empty() {
        match jwk::for_client(&pem, None, &p.app.client_rules.key_policy) {
            Ok((key, _)) => {
                let pretty = serde_json::to_string_pretty(&key).unwrap_or_default();
                form.set("publicKey", &pretty);
                m.insert("publicKey".into(), key);
            }
            Err(e) => problems.add("publicKey", format!("The PEM file cannot be used: {e}")),
        }
    } else if !form.get("publicKey").trim().is_empty() {
        match serde_json::from_str::<Value>(form.get("publicKey")) {
            Ok(v) => {
                m.insert("publicKey".into(), v);
            }
            Err(e) => problems.add("publicKey", format!("This is not valid JSON: {e}")),
        }
    }
    form.fields.retain(|(k, _)| k != "publicKeyPem");
    let names = form.get("clientNameLangMap").to_string();
    let family = if names.trim().is_empty() {
        ClientFamily::Oidc
    } else {
        m.insert(
            "clientNameLangMap".into(),
            Value::Object(name_map(&names, problems)),
        );
        ClientFamily::OAuth
    };
    (m, family)
}

/// Field names of the domain codes of create, update and read.
const CLIENT_CODES: &[(&str, &str)] = &[
    ("PMS_ESI_007", "publicKey"),
    ("PMS_ESI_001", "publicKey"),
    ("PMS_POLICY_ERROR_009", "authPartnerId"),
    ("PMS_CERTIFICATE_ERROR_002", "authPartnerId"),
    ("PMS_PRT_058", "authPartnerId"),
    ("PMS_PRT_059", "authPartnerId"),
    ("PMS_PMP_016", "authPartnerId"),
    ("PMS_PRT_073", "policyId"),
    ("PMS_PRT_057", "policyId"),
    ("PMS_PMP_019", "policyId"),
    ("PMS_PMP_018", "policyId"),
    ("PMS_PMP_023", "policyId"),
    ("PMS_PRT_061", "policyId"),
    ("PMS_ESI_002", "policyId"),
    ("PMS_ESI_005", "policyId"),
    ("PMS_ESI_003", "policyId"),
    ("PMS_ESI_006", "policyId"),
];

/// `POST /portal/clients/new`: `action=preview` runs the whole create (every check, the id,
/// claims and ACR derivation) in a transaction that is rolled back; `action=create` commits it.
pub async fn create(State(p): St, user: User, Extension(mut form): Extension<Form>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::POST_OIDC_CLIENT) {
        return r;
    }
    let st = &p.app;
    let preview = form.get("action") == "preview";
    let mut problems = Problems::default();
    let (request, family) = create_request(&p, &mut form, &mut problems);
    let res = async {
        let cmd = parse(st, request, |f| {
            client_routes::create_command(st, f, family)
        })?;
        if !problems.is_empty() {
            return Ok(None);
        }
        let cmd = clients::check_key(&st.client_rules, cmd)?;
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        let out = clients::create(tx.as_mut(), &ctx, &st.client_rules, cmd, None).await?;
        if preview {
            // Dropping the transaction rolls the create back: nothing is written.
            drop(tx);
        } else {
            st.commit(tx).await?;
        }
        Ok::<_, ApiError>(Some(out.value))
    }
    .await;
    match res {
        Ok(Some(c)) if preview => {
            create_page(&p, &user, &form, &problems, Some(&c), StatusCode::OK).await
        }
        Ok(Some(c)) => see_other(&format!("{PREFIX}/clients/{}?ok=created", c.id)),
        Ok(None) => {
            create_page(
                &p,
                &user,
                &form,
                &problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => failure_page(&user, &e),
        Err(e) => {
            problems.merge_api(&e, CLIENT_CODES);
            create_page(
                &p,
                &user,
                &form,
                &problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The client as the API's read gives it (the ownership check included), with its outbox rows.
async fn read(
    p: &Portal,
    user: &User,
    id: &str,
) -> Result<
    (
        OidcClient,
        Option<String>,
        Vec<pms_domain::outbox::OutboxRow>,
    ),
    ApiError,
> {
    let st = &p.app;
    let echo = Echo::new(Kind::V1);
    let ctx = st.ctx(&user.caller, &echo);
    let mut tx = st.store.read().await?;
    let read = clients::get(tx.as_mut(), &ctx, id).await?;
    Ok((read.client, read.policy_name, read.deliveries))
}

/// `GET /portal/clients/{id}`.
pub async fn detail(
    State(p): St,
    user: User,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> Response {
    if let Some(r) = user.admit_client(&p, roles::GET_OIDC_CLIENT) {
        return r;
    }
    let (c, policy, rows) = match read(&p, &user, &id).await {
        Ok(x) => x,
        Err(e) => return failure_page(&user, &e),
    };
    let channels: Vec<Channel> = Channel::ALL
        .into_iter()
        .filter(|ch| match ch {
            Channel::Esignet => p.app.outbox.esignet,
            Channel::Websub => p.app.outbox.websub,
        })
        .collect();
    let active = c.status == ClientStatus::Active;
    let may_edit = user.may(&p, roles::PUT_OIDC_CLIENT);
    let body = html! {
        h1 { (c.name) }
        (layout::flash(q.ok.as_deref()))
        dl.facts {
            dt { "Client id" } dd { (copyable(&c.id)) }
            dt { "Status" } dd { (state_badge(c.status.as_str())) }
            dt { "Partner" } dd { span.id { (c.rp_id) } }
            dt { "Policy" } dd { (policy.as_deref().unwrap_or("—")) }
            @if !c.name_lang_map.is_empty() {
                dt { "Name per language" }
                dd { @for (k, v) in &c.name_lang_map { (k) ": " (v.as_str().unwrap_or("")) br; } }
            }
            dt { "Redirect URIs" } dd { ul { @for u in &c.redirect_uris { li { span.id { (u) } } } } }
            dt { "Logo URI" } dd { span.id { (c.logo_uri) } }
            dt { "Claims" } dd { (c.claims.join(", ")) }
            dt { "ACR values" } dd { (c.acr_values.join(", ")) }
            dt { "Grant types" } dd { (c.grant_types.join(", ")) }
            dt { "Authentication" } dd { (c.client_auth_methods.join(", ")) }
            dt { "Public key" } dd { code { (c.public_key) } }
            dt { "Created" } dd { (c.cr_dtimes.format("%Y-%m-%d %H:%M:%S")) " by " (c.cr_by) }
            @if let Some(t) = c.upd_dtimes {
                dt { "Updated" } dd { (t.format("%Y-%m-%d %H:%M:%S")) " by " (c.upd_by.as_deref().unwrap_or("")) }
            }
        }
        h2 { "Delivery" }
        @if channels.is_empty() {
            p { "No downstream system is configured: nothing is delivered." }
        } @else {
            div.table-wrap { table.stack {
                thead { tr { th { "To" } th { "State" } th { "Attempts" } th { "Last error" } th { "Next attempt" } } }
                tbody { @for ch in &channels {
                    @let s = channel_status(&rows, *ch);
                    tr {
                        td data-label="To" { (ch.as_str()) }
                        td data-label="State" { (state_badge(s.state.as_str())) }
                        td data-label="Attempts" { (s.attempts) }
                        td data-label="Last error" { (s.last_error.as_deref().unwrap_or("—")) }
                        td data-label="Next attempt" { (s.next_attempt_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "—".into())) }
                    }
                } }
            } }
        }
        @if active && may_edit {
            div.actions {
                a.button href={(PREFIX) "/clients/" (c.id) "/edit"} { "Edit" }
                a.button.danger href={(PREFIX) "/clients/" (c.id) "/deactivate"} { "Deactivate" }
            }
        }
        p { a href={(PREFIX) "/clients"} { "All your clients" } }
    };
    layout::ok(layout::page(&c.name, Some(&user), body))
}

async fn edit_page(
    p: &Portal,
    user: &User,
    c: &OidcClient,
    form: &Form,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let rules = &p.app.settings.client_fields;
    let fresh = form.fields.is_empty();
    let names: String = c
        .name_lang_map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("\n");
    let uris: Vec<&str> = if fresh {
        c.redirect_uris.iter().map(String::as_str).collect()
    } else {
        form.all("redirectUris")
    };
    let grants: Vec<&str> = if fresh {
        c.grant_types.iter().map(String::as_str).collect()
    } else {
        form.all("grantTypes")
    };
    let methods: Vec<&str> = if fresh {
        c.client_auth_methods.iter().map(String::as_str).collect()
    } else {
        form.all("clientAuthMethods")
    };
    let body = html! {
        h1 { "Edit " (c.name) }
        p { "Client id " (copyable(&c.id)) }
        (layout::general(problems))
        form method="post" action={(PREFIX) "/clients/" (c.id) "/edit"} {
            (layout::csrf(user))
            (layout::text("Client name", "clientName", layout::kept(form, "clientName", &c.name), problems, None))
            @if c.family() == ClientFamily::OAuth {
                (layout::area("Name per language", "clientNameLangMap", layout::kept(form, "clientNameLangMap", &names), 2, problems,
                    Some("One per line as code=name.")))
            }
            (layout::typed("Logo URI", "logoUri", "url", layout::kept(form, "logoUri", &c.logo_uri), problems, None))
            (redirect_inputs(&uris, problems))
            (layout::checks("Grant types", "grantTypes", &rules.grant_types, &grants, problems))
            (layout::checks("Client authentication methods", "clientAuthMethods", &rules.client_auth_methods, &methods, problems))
            div.actions {
                button type="submit" { "Save" }
                a href={(PREFIX) "/clients/" (c.id)} { "Cancel" }
            }
        }
    };
    layout::with_status(status, layout::page("Edit client", Some(user), body))
}

/// `GET /portal/clients/{id}/edit`.
pub async fn edit_form(State(p): St, user: User, Path(id): Path<String>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::PUT_OIDC_CLIENT) {
        return r;
    }
    match read(&p, &user, &id).await {
        Ok((c, _, _)) => {
            edit_page(
                &p,
                &user,
                &c,
                &Form::default(),
                &Problems::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => failure_page(&user, &e),
    }
}

/// Runs the API's update of `id` with `request` through the stored client's family.
async fn update(
    p: &Portal,
    user: &User,
    id: &str,
    family: ClientFamily,
    request: Map<String, Value>,
) -> Result<(), ApiError> {
    let st = &p.app;
    let cmd = parse(st, request, |f| {
        client_routes::update_command(st, f, family)
    })?;
    let echo = Echo::new(Kind::V1);
    let ctx = st.ctx(&user.caller, &echo);
    let mut tx = st.store.write().await?;
    clients::update(tx.as_mut(), &ctx, id, cmd).await?;
    st.commit(tx).await?;
    Ok(())
}

/// `POST /portal/clients/{id}/edit`.
pub async fn edit(
    State(p): St,
    user: User,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Response {
    if let Some(r) = user.admit_client(&p, roles::PUT_OIDC_CLIENT) {
        return r;
    }
    let c = match read(&p, &user, &id).await {
        Ok((c, _, _)) => c,
        Err(e) => return failure_page(&user, &e),
    };
    let mut problems = Problems::default();
    let mut m = strings(&form, &["clientName", "logoUri"]);
    m.insert("redirectUris".into(), form_list(&form, "redirectUris"));
    m.insert("grantTypes".into(), form_list(&form, "grantTypes"));
    m.insert(
        "clientAuthMethods".into(),
        form_list(&form, "clientAuthMethods"),
    );
    m.insert("status".into(), Value::String(c.status.as_str().into()));
    let family = c.family();
    if family == ClientFamily::OAuth {
        let map = name_map(form.get("clientNameLangMap"), &mut problems);
        m.insert("clientNameLangMap".into(), Value::Object(map));
    }
    let res = if problems.is_empty() {
        update(&p, &user, &id, family, m).await
    } else {
        Ok(())
    };
    match res {
        Ok(()) if problems.is_empty() => see_other(&format!("{PREFIX}/clients/{id}?ok=updated")),
        Ok(()) => {
            edit_page(
                &p,
                &user,
                &c,
                &form,
                &problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => failure_page(&user, &e),
        Err(e) => {
            problems.merge_api(&e, CLIENT_CODES);
            edit_page(
                &p,
                &user,
                &c,
                &form,
                &problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `GET /portal/clients/{id}/deactivate`: the confirmation.
pub async fn deactivate_form(State(p): St, user: User, Path(id): Path<String>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::PUT_OIDC_CLIENT) {
        return r;
    }
    let c = match read(&p, &user, &id).await {
        Ok((c, _, _)) => c,
        Err(e) => return failure_page(&user, &e),
    };
    let body = html! {
        h1 { "Deactivate " (c.name) "?" }
        div.panel.warning role="alert" {
            p { strong { "This cannot be undone." } " A deactivated client cannot be activated again: "
                "relying-party logins with client id " span.id { (c.id) } " stop working, and the same key cannot be used for a new client." }
        }
        form method="post" action={(PREFIX) "/clients/" (c.id) "/deactivate"} {
            (layout::csrf(&user))
            div.actions {
                button.danger type="submit" { "Deactivate for good" }
                a href={(PREFIX) "/clients/" (c.id)} { "Keep it active" }
            }
        }
    };
    layout::ok(layout::page("Deactivate client", Some(&user), body))
}

/// `POST /portal/clients/{id}/deactivate`: the API's update with status `INACTIVE`, every other
/// field as stored.
pub async fn deactivate(State(p): St, user: User, Path(id): Path<String>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::PUT_OIDC_CLIENT) {
        return r;
    }
    let c = match read(&p, &user, &id).await {
        Ok((c, _, _)) => c,
        Err(e) => return failure_page(&user, &e),
    };
    let strs = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let mut m = Map::new();
    m.insert("clientName".into(), Value::String(c.name.clone()));
    m.insert("logoUri".into(), Value::String(c.logo_uri.clone()));
    m.insert("redirectUris".into(), strs(&c.redirect_uris));
    m.insert("grantTypes".into(), strs(&c.grant_types));
    m.insert("clientAuthMethods".into(), strs(&c.client_auth_methods));
    m.insert(
        "status".into(),
        Value::String(ClientStatus::Inactive.as_str().into()),
    );
    if c.family() == ClientFamily::OAuth {
        m.insert(
            "clientNameLangMap".into(),
            Value::Object(c.name_lang_map.clone()),
        );
    }
    match update(&p, &user, &id, c.family(), m).await {
        Ok(()) => see_other(&format!("{PREFIX}/clients/{id}?ok=deactivated")),
        Err(e) => failure_page(&user, &e),
    }
}
