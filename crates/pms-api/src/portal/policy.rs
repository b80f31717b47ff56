//! Policy manager: policy groups, auth policies with a JSON editor checked against the schema
//! and the auth-type allow-list (the API's own check), publish, deactivate.

use super::clients::state_badge;
use super::extract::{Path, Query};
use super::forms::{strings, Form, Problems};
use super::partner::parse;
use super::{failure_page, layout, see_other, Portal, St, User, PREFIX};
use crate::roles;
use crate::routes::{policies as policy_routes, policy_groups as group_routes};
use crate::wire::{ApiError, Echo, Kind};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use pms_domain::model::PolicyState;
use pms_domain::ops::{policies, policy_groups};
use serde_json::Value;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Flash {
    ok: Option<String>,
}

async fn groups_page(
    p: &Portal,
    user: &User,
    form: &Form,
    problems: &Problems,
    flash: Option<&str>,
) -> Response {
    if let Some(r) = user.refuse(p, roles::GET_GROUPS_ALL) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let mut tx = st.store.read().await?;
        Ok::<_, ApiError>(policy_groups::all(tx.as_mut()).await?)
    }
    .await;
    let groups = match res {
        Ok(g) => g,
        Err(e) => return failure_page(user, &e),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let may_deactivate = user.may(p, roles::PATCH_GROUP);
    let body = html! {
        h1 { "Policy groups" }
        (layout::flash(flash))
        @if groups.is_empty() { p { "No policy group yet." } }
        @else {
            div.table-wrap { table.stack {
                thead { tr { th { "Name" } th { "Description" } th { "Active" } th { "Policies" } th { "Action" } } }
                tbody { @for (g, pols) in &groups {
                    tr {
                        td data-label="Name" { (g.name) }
                        td data-label="Description" { (g.desc) }
                        td data-label="Active" { @if g.is_active { "yes" } @else { "no" } }
                        td data-label="Policies" { (pols.len()) }
                        td data-label="Action" {
                            @if g.is_active && may_deactivate {
                                (layout::action(user, &format!("{PREFIX}/policy/groups/{}/deactivate", g.id), "Deactivate", &g.name, &[], "danger"))
                            } @else { "—" }
                        }
                    }
                } }
            } }
        }
        @if user.may(p, roles::POST_GROUP) {
            h2 { "Create a policy group" }
            form method="post" action={(PREFIX) "/policy/groups"} {
                (layout::csrf(user))
                (layout::general(problems))
                (layout::text("Name", "name", form.get("name"), problems, None))
                (layout::text("Description", "desc", form.get("desc"), problems, None))
                button type="submit" { "Create group" }
            }
        }
    };
    layout::with_status(status, layout::page("Policy groups", Some(user), body))
}

/// `GET /portal/policy/groups`.
pub async fn groups(State(p): St, user: User, Query(f): Query<Flash>) -> Response {
    groups_page(
        &p,
        &user,
        &Form::default(),
        &Problems::default(),
        f.ok.as_deref(),
    )
    .await
}

/// `POST /portal/policy/groups`.
pub async fn create_group(State(p): St, user: User, Extension(form): Extension<Form>) -> Response {
    if let Some(r) = user.refuse(&p, roles::POST_GROUP) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let cmd = parse(
            st,
            strings(&form, &["name", "desc"]),
            group_routes::create_command,
        )?;
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        policy_groups::create(tx.as_mut(), &ctx, cmd).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/policy/groups?ok=group")),
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => failure_page(&user, &e),
        Err(e) => {
            let problems = Problems::from_api(&e, &[("PMS_POL_014", "name")]);
            groups_page(&p, &user, &form, &problems, None).await
        }
    }
}

/// The document a new policy starts from (policies-and-partners.md §2.2).
const EXAMPLE: &str = r#"{
  "authTokenType": "policy",
  "allowedAuthTypes": [
    { "authType": "otp", "authSubType": "", "mandatory": false },
    { "authType": "kycauth", "authSubType": "", "mandatory": false },
    { "authType": "kycexchange", "authSubType": "", "mandatory": false }
  ],
  "allowedKycAttributes": [
    { "attributeName": "fullName" },
    { "attributeName": "email" }
  ]
}"#;

