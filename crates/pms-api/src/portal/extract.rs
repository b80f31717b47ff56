//! The portal's path and query extractors: axum's `Path` and `Query` read the same way, but an
//! address they cannot read (`/portal/clients?pageNo=-1`, `/portal/clients/%FF`) is a portal
//! error page, HTML in the portal's layout with a 400, instead of axum's plain-text rejection.
//! Handlers import these under axum's names, so `Path(id): Path<String>` reads as before.

use super::{layout, MaybeUser, Portal};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;

/// Path parameters, deserialised like [`axum::extract::Path`].
pub(crate) struct Path<T>(pub T);

/// Query parameters, deserialised like [`axum::extract::Query`].
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<Portal> for Path<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, p: &Portal) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, p).await {
            Ok(axum::extract::Path(t)) => Ok(Path(t)),
            Err(e) => Err(unreadable(
                parts,
                p,
                &e.body_text(),
                "This address names something that cannot exist (a part of it is not valid text). \
                 Nothing was changed.",
            )
            .await),
        }
    }
}

impl<T: DeserializeOwned + Send> FromRequestParts<Portal> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, p: &Portal) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, p).await {
            Ok(axum::extract::Query(t)) => Ok(Query(t)),
            Err(e) => Err(unreadable(
                parts,
                p,
                &e.body_text(),
                "A parameter of this address cannot be read (a page number is a whole number \
                 from 0). Nothing was changed.",
            )
            .await),
        }
    }
}

/// The 400 page, with the navigation of the signed-in person when there is one. axum's own
/// text (`reason`) is logged, not shown: it names Rust types and parser internals.
async fn unreadable(parts: &mut Parts, p: &Portal, reason: &str, message: &str) -> Response {
    tracing::debug!(path = %parts.uri.path(), %reason, "portal: unreadable address");
    let user = match MaybeUser::from_request_parts(parts, p).await {
        Ok(MaybeUser(user, _)) => user,
        Err(_) => None,
    };
    layout::error_page(
        user.as_ref(),
        StatusCode::BAD_REQUEST,
        "Unreadable address",
        message,
    )
}
