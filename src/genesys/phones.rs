//! Why this exists: a working agent needs a phone. The WebRTC phone calls
//! of Genesys' own user-provisioning guide (and the Terraform provider's
//! `genesyscloud_telephony_providers_edges_phone`): phone base settings and
//! sites by name, the org's default site, the WebRTC phones of users, the
//! phone's create and delete, the station Genesys makes for it (indexed
//! asynchronously), and the user's default station.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalog::Named;
use super::{api_failure, CallError, Client, Safety};

/// The phone meta base of a WebRTC softphone (the official guide's id).
pub const WEBRTC_META_BASE: &str = "inin_webrtc_softphone.json";
/// Entries per page of the telephony listings (their maximum is undocumented).
pub const PHONE_PAGE: u32 = 100;

const PHONES: &str = "/api/v2/telephony/providers/edges/phones";

/// A phone base settings (`PhoneBase`), with its line base settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneBase {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone_meta_base: Option<Named>,
    #[serde(default)]
    pub lines: Vec<Named>,
    #[serde(default)]
    pub capabilities: Option<Value>,
}

impl PhoneBase {
    /// Whether phones made from it are WebRTC softphones.
    pub fn is_webrtc(&self) -> bool {
        self.phone_meta_base
            .as_ref()
            .is_some_and(|m| m.id == WEBRTC_META_BASE)
    }
}

/// A reference that may come without its name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ref {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A line of a phone, as far as its default user goes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneLine {
    #[serde(default)]
    pub default_for_user: Option<Ref>,
}

/// A phone as the listing shows it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub site: Option<Ref>,
    #[serde(default)]
    pub phone_base_settings: Option<Ref>,
    #[serde(default)]
    pub web_rtc_user: Option<Ref>,
    #[serde(default)]
    pub lines: Vec<PhoneLine>,
}

impl Phone {
    /// The user this WebRTC phone is for.
    pub fn user_id(&self) -> Option<&str> {
        self.web_rtc_user
            .as_ref()
            .map(|u| u.id.as_str())
            .filter(|id| !id.is_empty())
    }

    pub fn base_id(&self) -> &str {
        self.phone_base_settings
            .as_ref()
            .map(|b| b.id.as_str())
            .unwrap_or("")
    }

    /// `named `NAME` (id ID, the WebRTC phone of user U)`, for messages.
    pub fn describe(&self) -> String {
        let whose = match self.user_id() {
            Some(user) => format!("the WebRTC phone of user {user}"),
            None => "not a WebRTC phone of any user".to_string(),
        };
        format!("named `{}` (id {}, {whose})", self.name, self.id)
    }

    /// Whether its station is its user's default station.
    pub fn is_default_station(&self) -> bool {
        let Some(user) = self.user_id() else {
            return false;
        };
        self.lines
            .iter()
            .any(|l| l.default_for_user.as_ref().is_some_and(|d| d.id == user))
    }
}

/// Each user's WebRTC phone as the export writes it: the names of its base
/// settings and its site, by user id (names the listing leaves out are
/// looked up in `bases` and `sites`). A user with several keeps the first.
pub fn phones_by_user(
    phones: &[Phone],
    bases: &[Named],
    sites: &[Named],
) -> std::collections::HashMap<String, (String, String)> {
    let name = |r: &Option<Ref>, all: &[Named]| -> String {
        let Some(r) = r else { return String::new() };
        r.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| {
            all.iter()
                .find(|n| n.id == r.id)
                .map(|n| n.name.clone())
                .unwrap_or_default()
        })
    };
    let mut by_user = std::collections::HashMap::new();
    for phone in phones {
        if let Some(user) = phone.user_id() {
            by_user.entry(user.to_string()).or_insert_with(|| {
                (
                    name(&phone.phone_base_settings, bases),
                    name(&phone.site, sites),
                )
            });
        }
    }
    by_user
}

/// Whether a name is missing from a reference the listing gave.
pub fn lacks_name(r: &Option<Ref>) -> bool {
    r.as_ref()
        .is_some_and(|r| r.name.as_deref().unwrap_or("").is_empty())
}

/// What a new WebRTC phone is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPhone {
    pub name: String,
    pub base_id: String,
    pub line_base_id: String,
    pub site_id: String,
    pub capabilities: Option<Value>,
}