async fn policies_page(
    p: &Portal,
    user: &User,
    form: &Form,
    problems: &Problems,
    note: Option<&str>,
    flash: Option<&str>,
) -> Response {
    if let Some(r) = user.refuse(p, roles::GET_POLICIES) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let mut tx = st.store.read().await?;
        let all = policies::all(tx.as_mut()).await?;
        let groups = policy_groups::all(tx.as_mut()).await?;
        Ok::<_, ApiError>((all, groups))
    }
    .await;
    let (all, groups) = match res {
        Ok(x) => x,
        Err(e) => return failure_page(user, &e),
    };
    let group_options: Vec<(String, String)> = groups
        .iter()
        .filter(|(g, _)| g.is_active)
        .map(|(g, _)| (g.name.clone(), g.name.clone()))
        .collect();
    let types: Vec<(String, String)> = st
        .rules
        .allowed_policy_types
        .iter()
        .map(|t| (t.clone(), t.clone()))
        .collect();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let may_publish = user.may(p, roles::PUBLISH_POLICY);
    let may_deactivate = user.may(p, roles::PATCH_POLICY);
    let allowed = st.policy_validator.allowed_auth_types().join(", ");
    let body = html! {
        h1 { "Auth policies" }
        (layout::flash(flash))
        @if all.is_empty() { p { "No policy yet." } }
        @else {
            div.table-wrap { table.stack {
                thead { tr { th { "Name" } th { "Group" } th { "Type" } th { "Version" } th { "State" } th { "Action" } } }
                tbody { @for (pol, g) in &all {
                    tr {
                        td data-label="Name" { (pol.name) br; span.hint { (pol.desc) } }
                        td data-label="Group" { (g.name) }
                        td data-label="Type" { (pol.policy_type) }
                        td data-label="Version" { (pol.version) }
                        td data-label="State" { (state_badge(pol.state().as_list_str())) }
                        td data-label="Action" {
                            @match pol.state() {
                                PolicyState::Draft if may_publish => {
                                    (layout::action(user, &format!("{PREFIX}/policy/policies/{}/publish", pol.id), "Publish", &pol.name, &[("group", g.id.as_str())], ""))
                                }
                                PolicyState::Activated if may_deactivate => {
                                    (layout::action(user, &format!("{PREFIX}/policy/policies/{}/deactivate", pol.id), "Deactivate", &pol.name, &[], "danger"))
                                }
                                _ => { "—" }
                            }
                        }
                    }
                } }
            } }
        }
        @if user.may(p, roles::POST_POLICY) {
            h2 { "Create a draft policy" }
            @if let Some(n) = note { p.flash role="status" { (n) } }
            form method="post" action={(PREFIX) "/policy/policies"} {
                (layout::csrf(user))
                (layout::general(problems))
                (layout::select("Policy group", "policyGroupName", &group_options, form.get("policyGroupName"), problems))
                (layout::text("Name", "name", form.get("name"), problems, None))
                (layout::text("Description", "desc", form.get("desc"), problems, None))
                (layout::select("Policy type", "policyType", &types, form.get("policyType"), problems))
                (layout::text("Version", "version", layout::kept(form, "version", "1.0"), problems, None))
                (layout::area("Policy document (JSON)", "policies", layout::kept(form, "policies", EXAMPLE), 16, problems,
                    Some(&format!("Checked against the auth policy schema; allowed auth types: {allowed}."))))
                div.actions {
                    button.secondary type="submit" name="action" value="check" { "Check" }
                    button type="submit" name="action" value="save" { "Save draft" }
                }
            }
        }
    };
    layout::with_status(status, layout::page("Auth policies", Some(user), body))
}

/// `GET /portal/policy/policies`.
pub async fn policies(State(p): St, user: User, Query(f): Query<Flash>) -> Response {
    policies_page(
        &p,
        &user,
        &Form::default(),
        &Problems::default(),
        None,
        f.ok.as_deref(),
    )
    .await
}

const POLICY_CODES: &[(&str, &str)] = &[
    ("PMS_POL_009", "name"),
    ("PMS_POL_019", "policyGroupName"),
    ("PMS_POL_053", "policyGroupName"),
    ("PMS_POL_023", "policyType"),
    ("PMS_EXT_005", "policyId"),
];

/// `POST /portal/policy/policies`: `action=check` validates only; `action=save` creates the
/// draft.
pub async fn create_policy(State(p): St, user: User, Extension(form): Extension<Form>) -> Response {
    if let Some(r) = user.refuse(&p, roles::POST_POLICY) {
        return r;
    }
    let st = &p.app;
    let check_only = form.get("action") == "check";
    let mut problems = Problems::default();
    let mut request = strings(
        &form,
        &["policyGroupName", "policyType", "name", "desc", "version"],
    );
    let doc = form.get("policies");
    if !doc.trim().is_empty() {
        match serde_json::from_str::<Value>(doc) {
            Ok(v) => {
                request.insert("policies".into(), v);
            }
            Err(e) => problems.add("policies", format!("This is not valid JSON: {e}")),
        }
    }
    let res = async {
        let cmd = parse(st, request, |f| policy_routes::create_command(st, f))?;
        if check_only || !problems.is_empty() {
            return Ok(false);
        }
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        policies::create(tx.as_mut(), &ctx, &st.rules, cmd).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(true)
    }
    .await;
    match res {
        Ok(true) => see_other(&format!("{PREFIX}/policy/policies?ok=policy")),
        Ok(false) if problems.is_empty() => {
            policies_page(
                &p,
                &user,
                &form,
                &problems,
                Some("The policy is valid: nothing was saved yet."),
                None,
            )
            .await
        }
        Ok(false) => policies_page(&p, &user, &form, &problems, None, None).await,
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => failure_page(&user, &e),
        Err(e) => {
            problems.merge_api(&e, POLICY_CODES);
            policies_page(&p, &user, &form, &problems, None, None).await
        }
    }
}

/// `POST /portal/policy/policies/{id}/publish` (the group id in the form).
pub async fn publish(
    State(p): St,
    user: User,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Response {
    if let Some(r) = user.refuse(&p, roles::PUBLISH_POLICY) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        policies::publish(tx.as_mut(), &ctx, &st.rules, &id, form.get("group")).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/policy/policies?ok=published")),
        Err(e) => failure_page(&user, &e),
    }
}

/// `POST /portal/policy/policies/{id}/deactivate`.
pub async fn deactivate(State(p): St, user: User, Path(id): Path<String>) -> Response {
    if let Some(r) = user.refuse(&p, roles::PATCH_POLICY) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        policies::deactivate(tx.as_mut(), &ctx, &id).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/policy/policies?ok=policy-deactivated")),
        Err(e) => failure_page(&user, &e),
    }
}

/// `POST /portal/policy/groups/{id}/deactivate`.
pub async fn deactivate_group(State(p): St, user: User, Path(id): Path<String>) -> Response {
    if let Some(r) = user.refuse(&p, roles::PATCH_GROUP) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        policy_groups::deactivate(tx.as_mut(), &ctx, &id).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/policy/groups?ok=group-deactivated")),
        Err(e) => failure_page(&user, &e),
    }
}
