//! Why this exists: admins know their org by a region name (`eu-west-1`) or
//! the domain in their browser (`mypurecloud.ie`); both map to the API and
//! login hosts listed by the official SDKs (docs/genesys-api.md#regions-and-hosts).

/// (region name, domain) for every Genesys Cloud region.
pub const REGIONS: [(&str, &str); 17] = [
    ("us-east-1", "mypurecloud.com"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("eu-west-1", "mypurecloud.ie"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("eu-central-1", "mypurecloud.de"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("me-central-1", "mec1.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
];

pub const DEFAULT_DOMAIN: &str = "mypurecloud.com";

/// API and login base URLs (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    pub api: String,
    pub login: String,
}

/// Resolves a region name (`eu-west-1`, `eu_west_1`) or domain
/// (`mypurecloud.ie`, also `api.mypurecloud.ie` or `https://api.mypurecloud.ie`).
pub fn resolve(region: &str) -> Result<Hosts, String> {
    let cleaned = region.trim().to_ascii_lowercase();
    let cleaned = cleaned.trim_start_matches("https://").trim_end_matches('/');
    let cleaned = cleaned
        .strip_prefix("api.")
        .or_else(|| cleaned.strip_prefix("login."))
        .unwrap_or(cleaned);
    let by_name = cleaned.replace('_', "-");
    REGIONS
        .iter()
        .find(|(name, domain)| *name == by_name || *domain == cleaned)
        .map(|(_, domain)| hosts_for_domain(domain))
        .ok_or_else(|| {
            format!(
                "unknown region `{region}`; use a region name such as eu-west-1 or a domain such as mypurecloud.ie (see `genimport --help`)"
            )
        })
}

pub fn hosts_for_domain(domain: &str) -> Hosts {
    Hosts {
        api: format!("https://api.{domain}"),
        login: format!("https://login.{domain}"),
    }
}

/// The login URL the SDKs derive from an API URL: `//api.` becomes `//login.`.
/// A URL without `api.` (a proxy, a local fake) serves both.
pub fn login_from_api(api_url: &str) -> String {
    match api_url.find("//api.") {
        Some(at) => format!(
            "{}//login.{}",
            &api_url[..at],
            &api_url[at + "//api.".len()..]
        ),
        None => api_url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_resolves_by_name_and_by_domain() {
        for (name, domain) in REGIONS {
            let expected = hosts_for_domain(domain);
            assert_eq!(resolve(name).unwrap(), expected, "{name}");
            assert_eq!(
                resolve(&name.replace('-', "_")).unwrap(),
                expected,
                "{name}"
            );
            assert_eq!(resolve(domain).unwrap(), expected, "{domain}");
            assert_eq!(
                resolve(&format!("https://api.{domain}/")).unwrap(),
                expected
            );
        }
        assert_eq!(
            resolve("usw2.pure.cloud").unwrap().login,
            "https://login.usw2.pure.cloud"
        );
        assert_eq!(
            resolve("EU-WEST-1").unwrap().api,
            "https://api.mypurecloud.ie"
        );
        assert!(resolve("mars-north-1").is_err());
    }

    #[test]
    fn login_is_derived_from_api() {
        assert_eq!(
            login_from_api("https://api.mypurecloud.de"),
            "https://login.mypurecloud.de"
        );
        assert_eq!(
            login_from_api("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