impl NewPhone {
    /// The body of `POST …/edges/phones` for `user_id` (the guide's shape).
    pub fn body(&self, user_id: &str) -> Value {
        let capabilities = self.capabilities.clone().unwrap_or_else(|| {
            json!({"provisions": false, "registers": false, "dualRegisters": false,
                   "allowReboot": false, "noRebalance": false, "noCloudProvisioning": false,
                   "mediaCodecs": ["audio/opus"]})
        });
        json!({
            "name": self.name,
            "state": "active",
            "site": {"id": self.site_id},
            "phoneBaseSettings": {"id": self.base_id},
            "lineBaseSettings": {"id": self.line_base_id},
            "phoneMetaBase": {"id": WEBRTC_META_BASE},
            "lines": [{"name": self.name, "lineBaseSettings": {"id": self.line_base_id}}],
            "capabilities": capabilities,
            "webRtcUser": {"id": user_id},
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Organization {
    #[serde(default)]
    default_site_id: Option<String>,
}

#[derive(Deserialize)]
struct Station {
    id: String,
}

/// One page of a listing, with how many pages there are.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    entities: Vec<T>,
    #[serde(default)]
    page_count: Option<u32>,
}

impl Client {
    /// Every phone base settings, with its lines.
    pub async fn phone_bases(&self) -> Result<Vec<PhoneBase>, CallError> {
        self.paged_query(
            "/api/v2/telephony/providers/edges/phonebasesettings",
            &[("expand", "lines".to_string())],
            PHONE_PAGE,
            drop,
        )
        .await
    }

    /// One phone base settings, whole (when the listing left out its lines).
    pub async fn phone_base(&self, id: &str) -> Result<PhoneBase, CallError> {
        self.get_json(
            &format!("/api/v2/telephony/providers/edges/phonebasesettings/{id}"),
            &[],
        )
        .await
    }

    /// Every telephony site (id and name).
    pub async fn sites(&self) -> Result<Vec<Named>, CallError> {
        self.paged_query(
            "/api/v2/telephony/providers/edges/sites",
            &[],
            PHONE_PAGE,
            drop,
        )
        .await
    }

    /// The org's default site (`defaultSiteId` of the organization).
    pub async fn default_site(&self) -> Result<Option<String>, CallError> {
        let org: Organization = self.get_json("/api/v2/organizations/me", &[]).await?;
        Ok(org.default_site_id.filter(|id| !id.is_empty()))
    }

    /// The first page of the org's phones and how many pages there are.
    pub async fn phones_first_page(&self) -> Result<(Vec<Phone>, u32), CallError> {
        let page: Page<Phone> = self
            .get_json(
                PHONES,
                &[
                    ("pageSize", PHONE_PAGE.to_string()),
                    ("pageNumber", "1".to_string()),
                ],
            )
            .await?;
        Ok((page.entities, page.page_count.unwrap_or(1)))
    }

    /// The org's phones from page `from` on.
    pub async fn phones_from(&self, from: u32, pages: u32) -> Result<Vec<Phone>, CallError> {
        let mut all = Vec::new();
        for number in from..=pages {
            let page: Page<Phone> = self
                .get_json(
                    PHONES,
                    &[
                        ("pageSize", PHONE_PAGE.to_string()),
                        ("pageNumber", number.to_string()),
                    ],
                )
                .await?;
            all.extend(page.entities);
        }
        Ok(all)
    }

    /// Every phone of the org.
    pub async fn all_phones(&self) -> Result<Vec<Phone>, CallError> {
        self.paged_query(PHONES, &[], PHONE_PAGE, drop).await
    }

    /// The WebRTC phones of one user (a filter of the listing).
    pub async fn phones_of(&self, user_id: &str) -> Result<Vec<Phone>, CallError> {
        let page: Page<Phone> = self
            .get_json(PHONES, &[("webRtcUser.id", user_id.to_string())])
            .await?;
        Ok(page.entities)
    }

    /// The phones with any of these names (the listing's `name` filter
    /// takes a comma-separated list; matched exactly here).
    pub async fn phones_named_any(&self, names: &[String]) -> Result<Vec<Phone>, CallError> {
        let page: Page<Phone> = self
            .get_json(
                PHONES,
                &[
                    ("name", names.join(",")),
                    ("pageSize", PHONE_PAGE.to_string()),
                ],
            )
            .await?;
        Ok(page
            .entities
            .into_iter()
            .filter(|p| names.contains(&p.name))
            .collect())
    }

    /// The phones with this name.
    pub async fn phones_named(&self, name: &str) -> Result<Vec<Phone>, CallError> {
        let page: Page<Phone> = self.get_json(PHONES, &[("name", name.to_string())]).await?;
        Ok(page
            .entities
            .into_iter()
            .filter(|p| p.name == name)
            .collect())
    }

    /// Creates a phone: sent once (a lost answer is checked by the caller).
    pub async fn create_phone(&self, body: &Value) -> Result<Phone, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::BadResponse(e.to_string()))?;
        let reply = self
            .call(Method::POST, PHONES, &[], Some(&bytes), Safety::Once)
            .await?;
        match reply.status {
            200..=299 => reply.json(),
            408 | 500..=599 => Err(CallError::OutcomeUnknown(format!(
                "creating the phone answered HTTP {}",
                reply.status
            ))),
            _ => Err(api_failure(&reply)),
        }
    }

    /// Deletes a phone; one already gone (404) is done.
    pub async fn delete_phone(&self, phone_id: &str) -> Result<(), CallError> {
        self.delete_gone(&format!("{PHONES}/{phone_id}")).await
    }

    /// The station Genesys made for a user's WebRTC phone, once indexed.
    pub async fn webrtc_station(&self, user_id: &str) -> Result<Option<String>, CallError> {
        let page: Page<Station> = self
            .get_json("/api/v2/stations", &[("webRtcUserId", user_id.to_string())])
            .await?;
        Ok(page.entities.into_iter().next().map(|s| s.id))
    }

    /// Makes a station the user's default: setting what is set changes
    /// nothing, so it may be retried.
    pub async fn set_default_station(
        &self,
        user_id: &str,
        station_id: &str,
    ) -> Result<(), CallError> {
        let path = format!("/api/v2/users/{user_id}/station/defaultstation/{station_id}");
        let reply = self
            .call(Method::PUT, &path, &[], None, Safety::Retryable)
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(api_failure(&reply))
        }
    }

