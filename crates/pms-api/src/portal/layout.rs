//! The page frame and the form building blocks (maud templates, compiled into the binary).
//! Every input has a label; errors are linked to their input with `aria-describedby`.

use super::forms::{Form, Problems};
use super::{User, PREFIX};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// A whole page: header with the navigation the person's roles allow, then `main`.
pub fn page(title: &str, user: Option<&User>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · pms partner portal" }
                link rel="stylesheet" href={(PREFIX) "/assets/portal.css"};
                script src={(PREFIX) "/assets/portal.js"} defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href=(PREFIX) { "pms partner portal" }
                    @if let Some(u) = user {
                        nav aria-label="Main" {
                            ul {
                                @for (href, label) in &u.nav {
                                    li { a href=(href) { (label) } }
                                }
                            }
                        }
                        form.signout method="post" action={(PREFIX) "/sign-out"} {
                            input type="hidden" name="csrf" value=(u.csrf);
                            span.who { (u.id()) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" { (main) }
            }
        }
    }
}

/// The warning every page carries while dev mode serves a non-loopback address.
pub fn public_dev_mode_banner() -> Markup {
    html! {
        p.error-box.dev-public role="alert" {
            strong { "Warning: development sign-in on a public address." }
            " Anyone who can reach this server can sign in as anyone, with any role. "
            "Never keep real data here."
        }
    }
}

pub fn ok(m: Markup) -> Response {
    Html(m.into_string()).into_response()
}

pub fn with_status(status: StatusCode, m: Markup) -> Response {
    (status, Html(m.into_string())).into_response()
}

pub fn error_page(user: Option<&User>, status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p.error-box role="alert" { (message) }
        p { a href=(PREFIX) { "Back to the portal" } }
    };
    with_status(status, page(title, user, body))
}

/// A success note chosen by a fixed key of the `ok` query parameter (never echoed text).
pub fn flash(key: Option<&str>) -> Markup {
    let text = match key {
        Some("registered") => "Your organisation is registered. A partner admin will activate it.",
        Some("requested") => "Your policy request is submitted. A partner admin will decide on it.",
        Some("created") => "The client is created.",
        Some("updated") => "The client is saved.",
        Some("deactivated") => "The client is deactivated.",
        Some("activated") => "The partner is activated.",
        Some("partner-deactivated") => "The partner is deactivated.",
        Some("approved") => "The request is approved.",
        Some("rejected") => "The request is rejected.",
        Some("redelivered") => "The failed deliveries are queued again.",
        Some("group") => "The policy group is created.",
        Some("group-deactivated") => "The policy group is deactivated.",
        Some("policy") => "The draft policy is saved.",
        Some("published") => "The policy is published.",
        Some("policy-deactivated") => "The policy is deactivated.",
        _ => return html! {},
    };
    html! { p.flash role="status" { (text) } }
}

/// Problems of no particular field, above a form.
pub fn general(p: &Problems) -> Markup {
    html! {
        @if !p.general.is_empty() {
            div.error-box role="alert" {
                @for m in &p.general { p { (m) } }
            }
        }
    }
}

/// The error lines of `name`, with the id inputs point at.
pub fn errors(p: &Problems, name: &str) -> Markup {
    html! {
        @if !p.of(name).is_empty() {
            div.error id={(name) "-error"} {
                @for m in p.of(name) { p { (m) } }
            }
        }
    }
}

fn described(p: &Problems, name: &str) -> Option<String> {
    (!p.of(name).is_empty()).then(|| format!("{name}-error"))
}

/// A labelled one-line input.
pub fn text(label: &str, name: &str, value: &str, p: &Problems, hint: Option<&str>) -> Markup {
    typed(label, name, "text", value, p, hint)
}

pub fn typed(
    label: &str,
    name: &str,
    kind: &str,
    value: &str,
    p: &Problems,
    hint: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            @if let Some(h) = hint { p.hint id={(name) "-hint"} { (h) } }
            // URLs and e-mail addresses are plain text inputs: the server's rules (the API's) decide,
            // not the browser's own idea of a valid URL.
            input id=(name) type=(if kind == "tel" { "tel" } else { "text" }) inputmode=[inputmode(kind)] name=(name) value=(value)
                aria-invalid=[described(p, name).map(|_| "true")]
                aria-describedby=[described(p, name)];
            (errors(p, name))
        }
    }
}

fn inputmode(kind: &str) -> Option<&'static str> {
    match kind {
        "url" => Some("url"),
        "email" => Some("email"),
        _ => None,
    }
}

/// A labelled text area.
pub fn area(
    label: &str,
    name: &str,
    value: &str,
    rows: u32,
    p: &Problems,
    hint: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            @if let Some(h) = hint { p.hint { (h) } }
            textarea id=(name) name=(name) rows=(rows) spellcheck="false"
                aria-invalid=[described(p, name).map(|_| "true")]
                aria-describedby=[described(p, name)] { (value) }
            (errors(p, name))
        }
    }
}

/// A labelled select of `(value, label)` options.
pub fn select(
    label: &str,
    name: &str,
    options: &[(String, String)],
    selected: &str,
    p: &Problems,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name)
                aria-invalid=[described(p, name).map(|_| "true")]
                aria-describedby=[described(p, name)] {
                @for (v, l) in options {
                    option value=(v) selected[v == selected] { (l) }
                }
            }
            (errors(p, name))
        }
    }
}

/// A group of checkboxes (`values` offered, `checked` ticked).
pub fn checks(
    legend: &str,
    name: &str,
    values: &[String],
    checked: &[&str],
    p: &Problems,
) -> Markup {
    html! {
        fieldset aria-describedby=[described(p, name)] {
            legend { (legend) }
            @for v in values {
                div.check {
                    input type="checkbox" id={(name) "-" (v)} name=(name) value=(v) checked[checked.contains(&v.as_str())];
                    label for={(name) "-" (v)} { (v) }
                }
            }
            (errors(p, name))
        }
    }
}

/// The hidden CSRF field of a form.
pub fn csrf(u: &User) -> Markup {
    html! { input type="hidden" name="csrf" value=(u.csrf); }
}

/// A one-button POST form (actions in tables); `what` names the row for screen readers
/// ("Approve" alone is ambiguous in a list).
pub fn action(
    u: &User,
    path: &str,
    label: &str,
    what: &str,
    fields: &[(&str, &str)],
    class: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(path) {
            (csrf(u))
            @for (n, v) in fields { input type="hidden" name=(n) value=(v); }
            button type="submit" class=(class) aria-label={(label) " " (what)} { (label) }
        }
    }
}

/// Previous / next links of a paged list; `query` is the rest of the query string.
pub fn pager(path: &str, query: &str, page_no: u32, page_size: u32, total: u64) -> Markup {
    let last = if total == 0 {
        0
    } else {
        ((total - 1) / u64::from(page_size.max(1))) as u32
    };
    let href = |n: u32| format!("{path}?pageNo={n}{query}");
    html! {
        nav.pager aria-label="Pages" {
            @if page_no > 0 { a href=(href(page_no - 1)) rel="prev" { "Previous" } }
            span { "Page " (page_no + 1) " of " (last + 1) " · " (total) " in all" }
            @if page_no < last { a href=(href(page_no + 1)) rel="next" { "Next" } }
        }
    }
}

/// Keeps what was typed: the value of `name` in `form`, or `default` when the form is empty.
pub fn kept<'a>(form: &'a Form, name: &str, default: &'a str) -> &'a str {
    if form.fields.is_empty() {
        default
    } else {
        form.get(name)
    }
}
