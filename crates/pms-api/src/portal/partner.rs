//! Auth partner: register the organisation, see its status, request a policy and see the
//! requests' states.

use super::extract::{Path, Query};
use super::forms::{envelope, strings, Form, Problems};
use super::{failure_page, layout, see_other, Portal, St, User, PREFIX};
use crate::input::Fields;
use crate::routes::{mappings as mapping_routes, partners as partner_routes};
use crate::wire::{ApiError, Echo, Kind};
use crate::{roles, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};
use pms_domain::list::{ListQuery, MappingFilter, MappingSummary};
use pms_domain::model::{AuthPolicy, Partner, PolicyGroup, PARTNER_TYPES};
use pms_domain::ops::{mappings, partners, policies, policy_groups};
use std::collections::HashMap;

#[derive(serde::Deserialize)]
pub struct Flash {
    ok: Option<String>,
}

/// What the partner page shows.
struct View {
    mine: Vec<(Partner, Option<PolicyGroup>)>,
    requests: Vec<MappingSummary>,
    groups: Vec<PolicyGroup>,
    /// Active policies by group name.
    policies: HashMap<String, Vec<AuthPolicy>>,
}

/// Which form came back with problems.
#[derive(Default)]
struct Sent {
    register: Option<(Form, Problems)>,
    mapping: Option<(String, Form, Problems)>,
    flash: Option<String>,
}

async fn load(p: &Portal, user: &User) -> Result<View, ApiError> {
    let st = &p.app;
    let echo = Echo::new(Kind::V1);
    let ctx = st.ctx(&user.caller, &echo);
    let mut tx = st.store.read().await?;
    let mut mine = Vec::new();
    for partner in tx.partners_of_user(user.id()).await? {
        // The API's read, with its ownership check.
        mine.push(partners::get(tx.as_mut(), &ctx, &partner.id).await?);
    }
    let requests = if !mine.is_empty() && user.may(p, roles::GET_MAPPING_REQUESTS) {
        let q = ListQuery {
            sort: None,
            page: None,
            filter: MappingFilter::default(),
        };
        mappings::list(tx.as_mut(), &ctx, q).await?.items
    } else {
        Vec::new()
    };
    let groups = if user.may(p, roles::GET_ACTIVE_GROUPS) {
        policy_groups::active(tx.as_mut()).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut policies_by_group = HashMap::new();
    if user.may(p, roles::GET_ACTIVE_POLICIES_OF_GROUP) {
        for (_, g) in &mine {
            if let Some(g) = g {
                if let Ok((_, list)) = policies::active_of_group(tx.as_mut(), &g.name).await {
                    policies_by_group.insert(g.name.clone(), list);
                }
            }
        }
    }
    Ok(View {
        mine,
        requests,
        groups,
        policies: policies_by_group,
    })
}

/// `GET /portal/partner`.
pub async fn page(State(p): St, user: User, Query(f): Query<Flash>) -> Response {
    render(
        &p,
        &user,
        Sent {
            flash: f.ok,
            ..Sent::default()
        },
    )
    .await
}

async fn render(p: &Portal, user: &User, sent: Sent) -> Response {
    if let Some(r) = user.refuse(p, roles::GET_PARTNER) {
        return r;
    }
    let view = match load(p, user).await {
        Ok(v) => v,
        Err(e) => return failure_page(user, &e),
    };
    let status = if sent.register.is_some() || sent.mapping.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        h1 { "Your organisation" }
        (layout::flash(sent.flash.as_deref()))
        @if view.mine.is_empty() {
            p { "You have not registered an organisation yet." }
        }
        @for (partner, group) in &view.mine {
            (partner_panel(p, user, partner, group.as_ref(), &view, &sent))
        }
        @if !view.requests.is_empty() {
            h2 { "Policy requests" }
            div.table-wrap {
                table.stack {
                    thead { tr { th { "Policy" } th { "Partner" } th { "Use case" } th { "State" } th { "Requested" } } }
                    tbody {
                        @for m in &view.requests {
                            tr {
                                td data-label="Policy" { (m.policy_name) }
                                td data-label="Partner" { span.id { (m.partner_id) } }
                                td data-label="Use case" { (m.partner_comment) }
                                td data-label="State" { span class={"state state-" (m.status.as_str())} { (m.status.as_str()) } }
                                td data-label="Requested" { (m.created.format("%Y-%m-%d %H:%M")) }
                            }
                        }
                    }
                }
            }
        }
        @if user.may(p, roles::POST_PARTNERS) {
            @if view.mine.is_empty() || sent.register.is_some() {
                (register_form(user, &view.groups, &sent))
            } @else {
                details {
                    summary { "Register another organisation" }
                    (register_form(user, &view.groups, &sent))
                }
            }
        }
    };
    layout::with_status(status, layout::page("Your organisation", Some(user), body))
}

