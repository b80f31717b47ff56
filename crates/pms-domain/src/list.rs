//! Paging, sorting and filtering of the list endpoints, as typed requests the stores execute.

use crate::clock::Timestamp;
use crate::model::{ClientStatus, MappingStatus, PolicyState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub dir: SortDir,
}

/// `pageNo` counts from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReq {
    pub page_no: u32,
    pub page_size: u32,
}

impl PageReq {
    pub fn offset(&self) -> u64 {
        u64::from(self.page_no) * u64::from(self.page_size)
    }
}

/// A list request. Without `sort` the order is creation time descending, then id ascending; with
/// it, the sort field then id ascending. Without `page` everything is returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery<F, Filter> {
    pub sort: Option<Sort<F>>,
    pub page: Option<PageReq>,
    pub filter: Filter,
}

/// One page plus the number of matches over all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Sort fields of `GET /policies/v2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySortField {
    PolicyId,
    PolicyName,
    PolicyDescription,
    PolicyGroupId,
    PolicyGroupName,
    Status,
    CreatedDateTime,
}

impl PolicySortField {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "policyId" => Self::PolicyId,
            "policyName" => Self::PolicyName,
            "policyDescription" => Self::PolicyDescription,
            "policyGroupId" => Self::PolicyGroupId,
            "policyGroupName" => Self::PolicyGroupName,
            "status" => Self::Status,
            "createdDateTime" => Self::CreatedDateTime,
            _ => return None,
        })
    }
}

/// Filters of `GET /policies/v2`. Text filters are "contains, ignoring case", already lower-cased.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyFilter {
    pub policy_type: Option<String>,
    pub policy_id: Option<String>,
    pub policy_name: Option<String>,
    pub policy_description: Option<String>,
    pub policy_group_name: Option<String>,
    pub status: Option<PolicyState>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicySummary {
    pub policy_id: String,
    pub policy_name: String,
    pub policy_description: String,
    pub policy_group_id: String,
    pub policy_group_name: String,
    pub state: PolicyState,
    pub created: Timestamp,
}

/// Sort fields of `GET /partner-policy-requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingSortField {
    PartnerId,
    PartnerType,
    OrgName,
    PolicyId,
    PolicyGroupName,
    PolicyName,
    Status,
    RequestDetail,
    CreatedDateTime,
}

impl MappingSortField {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "partnerId" => Self::PartnerId,
            "partnerType" => Self::PartnerType,
            "orgName" => Self::OrgName,
            "policyId" => Self::PolicyId,
            "policyGroupName" => Self::PolicyGroupName,
            "policyName" => Self::PolicyName,
            "status" => Self::Status,
            "requestDetail" => Self::RequestDetail,
            "createdDateTime" => Self::CreatedDateTime,
            _ => return None,
        })
    }
}

/// Filters of `GET /partner-policy-requests`; text filters lower-cased.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappingFilter {
    /// `Some`: only requests of these partners (a non-admin caller's own).
    pub owned_by: Option<Vec<String>>,
    pub partner_id: Option<String>,
    pub partner_comment: Option<String>,
    pub org_name: Option<String>,
    pub policy_id: Option<String>,
    pub policy_name: Option<String>,
    pub policy_group_name: Option<String>,
    pub partner_type: Option<String>,
    pub status: Option<MappingStatus>,
}

/// One row of the mapping list, joined with its partner, policy and group.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingSummary {
    pub id: String,
    pub partner_id: String,
    pub partner_status: &'static str,
    pub org_name: String,
    pub partner_type: String,
    pub policy_group_id: Option<String>,
    pub policy_group_name: Option<String>,
    pub policy_group_description: Option<String>,
    pub policy_id: String,
    pub policy_name: String,
    pub policy_description: String,
    pub partner_comment: String,
    pub status: MappingStatus,
    pub created: Timestamp,
    pub updated: Option<Timestamp>,
}

/// Sort fields of `GET /oauth/client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSortField {
    PartnerId,
    OrgName,
    PolicyGroupName,
    PolicyName,
    ClientId,
    ClientName,
    Status,
    CreatedDateTime,
}

impl ClientSortField {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "partnerId" => Self::PartnerId,
            "orgName" => Self::OrgName,
            "policyGroupName" => Self::PolicyGroupName,
            "policyName" => Self::PolicyName,
            "clientId" => Self::ClientId,
            "clientName" => Self::ClientName,
            "status" => Self::Status,
            "createdDateTime" => Self::CreatedDateTime,
            _ => return None,
        })
    }
}

/// Filters of `GET /oauth/client`; text filters lower-cased.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientFilter {
    /// `Some`: only clients of these partners (a non-admin caller's own).
    pub owned_by: Option<Vec<String>>,
    pub partner_id: Option<String>,
    pub org_name: Option<String>,
    pub policy_group_name: Option<String>,
    pub policy_name: Option<String>,
    pub client_name: Option<String>,
    /// Exact. A value that is no status matches nothing, so it is kept as text.
    pub status: Option<String>,
}

/// One row of the client list, joined with its partner, the partner's group and the policy;
/// the joined parts are `None` when the row they come from is gone (migrated data).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSummary {
    pub partner_id: String,
    pub org_name: Option<String>,
    pub policy_group_id: Option<String>,
    pub policy_group_name: Option<String>,
    pub policy_group_description: Option<String>,
    pub policy_name: Option<String>,
    pub policy_description: Option<String>,
    pub client_id: String,
    pub client_name: String,
    pub status: ClientStatus,
    pub created: Timestamp,
    pub updated: Option<Timestamp>,
}
