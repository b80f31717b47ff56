//! MOSIP's wire shape: response envelopes (v1 and V2), error objects, HTTP status policy, and
//! the one mapping from domain errors to MOSIP codes and texts (conventions.md §4–§5,
//! error-codes.md).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pms_domain::clock::format_ts;
use pms_domain::{DomainError, Outage, StoreError, Timestamp};
use serde::Serialize;
use serde_json::{json, Value};

/// One entry of `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    pub code: String,
    pub message: String,
}

impl ErrorEntry {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// A failed request: its HTTP status and error entries. Authentication and role failures are
/// always rendered in the v1 envelope with null `id`/`version`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<ErrorEntry>,
    auth: bool,
    /// For a 500 or 503: the cause, logged once with the correlation id, never sent.
    cause: Option<String>,
    /// For a 503: the `Retry-After` seconds.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn ok_status(errors: Vec<ErrorEntry>) -> Self {
        Self {
            status: StatusCode::OK,
            errors,
            auth: false,
            cause: None,
            retry_after: None,
        }
    }
    pub fn one(code: &str, message: impl Into<String>) -> Self {
        Self::ok_status(vec![ErrorEntry::new(code, message)])
    }
    pub fn with_status(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![ErrorEntry::new(code, message)],
            auth: false,
            cause: None,
            retry_after: None,
        }
    }
    pub fn unauthenticated() -> Self {
        Self {
            auth: true,
            ..Self::with_status(
                StatusCode::UNAUTHORIZED,
                "KER-ATH-401",
                "Authentication Failed",
            )
        }
    }
    pub fn forbidden() -> Self {
        Self {
            auth: true,
            ..Self::with_status(StatusCode::FORBIDDEN, "KER-ATH-403", "Forbidden")
        }
    }
    pub fn malformed_json() -> Self {
        Self::with_status(
            StatusCode::BAD_REQUEST,
            "PMS_COR_001",
            "Invalid request parameter - malformed JSON body :body",
        )
    }
    /// Text with a NUL character: no backend can store it (PostgreSQL refuses it), so it is
    /// refused at the edge, in the body, the path and the query alike.
    pub fn nul_character(place: &str) -> Self {
        Self::with_status(
            StatusCode::BAD_REQUEST,
            "PMS_COR_001",
            format!("Invalid request parameter - must not contain NUL characters :{place}"),
        )
    }
    /// A request (its body included) not completed within `http.request_timeout_seconds`.
    pub fn request_timeout(seconds: u64) -> Self {
        Self::with_status(
            StatusCode::REQUEST_TIMEOUT,
            "PMS_EXT_008",
            format!("Request not completed within {seconds} seconds"),
        )
    }
    /// A percent-encoded path parameter whose bytes are not UTF-8 (path parameters
    /// are decoded before use; such a value can name nothing).
    pub fn invalid_utf8(place: &str) -> Self {
        Self::with_status(
            StatusCode::BAD_REQUEST,
            "PMS_COR_001",
            format!("Invalid request parameter - must be valid UTF-8 :{place}"),
        )
    }
    /// A query string that cannot be read as `name=value` pairs.
    pub fn invalid_query() -> Self {
        Self::with_status(
            StatusCode::BAD_REQUEST,
            "PMS_COR_001",
            "Invalid request parameter - malformed query string :query",
        )
    }
    pub fn internal(cause: impl Into<String>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "PMS_PRT_500",
                "Unable to process the request.",
            )
        }
    }
    /// The store cannot serve now (a departure: MOSIP answers any store fault 500
    /// `PMS_PRT_500`): 503 `PMS_PRT_503` naming the outage, with `Retry-After`. Contention
    /// clears within a second; a restart or failover takes a few; a full disk or a read-only
    /// database waits for an operator.
    pub fn unavailable(reason: Outage, cause: impl Into<String>) -> Self {
        let retry_after = match reason {
            Outage::Busy => 1,
            Outage::Unreachable => 5,
            Outage::DiskFull | Outage::ReadOnly => 30,
        };
        Self {
            cause: Some(cause.into()),
            retry_after: Some(retry_after),
            ..Self::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "PMS_PRT_503",
                format!(
                    "Service temporarily unavailable: {}. Please retry later.",
                    reason.describe()
                ),
            )
        }
    }
    pub fn not_found() -> Self {
        Self {
            auth: true,
            ..Self::with_status(StatusCode::NOT_FOUND, "PMS_EXT_003", "No such endpoint")
        }
    }
    pub fn method_not_allowed() -> Self {
        Self {
            auth: true,
            ..Self::with_status(
                StatusCode::METHOD_NOT_ALLOWED,
                "PMS_EXT_004",
                "Method not allowed",
            )
        }
    }
}