fn status_words(p: &Partner) -> &'static str {
    match p.status_label() {
        "InProgress" => "Waiting for a partner admin to activate it",
        "activated" => "Active",
        _ => "Deactivated",
    }
}

fn partner_panel(
    p: &Portal,
    user: &User,
    partner: &Partner,
    group: Option<&PolicyGroup>,
    view: &View,
    sent: &Sent,
) -> Markup {
    let empty = (Form::default(), Problems::default());
    let (form, problems) = match &sent.mapping {
        Some((id, f, pr)) if *id == partner.id => (f, pr),
        _ => (&empty.0, &empty.1),
    };
    let options: Vec<(String, String)> = group
        .and_then(|g| view.policies.get(&g.name))
        .map(|list| {
            list.iter()
                .map(|pol| (pol.name.clone(), format!("{} — {}", pol.name, pol.desc)))
                .collect()
        })
        .unwrap_or_default();
    html! {
        section.panel aria-labelledby={"partner-" (partner.id)} {
            h2 id={"partner-" (partner.id)} { (partner.name) }
            dl.facts {
                dt { "Partner id" } dd { span.id { (partner.id) } }
                dt { "Type" } dd { (partner.partner_type_code) }
                dt { "Policy group" } dd { (group.map_or("—", |g| g.name.as_str())) }
                dt { "Status" } dd { span class={"state state-" (partner.status_label())} { (status_words(partner)) } }
                dt { "E-mail" } dd { (partner.email_id) }
            }
            @if partner.is_active && user.may(p, roles::POST_POLICY_MAP) {
                h3 { "Request a policy" }
                @if options.is_empty() {
                    p { "There is no published policy in your policy group yet." }
                } @else {
                    form method="post" action={(PREFIX) "/partner/" (partner.id) "/mappings"} {
                        (layout::csrf(user))
                        (layout::general(problems))
                        (layout::select("Policy", "policyName", &options, form.get("policyName"), problems))
                        (layout::area("Use case", "useCaseDescription", form.get("useCaseDescription"), 3, problems,
                            Some("What you will use the policy for.")))
                        button type="submit" { "Request policy" }
                    }
                }
            }
        }
    }
}

fn register_form(user: &User, groups: &[PolicyGroup], sent: &Sent) -> Markup {
    let empty = (Form::default(), Problems::default());
    let (form, pr) = sent
        .register
        .as_ref()
        .map_or((&empty.0, &empty.1), |(f, p)| (f, p));
    let types: Vec<(String, String)> = PARTNER_TYPES
        .iter()
        .map(|(t, _)| ((*t).to_string(), t.replace('_', " ")))
        .collect();
    let mut group_options = vec![(String::new(), "— none —".to_string())];
    group_options.extend(groups.iter().map(|g| (g.name.clone(), g.name.clone())));
    html! {
        h2 { "Register an organisation" }
        form method="post" action={(PREFIX) "/partner/register"} {
            (layout::csrf(user))
            (layout::general(pr))
            (layout::text("Partner id", "partnerId", form.get("partnerId"), pr, Some("Your organisation's id at the identity provider: no spaces, at most 36 characters.")))
            (layout::text("Organisation name", "organizationName", form.get("organizationName"), pr, None))
            (layout::select("Partner type", "partnerType", &types, layout::kept(form, "partnerType", "Auth_Partner"), pr))
            (layout::select("Policy group", "policyGroup", &group_options, form.get("policyGroup"), pr))
            (layout::area("Address", "address", form.get("address"), 2, pr, None))
            (layout::typed("Contact number", "contactNumber", "tel", form.get("contactNumber"), pr, None))
            (layout::typed("E-mail", "emailId", "email", form.get("emailId"), pr, None))
            button type="submit" { "Register" }
        }
    }
}

