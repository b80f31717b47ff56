//! Role keys and their defaults (conventions.md §8.3); `roles.<key>` in the configuration.

pub const POST_PARTNERS: &str = "postpartners";
pub const GET_PARTNER: &str = "getpartnerspartnerid";
pub const PATCH_PARTNER: &str = "patchpartners";
pub const POST_POLICY_MAP: &str = "postpartnerspolicymap";
pub const PUT_POLICY_MAPPING: &str = "putpartnerspolicymapping";
pub const GET_MAPPING_REQUESTS: &str = "getallpartnerpolicymappingrequests";
pub const POST_OIDC_CLIENT: &str = "postoidcclient";
pub const PUT_OIDC_CLIENT: &str = "putoidcclient";
pub const GET_OIDC_CLIENT: &str = "getoidcclient";
pub const GET_OAUTH_CLIENTS: &str = "getoauthpartnersclients";
pub const POST_REDELIVER: &str = "postoidcclientredeliver";
pub const POST_GROUP: &str = "postpoliciesgroupnew";
pub const PUT_GROUP: &str = "putpoliciesgrouppolicygroupid";
pub const PATCH_GROUP: &str = "patchdeactivatepolicygroup";
pub const GET_GROUP: &str = "getpoliciesgrouppolicygroupid";
pub const GET_GROUPS_ALL: &str = "getpoliciesgroupall";
pub const GET_ACTIVE_GROUPS: &str = "getpolicygroups";
pub const POST_POLICY: &str = "postpolicies";
pub const PUT_POLICY: &str = "putpoliciespolicyid";
pub const PUBLISH_POLICY: &str = "postpoliciespolicyidgrouppublish";
pub const PATCH_POLICY_LEGACY: &str = "patchpoliciespolicyidgrouppolicygroupid";
pub const PATCH_POLICY: &str = "patchdeactivatepolicy";
pub const GET_POLICY: &str = "getpoliciespolicyid";
pub const GET_POLICIES: &str = "getpolicies";
pub const GET_POLICIES_V2: &str = "getallpolicies";
pub const GET_ACTIVE_POLICIES_OF_GROUP: &str = "getactivegroupgroupname";

const ADMIN_PM: &[&str] = &["PARTNER_ADMIN", "POLICYMANAGER"];

/// Every role key with its default roles.
pub const DEFAULTS: &[(&str, &[&str])] = &[
    (
        POST_PARTNERS,
        &[
            "PARTNER",
            "AUTH_PARTNER",
            "ABIS_PARTNER",
            "CREDENTIAL_PARTNER",
            "DEVICE_PROVIDER",
            "FTM_PROVIDER",
            "MISP_PARTNER",
            "ONLINE_VERIFICATION_PARTNER",
            "SDK_PARTNER",
            "MANUAL_ADJUDICATION",
            "PARTNER_ADMIN",
        ],
    ),
    (
        GET_PARTNER,
        &[
            "PARTNER",
            "AUTH_PARTNER",
            "CREDENTIAL_PARTNER",
            "RESIDENT",
            "PARTNER_ADMIN",
            "ONLINE_VERIFICATION_PARTNER",
            "DEVICE_PROVIDER",
            "FTM_PROVIDER",
            "ABIS_PARTNER",
            "SDK_PARTNER",
            "MANUAL_ADJUDICATION",
            "MISP_PARTNER",
        ],
    ),
    (PATCH_PARTNER, &["PARTNERMANAGER", "PARTNER_ADMIN"]),
    (
        POST_POLICY_MAP,
        &[
            "AUTH_PARTNER",
            "ABIS_PARTNER",
            "CREDENTIAL_PARTNER",
            "CREDENTIAL_ISSUANCE",
            "ONLINE_VERIFICATION_PARTNER",
            "PARTNER_ADMIN",
        ],
    ),
    (PUT_POLICY_MAPPING, &["PARTNERMANAGER", "PARTNER_ADMIN"]),
    (
        GET_MAPPING_REQUESTS,
        &[
            "PARTNER_ADMIN",
            "AUTH_PARTNER",
            "ABIS_PARTNER",
            "SDK_PARTNER",
            "CREDENTIAL_PARTNER",
            "ONLINE_VERIFICATION_PARTNER",
        ],
    ),
    (POST_OIDC_CLIENT, &["AUTH_PARTNER", "PARTNER_ADMIN"]),
    (PUT_OIDC_CLIENT, &["AUTH_PARTNER", "PARTNER_ADMIN"]),
    (GET_OIDC_CLIENT, &["AUTH_PARTNER", "PARTNER_ADMIN"]),
    (GET_OAUTH_CLIENTS, &["PARTNER_ADMIN", "AUTH_PARTNER"]),
    (POST_REDELIVER, &["PARTNER_ADMIN"]),
    (POST_GROUP, ADMIN_PM),
    (PUT_GROUP, ADMIN_PM),
    (PATCH_GROUP, ADMIN_PM),
    (GET_GROUP, ADMIN_PM),
    (GET_GROUPS_ALL, ADMIN_PM),
    (
        GET_ACTIVE_GROUPS,
        &[
            "AUTH_PARTNER",
            "CREDENTIAL_PARTNER",
            "ONLINE_VERIFICATION_PARTNER",
            "ABIS_PARTNER",
            "MANUAL_ADJUDICATION",
            "PARTNER_ADMIN",
            "POLICYMANAGER",
        ],
    ),
    (POST_POLICY, ADMIN_PM),
    (PUT_POLICY, ADMIN_PM),
    (PUBLISH_POLICY, ADMIN_PM),
    (PATCH_POLICY_LEGACY, ADMIN_PM),
    (PATCH_POLICY, ADMIN_PM),
    (GET_POLICY, ADMIN_PM),
    (GET_POLICIES, ADMIN_PM),
    (GET_POLICIES_V2, ADMIN_PM),
    (
        GET_ACTIVE_POLICIES_OF_GROUP,
        &[
            "AUTH_PARTNER",
            "CREDENTIAL_PARTNER",
            "PARTNER_ADMIN",
            "ONLINE_VERIFICATION_PARTNER",
            "ABIS_PARTNER",
            "MANUAL_ADJUDICATION",
            "POLICYMANAGER",
        ],
    ),
];

/// The defaults as owned lists.
pub fn defaults() -> std::collections::HashMap<String, Vec<String>> {
    DEFAULTS
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_string(),
                v.iter().map(|s| (*s).to_string()).collect(),
            )
        })
        .collect()
}