    /// Clears the user's default station; none (404) is done.
    pub async fn clear_default_station(&self, user_id: &str) -> Result<(), CallError> {
        self.delete_gone(&format!("/api/v2/users/{user_id}/station/defaultstation"))
            .await
    }

    async fn delete_gone(&self, path: &str) -> Result<(), CallError> {
        let reply = self
            .call(Method::DELETE, path, &[], None, Safety::Retryable)
            .await?;
        match reply.status {
            200..=299 | 404 => Ok(()),
            _ => Err(api_failure(&reply)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_knows_its_user_and_default_station() {
        let phone: Phone = serde_json::from_value(json!({
            "id": "p1", "name": "WebRTC ana",
            "phoneBaseSettings": {"id": "b1"},
            "webRtcUser": {"id": "u1"},
            "lines": [{"name": "l", "defaultForUser": {"id": "u1"}}]
        }))
        .unwrap();
        assert_eq!(phone.user_id(), Some("u1"));
        assert_eq!(phone.base_id(), "b1");
        assert!(phone.is_default_station());
        let bare: Phone = serde_json::from_value(json!({"id": "p2"})).unwrap();
        assert_eq!(bare.user_id(), None);
        assert!(!bare.is_default_station());
    }

    #[test]
    fn the_body_is_the_guides_webrtc_phone() {
        let phone = NewPhone {
            name: "WebRTC ana@example.com".into(),
            base_id: "b1".into(),
            line_base_id: "lb1".into(),
            site_id: "s1".into(),
            capabilities: None,
        };
        let body = phone.body("u1");
        assert_eq!(body["webRtcUser"]["id"], "u1");
        assert_eq!(body["phoneMetaBase"]["id"], WEBRTC_META_BASE);
        assert_eq!(body["lines"][0]["lineBaseSettings"]["id"], "lb1");
        assert_eq!(body["capabilities"]["mediaCodecs"][0], "audio/opus");
    }
}