/// An outage of the store is a 503; any other store failure is a fault of pms (500).
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable { reason, .. } => ApiError::unavailable(reason, e.to_string()),
            e => ApiError::internal(e.to_string()),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use DomainError as D;
        let (code, msg): (&str, String) = match e {
            D::GroupNameTaken(n) => (
                "PMS_POL_014",
                format!("Policy group exists with name : {n}"),
            ),
            D::GroupNotFoundForUpdate => ("PMS_POL_008", "Policy ID does not exist".into()),
            D::GroupNotFound => ("PMS_POL_016", "Policy Group ID does not exist".into()),
            D::GroupNotFoundForDeactivate => (
                "PMS_POL_068",
                "The specified policy group does not exist".into(),
            ),
            D::GroupIdBlank => (
                "PMS_COR_002",
                "Invalid Input Parameter - policyGroupId".into(),
            ),
            D::GroupAlreadyDeactivated => (
                "PMS_POL_067",
                "The policy group has already been deactivated".into(),
            ),
            D::GroupHasActiveAndDraftPolicies => (
                "PMS_POL_069",
                "Active or draft policies are associated with the policy group".into(),
            ),
            D::GroupHasActivePolicies => (
                "PMS_POL_056",
                "Active policies exists under the policy group.".into(),
            ),
            D::GroupHasDraftPolicies => (
                "PMS_POL_070",
                "Draft policies exists under the policy group.".into(),
            ),
            D::GroupNameNotFound => ("PMS_POL_019", "Policy group name does not exist".into()),
            D::GroupInactive => ("PMS_POL_053", "Policy group is not active.".into()),
            D::NoActiveGroups => ("PMS_POL_059", "There are no active policy groups.".into()),
            D::PolicyTypeNotAllowed => ("PMS_POL_023", "Given policy type is not allowed ".into()),
            D::PolicyNameTaken(n) => ("PMS_POL_009", format!("Auth policy exists with name : {n}")),
            D::PolicyIdTaken => ("PMS_EXT_005", "Policy id already exists.".into()),
            D::PolicyNotFound => ("PMS_POL_008", "Policy ID does not exist".into()),
            D::PolicyNotInGroup => ("PMS_POL_015", "Policy group and policy not mapped.".into()),
            D::PolicyNotDraftForUpdate => {
                ("PMS_POL_055", "Published policy cannot be updated.".into())
            }
            D::PolicyAlreadyPublished => {
                ("PMS_POL_020", "Can not publish the published policy".into())
            }
            D::PolicyIdBlank => ("PMS_COR_002", "Invalid Input Parameter - policyId".into()),
            D::PolicyNotFoundForDeactivate => {
                ("PMS_POL_065", "The specified policy does not exist.".into())
            }
            D::PolicyIsDraft => (
                "PMS_POL_072",
                "The selected policy is not in activated status".into(),
            ),
            D::PolicyAlreadyDeactivated => (
                "PMS_POL_062",
                "The policy has already been deactivated.".into(),
            ),
            D::PolicyHasApprovedMapping => (
                "PMS_POL_063",
                "An approved partner policy request is associated with this policy.".into(),
            ),
            D::PolicyHasPendingMapping => (
                "PMS_POL_064",
                "A pending partner policy request is associated with this policy.".into(),
            ),
            D::PolicyStatusOfPublished => (
                "PMS_POL_058",
                "Status cannot be changed for published policy.".into(),
            ),
            D::PolicyActivateUnpublished => {
                ("PMS_POL_054", "Cannot activate unpublished policy.".into())
            }
            D::PartnerNotAuthorized => ("PMS_PRT_055", "User not authorized.".into()),
            D::InvalidEmail => ("PMS_PRT_012", "Invalid emailId.".into()),
            D::PartnerIdHasSpaces => ("PMS_PRT_066", "PartnerId should not have any spaces".into()),
            D::PartnerIdTooLong => ("PMS_PRT_052", "PartnerId max length should be 36".into()),
            D::EmailTaken => ("PMS_PRT_011", "Email is already exists.".into()),
            D::LangNotSupported => ("PMS_PRT_056", "Given langCode is not supported".into()),
            D::PartnerIdTaken => (
                "PMS_PRT_051",
                "A Partner is already registered with the same Id".into(),
            ),
            D::UnknownPartnerType => ("PMS_PRT_010", "Partner Type does not exist".into()),
            D::PolicyGroupMandatory(t) => {
                ("PMS_PRT_108", format!("Policy group is Mandatory for {t}"))
            }
            D::PartnerGroupNotFound => ("PMS_PRT_002", "Policy group does not exist".into()),
            D::PolicyGroupNotActive => ("PMS_PMP_023", "Policy group is not active.".into()),
            D::PartnerNotFound => ("PMS_PRT_005", "Partner does not exist".into()),
            D::PartnerNotFoundForStatus => ("PMS_PMP_005", "Partner ID does not exist".into()),
            D::PartnerAlreadyDeactivated => (
                "PMS_PM_063",
                "The selected partner has already been deactivated.".into(),
            ),
            D::PartnerNotActive => ("PMS_PMP_016", "Partner is not active.".into()),
            D::PartnerHasNoGroup => (
                "PMS_PRT_047",
                "Partner is not mapped to policy group".into(),
            ),
            D::PolicyNameNotFound => ("PMS_PRT_073", "Policy not exists.".into()),
            D::PolicyNotInPartnerGroup => (
                "PMS_PRT_098",
                "Given policy doesn't exists under partner's policy group.".into(),
            ),
            D::PolicyNotActive => ("PMS_PMP_019", "Policy is not active.".into()),
            D::PolicyExpired => ("PMS_PMP_018", "Policy expired.".into()),
            D::MappingPending => (
                "PMS_PRT_053",
                "This policy is already pending for approval against your partner ID.".into(),
            ),
            D::MappingApproved => (
                "PMS_PRT_060",
                "This policy has already been approved against your partner ID.".into(),
            ),
            D::MappingNotFound => ("PMS_PMP_007", "Partner api key does not exist".into()),
            D::MappingAlreadyApproved => ("PMS_PM_034", "Policy request already approved.".into()),
            D::MappingAlreadyRejected => ("PMS_PM_035", "Policy request already rejected.".into()),
            D::ApprovalPolicyMissing => {
                ("PMS_PMP_017", "Partner is not mapped to any policy.".into())
            }
            D::ApprovalPolicyNotActive => ("PMS_PMP_019", "Partner policy is not active.".into()),
            D::ApprovalGroupMissing => ("PMS_PMP_022", "Policy group not exists.".into()),
            D::ApprovalPolicyExpired => ("PMS_PMP_018", "Partner policy got expired.".into()),
            D::OwnsNoPartner => (
                "PMS_CERTIFICATE_ERROR_002",
                "User Id does not exists.".into(),
            ),
            D::OwnedPartnerBlankId => (
                "PMS_CERTIFICATE_ERROR_003",
                "Partner Id is null or empty.".into(),
            ),
            D::OwnedPartnerNoGroup => ("PMS_POLICY_ERROR_005", "Policy Group Id is empty.".into()),
            D::OwnedPartnerGroupMissing => (
                "PMS_POLICY_ERROR_001",
                "Policy Group does not exists.".into(),
            ),
            D::ClientKeyRejected(reason) => (
                "PMS_ESI_007",
                format!("Failed to process the Public Key: {reason}"),
            ),
            D::ClientKeyTaken => ("PMS_ESI_001", "Client public key already exists.".into()),
            D::ClientPartnerNotOwnedForCreate => (
                "PMS_POLICY_ERROR_009",
                "The given partner ID does not belong to the user.So unable to create OIDC client"
                    .into(),
            ),
            D::AuthPartnerNotFound(id) => (
                "PMS_PRT_058",
                format!("AuthPartner doesn't exists with this Id - {id}."),
            ),
            D::NotAuthPartner(t) => (
                "PMS_PRT_059",
                format!("Only Auth_partner can Create OIDC Client. {t} is not allowed to create OIDC Client."),
            ),
            D::ClientPolicyNotFound => ("PMS_PRT_073", "Policy not exists.".into()),
            D::NotAuthPolicy => (
                "PMS_PRT_057",
                "Policy Type Mismatch. Only Auth policy can be used to create OIDC Client.".into(),
            ),
            D::ClientMappingNotFound => ("PMS_PRT_061", "Partner policy mapping not exists.".into()),
            D::ClientMappingNotApproved => (
                "PMS_ESI_002",
                "Partner policy mapping is not approved. Please check mapping status.".into(),
            ),
            D::NoClaims => ("PMS_ESI_005", "Partner has no user claims".into()),
            D::MandatoryAuth => (
                "PMS_ESI_003",
                "Policy having mandatory auths. So client can't be created for the same.".into(),
            ),
            D::NoAcrValues => (
                "PMS_ESI_006",
                "Partner has no Authentication Context Refrences".into(),
            ),
            D::ClientNotFound => ("PMS_ESI_004", "Client not exists with given id.".into()),
            D::ClientDeactivated => ("PMS_ESI_008", "Client already deactivated.".into()),
            D::ClientPartnerNotOwnedForUpdate => (
                "PMS_POLICY_ERROR_010",
                "The given partner ID does not belong to the user.So unable to update OIDC client details"
                    .into(),
            ),
            D::ClientPartnerNotOwnedForRead => (
                "PMS_POLICY_ERROR_011",
                "The given partner ID does not belong to the user.So unable to get OIDC client details"
                    .into(),
            ),
            D::Store(s) => return s.into(),
        };
        ApiError::one(code, msg)
    }
}

