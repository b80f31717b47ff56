//! Every way a business check can fail. Each variant is one check of the spec, named for what it
//! found; `pms-api` maps each to its MOSIP code and text in one place.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    // -- policy groups
    #[error("a policy group named {0:?} exists")]
    GroupNameTaken(String),
    #[error("policy group not found (update)")]
    GroupNotFoundForUpdate,
    #[error("policy group not found")]
    GroupNotFound,
    #[error("policy group not found (deactivate)")]
    GroupNotFoundForDeactivate,
    #[error("policy group id is blank")]
    GroupIdBlank,
    #[error("policy group already deactivated")]
    GroupAlreadyDeactivated,
    #[error("policy group has activated and draft policies")]
    GroupHasActiveAndDraftPolicies,
    #[error("policy group has activated policies")]
    GroupHasActivePolicies,
    #[error("policy group has draft policies")]
    GroupHasDraftPolicies,
    #[error("no policy group named so")]
    GroupNameNotFound,
    #[error("policy group is not active (policy manager)")]
    GroupInactive,
    #[error("there are no active policy groups")]
    NoActiveGroups,

    // -- auth policies
    #[error("policy type not allowed")]
    PolicyTypeNotAllowed,
    #[error("a policy named {0:?} exists in the group")]
    PolicyNameTaken(String),
    #[error("policy id already used")]
    PolicyIdTaken,
    #[error("policy not found")]
    PolicyNotFound,
    #[error("policy and group not mapped")]
    PolicyNotInGroup,
    #[error("published policy cannot be updated")]
    PolicyNotDraftForUpdate,
    #[error("policy already published")]
    PolicyAlreadyPublished,
    #[error("policy id is blank")]
    PolicyIdBlank,
    #[error("policy not found (deactivate)")]
    PolicyNotFoundForDeactivate,
    #[error("policy is a draft")]
    PolicyIsDraft,
    #[error("policy already deactivated")]
    PolicyAlreadyDeactivated,
    #[error("an approved mapping uses the policy")]
    PolicyHasApprovedMapping,
    #[error("a pending mapping uses the policy")]
    PolicyHasPendingMapping,
    #[error("status of a published policy cannot change")]
    PolicyStatusOfPublished,
    #[error("cannot activate an unpublished policy")]
    PolicyActivateUnpublished,

    // -- partners
    #[error("caller is not authorised for this partner")]
    PartnerNotAuthorized,
    #[error("invalid email")]
    InvalidEmail,
    #[error("partner id has whitespace")]
    PartnerIdHasSpaces,
    #[error("partner id longer than 36")]
    PartnerIdTooLong,
    #[error("email already registered")]
    EmailTaken,
    #[error("language not supported")]
    LangNotSupported,
    #[error("partner id already registered")]
    PartnerIdTaken,
    #[error("unknown partner type")]
    UnknownPartnerType,
    #[error("policy group mandatory for {0}")]
    PolicyGroupMandatory(String),
    #[error("partner's policy group does not exist")]
    PartnerGroupNotFound,
    #[error("policy group is not active")]
    PolicyGroupNotActive,
    #[error("partner does not exist")]
    PartnerNotFound,
    #[error("partner id does not exist (status change)")]
    PartnerNotFoundForStatus,
    #[error("partner already deactivated")]
    PartnerAlreadyDeactivated,

    // -- mapping requests
    #[error("partner is not active")]
    PartnerNotActive,
    #[error("partner has no policy group")]
    PartnerHasNoGroup,
    #[error("no activated policy with this name")]
    PolicyNameNotFound,
    #[error("policy not in the partner's group")]
    PolicyNotInPartnerGroup,
    #[error("policy is not active")]
    PolicyNotActive,
    #[error("policy expired")]
    PolicyExpired,
    #[error("mapping already pending")]
    MappingPending,
    #[error("mapping already approved")]
    MappingApproved,
    #[error("mapping request does not exist")]
    MappingNotFound,
    #[error("mapping request already approved")]
    MappingAlreadyApproved,
    #[error("mapping request already rejected")]
    MappingAlreadyRejected,
    #[error("approval: policy missing")]
    ApprovalPolicyMissing,
    #[error("approval: policy not active")]
    ApprovalPolicyNotActive,
    #[error("approval: policy group missing")]
    ApprovalGroupMissing,
    #[error("approval: policy expired")]
    ApprovalPolicyExpired,

    // -- ownership in lists
    #[error("caller owns no partner")]
    OwnsNoPartner,
    #[error("an owned partner has a blank id")]
    OwnedPartnerBlankId,
    #[error("an owned partner has no policy group")]
    OwnedPartnerNoGroup,
    #[error("an owned partner's policy group is missing")]
    OwnedPartnerGroupMissing,

    // -- OIDC clients
    #[error("public key rejected: {0}")]
    ClientKeyRejected(String),
    #[error("a client with this public key exists")]
    ClientKeyTaken,
    #[error("the auth partner does not belong to the caller (create)")]
    ClientPartnerNotOwnedForCreate,
    #[error("auth partner {0} does not exist")]
    AuthPartnerNotFound(String),
    #[error("partner type {0} cannot create clients")]
    NotAuthPartner(String),
    #[error("client policy does not exist")]
    ClientPolicyNotFound,
    #[error("client policy is not an Auth policy")]
    NotAuthPolicy,
    #[error("no mapping request for partner and policy")]
    ClientMappingNotFound,
    #[error("mapping request not approved")]
    ClientMappingNotApproved,
    #[error("the policy yields no claims")]
    NoClaims,
    #[error("the policy has a mandatory auth type")]
    MandatoryAuth,
    #[error("the policy yields no ACR values")]
    NoAcrValues,
    #[error("client does not exist")]
    ClientNotFound,
    #[error("client already deactivated")]
    ClientDeactivated,
    #[error("the client's partner does not belong to the caller (update)")]
    ClientPartnerNotOwnedForUpdate,
    #[error("the client's partner does not belong to the caller (read)")]
    ClientPartnerNotOwnedForRead,

    #[error(transparent)]
    Store(#[from] StoreError),
}
