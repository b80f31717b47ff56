//! `GET /metrics` in the Prometheus text format: HTTP requests by route and status, request
//! latency, the outbox depth by target and state (read from the store at scrape time), and
//! whatever else the service registers (the delivery worker's attempts and failures).

use crate::AppState;
use axum::extract::State;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use pms_domain::outbox::{Channel, OutboxState};
use pms_domain::Store;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::RwLock;

/// The `method` label: the standard methods, every other method name `OTHER`. A label value
/// taken from the request line would let anyone create a series per invented method.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(clippy::upper_case_acronyms)]
enum MethodLabel {
    GET,
    HEAD,
    POST,
    PUT,
    PATCH,
    DELETE,
    OPTIONS,
    CONNECT,
    TRACE,
    OTHER,
}

impl MethodLabel {
    fn of(method: &Method) -> Self {
        match *method {
            Method::GET => Self::GET,
            Method::HEAD => Self::HEAD,
            Method::POST => Self::POST,
            Method::PUT => Self::PUT,
            Method::PATCH => Self::PATCH,
            Method::DELETE => Self::DELETE,
            Method::OPTIONS => Self::OPTIONS,
            Method::CONNECT => Self::CONNECT,
            Method::TRACE => Self::TRACE,
            _ => Self::OTHER,
        }
    }
}

/// The `route` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: MethodLabel,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: MethodLabel,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    target: String,
    state: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The service's metrics registry and the families this crate records into.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    outbox_depth: Family<OutboxLabels, Gauge>,
    /// The families' series already seen, by route, then method and status. A metric handle
    /// shares its series' state, so a request that finds its handles here records into the
    /// families without building their owned label sets to look them up. Both levels are hash
    /// maps: the lookup does not grow with the number of series.
    seen: RwLock<HashMap<Box<str>, RouteSeries>>,
}

/// One route's series by method and status.
type RouteSeries = HashMap<(MethodLabel, u16), Handles>;

#[derive(Clone)]
struct Handles {
    requests: Counter,
    latency: Histogram,
}

impl Metrics {
    /// A registry with the HTTP and outbox families; `more` registers other components' metrics.
    pub fn new(more: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "pms_http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "pms_http_request_duration_seconds",
            "HTTP request latency by method and route",
            latency.clone(),
        );
        let outbox_depth = Family::<OutboxLabels, Gauge>::default();
        registry.register(
            "pms_outbox_rows",
            "Outbox rows by delivery target and state",
            outbox_depth.clone(),
        );
        more(&mut registry);
        Self {
            registry,
            requests,
            latency,
            outbox_depth,
            seen: RwLock::new(HashMap::new()),
        }
    }

    /// Counts and times one request under its route template (never the raw path, so client
    /// ids do not explode the label set); `route` is a matched route or [`UNMATCHED`].
    pub(crate) fn observe(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let method = MethodLabel::of(method);
        let found = self
            .seen
            .read()
            .ok()
            .and_then(|seen| seen.get(route)?.get(&(method, status)).cloned());
        let handles = match found {
            Some(handles) => handles,
            None => self.first_of(method, route, status),
        };
        handles.requests.inc();
        handles.latency.observe(seconds);
    }

    /// The handles of a series not seen before, created in the families and remembered.
    fn first_of(&self, method: MethodLabel, route: &str, status: u16) -> Handles {
        let handles = Handles {
            requests: self
                .requests
                .get_or_create(&RequestLabels {
                    method,
                    route: route.to_string(),
                    status,
                })
                .clone(),
            latency: self
                .latency
                .get_or_create(&RouteLabels {
                    method,
                    route: route.to_string(),
                })
                .clone(),
        };
        if let Ok(mut seen) = self.seen.write() {
            seen.entry(route.into())
                .or_default()
                .entry((method, status))
                .or_insert_with(|| handles.clone());
        }
        handles
    }

    /// The text exposition, with the outbox depth read from `store` now.
    pub async fn render(&self, store: &dyn Store) -> String {
        match outbox_depth(store).await {
            Ok(depth) => {
                for channel in Channel::ALL {
                    for state in OutboxState::ALL {
                        let n = depth
                            .iter()
                            .find(|(c, s, _)| *c == channel && *s == state)
                            .map_or(0, |(_, _, n)| *n);
                        self.outbox_depth
                            .get_or_create(&OutboxLabels {
                                target: channel.as_str().to_string(),
                                state: state.as_str().to_string(),
                            })
                            .set(i64::try_from(n).unwrap_or(i64::MAX));
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: outbox depth unavailable"),
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "metrics: encoding failed");
        }
        out
    }
}

async fn outbox_depth(
    store: &dyn Store,
) -> Result<Vec<(Channel, OutboxState, u64)>, pms_domain::StoreError> {
    let mut tx = store.read().await?;
    tx.outbox_depth().await
}

/// `GET /metrics`.
pub async fn scrape(State(st): State<AppState>) -> Response {
    let body = st.metrics.render(st.store.as_ref()).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
