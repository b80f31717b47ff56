//! Partner admin: partners with activate/deactivate, mapping requests with approve/reject, all
//! clients with filters and paging, failed deliveries with redeliver.

use super::clients::{client_table, copyable, esignet_states, state_badge, PAGE_SIZE};
use super::extract::{Path, Query};
use super::forms::{strings, Form};
use super::partner::parse;
use super::{failure_page, layout, see_other, St, User, PREFIX};
use crate::roles;
use crate::routes::{mappings as mapping_routes, partners as partner_routes};
use crate::wire::{ApiError, Echo, Kind};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use maud::html;
use pms_domain::list::{ClientFilter, ListQuery, MappingFilter, PageReq};
use pms_domain::model::{MappingStatus, Partner};
use pms_domain::ops::partners::PartnerStatusChange;
use pms_domain::ops::{clients, mappings, partners};
use pms_domain::outbox::{channel_status, Channel, DeliveryState};
use pms_domain::store::{Record, Table};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Params {
    ok: Option<String>,
    after: Option<String>,
    #[serde(rename = "pageNo")]
    page_no: Option<u32>,
    status: Option<String>,
    #[serde(rename = "partnerId")]
    partner_id: Option<String>,
    #[serde(rename = "policyName")]
    policy_name: Option<String>,
    delivery: Option<String>,
}

/// `GET /portal/admin/partners`: every partner, in id order, 20 at a time.
pub async fn partners(State(p): St, user: User, Query(q): Query<Params>) -> Response {
    if let Some(r) = user.refuse(&p, roles::PATCH_PARTNER) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let mut tx = st.store.read().await?;
        let page = tx
            .export(Table::Partner, q.after.as_deref(), PAGE_SIZE)
            .await?;
        let total = tx.count_rows(Table::Partner).await?;
        Ok::<_, ApiError>((page, total))
    }
    .await;
    let (page, total) = match res {
        Ok(x) => x,
        Err(e) => return failure_page(&user, &e),
    };
    let rows: Vec<Partner> = page
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::Partner(x) => Some(x),
            _ => None,
        })
        .collect();
    let full = rows.len() == PAGE_SIZE as usize;
    let body = html! {
        h1 { "Partners" }
        (layout::flash(q.ok.as_deref()))
        p { (total) " partners in all." }
        div.table-wrap { table.stack {
            thead { tr { th { "Partner id" } th { "Organisation" } th { "Type" } th { "User" } th { "Status" } th { "Action" } } }
            tbody { @for x in &rows {
                tr {
                    td data-label="Partner id" { span.id { (x.id) } }
                    td data-label="Organisation" { (x.name) }
                    td data-label="Type" { (x.partner_type_code) }
                    td data-label="User" { span.id { (x.user_id) } }
                    td data-label="Status" { (state_badge(x.status_label())) }
                    td data-label="Action" {
                        @if x.is_active {
                            (layout::action(&user, &format!("{PREFIX}/admin/partners/{}/status", x.id), "Deactivate", &x.id, &[("status", "De-Active")], "danger"))
                        } @else if !x.is_deactivated() {
                            (layout::action(&user, &format!("{PREFIX}/admin/partners/{}/status", x.id), "Activate", &x.id, &[("status", "Active")], ""))
                        } @else { "—" }
                    }
                }
            } }
        } }
        nav.pager aria-label="Pages" {
            @if q.after.is_some() { a href={(PREFIX) "/admin/partners"} { "First page" } }
            @if let (true, Some(last)) = (full, page.last.as_deref()) {
                a href={(PREFIX) "/admin/partners?after=" (last)} rel="next" { "Next" }
            }
        }
    };
    layout::ok(layout::page("Partners", Some(&user), body))
}

/// `POST /portal/admin/partners/{id}/status`.
pub async fn partner_status(
    State(p): St,
    user: User,
    Path(id): Path<String>,
    Extension(form): Extension<Form>,
) -> Response {
    if let Some(r) = user.refuse(&p, roles::PATCH_PARTNER) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let change = parse(
            st,
            strings(&form, &["status"]),
            partner_routes::status_change,
        )?;
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        partners::set_status(tx.as_mut(), &ctx, &id, change).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(change)
    }
    .await;
    match res {
        Ok(PartnerStatusChange::Activate) => {
            see_other(&format!("{PREFIX}/admin/partners?ok=activated"))
        }
        Ok(PartnerStatusChange::Deactivate) => {
            see_other(&format!("{PREFIX}/admin/partners?ok=partner-deactivated"))
        }
        Err(e) => failure_page(&user, &e),
    }
}