/// Which envelope an endpoint answers in.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    V1,
    /// The V2 envelope with the endpoint's fixed id.
    V2(&'static str),
}

/// What a response echoes of its request, plus the request's correlation id.
#[derive(Debug, Clone)]
pub struct Echo {
    pub kind: Kind,
    pub id: Value,
    pub version: Value,
    pub correlation_id: String,
}

impl Echo {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            id: Value::Null,
            version: Value::Null,
            correlation_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The envelope around `response`, serialised straight to bytes (no intermediate
    /// `Value` tree: building one was a fifth of a client read's CPU).
    fn envelope<T: Serialize, E: Serialize>(
        &self,
        now: Timestamp,
        response: &T,
        errors: &E,
        auth: bool,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let time = format_ts(&now);
        match (self.kind, auth) {
            (Kind::V2(id), false) => body_bytes(&EnvelopeV2 {
                id: &Value::String(id.to_string()),
                version: &Value::String("1.0".into()),
                response_time: &time,
                metadata: (),
                response,
                errors,
            }),
            (_, true) => body_bytes(&EnvelopeV1 {
                id: &Value::Null,
                version: &Value::Null,
                responsetime: &time,
                metadata: (),
                response,
                errors,
            }),
            (Kind::V1, false) => body_bytes(&EnvelopeV1 {
                id: &self.id,
                version: &self.version,
                responsetime: &time,
                metadata: (),
                response,
                errors,
            }),
        }
    }

    /// Renders the outcome of a handler.
    pub fn respond<T: Serialize>(&self, now: Timestamp, result: Result<T, ApiError>) -> Response {
        match result {
            Ok(v) => match self.envelope(now, &v, &[(); 0], false) {
                Ok(body) => json_bytes(StatusCode::OK, body),
                Err(e) => self.error_response(
                    now,
                    ApiError::internal(format!("response not serialisable: {e}")),
                ),
            },
            Err(e) => self.error_response(now, e),
        }
    }

    pub fn error_response(&self, now: Timestamp, e: ApiError) -> Response {
        if let Some(cause) = &e.cause {
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(correlation_id = %self.correlation_id, %cause, "store unavailable");
            } else {
                tracing::error!(correlation_id = %self.correlation_id, %cause, "request failed");
            }
        }
        let errors: Vec<Value> = e
            .errors
            .iter()
            .map(|x| json!({ "errorCode": x.code, "message": x.message }))
            .collect();
        // Values and text only: serialising cannot fail.
        let body = self
            .envelope(now, &Value::Null, &errors, e.auth)
            .unwrap_or_default();
        let mut resp = json_bytes(e.status, body);
        if e.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = e.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// The V1 envelope (and the one of authentication failures).
#[derive(Serialize)]
struct EnvelopeV1<'a, T, E> {
    id: &'a Value,
    version: &'a Value,
    responsetime: &'a str,
    metadata: (),
    response: &'a T,
    errors: &'a E,
}

/// The V2 envelope: `responseTime`, fixed id and version.
#[derive(Serialize)]
struct EnvelopeV2<'a, T, E> {
    id: &'a Value,
    version: &'a Value,
    #[serde(rename = "responseTime")]
    response_time: &'a str,
    metadata: (),
    response: &'a T,
    errors: &'a E,
}