/// Field names of the domain codes of registration.
const REGISTER_CODES: &[(&str, &str)] = &[
    ("PMS_PRT_012", "emailId"),
    ("PMS_PRT_011", "emailId"),
    ("PMS_PRT_066", "partnerId"),
    ("PMS_PRT_052", "partnerId"),
    ("PMS_PRT_051", "partnerId"),
    ("PMS_PRT_055", "partnerId"),
    ("PMS_PRT_010", "partnerType"),
    ("PMS_PRT_108", "policyGroup"),
    ("PMS_PRT_002", "policyGroup"),
    ("PMS_PMP_023", "policyGroup"),
];

/// Runs `f` reading fields from the v1 envelope of `request`: exactly the API's stage 9.
pub(crate) fn parse<T>(
    st: &AppState,
    request: serde_json::Map<String, serde_json::Value>,
    read: impl FnOnce(&mut Fields<'_>) -> T,
) -> Result<T, ApiError> {
    let body = envelope(st, request);
    // The API's body limit applies to the request a form stands for.
    let limit = st.settings.max_body_bytes;
    if serde_json::Value::Object(body.clone()).to_string().len() > limit {
        return Err(ApiError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PMS_EXT_001",
            format!("Request body exceeds the size limit of {limit} bytes"),
        ));
    }
    let mut f = Fields::v1(st, &body);
    let out = read(&mut f);
    f.finish()?;
    Ok(out)
}

/// `POST /portal/partner/register`.
pub async fn register(State(p): St, user: User, Extension(form): Extension<Form>) -> Response {
    if let Some(r) = user.refuse(&p, roles::POST_PARTNERS) {
        return r;
    }
    let st = &p.app;
    let mut request = strings(
        &form,
        &[
            "partnerId",
            "organizationName",
            "address",
            "contactNumber",
            "emailId",
            "partnerType",
        ],
    );
    if !form.get("policyGroup").is_empty() {
        request.insert("policyGroup".into(), form.get("policyGroup").into());
    }
    let res = async {
        let cmd = parse(st, request, partner_routes::register_command)?;
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        partners::register(tx.as_mut(), &ctx, &st.rules, cmd).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/partner?ok=registered")),
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => failure_page(&user, &e),
        Err(e) => {
            let problems = Problems::from_api(&e, REGISTER_CODES);
            render(
                &p,
                &user,
                Sent {
                    register: Some((form, problems)),
                    ..Sent::default()
                },
            )
            .await
        }
    }
}

const MAPPING_CODES: &[(&str, &str)] = &[
    ("PMS_PRT_073", "policyName"),
    ("PMS_PRT_098", "policyName"),
    ("PMS_PMP_019", "policyName"),
    ("PMS_PMP_018", "policyName"),
    ("PMS_PRT_053", "policyName"),
    ("PMS_PRT_060", "policyName"),
];

/// `POST /portal/partner/{id}/mappings`.
pub async fn request_mapping(
    State(p): St,
    user: User,
    Path(partner_id): Path<String>,
    Extension(form): Extension<Form>,
) -> Response {
    if let Some(r) = user.refuse(&p, roles::POST_POLICY_MAP) {
        return r;
    }
    let st = &p.app;
    let request = strings(&form, &["policyName", "useCaseDescription"]);
    let res = async {
        let id = partner_id.clone();
        let cmd = parse(st, request, |f| mapping_routes::request_command(f, id))?;
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        mappings::request(tx.as_mut(), &ctx, cmd).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/partner?ok=requested")),
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => failure_page(&user, &e),
        Err(e) => {
            let problems = Problems::from_api(&e, MAPPING_CODES);
            // A partner that is not the caller's has no form on the page: say it above all.
            let owned = load(&p, &user)
                .await
                .is_ok_and(|v| v.mine.iter().any(|(x, _)| x.id == partner_id));
            if !owned {
                return failure_page(&user, &e);
            }
            render(
                &p,
                &user,
                Sent {
                    mapping: Some((partner_id, form, problems)),
                    ..Sent::default()
                },
            )
            .await
        }
    }
}