/// `GET /portal/admin/mappings`: mapping requests, pending first by filter.
pub async fn mappings(State(p): St, user: User, Query(q): Query<Params>) -> Response {
    if let Some(r) = user.refuse(&p, roles::GET_MAPPING_REQUESTS) {
        return r;
    }
    let may_decide = user.may(&p, roles::PUT_POLICY_MAPPING);
    let status = q.status.as_deref().and_then(MappingStatus::parse);
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
            filter: MappingFilter {
                status,
                ..MappingFilter::default()
            },
        };
        Ok::<_, ApiError>(mappings::list(tx.as_mut(), &ctx, q).await?)
    }
    .await;
    let result = match res {
        Ok(r) => r,
        Err(e) => return failure_page(&user, &e),
    };
    let options: Vec<(String, String)> = [
        ("", "All"),
        ("InProgress", "Pending"),
        ("approved", "Approved"),
        ("rejected", "Rejected"),
    ]
    .iter()
    .map(|(v, l)| ((*v).to_string(), (*l).to_string()))
    .collect();
    let none = super::forms::Problems::default();
    let query = status
        .map(|s| format!("&status={}", s.as_str()))
        .unwrap_or_default();
    let body = html! {
        h1 { "Policy requests" }
        (layout::flash(q.ok.as_deref()))
        form.filters method="get" action={(PREFIX) "/admin/mappings"} {
            (layout::select("State", "status", &options, q.status.as_deref().unwrap_or(""), &none))
            div.field { button type="submit" { "Filter" } }
        }
        div.table-wrap { table.stack {
            thead { tr { th { "Partner" } th { "Organisation" } th { "Policy" } th { "Use case" } th { "State" } th { "Requested" } th { "Decision" } } }
            tbody { @for m in &result.items {
                tr {
                    td data-label="Partner" { span.id { (m.partner_id) } }
                    td data-label="Organisation" { (m.org_name) }
                    td data-label="Policy" { (m.policy_name) }
                    td data-label="Use case" { (m.partner_comment) }
                    td data-label="State" { (state_badge(m.status.as_str())) }
                    td data-label="Requested" { (m.created.format("%Y-%m-%d %H:%M")) }
                    td data-label="Decision" {
                        @if m.status == MappingStatus::InProgress && may_decide {
                            (layout::action(&user, &format!("{PREFIX}/admin/mappings/{}/decision", m.id), "Approve", &format!("{} for {}", m.policy_name, m.partner_id), &[("status", "Approved")], ""))
                            " "
                            (layout::action(&user, &format!("{PREFIX}/admin/mappings/{}/decision", m.id), "Reject", &format!("{} for {}", m.policy_name, m.partner_id), &[("status", "Rejected")], "danger"))
                        } @else { "—" }
                    }
                }
            } }
        } }
        (layout::pager(&format!("{PREFIX}/admin/mappings"), &query, page.page_no, page.page_size, result.total))
    };
    layout::ok(layout::page("Policy requests", Some(&user), body))
}

/// `POST /portal/admin/mappings/{key}/decision`.
pub async fn decide(
    State(p): St,
    user: User,
    Path(key): Path<String>,
    Extension(form): Extension<Form>,
) -> Response {
    if let Some(r) = user.refuse(&p, roles::PUT_POLICY_MAPPING) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let decision = parse(st, strings(&form, &["status"]), mapping_routes::decision)?;
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        mappings::decide(tx.as_mut(), &ctx, &key, decision).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(decision)
    }
    .await;
    match res {
        Ok(mappings::Decision::Approve) => {
            see_other(&format!("{PREFIX}/admin/mappings?ok=approved"))
        }
        Ok(mappings::Decision::Reject) => {
            see_other(&format!("{PREFIX}/admin/mappings?ok=rejected"))
        }
        Err(e) => failure_page(&user, &e),
    }
}

/// Every client matching the filters, with its delivery state (no paging: the delivery state is
/// not a store filter, so it is applied here).
async fn all_clients(
    p: &super::Portal,
    user: &User,
    filter: ClientFilter,
    page: Option<PageReq>,
) -> Result<pms_domain::list::Page<(pms_domain::list::ClientSummary, DeliveryState)>, ApiError> {
    let st = &p.app;
    let echo = Echo::new(Kind::V1);
    let ctx = st.ctx(&user.caller, &echo);
    let mut tx = st.store.read().await?;
    let q = ListQuery {
        sort: None,
        page,
        filter,
    };
    Ok(clients::list(tx.as_mut(), &ctx, q).await?)
}