/// A response body as JSON bytes. serde_json's `to_vec` starts at 128 bytes and doubles, so a
/// client (about 1.5 KB) was copied through four reallocations; most bodies fit this first
/// buffer.
fn body_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut buf = Vec::with_capacity(2048);
    serde_json::to_writer(&mut buf, value)?;
    Ok(buf)
}

fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes(status, serde_json::to_vec(body).unwrap_or_default())
}

/// A timestamp in the wire format.
pub fn ts(t: &Timestamp) -> Value {
    Value::String(format_ts(t))
}

pub fn ts_opt(t: &Option<Timestamp>) -> Value {
    t.as_ref().map_or(Value::Null, ts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use pms_domain::store::Constraint;

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2026-01-01T09:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn store_outages_are_503_with_retry_after_and_faults_stay_500() {
        for (reason, words, retry) in [
            (Outage::Unreachable, "database unavailable", "5"),
            (Outage::DiskFull, "disk full", "30"),
            (Outage::ReadOnly, "database is read-only", "30"),
            (Outage::Busy, "database busy", "1"),
        ] {
            let e: ApiError = DomainError::Store(StoreError::unavailable(reason, "x")).into();
            assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(e.errors[0].code, "PMS_PRT_503");
            assert!(e.errors[0].message.contains(words), "{:?}", e.errors);
            for kind in [Kind::V1, Kind::V2("mosip.x")] {
                let resp = Echo::new(kind).error_response(now(), e.clone_for_test());
                assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(resp.headers()[header::RETRY_AFTER], retry);
            }
        }
        for e in [
            StoreError::failed("syntax error"),
            StoreError::Corrupt("bad".into()),
        ] {
            let e: ApiError = e.into();
            assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(e.errors[0].code, "PMS_PRT_500");
            assert_eq!(e.retry_after, None);
        }
        let e: ApiError = StoreError::Conflict(Constraint::PartnerId).into();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    impl ApiError {
        fn clone_for_test(&self) -> ApiError {
            ApiError {
                status: self.status,
                errors: self.errors.clone(),
                auth: self.auth,
                cause: self.cause.clone(),
                retry_after: self.retry_after,
            }
        }
    }
}