/// `GET /portal/admin/clients`: filters partner, policy, status, delivery state; 20 a page.
pub async fn clients(State(p): St, user: User, Query(q): Query<Params>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::GET_OAUTH_CLIENTS) {
        return r;
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
    };
    let filter = ClientFilter {
        partner_id: text(&q.partner_id),
        policy_name: text(&q.policy_name),
        status: q.status.clone().filter(|s| !s.is_empty()),
        ..ClientFilter::default()
    };
    let page = PageReq {
        page_no: q.page_no.unwrap_or(0),
        page_size: PAGE_SIZE,
    };
    let delivery = q.delivery.as_deref().filter(|s| !s.is_empty());
    let res = match delivery {
        None => all_clients(&p, &user, filter, Some(page)).await,
        Some(d) => all_clients(&p, &user, filter, None).await.map(|mut all| {
            all.items.retain(|(_, s)| s.as_str() == d);
            let total = all.items.len() as u64;
            let items = all
                .items
                .into_iter()
                .skip(page.offset() as usize)
                .take(PAGE_SIZE as usize)
                .collect();
            pms_domain::list::Page { items, total }
        }),
    };
    let result = match res {
        Ok(r) => r,
        Err(e) => return failure_page(&user, &e),
    };
    let esignet = match esignet_states(&p, &result.items).await {
        Ok(s) => s,
        Err(e) => return failure_page(&user, &e),
    };
    let none = super::forms::Problems::default();
    let opts = |v: &[&str]| -> Vec<(String, String)> {
        std::iter::once((String::new(), "Any".to_string()))
            .chain(v.iter().map(|s| ((*s).to_string(), (*s).to_string())))
            .collect()
    };
    let pairs: Vec<(&str, &str)> = [
        ("partnerId", &q.partner_id),
        ("policyName", &q.policy_name),
        ("status", &q.status),
        ("delivery", &q.delivery),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().filter(|s| !s.is_empty()).map(|s| (k, s)))
    .collect();
    let query = match serde_urlencoded::to_string(&pairs) {
        Ok(s) if !s.is_empty() => format!("&{s}"),
        _ => String::new(),
    };
    let body = html! {
        h1 { "All clients" }
        form.filters method="get" action={(PREFIX) "/admin/clients"} {
            (layout::text("Partner id contains", "partnerId", q.partner_id.as_deref().unwrap_or(""), &none, None))
            (layout::text("Policy name contains", "policyName", q.policy_name.as_deref().unwrap_or(""), &none, None))
            (layout::select("Status", "status", &opts(&["ACTIVE", "INACTIVE"]), q.status.as_deref().unwrap_or(""), &none))
            (layout::select("Delivery (any channel)", "delivery", &opts(&["FAILED", "PENDING", "DELIVERED", "NONE"]), delivery.unwrap_or(""), &none))
            div.field { button type="submit" { "Filter" } }
        }
        @if result.items.is_empty() { p { "No client matches." } }
        @else {
            (client_table(&result.items, &esignet, true))
        }
        (layout::pager(&format!("{PREFIX}/admin/clients"), &query, page.page_no, page.page_size, result.total))
    };
    layout::ok(layout::page("All clients", Some(&user), body))
}

/// `GET /portal/admin/deliveries`: clients with a failed delivery, with the error and a
/// redeliver button.
pub async fn deliveries(State(p): St, user: User, Query(q): Query<Params>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::POST_REDELIVER) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let all = all_clients(&p, &user, ClientFilter::default(), None).await?;
        let failed: Vec<_> = all
            .items
            .into_iter()
            .filter(|(_, d)| *d == DeliveryState::Failed)
            .collect();
        let mut tx = st.store.read().await?;
        let mut out = Vec::new();
        for (c, _) in failed {
            let rows = clients::deliveries(tx.as_mut(), &c.client_id).await?;
            let errors: Vec<(Channel, String)> = Channel::ALL
                .into_iter()
                .map(|ch| (ch, channel_status(&rows, ch)))
                .filter(|(_, s)| s.state == DeliveryState::Failed)
                .map(|(ch, s)| (ch, s.last_error.unwrap_or_default()))
                .collect();
            out.push((c, errors));
        }
        Ok::<_, ApiError>(out)
    }
    .await;
    let rows = match res {
        Ok(r) => r,
        Err(e) => return failure_page(&user, &e),
    };
    let body = html! {
        h1 { "Failed deliveries" }
        (layout::flash(q.ok.as_deref()))
        @if rows.is_empty() { p { "No delivery has failed." } }
        @else {
            div.table-wrap { table.stack {
                thead { tr { th { "Client" } th { "Client id" } th { "Partner" } th { "Failure" } th { "Action" } } }
                tbody { @for (c, errs) in &rows {
                    tr {
                        td data-label="Client" { a href={(PREFIX) "/clients/" (c.client_id)} { (c.client_name) } }
                        td data-label="Client id" { (copyable(&c.client_id)) }
                        td data-label="Partner" { span.id { (c.partner_id) } }
                        td data-label="Failure" { @for (ch, e) in errs { strong { (ch.as_str()) } ": " (e) br; } }
                        td data-label="Action" {
                            (layout::action(&user, &format!("{PREFIX}/admin/clients/{}/redeliver", c.client_id), "Redeliver", &c.client_name, &[], ""))
                        }
                    }
                } }
            } }
        }
    };
    layout::ok(layout::page("Failed deliveries", Some(&user), body))
}

/// `POST /portal/admin/clients/{id}/redeliver`.
pub async fn redeliver(State(p): St, user: User, Path(id): Path<String>) -> Response {
    if let Some(r) = user.admit_client(&p, roles::POST_REDELIVER) {
        return r;
    }
    let st = &p.app;
    let res = async {
        let echo = Echo::new(Kind::V1);
        let ctx = st.ctx(&user.caller, &echo);
        let mut tx = st.store.write().await?;
        clients::redeliver(tx.as_mut(), &ctx, &id).await?;
        st.commit(tx).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => see_other(&format!("{PREFIX}/admin/deliveries?ok=redelivered")),
        Err(e) => failure_page(&user, &e),
    }
}
